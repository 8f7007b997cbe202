#!/usr/bin/env bash
# A private, throwaway dockerd that never touches the machine's own Docker engine.
#   scripts/engine.sh start DIR  start it (or find it running) in DIR; print its DOCKER_HOST last
#   scripts/engine.sh stop DIR   stop it, unmount what it left mounted and remove DIR
# DIR must be short (unix socket paths). Exit codes: 2 misuse, 3 no engine can run here.
# VOLPLAN_ENGINE_TCP=127.0.0.1:PORT also listens there (TLS settings go in DIR/daemon.json).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MARKER=.volplan-engine # in every DIR that start made; stop removes no other DIR

(($# == 2)) || die 2 "usage: engine.sh start|stop DIR"
dir=$(realpath -m -- "$2")
host=unix://$dir/docker.sock
pidfile=$dir/dockerd.pid

dockerctl() { docker -H "$host" "$@"; }

# Print the pid in file $1 if that process is alive and its command line mentions $2.
live_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && grep -qaF -- "$2" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# Wait up to 30 s for the engine to answer while process $1 lives.
await() {
  for _ in $(seq 300); do
    dockerctl version >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# SIGTERM process $1; SIGKILL it if it still lives 20 s later.
terminate() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "engine.sh: pid $1 outlived SIGTERM by 20 s; sending SIGKILL" >&2
  kill -KILL "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}

# Start dockerd with storage driver $1 in its own session; succeed once it answers.
launch() {
  local ns pid hosts=(-H "$host")
  [[ -z ${VOLPLAN_ENGINE_TCP:-} ]] || hosts+=(-H "tcp://$VOLPLAN_ENGINE_TCP")
  ns=volplan-$(printf %s "$dir" | sha256sum | cut -c1-12) # if it shares a system containerd
  rm -f "$pidfile" "$dir/docker.sock"
  echo "engine.sh: starting dockerd (storage driver $1) in $dir" >&2
  setsid dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" \
    --exec-root "$dir/exec" --pidfile "$pidfile" "${hosts[@]}" \
    --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" \
    --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
    --storage-driver="$1" --shutdown-timeout=5 </dev/null >>"$dir/dockerd.log" 2>&1 &
  pid=$!
  await "$pid" && return 0
  terminate "$pid"
  return 1
}

start() {
  # containerd's sockets go 37 characters deeper than DIR; a socket path has at most 107.
  ((${#dir} <= 70)) || die 2 "DIR is too long for unix socket paths (max 70 chars): $dir"
  if [[ -d $dir && ! -e $dir/$MARKER && -n $(ls -A "$dir") ]]; then
    die 2 "refusing to use $dir: not empty and not made by engine.sh"
  fi
  mkdir -p "$dir"
  touch "$dir/$MARKER"
  ((EUID == 0)) || die 3 "a private dockerd needs root; running as uid $EUID"
  local missing pid
  mapfile -t missing < <(missing_engine_packages)
  install_packages "${missing[@]}"
  mapfile -t missing < <(missing_engine_packages)
  ((${#missing[@]} == 0)) || die 3 "cannot run an engine without: ${missing[*]}"
  [[ -e $dir/daemon.json ]] || echo '{}' >"$dir/daemon.json" # not /etc/docker/daemon.json
  if pid=$(live_pid "$pidfile" "$pidfile"); then
    await "$pid" || die 3 "dockerd $pid of $dir does not answer; see $dir/dockerd.log"
  elif ! launch overlay2 && ! launch vfs; then
    tail -n 20 "$dir/dockerd.log" >&2
    die 3 "dockerd would not start with overlay2 nor vfs; see $dir/dockerd.log"
  fi
  import_busybox "$host" "$dir"
  echo "$host"
}

stop() {
  [[ -e $dir ]] || return 0
  [[ -e $dir/$MARKER ]] || die 2 "refusing to remove $dir: not made by engine.sh start"
  local pid mount
  if pid=$(live_pid "$pidfile" "$pidfile"); then
    # Its containers are throwaway too: kill them rather than wait out their stop timeouts.
    timeout 10 docker -H "$host" ps -q | xargs -r timeout 10 docker -H "$host" kill >/dev/null ||
      true
    terminate "$pid"
  fi
  # dockerd stops its containerd itself, unless it had to be killed.
  if pid=$(live_pid "$dir/exec/containerd/containerd.pid" "$dir/"); then terminate "$pid"; fi
  awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while IFS= read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
  rm -rf --one-file-system -- "$dir"
}

case $1 in
  start) start ;;
  stop) stop ;;
  *) die 2 "usage: engine.sh start|stop DIR" ;;
esac
