#!/usr/bin/env bash
# qoima audit against qoima validate on the same bags: 1,000 small bags and the `large`
# dataset bag; then the register's query times with 100,000 recorded audits.
# See bench/README.md.
#
# usage: bench/audit.sh [--runs N] [--bags N] [--no-build]
#
#   --runs N      timed runs per measurement; the median is reported (default 3)
#   --bags N      how many small bags to generate (default 1000)
#   --no-build    use target/release as it is (the binary and examples/register_bench)
#
# Needs `$BENCH_DIR/data/large` (bench/run.sh --datasets large makes it); BENCH_DIR defaults
# to /tmp/qoima-bench. Scratch space is removed on exit.
set -Eeuo pipefail
export LC_NUMERIC=C
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-/tmp/qoima-bench}
RUNS=3
NBAGS=1000
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --bags) NBAGS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ "$BUILD" = 1 ]; then
    (cd "$REPO" && cargo build --release --locked -q && cargo build --release --locked -q --example register_bench)
fi
Q="$REPO/target/release/qoima"
export SOURCE_DATE_EPOCH=1641340800
SCRATCH=$(mktemp -d "$BENCH_DIR/audit-bench.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timeit() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; local rc=$?; t1=$(now); [ $rc -le 1 ] || { echo "failed ($rc): $*" >&2; exit 1; }; echo "$t1 - $t0" | bc; }
warm() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }

echo "generating $NBAGS small bags" >&2
python3 - "$SCRATCH/src" "$NBAGS" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(8493)
for b in range(n):
    d = os.path.join(root, f"bag{b:04d}", "photos")
    os.makedirs(d)
    for f in range(10):
        with open(os.path.join(d, f"{f:02d}.jpg"), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randint(1000, 60000)))
PY
mkdir "$SCRATCH/bags"
for s in "$SCRATCH"/src/*; do "$Q" -q bag "$s" -o "$SCRATCH/bags/$(basename "$s")"; done
rm -rf "$SCRATCH/src"
"$Q" -q bag "$BENCH_DIR/data/large" -o "$SCRATCH/large" --link

out="$BENCH_DIR/audit-results.md"
{
    echo "## bench/audit.sh $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO" rev-parse --short HEAD), $(nproc) cores, medians of $RUNS"
    echo
    echo "| bags | measurement | runs (s) | median |"
    echo "|---|---|---|---:|"
} | tee -a "$out"
declare -A t=()
for r in $(seq "$RUNS"); do
    warm "$SCRATCH/bags"
    t[v_small]+="$(timeit "$Q" -q validate "$SCRATCH"/bags/*) "
    rm -f "$SCRATCH/reg.db"*
    t[a1_small]+="$(timeit "$Q" -q audit --register "$SCRATCH/reg.db" "$SCRATCH"/bags/*) "
    t[a2_small]+="$(timeit "$Q" -q audit --register "$SCRATCH/reg.db" "$SCRATCH"/bags/*) "
    warm "$SCRATCH/large"
    t[v_large]+="$(timeit "$Q" -q validate "$SCRATCH/large") "
    t[a_large]+="$(timeit "$Q" -q audit --register "$SCRATCH/reg.db" "$SCRATCH/large") "
done
row() { printf '| %s | %s | %s | %.2f s |\n' "$1" "$2" "$(tr ' ' '\n' <<<"${t[$3]}" | grep . | xargs printf '%.2f, ' | sed 's/, $//')" "$(tr ' ' '\n' <<<"${t[$3]}" | grep . | median)"; }
m() { tr ' ' '\n' <<<"${t[$1]}" | grep . | median; }
{
    row "$NBAGS small" "qoima validate" v_small
    row "$NBAGS small" "qoima audit, first (records baselines)" a1_small
    row "$NBAGS small" "qoima audit, again (compares)" a2_small
    row "large (2 × 2 GiB)" "qoima validate" v_large
    row "large (2 × 2 GiB)" "qoima audit" a_large
    awk -v v="$(m v_small)" -v a1="$(m a1_small)" -v a2="$(m a2_small)" -v vl="$(m v_large)" -v al="$(m a_large)" 'BEGIN {
        printf "| | ratios audit/validate | small first %.2f, small again %.2f, large %.2f | |\n", a1/v, a2/v, al/vl }'
} | tee -a "$out"
if [ -x "$REPO/target/release/examples/register_bench" ]; then
    echo | tee -a "$out"
    (cd "$SCRATCH" && "$REPO/target/release/examples/register_bench" 100 1000) 2>&1 | tee -a "$out"
fi
