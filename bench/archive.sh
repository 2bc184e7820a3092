#!/usr/bin/env bash
# Serialized bags: validating a bag as zip and as tar against validating it as a folder, and
# writing a zip against bagging alone plus copying the bytes once. See bench/README.md.
#
# usage: bench/archive.sh [--runs N] [--datasets LIST] [--no-build]
#
#   --runs N          timed runs per measurement; the median is reported (default 3)
#   --datasets LIST   comma-separated datasets made by bench/run.sh (default: mixed,large)
#   --no-build        use target/release/qoima as it is
#
# Needs the datasets in $BENCH_DIR/data (default /tmp/qoima-bench; `bench/run.sh --datasets
# mixed,large` makes them). Scratch space: twice the dataset, removed on exit.
set -Eeuo pipefail
export LC_NUMERIC=C
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-/tmp/qoima-bench}
RUNS=3
DATASETS=mixed,large
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --datasets) DATASETS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ "$BUILD" = 1 ] && (cd "$REPO" && cargo build --release --locked -q)
Q="$REPO/target/release/qoima"
export SOURCE_DATE_EPOCH=1641340800
SCRATCH=$(mktemp -d "$BENCH_DIR/archive-bench.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timeit() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(now); echo "$t1 - $t0" | bc; }
warm() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }

out="$BENCH_DIR/archive-results.md"
{
    echo "## bench/archive.sh $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO" rev-parse --short HEAD), $(nproc) cores, medians of $RUNS"
    echo
    echo "| dataset | measurement | runs (s) | median |"
    echo "|---|---|---|---:|"
} | tee -a "$out"
IFS=, read -r -a sets <<<"$DATASETS"
for d in "${sets[@]}"; do
    src="$BENCH_DIR/data/$d"
    [ -d "$src" ] || { echo "no dataset $src: run bench/run.sh --datasets $d first" >&2; exit 1; }
    bag="$SCRATCH/$d"
    "$Q" -q bag "$src" -o "$bag" --link
    "$Q" -q serialize "$bag" --zip -o "$SCRATCH/$d.zip"
    "$Q" -q serialize "$bag" --tar -o "$SCRATCH/$d.tar"
    declare -A t=()
    for r in $(seq "$RUNS"); do
        for kind in folder zip tar; do
            case $kind in folder) target=$bag ;; zip) target=$SCRATCH/$d.zip ;; tar) target=$SCRATCH/$d.tar ;; esac
            warm "$target"
            t[$kind]+="$(timeit "$Q" -q validate "$target") "
        done
    done
    rm -f "$SCRATCH/$d.zip" "$SCRATCH/$d.tar"
    rm -rf "$bag"
    for r in $(seq "$RUNS"); do
        warm "$src"
        t[hash]+="$(timeit "$Q" -q bag "$src" -o "$SCRATCH/h" --link) "
        rm -rf "$SCRATCH/h"
        t[copy]+="$(timeit sh -c 'cp -r "$1" "$2" && sync -f "$2"' sh "$src" "$SCRATCH/c") "
        rm -rf "$SCRATCH/c"
        t[bag]+="$(timeit "$Q" -q bag "$src" -o "$SCRATCH/b") "
        rm -rf "$SCRATCH/b"
        t[mkzip]+="$(timeit "$Q" -q bag "$src" -o "$SCRATCH/z" --zip) "
        rm -f "$SCRATCH/z.zip"
    done
    declare -A m=()
    for k in folder zip tar hash copy bag mkzip; do m[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median); done
    row() { printf '| %s | %s | %s | %.2f s |\n' "$d" "$1" "$(tr ' ' '\n' <<<"${t[$2]}" | grep . | xargs printf '%.2f, ' | sed 's/, $//')" "${m[$2]}"; }
    {
        row "validate folder" folder
        row "validate zip (stored)" zip
        row "validate tar" tar
        row "bag -o --link (hash only)" hash
        row "cp -r + sync (copy the bytes once, durably)" copy
        row "bag -o OUT (copy, hash, sync)" bag
        row "bag -o OUT --zip" mkzip
        awk -v f="${m[folder]}" -v z="${m[zip]}" -v t="${m[tar]}" -v h="${m[hash]}" -v c="${m[copy]}" -v b="${m[bag]}" -v w="${m[mkzip]}" -v d="$d" 'BEGIN {
            printf "| %s | ratios | zip/folder %.2f, tar/folder %.2f; bag --zip / (hash only + copy) %.2f; bag --zip / bag -o %.2f | |\n", d, z/f, t/f, w/(h+c), w/b }'
    } | tee -a "$out"
    unset t m
done
