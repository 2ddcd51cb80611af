#!/usr/bin/env bash
# Benchmarks the native engines side by side with the reference tools, in one run:
#   ferroflux kustomize build  vs  kubectl kustomize   (fixtures + a generated 4000-object overlay)
#   ferroflux helm template    vs  helm template       (podinfo, an umbrella chart with 10
#                                                       podinfo subcharts, a generated 2000-object chart)
# Prints the median wall time of N runs per tool (runs alternate between the tools), the ratio,
# and peak RSS (from one more run under /usr/bin/time -v); then the
# in-process kustomize build time (median of N builds in one process, no start-up) of the
# engine (example `kbench`) and of the kustomize library (hack/build-kustomize-inproc.sh).
# Usage: hack/bench-engines.sh [RUNS]   (FERROFLUX_BENCH_ONLY=kustomize|helm runs one engine's rows)
#   (needs release builds: cargo build --release -p ferroflux-cli
#                          cargo build --release -p ferroflux-kustomize --example kbench)
set -euo pipefail
RUNS=${1:-5}
ONLY=${FERROFLUX_BENCH_ONLY:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
FERROFLUX=$TARGET/release/ferroflux
HELM=${FERROFLUX_HELM:-$(hack/build-helm.sh 2>/dev/null || true)}
KBENCH=$TARGET/release/examples/kbench
INPROC=${FERROFLUX_KUSTOMIZE_INPROC:-$(hack/build-kustomize-inproc.sh 2>/dev/null || true)}
[ -x "$FERROFLUX" ] || { echo "build first: cargo build --release -p ferroflux-cli" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT

# A generated overlay: 2000 Deployments + 2000 ConfigMaps in a base, an overlay with a name
# prefix, labels, an image override, a strategic merge patch and a generator.
gen_overlay() {
  local dir=$1; mkdir -p "$dir/base" "$dir/overlay"
  {
    for i in $(seq 1 2000); do
      printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: app-%d}\n  template:\n    metadata:\n      labels: {app: app-%d}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef: {name: config-%d}\n' "$i" "$i" "$i" "$i"
      printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-%d\ndata:\n  index: "%d"\n' "$i" "$i"
    done
  } > "$dir/base/objects.yaml"
  printf 'resources:\n- objects.yaml\n' > "$dir/base/kustomization.yaml"
  cat > "$dir/overlay/kustomization.yaml" <<'YAML'
resources:
- ../base
namePrefix: prod-
labels:
- pairs: {env: prod}
  includeSelectors: false
images:
- name: nginx
  newTag: "1.27"
patches:
- target: {kind: Deployment}
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      replicas: 3
configMapGenerator:
- name: shared
  literals: [mode=prod]
YAML
}

# A generated chart rendering 2000 objects.
gen_chart() {
  local dir=$1; mkdir -p "$dir/templates"
  printf 'apiVersion: v2\nname: many\nversion: 1.0.0\n' > "$dir/Chart.yaml"
  printf 'count: 1000\nimage: nginx:1.27\n' > "$dir/values.yaml"
  cat > "$dir/templates/objects.yaml" <<'TPL'
{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-config-%d" $.Release.Name $i }}
  labels: {{- include "many.labels" $ | nindent 4 }}
data:
  index: {{ $i | quote }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-app-%d" $.Release.Name $i }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ printf "app-%d" $i | quote }}}
  template:
    metadata:
      labels: {app: {{ printf "app-%d" $i | quote }}}
    spec:
      containers:
      - name: web
        image: {{ $.Values.image }}
{{- end }}
TPL
  printf '{{- define "many.labels" -}}\napp.kubernetes.io/name: {{ .Chart.Name }}\napp.kubernetes.io/instance: {{ .Release.Name }}\n{{- end }}\n' > "$dir/templates/_helpers.tpl"
}

# An umbrella chart: podinfo ten times as aliased subcharts, each with its own values.
gen_umbrella() {
  local dir=$1; mkdir -p "$dir/charts"
  cp -r "$ROOT/../shared/fixtures/charts/podinfo" "$dir/charts/podinfo"
  {
    printf 'apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n'
    for i in $(seq 1 10); do
      printf -- '- name: podinfo\n  version: "*"\n  alias: podinfo-%d\n' "$i"
    done
  } > "$dir/Chart.yaml"
  for i in $(seq 1 10); do printf 'podinfo-%d:\n  replicaCount: %d\n' "$i" "$i"; done > "$dir/values.yaml"
}

# time_once OUT CMD... -> seconds of one run (bash's $EPOCHREALTIME: no helper process inside
# the timed span, so small times are not inflated by the harness); output to OUT.
time_once() {
  local out=$1 start end; shift
  start=$EPOCHREALTIME
  "$@" > "$out" 2>/dev/null || { echo "FAILED: $*" >&2; return 1; }
  end=$EPOCHREALTIME
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

peak_kib() { # CMD... -> peak RSS of one more run under /usr/bin/time -v
  /usr/bin/time -v -o "$WORK/time.txt" "$@" > /dev/null 2>&1
  awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt"
}

row() { # name ours_cmd... -- ref_cmd...
  local name=$1; shift
  local ours=() ref=() t1 t2 m1 m2
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift; ref=("$@")
  : > "$WORK/t1"; : > "$WORK/t2"
  # Runs alternate between the two tools, so that a slow spell of the machine hits both.
  for _ in $(seq 1 "$RUNS"); do
    time_once "$WORK/ours.yaml" "${ours[@]}" >> "$WORK/t1"
    time_once "$WORK/out.yaml" "${ref[@]}" >> "$WORK/t2"
  done
  t1=$(median < "$WORK/t1"); t2=$(median < "$WORK/t2")
  m1=$(peak_kib "${ours[@]}"); m2=$(peak_kib "${ref[@]}")
  # Helm test hooks of podinfo end in randAlphaNum: compare without those five characters.
  local same="identical"
  cmp -s <(sed -E 's/-test-[a-z0-9]{5}$/-test-?????/' "$WORK/ours.yaml") \
         <(sed -E 's/-test-[a-z0-9]{5}$/-test-?????/' "$WORK/out.yaml") || same="DIFFERS"
  printf '| %s | %.3f s | %.3f s | %.1fx | %d MiB | %d MiB | %s |\n' "$name" "$t1" "$t2" "$(echo "$t2 / $t1" | bc -l)" $((m1 / 1024)) $((m2 / 1024)) "$same"
}

gen_overlay "$WORK/big"; gen_chart "$WORK/chart"; gen_umbrella "$WORK/umbrella"
echo "| case | ferroflux | reference | speed-up | ferroflux peak RSS | reference peak RSS | output |"
echo "|---|---|---|---|---|---|---|"
if [ "$ONLY" != helm ]; then
row "kustomize: podinfo-kustomize" "$FERROFLUX" kustomize build "$ROOT/../shared/fixtures/podinfo-kustomize" -- kubectl kustomize "$ROOT/../shared/fixtures/podinfo-kustomize"
row "kustomize: flux2 example apps/staging" "$FERROFLUX" kustomize build "$ROOT/../shared/fixtures/flux2-kustomize-helm-example/apps/staging" -- kubectl kustomize "$ROOT/../shared/fixtures/flux2-kustomize-helm-example/apps/staging"
row "kustomize: generated 4000 objects + patches, generator, prefix" "$FERROFLUX" kustomize build "$WORK/big/overlay" -- kubectl kustomize "$WORK/big/overlay"
fi
if [ "$ONLY" = kustomize ]; then
  :
elif [ -x "$HELM" ]; then
  row "helm: podinfo (--kube-version 1.34)" "$FERROFLUX" helm template podinfo "$ROOT/../shared/fixtures/charts/podinfo" --kube-version 1.34.0 --show-only templates/deployment.yaml -- "$HELM" template podinfo "$ROOT/../shared/fixtures/charts/podinfo" --kube-version 1.34.0 --show-only templates/deployment.yaml
  row "helm: umbrella, 10 podinfo subcharts" "$FERROFLUX" helm template umbrella "$WORK/umbrella" --kube-version 1.34.0 -- "$HELM" template umbrella "$WORK/umbrella" --kube-version 1.34.0
  row "helm: generated chart, 2000 objects" "$FERROFLUX" helm template many "$WORK/chart" -- "$HELM" template many "$WORK/chart"
else
  echo "(helm reference not built: run hack/build-helm.sh)" >&2
fi

# In-process kustomize build time: median of many builds in one process, each side (200 for
# the small fixtures; 10 of ours and 1 of the reference for the 4000-object overlay, which
# takes the reference minutes).
inproc_row() { # name dir runs [reference runs]
  local name=$1 dir=$2 runs=$3 ref_runs=${4:-$3} ours ref same="identical"
  "$KBENCH" "$dir" "$runs" > "$WORK/ours.yaml" 2> "$WORK/ours.t"
  "$INPROC" "$dir" "$ref_runs" > "$WORK/ref.yaml" 2> "$WORK/ref.t"
  read -r ours _ < "$WORK/ours.t"; read -r ref _ < "$WORK/ref.t"
  cmp -s "$WORK/ours.yaml" "$WORK/ref.yaml" || same="DIFFERS"
  printf '| %s | %.4f s | %.4f s | %.1fx | %s |\n' "$name" "$ours" "$ref" "$(echo "$ref / $ours" | bc -l)" "$same"
}
if [ "$ONLY" = helm ]; then
  :
elif [ -x "$KBENCH" ] && [ -x "$INPROC" ]; then
  echo
  echo "| in-process kustomize build | ferroflux | kustomize library | speed-up | output |"
  echo "|---|---|---|---|---|"
  inproc_row "podinfo-kustomize" "$ROOT/../shared/fixtures/podinfo-kustomize" 200
  inproc_row "flux2 example apps/staging" "$ROOT/../shared/fixtures/flux2-kustomize-helm-example/apps/staging" 200
  inproc_row "generated 4000 objects + patches, generator, prefix" "$WORK/big/overlay" 10 1
else
  echo "(in-process rows need $KBENCH and hack/build-kustomize-inproc.sh)" >&2
fi
