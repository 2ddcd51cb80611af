#!/usr/bin/env bash
# Builds the reference `sops` and `age-keygen` from their Go modules, once per version, into a
# cache directory outside the checkout, and prints the directory holding them. The
# kustomize-controller tests encrypt their SOPS fixtures with the real sops, so decryption is
# checked against the reference implementation. Go is a test-time tool only.
#
# Usage: hack/build-sops.sh            # prints the tools directory on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), SOPS_VERSION (default v3.13.2),
#        AGE_VERSION (default v1.3.1)
set -euo pipefail

SOPS_VERSION=${SOPS_VERSION:-v3.13.2}
AGE_VERSION=${AGE_VERSION:-v1.3.1}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
OUT="$CACHE/tools/sops-$SOPS_VERSION"

if [ -x "$OUT/sops" ] && [ -x "$OUT/age-keygen" ]; then echo "$OUT"; exit 0; fi
command -v go >/dev/null || { echo "build-sops: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$OUT"
if [ ! -x "$OUT/sops" ]; then
  echo "build-sops: building sops $SOPS_VERSION" >&2
  GOBIN="$OUT" go install -trimpath -ldflags="-s -w" "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION" >&2
fi
if [ ! -x "$OUT/age-keygen" ]; then
  echo "build-sops: building age-keygen $AGE_VERSION" >&2
  GOBIN="$OUT" go install -trimpath -ldflags="-s -w" "filippo.io/age/cmd/age-keygen@$AGE_VERSION" >&2
fi
"$OUT/sops" --version --disable-version-check >&2 || true
echo "$OUT"
