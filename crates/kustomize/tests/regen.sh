#!/usr/bin/env bash
# Regenerates expected outputs with the reference implementation (kubectl kustomize,
# kustomize v5.5.0): tests/cases/*/expected.yaml (or expected-error.txt when the
# reference fails) and tests/fixtures-expected/*.yaml for the shared real repositories.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for case in "$here"/cases/*/; do
  case="${case%/}"
  dir="$case"
  [ -d "$case/input" ] && dir="$case/input"
  flags=()
  [ -e "$case/load-restrictor-none" ] && flags+=(--load-restrictor=LoadRestrictionsNone)
  rm -f "$case/expected.yaml" "$case/expected-error.txt"
  if ! kubectl kustomize "${flags[@]}" "$dir" > "$case/expected.yaml" 2> "$case/expected-error.txt"; then
    rm -f "$case/expected.yaml"
    sed -i -e "s#$here/##g" -e 's/^E[0-9]* [0-9:.]* *[0-9]* [a-z_.]*:[0-9]*\] //' "$case/expected-error.txt"
  else
    rm -f "$case/expected-error.txt"
  fi
done
fixtures="$here/../../../../shared/fixtures"
mkdir -p "$here/fixtures-expected"
if [ -d "$fixtures" ]; then
  find "$fixtures/podinfo-kustomize" "$fixtures/flux2-kustomize-helm-example" \
    \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) | sort |
  while read -r file; do
    dir="$(dirname "$file")"
    key="${dir#*fixtures/}"
    kubectl kustomize "$dir" > "$here/fixtures-expected/${key//\//__}.yaml"
  done
fi
