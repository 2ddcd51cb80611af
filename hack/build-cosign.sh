#!/usr/bin/env bash
# Builds the reference `cosign` from its Go module, once per version, into a cache directory
# outside the checkout, and prints its path. The source-controller tests sign OCI artifacts
# and Helm charts with the real cosign, so `spec.verify` is checked against the reference
# implementation's signature format. Go is a test-time tool only.
#
# Usage: hack/build-cosign.sh          # prints the cosign path on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), COSIGN_VERSION (default v2.6.2)
set -euo pipefail

COSIGN_VERSION=${COSIGN_VERSION:-v2.6.2}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
OUT="$CACHE/tools/cosign-$COSIGN_VERSION"

if [ -x "$OUT/cosign" ]; then echo "$OUT/cosign"; exit 0; fi
command -v go >/dev/null || { echo "build-cosign: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$OUT"
echo "build-cosign: building cosign $COSIGN_VERSION" >&2
MAJOR=${COSIGN_VERSION%%.*}
GOBIN="$OUT" go install -trimpath -ldflags="-s -w" "github.com/sigstore/cosign/$MAJOR/cmd/cosign@$COSIGN_VERSION" >&2
"$OUT/cosign" version >&2 || true
echo "$OUT/cosign"
