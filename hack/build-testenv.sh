#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok) from their Go modules, once per version, into a
# cache directory outside the checkout. Go is a test-time tool only: nothing
# built here ships in ferroflux.
#
# Usage: hack/build-testenv.sh            # prints the bin directory on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), K8S_VERSION, ETCD_VERSION, KWOK_VERSION
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
KEY="k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
OUT="$CACHE/testenv/$KEY"
BIN="$OUT/bin"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

have_all() {
  for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok; do
    [ -x "$BIN/$b" ] || return 1
  done
  [ -s "$OUT/kwok-stages.yaml" ]
}

if have_all; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || { echo "build-testenv: go is not installed (needed to build the test control plane)" >&2; exit 1; }
command -v jq >/dev/null || { echo "build-testenv: jq is not installed" >&2; exit 1; }
mkdir -p "$BIN" "$OUT/src"
log() { echo "build-testenv: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# --- Kubernetes: a tiny module that requires k8s.io/kubernetes and maps every
# staging module to its published tag (replace directives of a dependency are
# ignored, so the consumer has to repeat them).
build_kube() {
  local dir="$OUT/src/kubebins" staging="v0.${K8S_VERSION#v1.}" minor gomod commit now ldf
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  log "resolving k8s.io/kubernetes@$K8S_VERSION"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod) || fail "go mod download k8s.io/kubernetes@$K8S_VERSION"
  commit=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r '.Origin.Hash // "unknown"')
  go mod init ferroflux.local/kubebins >/dev/null 2>&1
  go mod edit -go=1.26.0
  sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/k8s\.io/.*#\1#p' "$gomod" |
    while read -r m; do go mod edit -replace="$m=$m@$staging"; done
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package kubebins

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  go mod tidy || fail "go mod tidy for kubernetes $K8S_VERSION"
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf+=" -X $p.gitCommit=$commit -X $p.gitTreeState=clean -X $p.buildDate=$now"
  done
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION (slow the first time)"
  go build -trimpath -tags=selinux,notest -ldflags="all=$ldf" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler || fail "go build kubernetes $K8S_VERSION"
}

build_etcd() {
  local dir="$OUT/src/etcdbin"
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  cat > go.mod <<GO
module ferroflux.local/etcdbin

go 1.25.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GO
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod tidy || fail "go mod tidy for etcd $ETCD_VERSION"
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags="-s -w" -o "$BIN/etcd" . || fail "go build etcd $ETCD_VERSION"
}

build_kwok() {
  log "building kwok $KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || fail "go install kwok $KWOK_VERSION"
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | jq -r .Dir)
  # Standalone kwok needs its stages (only kwokctl injects defaults).
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      [ -f "$src/kustomize/stage/$f" ] || fail "kwok stage $f missing in module $KWOK_VERSION"
      echo '---'; cat "$src/kustomize/stage/$f"
    done
  } > "$OUT/kwok-stages.yaml.tmp"
  mv "$OUT/kwok-stages.yaml.tmp" "$OUT/kwok-stages.yaml"
}

start=$SECONDS
[ -x "$BIN/etcd" ] || build_etcd
[ -x "$BIN/kwok" ] && [ -s "$OUT/kwok-stages.yaml" ] || build_kwok
{ [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kube-scheduler" ]; } || build_kube
"$BIN/kube-apiserver" --version >&2
log "done in $((SECONDS - start))s"
echo "$BIN"
