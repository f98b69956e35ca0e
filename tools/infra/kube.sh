#!/usr/bin/env bash
# A real Kubernetes cluster on this machine, for machines that reach package registries but no
# image registry: a Kubernetes 1.33 control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) built from Go module source, kwok for a simulated node (pods become Ready without
# running), and on demand a real node (containerd, runc, CNI, kubelet, kube-proxy) that runs the
# project's images, Argo Rollouts and Flagger. Everything listens on 127.0.0.1 (the real node's
# kubelet on its bridge address), and `down` gives the host back as `up` found it.
#
#   kube.sh install [--real] [--rollouts] [--flagger]
#                      builds what is missing into the cache (each step skipped when its output
#                      exists): etcd (Debian), the control plane and kubectl (Go modules, version
#                      stamped), kwok and its stages; --real: kubelet, kube-proxy, Debian's CNI
#                      plugins, the pause image; --rollouts: Argo Rollouts' controller and kubectl
#                      plugin; --flagger: Flagger's controller. Always: the CRDs the charts use
#                      (Argo Rollouts, Flagger, Prometheus Operator, External Secrets, Istio).
#   kube.sh up [--real] [--rollouts] [--flagger]
#                      starts the control plane (and what the options name) and prints
#                      `export KUBECONFIG=...` and `export PATH=<bin>:$PATH`. On a running cluster
#                      it starts only what is missing.
#   kube.sh crds       server-side applies every cached CRD (what the charts render is then known)
#   kube.sh load IMAGE...
#                      copies images from the Docker engine (DOCKER_HOST, or the one docker.sh
#                      finds) into the real node's containerd: nothing is ever pulled
#   kube.sh env        the export lines of the running cluster (exit 1 when it is down)
#   kube.sh state      the running cluster as JSON: kubeconfig, context, nodes, add-ons, load command
#   kube.sh status     what runs, one line each; exit 0 when the API server answers
#   kube.sh down       stops everything `up` started, removes what it left on the host (bridge,
#                      iptables rules, mounts, cgroups, sysctls), then compares the host with the
#                      listing taken before `up`: exit 1 and the difference if anything is left
#   kube.sh host       that listing of the host, as it is now
#
# Everything lives under $FLOTILLA_KUBE_CACHE (default ~/.cache/flotilla-kube): prefix/bin (the
# binaries), prefix/share (kwok stages, CRDs, RBAC, the pause image), prefix/src (build modules),
# go/ (GOPATH and build cache), state/ (control plane), realstate/ (real node), rollouts-state/,
# flagger-state/. Run as root: the real node needs iptables, mounts and cgroups. Mirrors come from
# the machine: the apt sources (apt-get download) and `go env GOPROXY`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${FLOTILLA_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla-kube}
PREFIX=${FLOTILLA_KUBE_PREFIX:-$CACHE/prefix} # the builds; state/ and the rest stay in $CACHE
BIN=$PREFIX/bin SHARE=$PREFIX/share SRC=$PREFIX/src
STATE=$CACHE/state REAL=$CACHE/realstate ROLLOUTS=$CACHE/rollouts-state FLAGGER=$CACHE/flagger-state

K8S_VERSION=1.33.13 # every staging module of this patch release is on the module proxy
KWOK_VERSION=v0.8.0
ROLLOUTS_VERSION=v1.8.5
FLAGGER_VERSION=v1.36.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0
EXTERNAL_SECRETS_VERSION=v1.3.2
ISTIO_API_VERSION=v1.32.0

# Ports of their own, so that the cluster can sit beside other servers on this machine.
ETCD_PORT=22379 ETCD_PEER_PORT=22380 API_PORT=26443 KCM_PORT=27257 SCHED_PORT=27259 KWOK_PORT=27247
KUBELET_PORT=21250 KUBELET_HEALTHZ=21248 PROXY_HEALTHZ=21256 PROXY_METRICS=21249
ROLLOUTS_HEALTHZ=28080 ROLLOUTS_METRICS=28090 FLAGGER_PORT=28070
SERVICE_CIDR=10.97.0.0/16 KUBERNETES_SVC_IP=10.97.0.1
BRIDGE=flkube0 POD_SUBNET=10.89.0.0/24 NODE_IP=10.89.0.1 # the node's IP is the bridge's
KWOK_NODE=kwok-node-0 REAL_NODE=real-node-0
CONTEXT=flotilla-kube
CGROUP_ROOT=/flotilla-kube # pods go to /sys/fs/cgroup/<controller>/flotilla-kube/kubepods
SANDBOX_IMAGE=localhost/pause:3.10
CTRD_SOCK=$REAL/containerd/containerd.sock
UP_TIMEOUT=${FLOTILLA_KUBE_UP_TIMEOUT:-120}
PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok) # start order
# Host settings kubelet (setupKernelTunables), the CNI bridge plugin (ip_forward) and kube-proxy
# change: saved by `up --real`, put back by `down`.
SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/ip_forward
  net/ipv4/conf/all/route_localnet net/bridge/bridge-nf-call-iptables)

export PATH=$BIN:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[kube.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "$*"
  exit 1
}
since() { awk -v now="$EPOCHREALTIME" -v t="$1" 'BEGIN { printf "%.1f s", now - t }'; }
kubectl_bin() { if [ -x "$BIN/kubectl" ]; then echo "$BIN/kubectl"; else command -v kubectl; fi; }
kc() { "$(kubectl_bin)" --kubeconfig "$STATE/kubeconfig" "$@"; }
api_answers() { [ -s "$STATE/kubeconfig" ] && kc get --raw /readyz >/dev/null 2>&1; }
wait_for() { # wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or die naming the logs
  local what=$1 end=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "timed out waiting for $what (logs: $CACHE/*/logs)"
    sleep 0.3
  done
}

# --- install -----------------------------------------------------------------------------------

go_env() { # Go modules from the machine's GOPROXY; such a network has no checksum database
  command -v go >/dev/null || die "Go is needed (apt-get install golang-go, or Go >= 1.26 from go.dev)"
  export GOPATH=${FLOTILLA_KUBE_GOPATH:-$CACHE/go}
  export GOMODCACHE=$GOPATH/pkg/mod GOCACHE=${FLOTILLA_KUBE_GOCACHE:-$GOPATH/cache} GOSUMDB=off GOTOOLCHAIN=local \
    GOFLAGS="-mod=mod -buildvcs=false"
}
module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'; }
apt_unpack() { # apt_unpack DIR PACKAGE...: the packages' files under DIR; nothing is installed
  local dir=$1 tmp deb
  shift
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "$@" >/dev/null 2>&1) ||
    { apt-get update -qq && (cd "$tmp" && apt-get download "$@" >/dev/null); }
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  rm -rf "$tmp"
}

