#!/usr/bin/env bash
# Builds the real Kubernetes components the test harness runs, from the Go module proxy only.
#   kube-apiserver, kube-controller-manager, kube-proxy and kubectl (k8s.io/kubernetes, through a wrapper module)
#   etcd (go.etcd.io/etcd/server/v3, through a wrapper main) and CoreDNS (github.com/coredns/coredns).
# Binaries and Go caches live in $NETLAB_CACHE_DIR (default: .cache/ in the project, git-ignored).
# A second run with every binary present only checks versions and takes seconds.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}      # newest 1.37 patch on the proxy; Go 1.26 cannot build 1.38
ETCD_VERSION=${ETCD_VERSION:-3.7.0}     # kubeadm 1.37 DefaultEtcdVersion is 3.7.0-0
COREDNS_VERSION=${COREDNS_VERSION:-1.14.6}  # kubeadm 1.37 CoreDNSVersion
CONTAINERD_VERSION=${CONTAINERD_VERSION:-2.4.2}  # has the CRI RuntimeConfig kubelet 1.38 will require
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-1.10.0}
FLANNEL_VERSION=${FLANNEL_VERSION:-0.28.10}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${NETLAB_CACHE_DIR:-$ROOT/.cache}
BIN=$CACHE/bin
WORK=$CACHE/build
mkdir -p "$BIN" "$WORK"
export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-p=2 GOPROXY=${GOPROXY:-https://proxy.golang.org}

log() { printf '[harness:build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
command -v go >/dev/null || { echo "harness:build: Go is not installed (need Go 1.26); see README 'How netlab is tested'" >&2; exit 3; }

# stamp files record what each binary was built from, so a changed pin rebuilds it.
up_to_date() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.stamp" 2>/dev/null)" = "$2" ]; }
measure() { # name, then command: records wall time and peak RSS of the build
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@"
  read -r secs kb < "$WORK/$name.time"
  log "$name built in ${secs}s, peak RSS $((kb / 1024)) MiB"
}

# build_go_binary NAME STAMP OUT GO-BUILD-ARGS...: builds $BIN/OUT (timed as NAME) unless it was already
# built from STAMP, then records STAMP.
build_go_binary() {
  local name=$1 stamp=$2 out=$3; shift 3
  up_to_date "$out" "$stamp" && return
  log "building $name ($stamp)"
  measure "$name" go build -trimpath -o "$BIN/$out" "$@"
  echo "$stamp" > "$BIN/$out.stamp"
}

build_kubernetes() {
  local stamp="k8s v$K8S_VERSION"
  if up_to_date kube-apiserver "$stamp" && up_to_date kube-controller-manager "$stamp" && up_to_date kube-proxy "$stamp" && up_to_date kubectl "$stamp" \
    && up_to_date kubelet "$stamp" && up_to_date kube-scheduler "$stamp"; then
    log "kubernetes v$K8S_VERSION binaries present"; return
  fi
  local dir=$WORK/kubernetes-$K8S_VERSION
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.mod ]; then
    log "writing wrapper module for k8s.io/kubernetes v$K8S_VERSION"
    go mod init netlab.local/kbuild >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths,
    # which a dependent module ignores: pin each to the published v0.<minor>.<patch> instead.
    grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@v0.${K8S_VERSION#1.}"
    done
    go mod edit -go="$(sed -n 's/^go //p' "$gomod")" -require="k8s.io/kubernetes@v$K8S_VERSION"
    grep -E '^godebug ' "$gomod" >> go.mod || true
  fi
  # tools.go names the commands; when the list changes, the module graph is tidied again.
  cat > tools.go.new <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  if ! cmp -s tools.go.new tools.go; then
    mv tools.go.new tools.go
    log "resolving modules (first run downloads ~1 GB into $GOMODCACHE)"
    go mod tidy -e >/dev/null
  else
    rm tools.go.new
  fi
  local ld="-s -w" bd; bd=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  for cmd in kube-apiserver kube-controller-manager kube-proxy kubectl kube-scheduler kubelet; do
    build_go_binary "$cmd" "$stamp" "$cmd" -ldflags "$ld" "k8s.io/kubernetes/cmd/$cmd"
  done
}

build_etcd() {
  local stamp="etcd v$ETCD_VERSION"
  up_to_date etcd "$stamp" && { log "etcd v$ETCD_VERSION present"; return; }
  local dir=$WORK/etcd-$ETCD_VERSION
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.mod ]; then
    # the server module has replace directives, so `go install` refuses it: wrap its etcdmain.
    go mod init netlab.local/etcdbuild >/dev/null 2>&1
    cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy >/dev/null
  fi
  log "building etcd v$ETCD_VERSION"
  measure etcd go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" .
  echo "$stamp" > "$BIN/etcd.stamp"
}

build_coredns() {
  local stamp="coredns v$COREDNS_VERSION"
  up_to_date coredns "$stamp" && { log "coredns v$COREDNS_VERSION present"; return; }
  log "building coredns v$COREDNS_VERSION (default plugins, kubernetes included)"
  measure coredns env GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$COREDNS_VERSION"
  echo "$stamp" > "$BIN/coredns.stamp"
}

# tools.go of a wrapper module: the packages it builds, so `go mod tidy` resolves them.
write_tools_go() {
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'; printf '\t_ "%s"\n' "$@"; printf ')\n'; } > tools.go
}

