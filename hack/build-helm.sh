#!/usr/bin/env bash
# Builds the reference `helm` (v3) from its Go module, once per version, into a cache
# directory outside the checkout, and prints the binary's path. Go is a test-time tool
# only: ferroflux's renderer never runs helm.
#
# Usage: hack/build-helm.sh            # prints the helm path on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), HELM_VERSION (default v3.19.0)
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.19.0}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
OUT="$CACHE/tools/helm-$HELM_VERSION"
BIN="$OUT/helm"

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build-helm: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$OUT"
echo "build-helm: building helm $HELM_VERSION" >&2
if ! GOBIN="$OUT" go install -trimpath -ldflags="-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2; then
  # helm's go.mod may carry replace directives that `go install pkg@version` refuses;
  # build from a tiny module that requires helm instead (replaces are ignored there).
  src="$OUT/src"; rm -rf "$src"; mkdir -p "$src"; cd "$src"
  go mod init ferroflux.local/helmbin >/dev/null 2>&1
  go mod edit -require="helm.sh/helm/v3@$HELM_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package helmbin

import _ "helm.sh/helm/v3/cmd/helm"
GO
  go mod tidy >&2 || { echo "build-helm: go mod tidy failed" >&2; exit 1; }
  go build -trimpath -ldflags="-s -w" -o "$BIN" helm.sh/helm/v3/cmd/helm >&2 || { echo "build-helm: go build failed" >&2; exit 1; }
fi
"$BIN" version >&2
echo "$BIN"
