#!/usr/bin/env bash
# One run of the shared anchors harness with Causeway's targets (bench/anchors-targets.ini), used by
# bench/techempower.sh and bench/shop.sh.
#   bench/anchors-run.sh LABEL ENDPOINTS "TARGET ..." [anchors/run options ...]
# Results: $OUT_DIR (default /tmp/causeway-bench)/LABEL-<time>.{json,md}; the harness keeps logs in
# its results/. The anchors live in $ANCHORS_DIR, else ../../shared/anchors, else /work/shared/anchors.
set -euo pipefail
label="$1" endpoints="$2" targets="$3"
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
anchors="${ANCHORS_DIR:-$root/../../shared/anchors}"
[ -x "$anchors/run" ] || anchors=/work/shared/anchors
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="${OUT_DIR:-/tmp/causeway-bench}"
mkdir -p "$out"
# The targets' cmd reads CAUSEWAY_ROOT (this checkout) from the environment run passes on.
export CAUSEWAY_ROOT="$root"
# shellcheck disable=SC2086 # targets is a space-separated list
exec "$anchors/run" --targets "$here/anchors-targets.ini" --endpoints "$endpoints" \
  --out "$out/$label-$stamp.json" --md "$out/$label-$stamp.md" "$@" $targets
