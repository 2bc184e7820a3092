#!/usr/bin/env bash
# qoima vs bagit-python benchmark: bag and validate, median wall time and peak RSS, compared
# with the hash bound of the machine. See bench/README.md.
#
# usage: bench/run.sh [--runs N] [--datasets LIST] [--jobs N] [--quick] [--no-build]
#                     [--verify-data] [--help]
#
#   --runs N          timed runs per measurement; the median is reported (default 5)
#   --datasets LIST   comma-separated: mixed,small,large,single (default: all four),
#                     or quick (a tiny dataset made by python, for testing this script)
#   --jobs N          hashing threads: qoima --jobs N, bagit.py --processes N (default: nproc)
#   --quick           test the script fast: --runs 1 --datasets quick, short hash-rate runs
#   --no-build        use the binaries already in target/release (no cargo)
#   --verify-data     re-hash cached datasets against their recorded summary before use
#   -h, --help        this text
#
# Environment: BENCH_DIR (default /tmp/qoima-bench) holds the venv, the dataset cache
# (data/), scratch copies (removed on exit) and results.md; QOIMA_SHARED (default: the
# `shared` folder beside the repository) holds bench/gen-dataset.sh; CARGO_TARGET_DIR as cargo.
set -Eeuo pipefail

# ---------------------------------------------------------------------------------------------
# Basics

CMDLINE=$(printf '%q ' "$0" "$@")
CMDLINE=${CMDLINE% }
unset LC_ALL
export LC_NUMERIC=C # decimal points in EPOCHREALTIME, awk and printf

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)
SHARED=${QOIMA_SHARED:-$(cd "$SCRIPT_DIR/../.." && pwd -P)/shared}
BENCH_DIR=${BENCH_DIR:-/tmp/qoima-bench}
BAGIT_VERSION=1.9.0
SEED=8493
SINGLE_BYTES=4294967296 # 4 GiB

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '\nbench/run.sh: ERROR: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

RUNS=5
RUNS_SET=0
DATASETS=
JOBS=
QUICK=0
BUILD=1
VERIFY=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=${2:?--runs needs a value}; RUNS_SET=1; shift 2 ;;
    --runs=*) RUNS=${1#*=}; RUNS_SET=1; shift ;;
    --datasets) DATASETS=${2:?--datasets needs a value}; shift 2 ;;
    --datasets=*) DATASETS=${1#*=}; shift ;;
    --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
    --jobs=*) JOBS=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --verify-data) VERIFY=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    # explicit --runs/--datasets given with --quick still win
    [ "$RUNS_SET" = 1 ] || RUNS=1
    DATASETS=${DATASETS:-quick}
    HR_ARGS=(--seconds 0.3 --mib 32)
    SPEED_SECONDS=1
else
    HR_ARGS=(--seconds 2 --mib 256)
    SPEED_SECONDS=2
fi
DATASETS=${DATASETS:-mixed,small,large,single}
NPROC=$(nproc)
JOBS=${JOBS:-$NPROC}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, not '$RUNS'"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer, not '$JOBS'"
IFS=, read -r -a DS_LIST <<<"$DATASETS"
[ ${#DS_LIST[@]} -gt 0 ] || die "--datasets is empty"
for ds in "${DS_LIST[@]}"; do
    case $ds in mixed | small | large | single | quick) ;; *) die "unknown dataset '$ds' (mixed, small, large, single, quick)" ;; esac
done

for tool in python3 openssl sha256sum find cp df; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
if ! /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null; then
    die "GNU time is required at /usr/bin/time (apt-get install time)"
fi
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is required (EPOCHREALTIME)"

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
DATA=$BENCH_DIR/data
VENV=$BENCH_DIR/venv
mkdir -p "$DATA"

if [ "$(df -T "$BENCH_DIR" | awk 'NR == 2 {print $2}')" = tmpfs ]; then
    warn "$BENCH_DIR is on tmpfs: the dataset cache and working copies will take RAM (set BENCH_DIR to a disk)"
fi
if command -v flock >/dev/null; then
    exec 9>"$BENCH_DIR/.lock"
    flock -n 9 || die "another bench/run.sh is using $BENCH_DIR"