install_etcd() { # Debian's etcd-server (3.4), unpacked only: no service is installed or started
  [ -x "$BIN/etcd" ] && return 0
  local root
  root=$(mktemp -d)
  apt_unpack "$root" etcd-server
  install -m 755 "$root/usr/bin/etcd" "$BIN/etcd"
  rm -rf "$root"
  log "installed $("$BIN/etcd" --version | head -1)"
}

install_k8s() { # install_k8s COMMAND...: k8s.io/kubernetes/cmd/COMMAND, those not yet built
  local missing=() c
  for c in "$@"; do [ -x "$BIN/$c" ] || missing+=("$c"); done
  [ "${#missing[@]}" -gt 0 ] || return 0
  go_env
  # k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging folders, so `go install`
  # refuses it. A module that requires it and pins each staging module to its published v0.Y.Z
  # builds the real commands unchanged.
  local src=$SRC/k8s-$K8S_VERSION staging=v0.${K8S_VERSION#1.} gomod t0=$SECONDS
  mkdir -p "$src"
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    printf 'module flotillakube\n\ngo %s\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' \
      "$(awk '$1 == "go" { print $2; exit }' "$gomod")" "$K8S_VERSION"
    awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging/ { print "\t" $1 " => " $1 " " v }' "$gomod"
    echo ")"
  } >"$src/go.mod"
  local packages=()
  for c in "${missing[@]}"; do packages+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$src" && go get "${packages[@]/%/@v$K8S_VERSION}" >/dev/null 2>&1)
  # The version stamp the release build sets: without it the binaries say v0.0.0-master, which
  # breaks helm's kubeVersion checks and kubectl's version skew logic.
  local minor=${K8S_VERSION#1.} ldflags="-s -w" pkg
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  log "building ${missing[*]} v$K8S_VERSION from Go module source (minutes on a small machine)"
  (cd "$src" && nice go build -p 2 -trimpath -ldflags "$ldflags" -o "$BIN/" "${packages[@]}")
  log "built ${missing[*]} in $((SECONDS - t0)) s"
}

install_kwok() {
  go_env
  if [ ! -x "$BIN/kwok" ]; then
    log "building kwok $KWOK_VERSION"
    GOBIN=$BIN nice go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  fi
  # The bare kwok controller needs Stage objects (kwokctl would supply them): kwok's own "fast"
  # stages, from its module source.
  if [ ! -s "$SHARE/kwok/stages.yaml" ]; then
    local dir stage
    dir=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
    mkdir -p "$SHARE/kwok"
    for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
      echo "---"
      cat "$dir/kustomize/stage/$stage.yaml"
    done >"$SHARE/kwok/stages.yaml.tmp"
    mv "$SHARE/kwok/stages.yaml.tmp" "$SHARE/kwok/stages.yaml"
  fi
}

# build_copy MODULE@VERSION NAME: a writable copy of a module's source in prefix/src (for modules
# whose go.mod has replace directives, or whose source needs a loopback-only patch)
build_copy() {
  local dir src=$SRC/$2
  dir=$(module_dir "$1")
  [ -d "$dir" ] || die "go mod download $1 gave no source directory"
  rm -rf "$src" && mkdir -p "$SRC" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  echo "$src"
}

install_real() {
  install_k8s kubelet kube-proxy
  if [ ! -x "$PREFIX/cni/bin/bridge" ]; then # Debian's CNI plugins, unpacked only
    local root
    root=$(mktemp -d)
    apt_unpack "$root" containernetworking-plugins
    mkdir -p "$PREFIX/cni/bin" && cp "$root"/usr/lib/cni/* "$PREFIX/cni/bin/"
    rm -rf "$root"
  fi
  if [ ! -x "$PREFIX/nft/nft" ]; then # nft, unpacked: `down` drops the empty tables iptables-nft made
    local root
    root=$(mktemp -d)
    apt_unpack "$root" nftables libnftables1
    mkdir -p "$PREFIX/nft/lib" && cp "$root/usr/sbin/nft" "$PREFIX/nft/"
    cp -a "$root"/usr/lib/x86_64-linux-gnu/libnftables.so.1* "$PREFIX/nft/lib/"
    rm -rf "$root"
  fi
  { command -v containerd && command -v runc && command -v ctr; } >/dev/null ||
    die "containerd and runc come with Debian's docker.io: run tools/infra/docker.sh install"
  local tar=$SHARE/images/pause-3.10.tar
  if [ ! -s "$tar" ]; then
    # The pod sandbox: a static Go init that waits for SIGTERM and reaps zombies (images/pause),
    # made into an image by the project's Docker engine, started for the time it takes.
    go_env
    local ctx host started=0
    ctx=$(mktemp -d)
    cp "$HERE"/images/pause/* "$ctx/"
    (cd "$ctx" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o pause .)
    host=$(bash "$HERE/docker.sh" status 2>/dev/null | sed -n 's/^export DOCKER_HOST=//p' || true)
    if [ -z "$host" ]; then
      host=$(bash "$HERE/docker.sh" up | sed -n 's/^export DOCKER_HOST=//p' || true)
      started=1
    fi
    [ -n "$host" ] || die "the pause image needs a Docker engine: tools/infra/docker.sh install"
    DOCKER_HOST=$host DOCKER_BUILDKIT=0 docker build -q -t "$SANDBOX_IMAGE" "$ctx" >/dev/null
    mkdir -p "${tar%/*}" && DOCKER_HOST=$host docker save -o "$tar.tmp" "$SANDBOX_IMAGE" && mv "$tar.tmp" "$tar"
    [ $started = 0 ] || bash "$HERE/docker.sh" down
    rm -rf "$ctx"
  fi
}

install_rollouts() {
  local share=$SHARE/argo-rollouts
  if [ ! -x "$BIN/rollouts-controller" ] || [ ! -x "$BIN/kubectl-argo-rollouts" ]; then
    go_env
    local src t0=$SECONDS P=github.com/argoproj/argo-rollouts/utils/version
    log "building Argo Rollouts $ROLLOUTS_VERSION (controller and kubectl plugin; minutes)"
    src=$(build_copy "github.com/argoproj/argo-rollouts@$ROLLOUTS_VERSION" "argo-rollouts-$ROLLOUTS_VERSION")
    # The dashboard's UI is built by yarn and is not in the module: a placeholder page.
    mkdir -p "$src/server/static" && echo '<html>dashboard UI not built</html>' >"$src/server/static/index.html"
    # healthz and metrics listen on every address (a constant): loopback only.
    sed -i 's|listenAddr *= "0.0.0.0:%d"|listenAddr = "127.0.0.1:%d"|' "$src/controller/controller.go"
    grep -q 'listenAddr = "127.0.0.1:%d"' "$src/controller/controller.go" || die "could not make Rollouts listen on loopback"
    local ldflags="-s -w -X $P.version=${ROLLOUTS_VERSION#v} -X $P.gitTag=$ROLLOUTS_VERSION -X $P.gitTreeState=clean"
    ldflags+=" -X $P.gitCommit=go-module-proxy -X $P.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    (cd "$src" && CGO_ENABLED=0 nice go build -p 2 -trimpath -ldflags "$ldflags" -o "$BIN/" \
      ./cmd/rollouts-controller ./cmd/kubectl-argo-rollouts)
    rm -rf "$src"
    log "built Argo Rollouts in $((SECONDS - t0)) s"
  fi
  if [ ! -s "$share/argo-rollouts-clusterrole.yaml" ] || [ ! -d "$share/crds" ]; then # same version's
    go_env
    local dir
    dir=$(module_dir "github.com/argoproj/argo-rollouts@$ROLLOUTS_VERSION")
    mkdir -p "$share/crds"
    cp "$dir"/manifests/crds/*-crd.yaml "$share/crds/"
    cp "$dir/manifests/role/argo-rollouts-clusterrole.yaml" "$share/"
    chmod 644 "$share"/crds/*.yaml "$share/argo-rollouts-clusterrole.yaml"
  fi
}

install_flagger() {
  if [ ! -x "$BIN/flagger" ]; then
    go_env
    local src t0=$SECONDS
    log "building Flagger $FLAGGER_VERSION (controller; minutes)"
    src=$(build_copy "github.com/fluxcd/flagger@$FLAGGER_VERSION" "flagger-$FLAGGER_VERSION")
    # Its HTTP server (health, metrics) listens on every address: loopback only.
    sed -i 's|Addr: *":" + port,|Addr: "127.0.0.1:" + port,|' "$src/pkg/server/server.go"
    grep -q 'Addr: "127.0.0.1:" + port' "$src/pkg/server/server.go" || die "could not make Flagger listen on loopback"
    (cd "$src" && CGO_ENABLED=0 nice go build -p 2 -trimpath -ldflags "-s -w" -o "$BIN/flagger" ./cmd/flagger)
    rm -rf "$src"
    log "built Flagger in $((SECONDS - t0)) s"
  fi
  if [ ! -s "$SHARE/flagger/account.yaml" ]; then # its ServiceAccount and ClusterRole
    go_env
    mkdir -p "$SHARE/flagger"
    cp "$(module_dir "github.com/fluxcd/flagger@$FLAGGER_VERSION")/artifacts/flagger/account.yaml" "$SHARE/flagger/"
    chmod 644 "$SHARE/flagger/account.yaml"
  fi
}

install_crds() { # the CRDs of what the charts render, from each project's Go module
  local crds=$SHARE/crds dir f
  [ -s "$crds/.complete" ] && return 0
  go_env
  mkdir -p "$crds"
  dir=$(module_dir "github.com/fluxcd/flagger@$FLAGGER_VERSION")
  cp "$dir/artifacts/flagger/crd.yaml" "$crds/flagger.yaml"
  dir=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
  for f in servicemonitors podmonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$f.yaml" "$crds/prometheus-operator-$f.yaml"
  done
  dir=$(module_dir "github.com/external-secrets/external-secrets@$EXTERNAL_SECRETS_VERSION")
  for f in externalsecrets secretstores clustersecretstores; do
    cp "$dir/config/crds/bases/external-secrets.io_$f.yaml" "$crds/external-secrets-$f.yaml"
  done
  dir=$(module_dir "istio.io/api@$ISTIO_API_VERSION")
  cp "$dir/kubernetes/customresourcedefinitions.gen.yaml" "$crds/istio.yaml"
  chmod 644 "$crds"/*.yaml
  printf 'flagger %s\nprometheus-operator %s\nexternal-secrets %s\nistio-api %s\n' "$FLAGGER_VERSION" \
    "$PROMETHEUS_OPERATOR_VERSION" "$EXTERNAL_SECRETS_VERSION" "$ISTIO_API_VERSION" >"$crds/.complete"
}

cmd_install() {
  local option real=0 rollouts=0 flagger=0 t0=$SECONDS
  for option in "$@"; do
    case $option in
      --real) real=1 ;; --rollouts) rollouts=1 ;; --flagger) flagger=1 ;;
      *) die "unknown option $option (install takes --real, --rollouts, --flagger)" ;;
    esac
  done
  mkdir -p "$BIN" "$SHARE"
  install_etcd
  install_kwok
  install_k8s kube-apiserver kube-controller-manager kube-scheduler kubectl
  [ $real = 0 ] || install_real
  [ $rollouts = 0 ] || install_rollouts
  [ $flagger = 0 ] || install_flagger
  install_crds
  log "installed in $((SECONDS - t0)) s: $("$BIN/kube-apiserver" --version)$([ $real = 0 ] || echo ', real node')$([ $rollouts = 0 ] || echo ", Argo Rollouts $ROLLOUTS_VERSION")$([ $flagger = 0 ] || echo ", Flagger $FLAGGER_VERSION")"
}

# --- processes ---------------------------------------------------------------------------------

# A pid file of a component names the binary it runs, so that a reused pid is never taken for it.
runs() { # runs PID EXE: the process is alive and runs EXE (" (deleted)": the binary was rebuilt)
  local exe want
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  want=$(readlink -f "$2" 2>/dev/null || echo "$2") # a prefix of symlinks runs their targets
  [ "$exe" = "$want" ] || [ "$exe" = "$want (deleted)" ]
}
running() { # running PIDFILE EXE: the pid saved there is alive and runs EXE
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  runs "$pid" "$2"
}
start() { # start DIR NAME EXE ARGS...: in the background, logs in DIR/logs, pid in DIR/pids
  local dir=$1 name=$2
  shift 2
  mkdir -p "$dir/logs" "$dir/pids"
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
}
alive() { # alive PID...: one of them still runs
  local pid
  for pid in "$@"; do if kill -0 "$pid" 2>/dev/null; then return 0; fi; done
  return 1
}
stop() { # stop DIR NAME=EXE...: TERM them together, wait up to 15 s, then KILL what is left
  local dir=$1 entry pid pids=()
  shift
  for entry in "$@"; do
    if running "$dir/pids/${entry%%=*}.pid" "${entry#*=}"; then
      pid=$(cat "$dir/pids/${entry%%=*}.pid")
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    fi
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  for _ in $(seq 75); do
    alive "${pids[@]}" || return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ignored TERM: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
plane_running() { running "$STATE/pids/$1.pid" "$BIN/$1"; }
port_taken() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# --- control plane -----------------------------------------------------------------------------

write_kubeconfig() { # write_kubeconfig FILE USER CREDENTIALS (token: X, or client-certificate...)
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $CONTEXT
    cluster: { server: "https://127.0.0.1:$API_PORT", certificate-authority: "$STATE/pki/ca.crt" }
users:
  - name: $2
    user: { $3 }
contexts:
  - name: $CONTEXT
    context: { cluster: $CONTEXT, user: $2, namespace: default }
current-context: $CONTEXT
EOF
}

client_cert() { # client_cert PATH-PREFIX CN [O]: a key and a client certificate signed by the CA
  local p=$STATE/pki
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2${3:+/O=$3}" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$1.crt" 2>/dev/null
}

make_pki() {
  local p=$STATE/pki
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=flotilla-kube-ca \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  # The serving certificate covers loopback and the in-cluster names of the kubernetes Service.
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:%s\nextendedKeyUsage=serverAuth\n' \
    "$KUBERNETES_SVC_IP" >"$p/apiserver.ext"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
  # The aggregation layer's CA and client: extension API servers, and no complaints from the
  # controller manager and scheduler that the request-header CA is missing.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=flotilla-kube-front-proxy-ca \
    -keyout "$p/front-proxy-ca.key" -out "$p/front-proxy-ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=front-proxy-client -keyout "$p/front-proxy-client.key" \
    -out "$p/front-proxy-client.csr" 2>/dev/null
  openssl x509 -req -in "$p/front-proxy-client.csr" -CA "$p/front-proxy-ca.crt" -CAkey "$p/front-proxy-ca.key" \
    -CAcreateserial -days 30 -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$p/front-proxy-client.crt" 2>/dev/null
  client_cert "$p/apiserver-kubelet-client" kube-apiserver-kubelet-client system:masters # logs, exec
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null # service account tokens: signed and verified
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  # One identity per component: admin and kwok in system:masters, the controller manager and the
  # scheduler with their bootstrap roles (RBAC is enforced as on any cluster).
  local admin kcm sched kwok
  admin=$(openssl rand -hex 16) kcm=$(openssl rand -hex 16) sched=$(openssl rand -hex 16) kwok=$(openssl rand -hex 16)
  printf '%s,flotilla-admin,uid-admin,"system:masters"\n%s,system:kube-controller-manager,uid-kcm\n%s,system:kube-scheduler,uid-sched\n%s,kwok-controller,uid-kwok,"system:masters"\n' \
    "$admin" "$kcm" "$sched" "$kwok" >"$p/tokens.csv"
  chmod 600 "$p"/*.key "$p/tokens.csv"
  write_kubeconfig "$STATE/kubeconfig" flotilla-admin "token: $admin"
  write_kubeconfig "$STATE/kcm.kubeconfig" system:kube-controller-manager "token: $kcm"
  write_kubeconfig "$STATE/scheduler.kubeconfig" system:kube-scheduler "token: $sched"
  write_kubeconfig "$STATE/kwok.kubeconfig" kwok-controller "token: $kwok"
  chmod 600 "$STATE"/*.kubeconfig "$STATE/kubeconfig"
}

plane_up() {
  local c running=0 t0=$EPOCHREALTIME p=$STATE/pki
  for c in "${PLANE[@]}"; do [ -x "$BIN/$c" ] || die "$BIN/$c is missing: run $0 install"; done
  for c in "${PLANE[@]}"; do if plane_running "$c"; then running=$((running + 1)); fi; done
  if [ $running = ${#PLANE[@]} ] && api_answers; then return 0; fi
  [ $running = 0 ] || die "the control plane is partly up: run $0 down"
  for c in $ETCD_PORT $ETCD_PEER_PORT $API_PORT $KCM_PORT $SCHED_PORT $KWOK_PORT; do
    if port_taken "$c"; then die "port $c is taken by another program: stop it, or run $0 down"; fi
  done
  mkdir -p "$CACHE"
  [ -s "$CACHE/host-before" ] || host_state >"$CACHE/host-before"
  rm -rf "$STATE" && mkdir -p "$STATE/pids" "$STATE/logs"
  make_pki

  # Throwaway data: skip fsync where this etcd has the flag (3.5+; Debian's 3.4 has not).
  local nofsync=()
  if "$BIN/etcd" --help 2>&1 | grep -q unsafe-no-fsync; then nofsync=(--unsafe-no-fsync=true); fi
  start "$STATE" etcd "$BIN/etcd" --name flotilla --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "flotilla=http://127.0.0.1:$ETCD_PEER_PORT" "${nofsync[@]}"
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  # --advertise-address=127.0.0.1 with --endpoint-reconciler-type=none: nothing reaches the API
  #   server through the kubernetes Service here, and loopback addresses may not be Endpoints.
  # --authorization-mode=Node,RBAC with NodeRestriction: as on a real cluster; the kubelet is
  #   confined to its own node's objects.
  start "$STATE" kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" --token-auth-file="$p/tokens.csv" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --kubelet-client-certificate="$p/apiserver-kubelet-client.crt" --kubelet-client-key="$p/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$p/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$p/front-proxy-client.crt" --proxy-client-key-file="$p/front-proxy-client.key" \
    --profiling=false
  wait_for "kube-apiserver /readyz" "$UP_TIMEOUT" curl -sf --cacert "$p/ca.crt" "https://127.0.0.1:$API_PORT/readyz"
  log "kube-apiserver ready after $(since "$t0")"

  # --use-service-account-credentials: each controller acts as its own service account.
  # --flex-volume-plugin-dir: its default is under /usr/libexec, which it would create.
  start "$STATE" kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/kcm.kubeconfig" --authentication-kubeconfig="$STATE/kcm.kubeconfig" \
    --authorization-kubeconfig="$STATE/kcm.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --use-service-account-credentials=true --service-account-private-key-file="$p/sa.key" \
    --root-ca-file="$p/ca.crt" --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --flex-volume-plugin-dir="$STATE/flexvolume"
  start "$STATE" kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false
  # kwok manages only Nodes annotated kwok.x-k8s.io/node=fake; --server-address gives it a
  # loopback /healthz. Its pods get IPs from --cidr and run nothing.
  start "$STATE" kwok "$BIN/kwok" \
    --kubeconfig="$STATE/kwok.kubeconfig" --config="$SHARE/kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --server-address="127.0.0.1:$KWOK_PORT"
  wait_for kube-controller-manager 60 curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler 60 curl -skf "https://127.0.0.1:$SCHED_PORT/healthz"
  wait_for kwok 60 curl -sf "http://127.0.0.1:$KWOK_PORT/healthz"

  # One simulated node with room for every chart; untainted, so charts schedule onto it as they are.
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_NODE
  annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0" }
  labels: { kubernetes.io/hostname: $KWOK_NODE, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok }
status:
  allocatable: { cpu: "32", memory: 256Gi, pods: "250" }
  capacity: { cpu: "32", memory: 256Gi, pods: "250" }
EOF
  wait_for "node $KWOK_NODE Ready" 60 kc wait --for=condition=Ready "node/$KWOK_NODE" --timeout=2s
  # Pods are refused until the service account controller has made the default account.
  wait_for "the default ServiceAccount" 60 kc get serviceaccount default -n default
  log "control plane up after $(since "$t0") (node $KWOK_NODE Ready)"
}

plane_down() {
  [ -d "$STATE/pids" ] || return 0
  # clients first, then the API server, then etcd: nothing logs a lost connection
  stop "$STATE" kwok="$BIN/kwok" kube-scheduler="$BIN/kube-scheduler" kube-controller-manager="$BIN/kube-controller-manager"
  stop "$STATE" kube-apiserver="$BIN/kube-apiserver"
  stop "$STATE" etcd="$BIN/etcd"
}

# --- the real node -----------------------------------------------------------------------------

ctr_() { ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }
nft_() { LD_LIBRARY_PATH=$PREFIX/nft/lib "$PREFIX/nft/nft" "$@"; }
real_running() {
  running "$REAL/pids/containerd.pid" "$(command -v containerd)" &&
    running "$REAL/pids/kubelet.pid" "$BIN/kubelet" && running "$REAL/pids/kube-proxy.pid" "$BIN/kube-proxy"
}
cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/; do [ -d "$d${CGROUP_ROOT#/}" ] && echo "$d${CGROUP_ROOT#/}"; done
  return 0
}

real_configs() {
  mkdir -p "$REAL"/{containerd,cni/net.d,cni/ipam,kubelet/pki,kube-proxy,pod-logs}
  cat >"$REAL/containerd/config.toml" <<EOF
version = 2
root = "$REAL/containerd/root"
state = "$REAL/containerd/state"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$REAL/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  disable_apparmor = true
  # Where the host withholds CAP_SYS_RESOURCE (VMs, containers), runc may not lower oom_score_adj
  # as kubelet asks for sandboxes: clamp it instead of failing the pod.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$REAL/containerd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$PREFIX/cni/bin"
    conf_dir = "$REAL/cni/net.d"
    max_conf_num = 1
EOF
  # No masquerading: pods need no way out, so the only NAT rules are kube-proxy's.
  cat >"$REAL/cni/net.d/10-flotilla-kube.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "flotilla-kube",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$REAL/cni/ipam",
              "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # Images are never garbage-collected: nothing can be pulled again.
  cat >"$REAL/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ
authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: $STATE/pki/ca.crt } }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$CTRD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failSwapOn: false
protectKernelDefaults: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: $REAL/pod-logs
maxPods: 40
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
nodeStatusUpdateFrequency: 10s
serializeImagePulls: false
EOF
  cat >"$REAL/kube-proxy/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $REAL/kube-proxy/kubeconfig }
hostnameOverride: $REAL_NODE
mode: iptables
clusterCIDR: $POD_SUBNET
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ
metricsBindAddress: 127.0.0.1:$PROXY_METRICS
nodePortAddresses: ["$NODE_IP/32"]
iptables: { localhostNodePorts: false, masqueradeAll: false, syncPeriod: 30s, minSyncPeriod: 1s }
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s, udpTimeout: 0s, udpStreamTimeout: 0s }
EOF
}

real_up() {
  local c t0=$EPOCHREALTIME ctrd
  real_running && return 0
  for c in kubelet kube-proxy; do [ -x "$BIN/$c" ] || die "$BIN/$c is missing: run $0 install --real"; done
  { [ -x "$PREFIX/cni/bin/bridge" ] && [ -s "$SHARE/images/pause-3.10.tar" ]; } || die "run $0 install --real first"
  [ "$(id -u)" = 0 ] || die "the real node needs root (iptables, mounts, cgroups)"
  # Two kube-proxies would rewrite each other's KUBE-* chains.
  for c in kubelet kube-proxy; do
    local pid
    for pid in $(pgrep -x "$c" || true); do
      [ "$pid" = "$(cat "$REAL/pids/$c.pid" 2>/dev/null)" ] || die "another $c runs (pid $pid): stop that cluster first"
    done
  done
  for c in $KUBELET_PORT $KUBELET_HEALTHZ $PROXY_HEALTHZ $PROXY_METRICS; do
    if port_taken "$c"; then die "port $c is taken by another program"; fi
  done
  ctrd=$(command -v containerd)
  mkdir -p "$REAL/pids" "$REAL/logs"
  if [ ! -s "$REAL/host.orig" ]; then # the first `up` since the last `down`: remember the host
    local k
    for k in "${SYSCTLS[@]}"; do [ -e "/proc/sys/$k" ] && echo "$k $(cat "/proc/sys/$k")"; done >"$REAL/host.orig"
    [ -e /var/lib/cni ] || touch "$REAL/made-var-lib-cni" # libcni's result cache
    [ -e /run/containerd ] || touch "$REAL/made-run-containerd" # the shims' sockets
    [ -e /var/lib/kubelet ] || touch "$REAL/made-var-lib-kubelet" # its device plugin socket's fixed place
    nft_ list tables >"$REAL/nft-tables.orig" 2>/dev/null || true
  fi
  # kubelet wants --cgroup-root in every v1 hierarchy; cpuset needs its cpus and mems.
  local d
  for d in /sys/fs/cgroup/*/; do
    [ "$(stat -fc %T "$d")" = cgroupfs ] || [ "$(stat -fc %T "$d")" = cgroup2fs ] || continue
    mkdir -p "$d${CGROUP_ROOT#/}"
    if [ -e "${d}cpuset.cpus" ]; then
      cp "${d}cpuset.cpus" "$d${CGROUP_ROOT#/}/cpuset.cpus" && cp "${d}cpuset.mems" "$d${CGROUP_ROOT#/}/cpuset.mems"
    fi
  done
  # The bridge the CNI plugin would make, made first so that the node's IP exists for kubelet.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge && ip addr add "$NODE_IP/${POD_SUBNET#*/}" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # dockerd sets the FORWARD policy to DROP while bridge netfilter is on: pod to pod traffic on
  # the bridge would be dropped whenever the Docker engine runs too. Rules of our own allow it
  # whatever starts first; `down` removes them.
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment flotilla-kube -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment flotilla-kube -j ACCEPT
  real_configs

  running "$REAL/pids/containerd.pid" "$ctrd" || start "$REAL" containerd "$ctrd" --config "$REAL/containerd/config.toml"
  wait_for containerd 30 ctr_ version
  ctr_ images ls -q | grep -qx "$SANDBOX_IMAGE" || ctr_ images import "$SHARE/images/pause-3.10.tar" >/dev/null
  # Identities: kubelet as system:node:<node> (Node authorizer, NodeRestriction), kube-proxy as
  # system:kube-proxy (bound to system:node-proxier).
  [ -s "$REAL/kubelet/client.crt" ] || client_cert "$REAL/kubelet/client" "system:node:$REAL_NODE" system:nodes
  [ -s "$REAL/kube-proxy/client.crt" ] || client_cert "$REAL/kube-proxy/client" system:kube-proxy
  for c in kubelet kube-proxy; do
    write_kubeconfig "$REAL/$c/kubeconfig" "$c" "client-certificate: $REAL/$c/client.crt, client-key: $REAL/$c/client.key"
  done
  running "$REAL/pids/kubelet.pid" "$BIN/kubelet" || start "$REAL" kubelet "$BIN/kubelet" \
    --config="$REAL/kubelet/config.yaml" --kubeconfig="$REAL/kubelet/kubeconfig" \
    --root-dir="$REAL/kubelet/root" --cert-dir="$REAL/kubelet/pki" \
    --hostname-override="$REAL_NODE" --node-ip="$NODE_IP" --node-labels=type=real --v=1 \
    --volume-plugin-dir="$REAL/kubelet/volume-plugins" \
    --containerd="$CTRD_SOCK" # cAdvisor's own containerd client (its default is dockerd's)
  wait_for "kubelet /healthz" 60 curl -sf "http://127.0.0.1:$KUBELET_HEALTHZ/healthz"
  wait_for "node $REAL_NODE Ready" 90 kc wait --for=condition=Ready "node/$REAL_NODE" --timeout=2s
  running "$REAL/pids/kube-proxy.pid" "$BIN/kube-proxy" ||
    start "$REAL" kube-proxy "$BIN/kube-proxy" --config="$REAL/kube-proxy/config.yaml"
  wait_for "kube-proxy /healthz" 60 curl -sf "http://127.0.0.1:$PROXY_HEALTHZ/healthz"
  # New pods go to the real node; pods that must stay simulated select {type: kwok} and tolerate
  # node.kubernetes.io/unschedulable. `down` uncordons it.
  if [ "$(kc get node "$KWOK_NODE" -o jsonpath='{.spec.unschedulable}')" != true ]; then
    kc cordon "$KWOK_NODE" >/dev/null && touch "$REAL/cordoned-kwok"
  fi
  log "real node $REAL_NODE up after $(since "$t0"): containerd $(containerd --version | awk '{ print $3 }'), pods on $POD_SUBNET (bridge $BRIDGE)"
}

iptables_cleanup() { # the KUBE-* and CNI-* chains, the jumps to them and our FORWARD rules
  local ipt table chain rule
  for ipt in iptables ip6tables; do
    command -v $ipt >/dev/null || continue
    for table in filter nat mangle raw; do
      $ipt -t $table -S >/dev/null 2>&1 || continue
      $ipt -t $table -S | { grep -E "^-A [A-Z]+ .*(-j (KUBE-|CNI-)|--comment \"?flotilla-kube)" | grep -vE '^-A (KUBE-|CNI-)' || true; } |
        while read -r _ rule; do eval "$ipt -t $table -D $rule" 2>/dev/null || true; done
      for chain in $($ipt -t $table -S | awk '/^-N (KUBE-|CNI-)/ { print $2 }'); do $ipt -t $table -F "$chain"; done
      for chain in $($ipt -t $table -S | awk '/^-N (KUBE-|CNI-)/ { print $2 }'); do $ipt -t $table -X "$chain"; done
    done
  done
  # tables iptables-nft made for them that did not exist before `up` and are empty now
  [ -s "$REAL/nft-tables.orig" ] && [ -x "$PREFIX/nft/nft" ] || return 0
  local family name
  nft_ list tables 2>/dev/null | while read -r _ family name; do
    grep -qx "table $family $name" "$REAL/nft-tables.orig" && continue
    case $family in ip) ipt=iptables ;; ip6) ipt=ip6tables ;; *) continue ;; esac
    $ipt -t "$name" -S 2>/dev/null | grep -qE '^-(A|N) ' || nft_ delete table "$family" "$name" || true
  done
}

