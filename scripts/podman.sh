#!/usr/bin/env bash
# A private, throwaway Podman service (Docker-compatible API) beside engine.sh's dockerd.
#   scripts/podman.sh start DIR  start it (or find it running) in DIR; print its DOCKER_HOST last
#   scripts/podman.sh stop DIR   stop it, unmount what it left mounted and remove DIR
# Its own root, runroot, tmpdir, network config and containers.conf (cgroupfs, file events,
# containers in no network by default); it never uses the machine's own podman storage.
# Exit codes: 2 misuse, 3 Podman cannot run here.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MARKER=.volplan-podman # in every DIR that start made; stop removes no other DIR

(($# == 2)) || die 2 "usage: podman.sh start|stop DIR"
dir=$(realpath -m -- "$2")
host=unix://$dir/podman.sock
pidfile=$dir/podman.pid

# The flags every podman call on this DIR takes (conmon's clean-up calls inherit them).
podman_flags() {
  printf '%s\n' --root "$dir/root" --runroot "$dir/run" --tmpdir "$dir/tmp" \
    --network-config-dir "$dir/net" --cgroup-manager cgroupfs --events-backend file \
    --storage-driver "$1"
}

live_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && grep -qaF -- "$dir/podman.sock" "/proc/$pid/cmdline" 2>/dev/null &&
    echo "$pid"
}

await() {
  for _ in $(seq 300); do
    docker -H "$host" version >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

terminate() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}

# Start the service with storage driver $1; succeed once it answers.
launch() {
  local flags pid
  mapfile -t flags < <(podman_flags "$1")
  rm -rf "$dir/root" "$dir/run" "$dir/podman.sock"
  mkdir -p "$dir/tmp" "$dir/net"
  echo "podman.sh: starting podman system service (storage driver $1) in $dir" >&2
  CONTAINERS_CONF=$dir/containers.conf setsid podman "${flags[@]}" system service --time=0 \
    "$host" </dev/null >>"$dir/podman.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  await "$pid" && return 0
  terminate "$pid"
  return 1
}

start() {
  if [[ -d $dir && ! -e $dir/$MARKER && -n $(ls -A "$dir") ]]; then
    die 2 "refusing to use $dir: not empty and not made by podman.sh"
  fi
  mkdir -p "$dir"
  touch "$dir/$MARKER"
  ((EUID == 0)) || die 3 "a private podman service needs root; running as uid $EUID"
  command -v podman >/dev/null || install_packages podman
  command -v podman >/dev/null || die 3 "cannot run Podman without Debian's podman"
  # Podman sets every container's open-files and process limits, above what its own process
  # may grant here (runc: "error setting rlimit type 6/7: operation not permitted"); these
  # are below them. netns "none": a container that forgot network_mode joins no network.
  printf '%s\n' '[containers]' 'netns = "none"' \
    'default_ulimits = ["nofile=1024:1024", "nproc=32768:32768"]' \
    '[engine]' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"' \
    "events_logfile_path = \"$dir/events.log\"" >"$dir/containers.conf"
  if pid=$(live_pid); then
    await "$pid" || die 3 "podman $pid of $dir does not answer; see $dir/podman.log"
  elif ! launch overlay && ! launch vfs; then
    tail -n 20 "$dir/podman.log" >&2
    die 3 "podman would not start with overlay nor vfs; see $dir/podman.log"
  fi
  import_busybox "$host" "$dir"
  echo "$host"
}

stop() {
  [[ -e $dir ]] || return 0
  [[ -e $dir/$MARKER ]] || die 2 "refusing to remove $dir: not made by podman.sh start"
  local pid mount
  if pid=$(live_pid); then
    timeout 20 docker -H "$host" ps -aq | xargs -r timeout 20 docker -H "$host" rm -f >/dev/null ||
      true
    terminate "$pid"
  fi
  # conmon keeps each exec session's monitor for minutes after the service has gone, and
  # waits out SIGTERM: its containers are gone, so the leftovers are killed, all at once.
  local leftovers
  mapfile -t leftovers < <(grep -laF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3)
  ((${#leftovers[@]} == 0)) || kill -KILL "${leftovers[@]}" 2>/dev/null || true
  awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while IFS= read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
  rm -rf --one-file-system -- "$dir"
}

case $1 in
  start) start ;;
  stop) stop ;;
  *) die 2 "usage: podman.sh start|stop DIR" ;;
esac
