#!/usr/bin/env bash
# Builds `kustomize-inproc`, a tiny timing harness around the reference kustomize library
# (sigs.k8s.io/kustomize/api v0.18.0 = kustomize v5.5.0, the version inside kubectl), once,
# into a cache directory outside the checkout, and prints its path. It measures the in-process
# build time the reference needs (krusty: build + YAML output), without process start-up, for
# the in-process rows of hack/bench-engines.sh. Go is a benchmark-time tool only.
#
# Usage: hack/build-kustomize-inproc.sh     # prints the binary path on success
# Env:   FERROFLUX_CACHE (default ~/.cache/ferroflux), KUSTOMIZE_API_VERSION (default v0.18.0)
set -euo pipefail

VERSION=${KUSTOMIZE_API_VERSION:-v0.18.0}
CACHE=${FERROFLUX_CACHE:-$HOME/.cache/ferroflux}
# -r2: orders resources as kubectl kustomize does (sortOptions, else legacy order).
OUT="$CACHE/tools/kustomize-inproc-$VERSION-r2"
BIN="$OUT/kustomize-inproc"

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build-kustomize-inproc: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
src="$OUT/src"; rm -rf "$src"; mkdir -p "$src"; cd "$src"
go mod init ferroflux.local/kustomizeinproc >/dev/null 2>&1
cat > main.go <<'GO'
// kustomize-inproc DIR RUNS: builds DIR with the kustomize library RUNS times in one process,
// prints the last output on stdout and "median_seconds min_seconds" on stderr.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	dir := os.Args[1]
	runs, err := strconv.Atoi(os.Args[2])
	if err != nil || runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: kustomize-inproc DIR RUNS")
		os.Exit(2)
	}
	var out []byte
	times := make([]float64, 0, runs)
	for i := 0; i < runs; i++ {
		start := time.Now()
		options := krusty.MakeDefaultOptions()
		// As kubectl kustomize: the kustomization's sortOptions, else the legacy order.
		options.Reorder = krusty.ReorderOptionUnspecified
		k := krusty.MakeKustomizer(options)
		m, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
		out, err = m.AsYaml()
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
		times = append(times, time.Since(start).Seconds())
	}
	os.Stdout.Write(out)
	sort.Float64s(times)
	fmt.Fprintf(os.Stderr, "%.6f %.6f\n", times[len(times)/2], times[0])
}
GO
go mod edit -require="sigs.k8s.io/kustomize/api@$VERSION"
echo "build-kustomize-inproc: building against sigs.k8s.io/kustomize/api $VERSION" >&2
go mod tidy >&2 || { echo "build-kustomize-inproc: go mod tidy failed" >&2; exit 1; }
go build -trimpath -ldflags="-s -w" -o "$BIN" . >&2 \
  || { echo "build-kustomize-inproc: go build failed" >&2; exit 1; }
echo "$BIN"
