#!/usr/bin/env bash
# Renders public charts with `ferroflux helm template` and with the reference helm, default
# values, and reports per chart whether the outputs are byte-identical. Charts come from
# local git mirrors (the snapshot tool puts them under /work/.mirror/<owner>+<repo>/repo or
# $MIRRORS) and are exported into a scratch directory, never into the checkout.
#
# Usage: hack/helm-conformance.sh [owner+repo:path/to/chart ...]
# Env:   FERROFLUX (binary), FERROFLUX_HELM (reference helm; default hack/build-helm.sh),
#        MIRRORS (default /work/.mirror), OUT (default /tmp/ferroflux-helm-conformance)
# Output: a markdown table on stdout; diffs in $OUT/<chart>.diff.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
FERROFLUX=${FERROFLUX:-$( [ -x "$TARGET/release/ferroflux" ] && echo "$TARGET/release/ferroflux" || echo "$TARGET/debug/ferroflux")}
HELM=${FERROFLUX_HELM:-$("$ROOT/hack/build-helm.sh" 2>/dev/null)}
MIRRORS=${MIRRORS:-/work/.mirror}
OUT=${OUT:-/tmp/ferroflux-helm-conformance}
[ -x "$FERROFLUX" ] || { echo "build first: cargo build -p ferroflux-cli" >&2; exit 1; }
[ -x "$HELM" ] || { echo "no reference helm (hack/build-helm.sh)" >&2; exit 1; }

CHARTS=("$@")
if [ ${#CHARTS[@]} -eq 0 ]; then
  CHARTS=(
    prometheus-community+helm-charts:charts/prometheus-node-exporter
    prometheus-community+helm-charts:charts/kube-state-metrics
    prometheus-community+helm-charts:charts/alertmanager
    prometheus-community+helm-charts:charts/prometheus-pushgateway
    prometheus-community+helm-charts:charts/prometheus-blackbox-exporter
    prometheus-community+helm-charts:charts/prometheus-adapter
    prometheus-community+helm-charts:charts/prometheus-postgres-exporter
    prometheus-community+helm-charts:charts/prometheus-redis-exporter
    prometheus-community+helm-charts:charts/prometheus-operator-crds
    prometheus-community+helm-charts:charts/prometheus-mysql-exporter
    grafana+helm-charts:charts/snyk-exporter
    grafana+helm-charts:charts/promtail
    grafana+helm-charts:charts/loki-canary
    grafana+helm-charts:charts/agent-operator
    grafana+helm-charts:charts/fluent-bit
    grafana+helm-charts:charts/rollout-operator
    bitnami+charts:bitnami/nginx
    bitnami+charts:bitnami/redis
    bitnami+charts:bitnami/postgresql
    bitnami+charts:bitnami/memcached
    bitnami+charts:bitnami/mysql
    bitnami+charts:bitnami/rabbitmq
  )
fi

# Exports <repo>:<path> into $2 (the chart directory itself).
export_chart() {
  local repo=${1%%:*} path=${1#*:} dest=$2
  local git_dir="$MIRRORS/$repo/repo"
  rm -rf "$dest" && mkdir -p "$dest"
  git -C "$git_dir" archive HEAD "$path" | tar -x -C "$dest" --strip-components="$(echo "$path" | tr -cd / | wc -c | awk '{print $1+1}')"
}

# Bitnami charts depend on bitnami/common from an OCI registry; vendor it from the mirror.
vendor_common() {
  local chart=$1 repo=$2
  if grep -q "name: common" "$chart/Chart.yaml" && [ ! -d "$chart/charts/common" ] \
     && [ -d "$MIRRORS/$repo/repo" ] && git -C "$MIRRORS/$repo/repo" cat-file -e HEAD:bitnami/common 2>/dev/null; then
    mkdir -p "$chart/charts"
    export_chart "$repo:bitnami/common" "$chart/charts/common"
  fi
}

mkdir -p "$OUT"
echo "| chart | source | version | result | ferroflux | helm |"
echo "|---|---|---|---|---|---|"
for spec in "${CHARTS[@]}"; do
  repo=${spec%%:*}; path=${spec#*:}; name=$(basename "$path")
  dir="$OUT/charts/$name"
  if [ ! -d "$MIRRORS/$repo/repo" ]; then echo "| $name | $repo | - | mirror missing | | |"; continue; fi
  export_chart "$spec" "$dir"
  vendor_common "$dir" "$repo"
  version=$(awk '/^version:/ {print $2; exit}' "$dir/Chart.yaml")
  "$HELM" template rel "$dir" >"$OUT/$name.helm" 2>"$OUT/$name.helm.err"; helm_rc=$?
  start=$(date +%s%N)
  "$FERROFLUX" helm template rel "$dir" >"$OUT/$name.ours" 2>"$OUT/$name.ours.err"; ours_rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ $helm_rc -ne 0 ] && [ $ours_rc -ne 0 ]; then
    # Same error? (helm prints `Error: ` and warnings; ferroflux prints `✗ `.)
    helm_error=$(grep -v '^WARNING' "$OUT/$name.helm.err" | head -1 | sed 's/^Error: //')
    ours_error=$(head -1 "$OUT/$name.ours.err" | sed 's/^✗ //; s/^Error: //')
    same=$([ "$helm_error" = "$ours_error" ] && echo "same error" || echo "different errors")
    result="both fail, $same: $(echo "$helm_error" | head -c 120 | tr '|' ' ')"
  elif [ $helm_rc -ne 0 ]; then
    result="helm fails, ferroflux renders: $(head -c 120 "$OUT/$name.helm.err" | tr '\n|' '  ')"
  elif [ $ours_rc -ne 0 ]; then
    result="ferroflux fails: $(head -c 160 "$OUT/$name.ours.err" | tr '\n|' '  ')"
  elif cmp -s "$OUT/$name.helm" "$OUT/$name.ours"; then
    result="identical ($(grep -c '^kind:' "$OUT/$name.helm") objects)"
  else
    diff -u "$OUT/$name.helm" "$OUT/$name.ours" >"$OUT/$name.diff"
    result="differs ($(grep -c '^[-+][^-+]' "$OUT/$name.diff") lines, see $name.diff)"
  fi
  echo "| $name | $repo | $version | $result | rc=$ours_rc ${ms}ms | rc=$helm_rc |"
done