# The node VMs' runtime: containerd with its runc shim and ctr (to import images without a registry).
build_containerd() {
  local stamp="containerd v$CONTAINERD_VERSION"
  if up_to_date containerd "$stamp" && up_to_date containerd-shim-runc-v2 "$stamp" && up_to_date ctr "$stamp"; then
    log "containerd v$CONTAINERD_VERSION present"; return
  fi
  local dir=$WORK/containerd-$CONTAINERD_VERSION
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.mod ]; then
    go mod init netlab.local/containerdbuild >/dev/null 2>&1
    write_tools_go github.com/containerd/containerd/v2/cmd/{containerd,containerd-shim-runc-v2,ctr}
    go mod edit -require="github.com/containerd/containerd/v2@v$CONTAINERD_VERSION"
    go mod tidy -e >/dev/null
  fi
  local ld="-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION"
  for cmd in containerd containerd-shim-runc-v2 ctr; do
    # no_btrfs: the btrfs snapshotter needs cgo; the node VMs use the native snapshotter.
    build_go_binary "$cmd" "$stamp" "$cmd" -tags no_btrfs -ldflags "$ld" "github.com/containerd/containerd/v2/cmd/$cmd"
  done
}

# The CNI reference plugins the node VMs chain for Flannel's pod network (Flannel's own CNI plugin is not
# on the module proxy; it only delegates to bridge + host-local, which the harness does directly).
CNI_PLUGINS=(main/bridge main/loopback ipam/host-local meta/portmap)
build_cni_plugins() {
  local stamp="cni-plugins v$CNI_PLUGINS_VERSION" plugin name missing=0
  for plugin in "${CNI_PLUGINS[@]}"; do up_to_date "cni/${plugin#*/}" "$stamp" || missing=1; done
  [ $missing = 0 ] && { log "CNI plugins v$CNI_PLUGINS_VERSION present"; return; }
  mkdir -p "$BIN/cni"
  local dir=$WORK/cni-plugins-$CNI_PLUGINS_VERSION
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.mod ]; then
    go mod init netlab.local/cnibuild >/dev/null 2>&1
    go mod edit -require="github.com/containernetworking/plugins@v$CNI_PLUGINS_VERSION"
    write_tools_go "${CNI_PLUGINS[@]/#/github.com/containernetworking/plugins/plugins/}"
    go mod tidy -e >/dev/null
  fi
  for plugin in "${CNI_PLUGINS[@]}"; do
    name=${plugin#*/}
    build_go_binary "cni-$name" "$stamp" "cni/$name" -ldflags "-s -w" "github.com/containernetworking/plugins/plugins/$plugin"
  done
}

# flanneld builds inside a copy of the Kubernetes wrapper module, every module the two share pinned to the
# Kubernetes build's version, so it reuses the Kubernetes packages already compiled in $GOCACHE (about a
# minute instead of its own client-go tree). Its main links every backend:
# - the udp one needs cgo, and cgo would recompile everything that imports net: its import is dropped from
#   a build-time copy of main.go (the harness runs VXLAN and host-gw);
# - the tencent-vpc one imports an SDK module the proxy does not serve: a local stand-in
#   (harness/cni/flannel/tencent-vpc-stub, see its doc comment) replaces it.
build_flannel() {
  local stamp="flannel v$FLANNEL_VERSION, no udp backend, k8s v$K8S_VERSION module"
  up_to_date flanneld "$stamp" && { log "flanneld v$FLANNEL_VERSION present"; return; }
  local kube=$WORK/kubernetes-$K8S_VERSION dir=$WORK/flannel-$FLANNEL_VERSION-k8s-$K8S_VERSION
  mkdir -p "$dir/flanneld"; cd "$dir"
  rm -rf tencent-vpc-stub; cp -r "$ROOT/harness/cni/flannel/tencent-vpc-stub" tencent-vpc-stub
  if [ ! -f go.mod ]; then
    cp "$kube/go.mod" "$kube/go.sum" "$kube/tools.go" .
    go mod edit -require="github.com/flannel-io/flannel@v$FLANNEL_VERSION" \
      -replace=github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc=./tencent-vpc-stub
    local src; src=$(go mod download -json "github.com/flannel-io/flannel@v$FLANNEL_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    grep -v '"github.com/flannel-io/flannel/pkg/backend/udp"' "$src/main.go" > flanneld/main.go
    go mod tidy -e >/dev/null
    # flannel asks for newer versions of some shared modules; hold them at the Kubernetes build's
    join <(cd "$kube" && go list -m -f '{{.Path}} {{.Version}}' all | sort) <(go list -m -f '{{.Path}} {{.Version}}' all | sort) \
      | awk '$2 != "" && $2 != $3 {print $1 "=" $1 "@" $2}' | while read -r pin; do go mod edit -replace="$pin"; done
    go mod tidy -e >/dev/null
  fi
  build_go_binary flanneld "$stamp" flanneld \
    -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=v$FLANNEL_VERSION" ./flanneld
}

start=$(date +%s)
build_etcd
build_coredns
build_kubernetes
build_containerd
build_cni_plugins
build_flannel
log "all binaries in $BIN ($(( $(date +%s) - start ))s)"
# `sed -n 1p`, not `head -1`: head closes the pipe early, and the SIGPIPE fails the script under pipefail.
"$BIN/kube-apiserver" --version
"$BIN/etcd" --version | sed -n 1p
"$BIN/coredns" -version | sed -n 1p
"$BIN/kubectl" version --client 2>/dev/null | sed -n 1p
"$BIN/kubelet" --version
"$BIN/containerd" --version
"$BIN/flanneld" --version 2>&1 | sed -n 1p