real_down() {
  [ -d "$REAL" ] || return 0
  local ctrd id p k v d
  ctrd=$(command -v containerd || echo /usr/bin/containerd)
  if api_answers && kc get node "$REAL_NODE" >/dev/null 2>&1; then
    # Gracefully: kubelet stops the containers (the CNI frees their addresses) and controllers
    # place the pods elsewhere (kwok, once uncordoned) or leave them Pending.
    kc cordon "$REAL_NODE" >/dev/null 2>&1 || true
    if running "$REAL/pids/kubelet.pid" "$BIN/kubelet"; then
      kc delete pods -A --field-selector "spec.nodeName=$REAL_NODE" --grace-period=3 --timeout=60s >/dev/null 2>&1 || true
    fi
  fi
  stop "$REAL" kube-proxy="$BIN/kube-proxy" kubelet="$BIN/kubelet"
  if running "$REAL/pids/containerd.pid" "$ctrd"; then # whatever still runs: through containerd
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    sleep 1
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop "$REAL" containerd="$ctrd"
  for p in /proc/[0-9]*; do # shims outlive containerd: only those of this instance's socket
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "containerd-shim.*-address $CTRD_SOCK "; then
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done
  if api_answers; then
    kc delete node "$REAL_NODE" --ignore-not-found >/dev/null 2>&1 || true
    [ ! -e "$REAL/cordoned-kwok" ] || kc uncordon "$KWOK_NODE" >/dev/null 2>&1 || true
  fi
  [ ! -x "$BIN/kube-proxy" ] || "$BIN/kube-proxy" --cleanup --v=0 >/dev/null 2>&1 || true
  iptables_cleanup
  awk -v r="$REAL/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  if [ -s "$REAL/host.orig" ]; then
    while read -r k v; do
      [ "$(cat "/proc/sys/$k" 2>/dev/null)" = "$v" ] || echo "$v" >"/proc/sys/$k" 2>/dev/null || true
    done <"$REAL/host.orig"
  fi
  for d in $(cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
  [ ! -e "$REAL/made-var-lib-cni" ] || rm -rf /var/lib/cni
  if [ -e "$REAL/made-run-containerd" ]; then # and the sockets of shims that were killed, not ended
    local sock listening
    listening=$(ss -Hxl 2>/dev/null || true)
    for sock in /run/containerd/s/*; do
      if [ -S "$sock" ] && ! grep -qF "$sock" <<<"$listening"; then rm -f "$sock"; fi
    done
    rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  fi
  [ ! -e "$REAL/made-var-lib-kubelet" ] || rm -rf /var/lib/kubelet
  rm -rf "$REAL"
}

# --- Argo Rollouts and Flagger: controllers on the host, as their RBAC-bound service accounts ----

# sa_kubeconfig NAMESPACE ACCOUNT FILE: a kubeconfig with a token of that service account
sa_kubeconfig() {
  local token
  token=$(kc -n "$1" create token "$2" --duration=24h)
  write_kubeconfig "$3" "$2" "token: $token"
  chmod 600 "$3"
}

rollouts_up() {
  local t0=$EPOCHREALTIME share=$SHARE/argo-rollouts
  running "$ROLLOUTS/pids/controller.pid" "$BIN/rollouts-controller" && return 0
  { [ -x "$BIN/rollouts-controller" ] && [ -d "$share/crds" ]; } || die "run $0 install --rollouts first"
  if port_taken $ROLLOUTS_HEALTHZ || port_taken $ROLLOUTS_METRICS; then die "port $ROLLOUTS_HEALTHZ or $ROLLOUTS_METRICS is taken"; fi
  mkdir -p "$ROLLOUTS"
  # The CRDs are too big for a client-side apply (its last-applied annotation): server-side.
  kc apply --server-side --force-conflicts -f "$share/crds/" >/dev/null
  wait_for "the Rollouts CRDs" 60 kc wait --for=condition=Established crd/rollouts.argoproj.io crd/analysisruns.argoproj.io --timeout=2s
  kc create namespace argo-rollouts --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc -n argo-rollouts create serviceaccount argo-rollouts --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc apply -f "$share/argo-rollouts-clusterrole.yaml" >/dev/null
  kc create clusterrolebinding argo-rollouts --clusterrole=argo-rollouts --serviceaccount=argo-rollouts:argo-rollouts \
    --dry-run=client -o yaml | kc apply -f - >/dev/null
  sa_kubeconfig argo-rollouts argo-rollouts "$ROLLOUTS/kubeconfig"
  # POD_NAMESPACE: where it reads its ConfigMaps (argo-rollouts-config, notifications).
  POD_NAMESPACE=argo-rollouts start "$ROLLOUTS" controller "$BIN/rollouts-controller" \
    --kubeconfig "$ROLLOUTS/kubeconfig" --leader-elect=false \
    --healthzPort "$ROLLOUTS_HEALTHZ" --metricsport "$ROLLOUTS_METRICS"
  wait_for "the Rollouts controller /healthz" 60 curl -sf "http://127.0.0.1:$ROLLOUTS_HEALTHZ/healthz"
  log "Argo Rollouts $ROLLOUTS_VERSION up after $(since "$t0")"
}

flagger_up() {
  local t0=$EPOCHREALTIME
  running "$FLAGGER/pids/controller.pid" "$BIN/flagger" && return 0
  { [ -x "$BIN/flagger" ] && [ -s "$SHARE/flagger/account.yaml" ]; } || die "run $0 install --flagger first"
  if port_taken $FLAGGER_PORT; then die "port $FLAGGER_PORT is taken"; fi
  mkdir -p "$FLAGGER"
  kc apply --server-side --force-conflicts -f "$SHARE/crds/flagger.yaml" >/dev/null
  wait_for "the Flagger CRDs" 60 kc wait --for=condition=Established crd/canaries.flagger.app --timeout=2s
  kc create namespace flagger-system --dry-run=client -o yaml | kc apply -f - >/dev/null
  # its own ServiceAccount, ClusterRole and binding, in flagger-system
  sed 's/namespace: default/namespace: flagger-system/' "$SHARE/flagger/account.yaml" | kc apply -f - >/dev/null
  sa_kubeconfig flagger-system flagger "$FLAGGER/kubeconfig"
  # The kubernetes provider: Services only, no mesh (weights are not enforced by a router here).
  start "$FLAGGER" controller "$BIN/flagger" -kubeconfig "$FLAGGER/kubeconfig" \
    -mesh-provider=kubernetes -metrics-server=http://127.0.0.1:9090 -port "$FLAGGER_PORT" \
    -log-level=info -zap-encoding=console
  wait_for "the Flagger controller /healthz" 60 curl -sf "http://127.0.0.1:$FLAGGER_PORT/healthz"
  log "Flagger $FLAGGER_VERSION up after $(since "$t0")"
}

# --- up / down / state -------------------------------------------------------------------------

print_env() {
  echo "export KUBECONFIG=$STATE/kubeconfig"
  echo "export PATH=$BIN:\$PATH"
}

cmd_up() {
  local option real=0 rollouts=0 flagger=0 t0=$EPOCHREALTIME
  for option in "$@"; do
    case $option in
      --real) real=1 ;; --rollouts) rollouts=1 ;; --flagger) flagger=1 ;;
      *) die "unknown option $option (up takes --real, --rollouts, --flagger)" ;;
    esac
  done
  plane_up
  [ $real = 0 ] || real_up
  [ $rollouts = 0 ] || rollouts_up
  [ $flagger = 0 ] || flagger_up
  log "cluster up ($(since "$t0")): context $CONTEXT, kubeconfig $STATE/kubeconfig"
  print_env
}

cmd_crds() {
  api_answers || die "the cluster is down: run $0 up"
  [ -s "$SHARE/crds/.complete" ] || die "no CRDs cached: run $0 install"
  kc apply --server-side --force-conflicts -f "$SHARE/crds/" >/dev/null
  if [ -d "$SHARE/argo-rollouts/crds" ]; then kc apply --server-side --force-conflicts -f "$SHARE/argo-rollouts/crds/" >/dev/null; fi
  wait_for "the CRDs" 90 kc wait --for=condition=Established crd --all --timeout=30s
  log "CRDs applied: $(kc get crd -o name | wc -l) kinds"
}

cmd_load() {
  [ $# -gt 0 ] || die "usage: $0 load IMAGE..."
  real_running || die "the real node is down: run $0 up --real"
  local host=${DOCKER_HOST:-}
  [ -n "$host" ] || host=$(bash "$HERE/docker.sh" status 2>/dev/null | sed -n 's/^export DOCKER_HOST=//p' || true)
  [ -n "$host" ] || die "no Docker engine answers: eval \"\$(tools/infra/docker.sh up)\" first"
  local t0=$EPOCHREALTIME
  DOCKER_HOST=$host docker save "$@" | ctr_ images import - >/dev/null
  log "loaded into $REAL_NODE in $(since "$t0"): $*"
}

json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cmd_state() {
  local up=false real=null rollouts=false flagger=false version=null
  if api_answers; then
    up=true
    version=$(json_string "$(kc version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)")
    ! real_running || real=$(json_string "$REAL_NODE")
    ! running "$ROLLOUTS/pids/controller.pid" "$BIN/rollouts-controller" || rollouts=true
    ! running "$FLAGGER/pids/controller.pid" "$BIN/flagger" || flagger=true
  fi
  printf '{\n  "up": %s,\n  "kubeconfig": %s,\n  "context": %s,\n  "server": %s,\n  "version": %s,\n' \
    "$up" "$(json_string "$STATE/kubeconfig")" "$(json_string "$CONTEXT")" \
    "$(json_string "https://127.0.0.1:$API_PORT")" "$version"
  printf '  "bin": %s,\n  "kwokNode": %s,\n  "realNode": %s,\n  "rollouts": %s,\n  "flagger": %s,\n' \
    "$(json_string "$BIN")" "$(json_string "$KWOK_NODE")" "$real" "$rollouts" "$flagger"
  printf '  "podSubnet": %s,\n  "serviceCidr": %s,\n  "crds": %s,\n  "load": %s\n}\n' \
    "$(json_string "$POD_SUBNET")" "$(json_string "$SERVICE_CIDR")" "$(json_string "$SHARE/crds")" \
    "$(json_string "$HERE/kube.sh load")"
}

cmd_status() {
  local c ctrd
  for c in "${PLANE[@]}"; do
    if plane_running "$c"; then echo "$c: running (pid $(cat "$STATE/pids/$c.pid"))"; else echo "$c: stopped"; fi
  done
  ctrd=$(command -v containerd || echo /usr/bin/containerd)
  for c in containerd kubelet kube-proxy; do
    local exe=$BIN/$c
    [ $c != containerd ] || exe=$ctrd
    if running "$REAL/pids/$c.pid" "$exe"; then echo "$c ($REAL_NODE): running (pid $(cat "$REAL/pids/$c.pid"))"; fi
  done
  ! running "$ROLLOUTS/pids/controller.pid" "$BIN/rollouts-controller" || echo "rollouts-controller: running (pid $(cat "$ROLLOUTS/pids/controller.pid"))"
  ! running "$FLAGGER/pids/controller.pid" "$BIN/flagger" || echo "flagger: running (pid $(cat "$FLAGGER/pids/controller.pid"))"
  if api_answers; then
    kc get nodes -o wide
    print_env
  else
    echo "the API server does not answer"
    return 1
  fi
}

# Everything `up` changes on the host, listed so that two listings can be compared: processes
# of the cluster, sysctls, the bridge and its veths, iptables rules and chains, mounts, cgroups and
# the files outside the cache it may make. Lines of other tools are left out.
host_state() {
  local k table ipt
  echo '# processes'
  { pgrep -a -f -- "^$BIN/" || true; pgrep -a -f -- "containerd.*$CACHE" || true; } | cut -d' ' -f2- | cut -c1-160 | sort
  echo '# sysctl'
  for k in "${SYSCTLS[@]}"; do [ -r "/proc/sys/$k" ] && echo "$k = $(cat "/proc/sys/$k")"; done
  echo '# links'
  ip -o link show | awk -F': ' -v b="$BRIDGE" '{ name = $2; sub(/@.*/, "", name) }
    name == b || (name ~ /^veth/ && $0 ~ (" master " b " ")) { print name }' | sort
  echo '# iptables'
  for ipt in iptables ip6tables; do
    command -v $ipt >/dev/null || continue
    for table in filter nat mangle raw; do
      $ipt -t $table -S 2>/dev/null | grep -E "KUBE-|CNI-|$BRIDGE|flotilla-kube" | sed "s/^/$ipt $table /" || true
    done
  done
  echo '# mounts'
  awk -v c="$CACHE/" 'index($2, c) == 1 { print $2 }' /proc/mounts | sort
  echo '# cgroups'
  cgroup_dirs
  echo '# files'
  ls -d /var/lib/cni /var/lib/kubelet /var/log/pods /etc/kubernetes /usr/libexec/kubernetes 2>/dev/null || true
  # The shims' socket directory is shared with any other containerd (the Docker engine's, whose
  # containers start and stop meanwhile): it is the cluster's leftover only when no containerd runs.
  if [ -e /run/containerd ] && ! pgrep -x containerd >/dev/null; then echo /run/containerd; fi
  return 0
}

