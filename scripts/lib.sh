# shellcheck shell=bash
# Helpers shared by scripts/test, scripts/try and scripts/engine.sh: source this file, don't run it.

# Print docker.io and/or busybox-static if the private engine's programs are missing here.
missing_engine_packages() {
  { command -v dockerd && command -v docker; } >/dev/null || echo docker.io
  is_static_busybox || echo busybox-static
}

# Succeed if /bin/busybox exists and is statically linked (it is copied into an image).
is_static_busybox() {
  [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1
}

# Print the Debian packages of the tools the tests run besides the engine, if missing:
# Graphviz's dot draws volplan graph's DOT, and node runs mermaid's parser on its Mermaid
# (npm fetches mermaid); the CI examples post their comment with curl; pre-commit runs the
# hook in a git repository.
missing_tool_packages() {
  command -v dot >/dev/null || echo graphviz
  command -v npm >/dev/null || echo npm
  command -v curl >/dev/null || echo curl
  command -v git >/dev/null || echo git
}

# Print what the remote-engine tests need and is missing: sshd (ssh:// endpoints), openssl
# (their TLS certificates) and podman (the second engine).
missing_remote_packages() {
  [[ -x /usr/sbin/sshd ]] || echo openssh-server
  command -v openssl >/dev/null || echo openssl
  command -v podman >/dev/null || echo podman
  [[ -x /usr/libexec/podman/catatonit ]] || echo catatonit # Podman's init for `init: true`
}

# Fail, naming them, if network interfaces of Podman's default bridge network exist: the
# tests never attach anything to it (10.88.0.0/16, a private range), so none may be made.
no_podman_interfaces() {
  local found
  found=$(find /sys/class/net -mindepth 1 -maxdepth 1 \( -name 'cni-podman*' -o -name 'podman*' \) \
    -printf '%f ')
  [[ -z $found ]] && return 0
  echo "error: Podman network interfaces exist: $found(a test attached a container to a network)" >&2
  return 1
}

# Print what the swarm test needs and is missing: debootstrap (the agent image's Debian
# rootfs), nsenter and ip (its daemons' network namespace).
missing_swarm_packages() {
  command -v debootstrap >/dev/null || echo debootstrap
  command -v nsenter >/dev/null || echo util-linux
  command -v ip >/dev/null || echo iproute2
}

# Print python3-venv if .venv has yet to be made and python3 cannot make it.
missing_venv_package() {
  [[ -x .venv/bin/python ]] || python3 -c 'import ensurepip' 2>/dev/null || echo python3-venv
}

# Install the given Debian packages (none: do nothing). As root, with apt-get, forbidding
# their services (a system dockerd) to start; otherwise only warn, callers see what fails.
install_packages() {
  (($# > 0)) || return 0
  if ((EUID != 0)); then
    echo "warning: missing Debian packages: $* (only root can install them)" >&2
    return 0
  fi
  echo "installing Debian packages: $*" >&2
  local policy=/usr/sbin/policy-rc.d own_policy=0 status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
  fi
  {
    DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update &&
      DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 install -y \
        --no-install-recommends "$@"
  } >&2 || status=$?
  ((own_policy == 0)) || rm -f "$policy"
  return "$status"
}

# Make .venv if needed and install volplan into it, editable; $1 is pip's target ('.[test]').
install_volplan() {
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install -qq --disable-pip-version-check -e "$1"
}

# The busybox applets the test images link; /bin/busybox --list says which exist here.
readonly BUSYBOX_APPLETS=(sh true sleep cat tar ls mkdir rm echo touch chmod chown ln find
  sha256sum stat wc test '[' env id head)

# Import busybox:latest (also tagged volplan-helper:latest) into the engine at $1 (any
# Docker-compatible API: dockerd, podman) from the static busybox, building in $2: no
# registry.
import_busybox() {
  local host=$1 rootfs=$2/rootfs applets applet
  docker -H "$host" image inspect busybox:latest volplan-helper:latest >/dev/null 2>&1 && return 0
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,etc,root,tmp}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  applets=$(/bin/busybox --list)
  for applet in "${BUSYBOX_APPLETS[@]}"; do
    if grep -qxF -- "$applet" <<<"$applets"; then ln -s busybox "$rootfs/bin/$applet"; fi
  done
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/nonexistent:/bin/sh \
    >"$rootfs/etc/passwd"
  printf '%s\n' root:x:0: nobody:x:65534: >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker -H "$host" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
  docker -H "$host" tag busybox:latest volplan-helper:latest
  rm -rf "$rootfs"
}

# Print "SCRIPT: MESSAGE..." on stderr and exit with CODE: die CODE MESSAGE...
die() {
  local code=$1
  shift
  echo "${0##*/}: $*" >&2
  exit "$code"
}