fi

WORK=$(mktemp -d "$BENCH_DIR/work.XXXXXX")
cleanup() {
    local rc=$?
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        # in-place bags may have lost write permission bits on the way: be thorough
        chmod -R u+rwX "$WORK" 2>/dev/null || true
        rm -rf "$WORK"
    fi
    rm -rf "$DATA"/.tmp-* 2>/dev/null || true
    [ "$rc" = 0 ] || printf 'bench/run.sh: stopped (exit %s); scratch copies removed, dataset cache kept in %s\n' "$rc" "$DATA" >&2
}
trap cleanup EXIT
trap 'printf "bench/run.sh: unexpected failure at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
SAMPLES=$WORK/samples.tsv
NOTES=$WORK/notes.txt
: >"$SAMPLES"
: >"$NOTES"
note() {
    warn "$*"
    printf '%s\n' "$*" >>"$NOTES"
}

# ---------------------------------------------------------------------------------------------
# Build qoima, set up bagit-python

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
case $TARGET in /*) ;; *) TARGET=$REPO/$TARGET ;; esac
if [ "$BUILD" = 1 ]; then
    command -v cargo >/dev/null || die "cargo is required (or use --no-build)"
    say "building qoima and examples/hashrate (release)"
    (cd "$REPO" && cargo build --release --locked && cargo build --release --examples --locked) >&2 ||
        die "cargo build failed"
fi
QOIMA=$TARGET/release/qoima
HASHRATE=$TARGET/release/examples/hashrate
[ -x "$QOIMA" ] || die "no qoima binary at $QOIMA"
[ -x "$HASHRATE" ] || die "no hashrate example at $HASHRATE"

bagit_ok() {
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("bagit") != sys.argv[1])' \
        "$BAGIT_VERSION" 2>/dev/null
}
if ! bagit_ok; then
    say "installing bagit-python $BAGIT_VERSION from PyPI into $VENV"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv?)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "bagit==$BAGIT_VERSION" >&2 ||
        die "pip install bagit==$BAGIT_VERSION failed (network to PyPI needed on the first run)"
    bagit_ok || die "bagit $BAGIT_VERSION is not importable from $VENV"
fi
BAGIT=$VENV/bin/bagit.py
[ -x "$BAGIT" ] || die "no bagit.py in $VENV/bin"

# ---------------------------------------------------------------------------------------------
# Datasets: $DATA/<name>/ (the tree), $DATA/<name>.sha256 ("<sha256>  <path>" per file, sorted,
# as gen-dataset.sh writes it) and $DATA/<name>.summary (one line; written last = complete).

GEN=$SHARED/bench/gen-dataset.sh

# The summary without its trailing "(12.3s)" timing.
strip_summary() { sed -E 's/ *\([0-9.]+s\)$//'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

expected_summary() {
    [ -f "$SHARED/bench/README.md" ] || return 0
    { grep -E "^ *profile=$1 seed=$SEED " "$SHARED/bench/README.md" || true; } | head -n1 | sed -E 's/^ +//' | strip_summary
}

# File count and byte total of a tree, cheaply (sizes only).
tree_stats() {
    find "$1" -type f -printf '%s\n' | awk '{n++; b += $1} END {printf "%.0f %.0f\n", n, b}'
}

gen_quick() { # OUTDIR: ~300 small files and 2 of 4 MiB, awkward names included
    python3 - "$1" "$SEED" <<'PY'
import hashlib, os, random, sys
out, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
dirs = ['', 'docs', 'docs/old', 'Архив 1', '100% final', 'a%20b', 'with space/deeper', 'ёлка/x%41']
files = []
for i in range(300):
    d = rng.choice(dirs)
    name = rng.choice(['f_%03d.bin', 'Документ %d.dat', 'report 100%% %d.txt', 'x%%41 %d.dat', 'naïve %d.bin'])
    if rng.random() < 0.6:
        name = 'f_%03d.bin'
    files.append((os.path.join(d, name % i), int(2 ** rng.uniform(0, 17)) if i % 50 else 0))
files += [('big 1.bin', 4 << 20), ('docs/big-2.bin', 4 << 20)]
lines = []
for rel, size in files:
    p = os.path.join(out, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    data = rng.randbytes(size)
    with open(p, 'wb') as f:
        f.write(data)
    lines.append((rel, hashlib.sha256(data).hexdigest()))
lines.sort(key=lambda t: t[0].encode())
text = ''.join('%s  %s\n' % (h, p) for p, h in lines).encode()
with open(out.rstrip('/') + '.sha256', 'wb') as f:
    f.write(text)
ndirs = sum(len(ds) for _, ds, _ in os.walk(out))
print('profile=quick seed=%d files=%d dirs=%d bytes=%d tree-sha256=%s'
      % (seed, len(files), ndirs, sum(s for _, s in files), hashlib.sha256(text).hexdigest()))
PY
}

gen_single() { # OUTDIR: one 4 GiB file from an AES-128-CTR keystream
    local out=$1 key sum
    key=$(printf '%s:single' "$SEED" | sha256sum | cut -c1-64)
    mkdir -p "$out"
    { openssl enc -aes-128-ctr -nosalt -K "${key:0:32}" -iv "${key:32:32}" -in /dev/zero 2>/dev/null || true; } |
        head -c "$SINGLE_BYTES" >"$out/single.bin"
    [ "$(stat -c %s "$out/single.bin")" = "$SINGLE_BYTES" ] || die "single.bin has the wrong size"
    sum=$(sha256sum "$out/single.bin" | cut -c1-64)
    printf '%s  single.bin\n' "$sum" >"$out.sha256"
    printf 'profile=single seed=%s files=1 dirs=0 bytes=%s tree-sha256=%s\n' \
        "$SEED" "$SINGLE_BYTES" "$(sha256sum <"$out.sha256" | cut -c1-64)"
}

need_space() { # BYTES WHAT
    local avail
    avail=$(df -B1 --output=avail "$BENCH_DIR" | tail -n1 | tr -d ' ')
    [ "$avail" -ge "$1" ] ||
        die "$2 needs about $(($1 >> 30)) GiB free in $BENCH_DIR, only $((avail >> 30)) GiB available"
}

prepare_dataset() { # NAME
    local ds=$1 dir=$DATA/$1 tmp=$DATA/.tmp-$1 want got stats
    if [ -f "$dir.summary" ] && [ -d "$dir" ]; then
        got=$(cat "$dir.summary")
        stats=$(tree_stats "$dir")
        [ "$stats" = "$(field files <<<"$got") $(field bytes <<<"$got")" ] ||
            die "cached dataset $dir does not match $dir.summary (files/bytes: $stats); delete it to regenerate"
        if [ "$VERIFY" = 1 ]; then
            say "re-hashing cached dataset $ds"
            local now
            now=$(bash "$GEN" summary "$dir" | strip_summary | cut -d' ' -f3-)
            [ "$now" = "$(cut -d' ' -f3- <<<"$got")" ] || die "cached dataset $ds changed: $now"
        fi
        say "dataset $ds: cached ($got)"
        return
    fi
    rm -rf "$dir" "$dir.sha256" "$dir.summary" "$tmp" "$tmp.sha256"
    say "generating dataset $ds into $dir (once; cached for later runs)"
    case $ds in
    mixed | small | large)
        [ -f "$GEN" ] || die "generator not found: $GEN (set QOIMA_SHARED to the shared folder)"
        need_space $((6 << 30)) "generating $ds"
        got=$(bash "$GEN" "$ds" "$tmp" "$SEED" | strip_summary) || die "gen-dataset.sh $ds failed"
        ;;
    single)
        need_space $((5 << 30)) "generating single"
        got=$(gen_single "$tmp")
        ;;
    quick)
        got=$(gen_quick "$tmp")
        ;;
    esac
    want=$(expected_summary "$ds")
    if [ -n "$want" ]; then
        [ "$got" = "$want" ] || die "dataset $ds does not match the expected summary
  got:      $got
  expected: $want"
        say "dataset $ds matches the expected summary"
    else
        say "dataset $ds: no published summary to compare with; recorded $got"
    fi
    mv "$tmp.sha256" "$dir.sha256"
    mv "$tmp" "$dir"
    printf '%s\n' "$got" >"$dir.summary"
}

# ---------------------------------------------------------------------------------------------
# Measuring

# Shows the end of a failed command's output (long lines cut) and keeps all of it.
keep_log() { # LOG
    tail -n 30 "$1" | cut -c1-400 >&2
    cp "$1" "$BENCH_DIR/failed.log" 2>/dev/null || true
}

# Runs a command with GNU time; wall time from EPOCHREALTIME (ms resolution, where %e has
# 10 ms), peak RSS from %M. Sets T_SEC and T_KIB. Fails loudly, with the log, if the command fails.
timed() { # LOG CMD...
    local log=$1 t0 t1 rc=0
    shift
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >"$log" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    if [ "$rc" != 0 ]; then
        keep_log "$log"
        die "exit $rc from: $*  (end of its output above; all of it in $BENCH_DIR/failed.log)"
    fi
    T_KIB=$(tail -n1 "$WORK/time.out" | awk '{print $2}')
    T_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
}

sample() { # DATASET OP TOOL RUN
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$T_SEC" "$T_KIB" >>"$SAMPLES"
    say "  $1 | $2 | $3 | run $4: ${T_SEC} s, $((T_KIB / 1024)) MiB"
}

# Untimed; fails loudly.
must() { # WHAT LOG CMD...
    local what=$1 log=$2 rc=0
    shift 2
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        keep_log "$log"
        die "$what: exit $rc from: $*  (end of its output above; all of it in $BENCH_DIR/failed.log)"
    fi
}

warm() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }

fresh_copy() { # SRC DST
    rm -rf "$2"
    cp -a "$1" "$2"
    sync
}

# Checks a bag's manifest-sha256.txt against the dataset's independent per-file sha256 list,
# and that manifest-sha512.txt lists the same paths. FLAVOUR: rfc (RFC 8493 path encoding:
# %25 %0A %0D) or bagit-python (which encodes only CR and LF).
check_truth() { # BAG TRUTH FLAVOUR
    python3 - "$@" <<'PY'
import os, re, sys
bag, truth, flavour = sys.argv[1:4]
def dec(p):
    if flavour == 'rfc':
        if re.search(r'%(?!25|0[aAdD])', p):
            sys.exit('%s: bad percent-escape in manifest path %r' % (bag, p))
        return re.sub(r'%(25|0[aA]|0[dD])', lambda m: {'25': '%', '0A': '\n', '0D': '\r'}[m.group(1).upper()], p)
    return p.replace('%0D', '\r').replace('%0A', '\n')
def load(name, hexlen):
    ent = {}
    with open(os.path.join(bag, name), encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            d, _, p = line.partition(' ')
            p = p.lstrip(' \t')
            if len(d) != hexlen or not p.startswith('data/'):
                sys.exit('%s: %s line %d is malformed: %r' % (bag, name, n, line))
            p = dec(p)[5:]
            if p in ent:
                sys.exit('%s: %s lists %r twice' % (bag, name, p))
            ent[p] = d.lower()
    return ent
want = {}
with open(truth, encoding='utf-8') as f:
    for line in f:
        d, p = line.rstrip('\n').split('  ', 1)
        want[p] = d
got = load('manifest-sha256.txt', 64)
s512 = load('manifest-sha512.txt', 128)
bad = []
for p in sorted(set(want) | set(got)):
    if p not in got:
        bad.append('missing from manifest-sha256.txt: %r' % p)
    elif p not in want:
        bad.append('not in the dataset: %r' % p)
    elif got[p] != want[p]:
        bad.append('wrong sha256 for %r' % p)
if set(s512) != set(got):
    bad.append('manifest-sha512.txt and manifest-sha256.txt list different paths')
if bad:
    sys.exit('%s: %d problems against the dataset:\n  %s' % (bag, len(bad), '\n  '.join(bad[:20])))
print('%s: %d entries, all sha256 match the dataset' % (bag, len(got)))
PY
}

# bagit-python 1.9.0 neither writes nor reads RFC 8493's %25 (it encodes only CR and LF), so it
# reports a conformant bag whose file names contain '%' as incomplete and stops before checking
# any checksum. Such a failure is accepted only when it is exactly that (every path it misses is
# a %25-encoded name of a file it finds unlisted, and nothing else is wrong); the payload is then
# checked independently instead (sha512 of every file with Python's hashlib, the sha256 having
# been checked against the dataset). Any other failure is fatal.
bagit_validates_qoima_bag() { # DATASET BAG LOG
    local ds=$1 bag=$2 log=$3 rc=0 n
    "${BV[@]}" --validate "$bag" >"$log" 2>&1 || rc=$?
    [ "$rc" != 0 ] || return 0
    if n=$(python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
m = re.search(r' is invalid: Bag is incomplete: (.*)$', text, re.M)
if not m:
    sys.exit(1)
missing, extra = set(), set()
for item in m.group(1).split('; '):
    a = re.fullmatch(r'(.*) exists in manifest but was not found on filesystem', item)
    b = re.fullmatch(r'(.*) exists on filesystem but is not in the manifest', item)
    if a:
        missing.add(a.group(1))
    elif b:
        extra.add(b.group(1))
    else:
        sys.exit(1)
dec = lambda p: re.sub(r'%(25|0[aA]|0[dD])', lambda e: {'25': '%', '0A': '\n', '0D': '\r'}[e.group(1).upper()], p)
ok = all('%25' in p for p in missing) and {dec(p) for p in missing} == extra
print(len(missing))
sys.exit(0 if ok else 1)
PY
    ); then
        must "$ds: independent sha512 check of qoima's bag" "$log.sha512" check_sha512 "$bag"
        note "$ds: bagit-python $BAGIT_VERSION calls qoima's bag $(basename "$bag") incomplete, only because of $n file name(s) containing '%': qoima writes them as %25, as RFC 8493 section 2.1.3 requires of a BagIt 1.0 bag, and bagit-python (which writes BagIt 0.97 bags) does not decode %25. That bag's sha512 manifest was checked with Python's hashlib instead."
        return 0
    fi
    keep_log "$log"
    die "$ds: bagit-python fails to validate qoima's bag $bag (end of its output above; all of it in $BENCH_DIR/failed.log)"
}

# Every file under BAG/data/ hashed with sha512 (hashlib) against manifest-sha512.txt (RFC 8493
# path encoding), and no file unlisted.
check_sha512() { # BAG
    python3 - "$1" <<'PY'
import hashlib, os, re, sys
bag = sys.argv[1]
dec = lambda p: re.sub(r'%(25|0[aA]|0[dD])', lambda e: {'25': '%', '0A': '\n', '0D': '\r'}[e.group(1).upper()], p)
want = {}
with open(os.path.join(bag, 'manifest-sha512.txt'), encoding='utf-8') as f:
    for line in f:
        d, _, p = line.rstrip('\n').partition(' ')
        want[dec(p.lstrip(' \t'))] = d.lower()
have = set()
for root, _, files in os.walk(os.path.join(bag, 'data')):
    for n in files:
        have.add(os.path.relpath(os.path.join(root, n), bag))
if have != set(want):
    sys.exit('%s: manifest-sha512.txt and data/ differ: %d unlisted, %d missing'
             % (bag, len(have - set(want)), len(set(want) - have)))
bad = 0
for p, d in want.items():
    h = hashlib.sha512()
    with open(os.path.join(bag, p), 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    if h.hexdigest() != d:
        print('wrong sha512: %r' % p)
        bad += 1
if bad:
    sys.exit('%s: %d wrong sha512 checksums' % (bag, bad))
print('%s: %d sha512 checksums correct' % (bag, len(want)))
PY
}

QV=("$QOIMA" --quiet --jobs "$JOBS")
BV=("$BAGIT" --processes "$JOBS")

bench_dataset() { # NAME
    local ds=$1 src=$DATA/$1 d=$WORK/$1 i bytes files stats qbag bbag out
    stats=$(tree_stats "$src")
    files=${stats% *}
    bytes=${stats#* }
    printf '%s\t%s\t%s\n' "$ds" "$files" "$bytes" >>"$WORK/datasets.tsv"
    need_space $((2 * bytes + (1 << 30))) "benchmarking $ds (two working copies)"
    local mem
    mem=$(awk '/^MemTotal/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
    [ "$((3 * bytes))" -le "$mem" ] ||
        warn "$ds: the dataset and two bags ($((3 * bytes >> 20)) MiB) may not all fit in the page cache ($((mem >> 20)) MiB RAM): timings may include disk reads"
    mkdir -p "$d"
    qbag=$d/qoima-bag
    bbag=$d/bagit-bag
    out=$d/qoima-out
    say "== $ds: $files files, $bytes bytes; warming the page cache"
    warm "$src"

    # 1. Bag in place, each tool on a fresh copy (copy and sync untimed); the last run's bags
    #    are kept for the validation steps.
    for ((i = 1; i <= RUNS; i++)); do
        fresh_copy "$src" "$qbag"
        timed "$d/log" "${QV[@]}" bag --in-place "$qbag"
        sample "$ds" "bag (in place)" qoima "$i"
        fresh_copy "$src" "$bbag"
        timed "$d/log" "${BV[@]}" "$bbag"
        sample "$ds" "bag (in place)" bagit-python "$i"
    done

    # Correctness (untimed): both bags against the dataset's own checksums, and each tool
    # validates the other's bag. Also warms the page cache for the timed validations.
    say "$ds: checking both bags against the dataset and with the other tool"
    must "$ds: qoima's bag against the dataset" "$d/check" check_truth "$qbag" "$src.sha256" rfc
    must "$ds: bagit-python's bag against the dataset" "$d/check" check_truth "$bbag" "$src.sha256" bagit-python
    bagit_validates_qoima_bag "$ds" "$qbag" "$d/check"
    must "$ds: qoima validates bagit-python's bag" "$d/check" "${QV[@]}" validate "$bbag"
    must "$ds: qoima validates its own bag" "$d/check" "${QV[@]}" validate "$qbag"
    must "$ds: bagit-python validates its own bag" "$d/check" "${BV[@]}" --validate "$bbag"

    # 3. Full validation; 4. Payload-Oxum only.
    for ((i = 1; i <= RUNS; i++)); do
        timed "$d/log" "${QV[@]}" validate "$qbag"
        sample "$ds" validate qoima "$i"
        timed "$d/log" "${BV[@]}" --validate "$bbag"
        sample "$ds" validate bagit-python "$i"
        timed "$d/log" "${QV[@]}" validate "$bbag"
        sample "$ds" validate "qoima on bagit-python's bag" "$i"
    done
    must "$ds: qoima --fast warm-up" "$d/check" "${QV[@]}" validate --fast "$qbag"
    must "$ds: bagit-python --fast warm-up" "$d/check" "${BV[@]}" --validate --fast "$bbag"
    for ((i = 1; i <= RUNS; i++)); do
        timed "$d/log" "${QV[@]}" validate --fast "$qbag"
        sample "$ds" "validate --fast" qoima "$i"
        timed "$d/log" "${BV[@]}" --validate --fast "$bbag"
        sample "$ds" "validate --fast" bagit-python "$i"
    done
    rm -rf "$qbag" "$bbag"

    # 2. Bag into a new place (qoima only: bagit-python has no such mode). The source is the
    #    cached dataset itself, which qoima only reads (checked below).
    for ((i = 1; i <= RUNS; i++)); do
        rm -rf "$out"
        sync
        timed "$d/log" "${QV[@]}" bag "$src" -o "$out"
        sample "$ds" "bag -o (copy)" qoima "$i"
    done
    must "$ds: qoima's copied bag against the dataset" "$d/check" check_truth "$out" "$src.sha256" rfc
    bagit_validates_qoima_bag "$ds" "$out" "$d/check"
    [ "$(tree_stats "$src")" = "$stats" ] || die "$ds: the source changed while qoima bagged it with -o"
    rm -rf "$out" "$d"
    sync
}

# ---------------------------------------------------------------------------------------------
# Hash bound: per-core rates of qoima's sha256 and of the fastest sha512 on this machine.

measure_rates() {
    say "measuring per-core hash rates (examples/hashrate ${HR_ARGS[*]})"
    "$HASHRATE" "${HR_ARGS[@]}" >"$WORK/hashrate.txt" || die "the hashrate example failed"
    R256=$(awk '$1 == "rate" && $2 == "sha256" && $0 !~ /::/ {print $NF; exit}' "$WORK/hashrate.txt")
    R512=$(awk '$1 == "rate" && $2 == "sha512" {print $NF}' "$WORK/hashrate.txt" | sort -g | tail -n1)
    R512_FROM=$(awk -v r="$R512" '$1 == "rate" && $2 == "sha512" && $NF == r {$1 = $2 = $NF = ""; gsub(/^ +| +$/, ""); print; exit}' "$WORK/hashrate.txt")
    [ -n "$R256" ] || die "could not read the sha256 rate from the hashrate example"
    [ -n "$R512" ] || die "could not read the sha512 rate from the hashrate example"
    local speed
    speed=$(openssl speed -evp sha512 -bytes 1048576 -seconds "$SPEED_SECONDS" 2>/dev/null |
        awk '$1 == "sha512" && $2 ~ /k$/ {v = $2; sub(/k$/, "", v); printf "%.3f", v * 1000 / 1e9}') || true
    if [ -n "$speed" ]; then
        printf 'rate sha512 openssl-speed-cli %s\n' "$speed" >>"$WORK/hashrate.txt"
        if awk -v a="$speed" -v b="$R512" 'BEGIN {exit !(a > b)}'; then
            R512=$speed
            R512_FROM="openssl speed -evp sha512"
        fi
    fi
    say "hash rates per core: sha256 $R256 GB/s (qoima), sha512 $R512 GB/s ($R512_FROM)"
}

# ---------------------------------------------------------------------------------------------
# Run

say "qoima benchmark: datasets ${DS_LIST[*]}, $RUNS run(s) each, jobs $JOBS, BENCH_DIR $BENCH_DIR"
for ds in "${DS_LIST[@]}"; do prepare_dataset "$ds"; done
measure_rates
: >"$WORK/datasets.tsv"
for ds in "${DS_LIST[@]}"; do bench_dataset "$ds"; done

# ---------------------------------------------------------------------------------------------
# Report

# The commit: `git rev-parse`, or else read from .git/ directly.
commit_of() {
    local c gd=$REPO/.git head ref
    if c=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) && [ -n "$c" ]; then
        printf '%s\n' "$c"
        return
    fi
    c=
    if [ -f "$gd/HEAD" ]; then
        head=$(cat "$gd/HEAD")
        case $head in
        "ref: "*)
            ref=${head#ref: }
            if [ -f "$gd/$ref" ]; then
                c=$(cat "$gd/$ref")
            elif [ -f "$gd/packed-refs" ]; then
                c=$(awk -v r="$ref" '$2 == r {print $1}' "$gd/packed-refs")
            fi
            ;;
        *) c=$head ;;
        esac
    fi
    printf '%s\n' "${c:0:7}"
}
COMMIT=$(commit_of)
COMMIT=${COMMIT:-unknown}
CPU=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)
MEM=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$BENCH_DIR" | awk 'NR == 2 {print $2}')
{
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    printf 'machine\t%s cores (nproc), %s, %s RAM, %s, %s on %s\n' "$NPROC" "${CPU:-unknown CPU}" "$MEM" "$(uname -sr)" "$BENCH_DIR" "$FS"
    printf 'qoima\t%s, commit %s, %s\n' "$("$QOIMA" --version | sed 's/^qoima //')" "$COMMIT" "$QOIMA"
    printf 'bagit\tbagit-python %s on %s\n' "$BAGIT_VERSION" "$("$VENV/bin/python" --version 2>&1)"
    printf 'command\t%s\n' "$CMDLINE"
    printf 'runs\t%s\n' "$RUNS"
    printf 'jobs\t%s\n' "$JOBS"
    printf 'nproc\t%s\n' "$NPROC"
    printf 'r256\t%s\n' "$R256"
    printf 'r512\t%s\n' "$R512"
    printf 'r512from\t%s\n' "$R512_FROM"
} >"$WORK/meta.tsv"

python3 - "$WORK" >"$WORK/results.md" <<'PY'
import os, statistics, sys
from collections import OrderedDict
w = sys.argv[1]
meta = dict(l.rstrip('\n').split('\t', 1) for l in open(os.path.join(w, 'meta.tsv'), encoding='utf-8'))
r256, r512, cores = float(meta['r256']), float(meta['r512']), int(meta['nproc'])
sets = OrderedDict()
for l in open(os.path.join(w, 'datasets.tsv'), encoding='utf-8'):
    ds, n, b = l.rstrip('\n').split('\t')
    sets[ds] = (int(n), int(b))
samples = OrderedDict()
for l in open(os.path.join(w, 'samples.tsv'), encoding='utf-8'):
    ds, op, tool, run, sec, kib = l.rstrip('\n').split('\t')
    samples.setdefault((ds, op, tool), []).append((float(sec), int(kib)))
def bound(ds):
    return sets[ds][1] * (1 / r256 + 1 / r512) / 1e9 / cores
out = []
p = out.append
p('# qoima vs bagit-python')
p('')
p('- date: %s' % meta['date'])
p('- machine: %s' % meta['machine'])
p('- qoima: %s (`--jobs %s --quiet`)' % (meta['qoima'], meta['jobs']))
p('- bagit-python: %s (`--processes %s`)' % (meta['bagit'].replace('bagit-python ', ''), meta['jobs']))
p('- command: `%s`' % meta['command'])
p('- %s timed run(s) per row, median shown; warm page cache; peak RSS = largest single process (GNU time %%M)' % meta['runs'])
p('- hash rates per core: sha256 %.3f GB/s (qoima: sha2), sha512 %.3f GB/s (fastest: %s); '
  'hash bound = bytes x (1/r256 + 1/r512) / %d cores' % (r256, r512, meta['r512from'], cores))
p('')
p('| dataset | files | bytes | hash bound s |')
p('|---|---:|---:|---:|')
for ds, (n, b) in sets.items():
    p('| %s | %d | %d | %.3f |' % (ds, n, b, bound(ds)))
p('')
p('| dataset | operation | tool | median s | peak RSS MiB | bagit-python / qoima | % of hash bound |')
p('|---|---|---|---:|---:|---:|---:|')
def med(k):
    v = samples[k]
    return statistics.median(s for s, _ in v), statistics.median(m for _, m in v) / 1024
for (ds, op, tool), v in samples.items():
    t, rss = med((ds, op, tool))
    ratio = '—'
    ref = (ds, op, 'bagit-python')
    if tool != 'bagit-python' and ref in samples:
        ratio = '%.2fx' % (med(ref)[0] / t) if t > 0 else '∞'
    pct = '—'
    if op != 'validate --fast':
        pct = '%.0f%%' % (100 * bound(ds) / t) if t > 0 else '—'
    p('| %s | %s | %s | %.3f | %.1f | %s | %s |' % (ds, op, tool, t, rss, ratio, pct))
notes = open(os.path.join(w, 'notes.txt'), encoding='utf-8').read().split('\n')
notes = [n for n in notes if n]
if notes:
    p('')
    p('Notes:')
    p('')
    for n in notes:
        p('- ' + n)
p('')
p('<details><summary>hash rates (examples/hashrate)</summary>')
p('')
p('```')
out.extend(l.rstrip('\n') for l in open(os.path.join(w, 'hashrate.txt'), encoding='utf-8'))
p('```')
p('')
p('</details>')
print('\n'.join(out))
PY

mkdir -p "$BENCH_DIR/history"
cp "$WORK/results.md" "$BENCH_DIR/results.md"
cp "$WORK/results.md" "$BENCH_DIR/history/results-$(date -u +%Y%m%dT%H%M%SZ).md"
cp "$WORK/samples.tsv" "$BENCH_DIR/samples.tsv"
cat "$WORK/results.md"
say "done: $BENCH_DIR/results.md (raw samples: $BENCH_DIR/samples.tsv)"