cmd_down() {
  local t0=$EPOCHREALTIME c
  if [ -d "$FLAGGER" ]; then
    stop "$FLAGGER" controller="$BIN/flagger"
    rm -rf "$FLAGGER"
  fi
  if [ -d "$ROLLOUTS" ]; then
    stop "$ROLLOUTS" controller="$BIN/rollouts-controller"
    rm -rf "$ROLLOUTS"
  fi
  real_down # while the API server can still drain the node
  plane_down
  rm -rf "$STATE"
  if [ ! -s "$CACHE/host-before" ]; then
    log "down: nothing was up"
    return 0
  fi
  local now
  now=$(host_state)
  if [ "$now" != "$(cat "$CACHE/host-before")" ]; then
    log "the host differs from before up (- before, + now):"
    diff <(cat "$CACHE/host-before") <(echo "$now") | grep -E '^[<>]' | sed 's/^</-/; s/^>/+/' >&2
    exit 1
  fi
  rm -f "$CACHE/host-before"
  log "down in $(since "$t0"): no process, mount, bridge, iptables rule, cgroup or sysctl of the cluster is left"
}

case "${1:-}" in
  install) shift && cmd_install "$@" ;;
  up) shift && cmd_up "$@" ;;
  down) cmd_down ;;
  crds) cmd_crds ;;
  load) shift && cmd_load "$@" ;;
  env) if api_answers; then print_env; else exit 1; fi ;;
  state) cmd_state ;;
  status) cmd_status ;;
  host) host_state ;;
  *)
    echo "usage: $0 install|up|down|crds|load|env|state|status|host [--real] [--rollouts] [--flagger]   (eval \"\$($0 up)\" sets KUBECONFIG and PATH)" >&2
    exit 2
    ;;
esac
