#!/usr/bin/env bash
# Encrypted sealed bundles: what `qoima seal … --to age1… -o DIR` costs over sealing alone
# (deterministic tar, age encryption, sha256 of the ciphertext, its signature, the envelope,
# fsync), against the reference `age` CLI encrypting the same plaintext tar — to a file; to a
# file followed by an fsync of it, since qoima makes its bundle durable before it reports it
# written; and to /dev/null, which is age's encryption alone, with nothing written (the floor
# no file-writing tool can go under). See bench/README.md.
#
# usage: bench/seal.sh [--runs N] [--dataset NAME] [--no-build]
#
#   --runs N          timed runs per measurement; the median is reported (default 3)
#   --dataset NAME    a dataset made by bench/run.sh (default: large)
#   --no-build        use target/release/qoima as it is
#
# Needs the dataset in $BENCH_DIR/data (default /tmp/qoima-bench), and `age`/`age-keygen`
# (apt-get install age). Scratch space: about three times the dataset (the bag is hard-linked),
# removed on exit. The target: encryption within 20% of the age CLI's throughput.
set -Eeuo pipefail
export LC_NUMERIC=C
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-/tmp/qoima-bench}
RUNS=3
DATASET=large
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --dataset) DATASET=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
for t in age age-keygen bc; do
    command -v "$t" >/dev/null 2>&1 || { echo "$t is not installed (apt-get install age bc)" >&2; exit 2; }
done
src="$BENCH_DIR/data/$DATASET"
[ -d "$src" ] || { echo "no dataset $src: run bench/run.sh --datasets $DATASET first" >&2; exit 1; }
[ "$BUILD" = 1 ] && (cd "$REPO" && cargo build --release --locked -q)
Q="$REPO/target/release/qoima"
export SOURCE_DATE_EPOCH=1641340800
SCRATCH=$(mktemp -d "$BENCH_DIR/seal-bench.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timeit() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(now); echo "$t1 - $t0" | bc; }
warm() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }

bag="$SCRATCH/$DATASET"
"$Q" -q bag "$src" -o "$bag" --link
"$Q" -q keygen -o "$SCRATCH/key" --unencrypted >/dev/null
age-keygen -o "$SCRATCH/id.txt" 2>/dev/null
R=$(age-keygen -y "$SCRATCH/id.txt")
"$Q" -q seal "$bag" --sign "$SCRATCH/key"
# The plaintext both encrypt: the sealed bag's deterministic tar (the bytes qoima encrypts).
"$Q" -q serialize "$bag" --tar -o "$SCRATCH/p/$DATASET.tar"
tar_bytes=$(stat -c %s "$SCRATCH/p/$DATASET.tar")

declare -A t=()
for r in $(seq "$RUNS"); do
    warm "$bag"
    t[seal]+="$(timeit "$Q" -q seal "$bag" --sign "$SCRATCH/key") "
    rm -rf "$SCRATCH/out"
    warm "$bag"
    t[sealenc]+="$(timeit "$Q" -q seal "$bag" --sign "$SCRATCH/key" --to "$R" -o "$SCRATCH/out") "
    rm -rf "$SCRATCH/out"
    rm -f "$SCRATCH/x.age"
    warm "$SCRATCH/p"
    t[agesync]+="$(timeit sh -c 'age -r "$1" -o "$2" "$3" && sync "$2"' sh "$R" "$SCRATCH/x.age" "$SCRATCH/p/$DATASET.tar") "
    # age alone right after an age output left the page cache, so that it finds the memory
    # to write through it free (qoima's bundle, written with O_DIRECT, leaves none behind).
    rm -f "$SCRATCH/x.age"
    warm "$SCRATCH/p"
    t[age]+="$(timeit age -r "$R" -o "$SCRATCH/x.age" "$SCRATCH/p/$DATASET.tar") "
    rm -f "$SCRATCH/x.age"
    warm "$SCRATCH/p"
    t[agenull]+="$(timeit age -r "$R" -o /dev/null "$SCRATCH/p/$DATASET.tar") "
done
# Sanity: the bundle verifies, and age decrypts it.
"$Q" -q seal "$bag" --sign "$SCRATCH/key" --to "$R" -o "$SCRATCH/out"
"$Q" -q verify-seal "$SCRATCH/out/bundle.tar.age" --trusted-keys "$SCRATCH/key.pub" -i "$SCRATCH/id.txt"

declare -A m=()
for k in seal sealenc age agesync agenull; do m[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median); done
# The age CLI writes through the page cache, whose cost varies a lot from run to run on a busy
# machine: its fastest run gives the least flattering ratio, reported too.
agemin=$(tr ' ' '\n' <<<"${t[age]}" | grep . | sort -n | head -1)
out="$BENCH_DIR/seal-results.md"
row() { printf '| %s | %s | %s | %.2f s |\n' "$DATASET" "$1" "$(tr ' ' '\n' <<<"${t[$2]}" | grep . | xargs printf '%.2f, ' | sed 's/, $//')" "${m[$2]}"; }
{
    echo "## bench/seal.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(age --version) , medians of $RUNS, tar of $tar_bytes bytes"
    echo
    echo "| dataset | measurement | runs (s) | median |"
    echo "|---|---|---|---:|"
    row "qoima seal (in place: validate, sign)" seal
    row "qoima seal --to -o (seal, then tar, hash, encrypt, sign)" sealenc
    row "age -r (encrypt the same tar)" age
    row "age -r, then sync the output (durable, as qoima's bundle)" agesync
    row "age -r -o /dev/null (age's encryption alone, nothing written)" agenull
    awk -v s="${m[seal]}" -v e="${m[sealenc]}" -v a="${m[age]}" -v asy="${m[agesync]}" -v an="${m[agenull]}" -v amin="$agemin" -v b="$tar_bytes" -v d="$DATASET" 'BEGIN {
        enc = e - s; if (enc <= 0) enc = 0.001
        qt = b / enc / 1e6; at = b / a / 1e6; ast = b / asy / 1e6
        printf "| %s | encryption alone (seal --to minus seal: tar, age, sha256 of the ciphertext, signature, fsync) | %.2f s, %.0f MB/s | qoima/age throughput %.2f against the fastest age run, %.2f s (target >= 0.80) |\n", d, enc, qt, amin / enc, amin
        printf "| %s | the same against the median age run | %.2f s vs %.2f s | qoima/age throughput %.2f (age %.0f MB/s) |\n", d, enc, a, qt / at, at
        printf "| %s | the same against age + sync | %.2f s vs %.2f s | qoima/age throughput %.2f (age + sync %.0f MB/s) |\n", d, enc, asy, qt / ast, ast
        printf "| %s | the same against age to /dev/null | %.2f s vs %.2f s | qoima/age throughput %.2f (age, nothing written, %.0f MB/s) |\n", d, enc, an, an / enc, b / an / 1e6 }'
} | tee -a "$out"
