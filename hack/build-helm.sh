#!/usr/bin/env bash
# Builds the reference `helm` (v3) from its Go module, once per version, into a cache
# directory outside the checkout, and prints the binary's path. Go is a test-time tool
# only: ferroflux's renderer never runs helm.
#
# The binary is linked with the flags helm's own Makefile passes for a release build
# (version, git commit, and the Kubernetes version derived from the client-go module:
# client-go v0.34.x -> `.Capabilities.KubeVersion` v1.34.0), so it behaves like the
# released helm rather than like a bare `go build` (which defaults to v1.20.0).
#
# Usage: hack/build-helm.sh            # prints the helm path on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), HELM_VERSION (default v3.19.0),
#        HELM_GIT_COMMIT (the tag's commit; known for the default version)
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.19.0}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
# `-release`: built with the release ldflags (older caches without them are ignored).
OUT="$CACHE/tools/helm-$HELM_VERSION-release"
BIN="$OUT/helm"
case "$HELM_VERSION" in
  v3.19.0) DEFAULT_COMMIT=3d8990f0836691f0229297773f3524598f46bda6 ;;
  *) DEFAULT_COMMIT= ;;
esac
HELM_GIT_COMMIT=${HELM_GIT_COMMIT:-$DEFAULT_COMMIT}

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build-helm: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$OUT"
echo "build-helm: building helm $HELM_VERSION" >&2
# A tiny module that requires helm: `go install pkg@version` refuses helm's replace
# directives, and the module lets `go list` report the client-go version helm uses.
src="$OUT/src"; rm -rf "$src"; mkdir -p "$src"; cd "$src"
go mod init ferroflux.local/helmbin >/dev/null 2>&1
go mod edit -require="helm.sh/helm/v3@$HELM_VERSION"
cat > tools.go <<'GO'
//go:build tools

package helmbin

import _ "helm.sh/helm/v3/cmd/helm"
GO
go mod tidy >&2 || { echo "build-helm: go mod tidy failed" >&2; exit 1; }
client_go=$(go list -f '{{.Version}}' -m k8s.io/client-go)   # e.g. v0.34.0
k8s_minor=$(echo "$client_go" | cut -d. -f2)
k8s_major=$(( $(echo "${client_go#v}" | cut -d. -f1) + 1 ))
ldflags="-w -s"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.metadata="
ldflags+=" -X helm.sh/helm/v3/internal/version.gitCommit=$HELM_GIT_COMMIT"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$k8s_major"
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
go build -trimpath -ldflags="$ldflags" -o "$BIN" helm.sh/helm/v3/cmd/helm >&2 \
  || { echo "build-helm: go build failed" >&2; exit 1; }
"$BIN" version >&2
echo "$BIN"
