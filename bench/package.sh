#!/usr/bin/env bash
# `qoima package` against `qoima bag -o`: what checking and describing a collection (check,
# METS, Dublin Core, report) costs over bagging the same folder. Median wall time and peak RSS.
# See bench/README.md.
#
# usage: bench/package.sh [--runs N] [--jobs N] [--quick] [--no-build] [--help]
#
#   --runs N      timed runs of each command, alternating bag and package; the median is
#                 reported (default 5)
#   --jobs N      hashing threads: qoima --jobs N (default: nproc)
#   --quick       test the script in seconds: a small self-made collection, --runs 1
#                 (an explicit --runs still wins)
#   --no-build    use target/release/qoima as it is (otherwise: cargo build --release --locked)
#   -h, --help    this text
#
# The collection is the `mixed` dataset of bench/run.sh ($BENCH_DIR/data/mixed, made the same
# way when missing), hard-linked into a scratch folder, plus a generated metadata.csv (one
# record per file) and collection.toml. `qoima check` must pass on it (warnings allowed) before
# anything is timed. Then, --runs times each, with SOURCE_DATE_EPOCH set and OUT deleted (and
# synced) before every run:
#     qoima --quiet --jobs N bag     COLL -o OUT
#     qoima --quiet --jobs N package COLL -o OUT
# The last package bag is validated (`qoima validate`, untimed). The table and the ratio
# package/bag go to stdout and are appended to $BENCH_DIR/package-results.md.
#
# Environment: BENCH_DIR (default /tmp/qoima-bench): dataset cache (data/), scratch (removed on
# exit), results; QOIMA_SHARED (default: `shared` beside the repository) holds
# bench/gen-dataset.sh; CARGO_TARGET_DIR as cargo.
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
SEED=8493
# 2022-01-05T00:00:00Z: fixed Bagging-Date, so that every run writes the same bag
EPOCH=1641340800

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '\nbench/package.sh: ERROR: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

RUNS=5
RUNS_SET=0
JOBS=
QUICK=0
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=${2:?--runs needs a value}; RUNS_SET=1; shift 2 ;;
    --runs=*) RUNS=${1#*=}; RUNS_SET=1; shift ;;
    --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
    --jobs=*) JOBS=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    [ "$RUNS_SET" = 1 ] || RUNS=1
    DS=quick-package
else
    DS=mixed
fi
NPROC=$(nproc)
JOBS=${JOBS:-$NPROC}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, not '$RUNS'"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer, not '$JOBS'"

for tool in python3 find cp df sync; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is required (EPOCHREALTIME)"
if /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null; then
    HAVE_TIME=1
else
    HAVE_TIME=0
    warn "no GNU time at /usr/bin/time (apt-get install time): peak RSS will not be reported"
fi

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
DATA=$BENCH_DIR/data
mkdir -p "$DATA"
RESULTS=$BENCH_DIR/package-results.md

# The same lock as bench/run.sh: two benchmarks on one machine would time each other.
if command -v flock >/dev/null; then
    exec 9>"$BENCH_DIR/.lock"
    flock -n 9 || die "another benchmark (bench/run.sh or bench/package.sh) is using $BENCH_DIR"
fi

# Scratch: the collection (hard links into the dataset) and OUT, on BENCH_DIR's file system.
WORK=$(mktemp -d "$BENCH_DIR/package.XXXXXX")
cleanup() {
    local rc=$?
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        chmod -R u+rwX "$WORK" 2>/dev/null || true
        rm -rf "$WORK"
    fi
    rm -rf "$DATA"/.tmp-mixed 2>/dev/null || true
    [ "$rc" = 0 ] || printf 'bench/package.sh: stopped (exit %s); scratch removed, dataset cache kept in %s\n' "$rc" "$DATA" >&2
}
trap cleanup EXIT
trap 'printf "bench/package.sh: unexpected failure at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
COLL=$WORK/coll
OUT=$WORK/out
SAMPLES=$WORK/samples.tsv
NOTES=$WORK/notes.txt
: >"$SAMPLES"
: >"$NOTES"
note() {
    warn "$*"
    printf '%s\n' "$*" >>"$NOTES"
}

# ---------------------------------------------------------------------------------------------
# qoima

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
case $TARGET in /*) ;; *) TARGET=$REPO/$TARGET ;; esac
if [ "$BUILD" = 1 ]; then
    command -v cargo >/dev/null || die "cargo is required (or use --no-build)"
    say "building qoima (cargo build --release --locked)"
    (cd "$REPO" && cargo build --release --locked) >&2 || die "cargo build failed"
fi
QOIMA=$TARGET/release/qoima
[ -x "$QOIMA" ] || die "no qoima binary at $QOIMA (build it, or drop --no-build)"
QOIMA_STAMP=$(stat -L -c '%s %Y' "$QOIMA")

# ---------------------------------------------------------------------------------------------
# The dataset

tree_stats() { find "$1" -type f -printf '%s\n' | awk '{n++; b += $1} END {printf "%.0f %.0f\n", n, b}'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
strip_summary() { sed -E 's/ *\([0-9.]+s\)$//'; }

need_space() { # BYTES WHAT
    local avail
    avail=$(df -B1 --output=avail "$BENCH_DIR" | tail -n1 | tr -d ' ')
    [ "$avail" -ge "$1" ] ||
        die "$2 needs about $(($1 >> 30)) GiB free in $BENCH_DIR, only $((avail >> 30)) GiB available"
}

# $DATA/mixed as bench/run.sh makes and caches it (same files, same summary check).
prepare_mixed() {
    local dir=$DATA/mixed tmp=$DATA/.tmp-mixed gen=$SHARED/bench/gen-dataset.sh got want stats
    if [ -f "$dir.summary" ] && [ -d "$dir" ]; then
        got=$(cat "$dir.summary")
        stats=$(tree_stats "$dir")
        [ "$stats" = "$(field files <<<"$got") $(field bytes <<<"$got")" ] ||
            die "cached dataset $dir does not match $dir.summary (files/bytes: $stats); delete $dir* and rerun to regenerate it"
        say "dataset mixed: cached ($got)"
        return
    fi
    say "dataset mixed is not in $dir: generating it as bench/run.sh does (once; cached for both scripts)"
    [ -f "$gen" ] || die "dataset $dir is missing and its generator is not at $gen: set QOIMA_SHARED to the shared folder, or make it with: bench/run.sh --datasets mixed"
    need_space $((6 << 30)) "generating mixed"
    rm -rf "$dir" "$dir.sha256" "$dir.summary" "$tmp" "$tmp.sha256"
    got=$(bash "$gen" mixed "$tmp" "$SEED" | strip_summary) || die "gen-dataset.sh mixed failed"
    want=
    if [ -f "$SHARED/bench/README.md" ]; then
        want=$({ grep -E "^ *profile=mixed seed=$SEED " "$SHARED/bench/README.md" || true; } | head -n1 | sed -E 's/^ +//' | strip_summary)
    fi
    if [ -n "$want" ]; then
        [ "$got" = "$want" ] || die "dataset mixed does not match the expected summary
  got:      $got
  expected: $want"
        say "dataset mixed matches the expected summary"
    else
        warn "dataset mixed: no published summary to compare with; recorded $got"
    fi
    mv "$tmp.sha256" "$dir.sha256"
    mv "$tmp" "$dir"
    printf '%s\n' "$got" >"$dir.summary"
}

# --quick: ~200 random files of 1-256 KiB and two of 4 MiB with awkward names (spaces,
# Cyrillic, '%', a comma, a quote), plus a few real PNGs (8x8, so they are checked as images).
# No empty or tiny files: a described file is a photo to qoima check, and an empty one
# (PHOTO-001) or one that looks like text (PHOTO-002) is an error.
gen_quick_package() { # OUTDIR
    python3 - "$1" "$SEED" <<'PY'
import os, random, struct, sys, zlib
out, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
dirs = ['', 'docs', 'docs/old', 'Архив 1', '100% final', 'with space/deeper', 'ёлка/x%41', 'a, "b"']
names = ['f_%03d.bin', 'Документ %d.dat', 'report 100%% %d.txt', 'naïve %d.bin', 'comma, %d.dat']
def png(seed):
    r = random.Random(seed)
    raw = b''.join(b'\0' + bytes(r.randrange(256) for _ in range(8 * 3)) for _ in range(8))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 8, 8, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
files = []
for i in range(200):
    name = rng.choice(names) if rng.random() < 0.4 else 'f_%03d.bin'
    files.append((os.path.join(rng.choice(dirs), name % i), rng.randbytes(int(2 ** rng.uniform(10, 18)))))
files += [('big 1.bin', rng.randbytes(4 << 20)), ('docs/big-2.bin', rng.randbytes(4 << 20))]
files += [('images/img_%d.png' % i, png(seed + i)) for i in range(4)]
for rel, data in files:
    p = os.path.join(out, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f:
        f.write(data)
PY
}

if [ "$QUICK" = 1 ]; then
    SRC=$WORK/data-quick
    say "dataset quick-package: generating a small collection in $SRC"
    gen_quick_package "$SRC" || die "generating the quick dataset failed"
else
    prepare_mixed
    SRC=$DATA/mixed
fi
for f in metadata.csv metadata.json collection.toml collection.json; do
    [ ! -e "$SRC/$f" ] || die "the dataset $SRC already has a $f: it cannot be made into a collection here"
done
SRC_STATS=$(tree_stats "$SRC")
SRC_FILES=${SRC_STATS% *}
SRC_BYTES=${SRC_STATS#* }

# ---------------------------------------------------------------------------------------------
# The collection: hard links to the dataset (qoima only reads it), a sidecar, collection.toml

say "making the collection $COLL ($SRC_FILES files, $SRC_BYTES bytes, hard-linked)"
if ! cp -al "$SRC" "$COLL" 2>"$WORK/cp.log"; then
    rm -rf "$COLL"
    note "could not hard-link $SRC into $COLL ($(head -n1 "$WORK/cp.log")): copied it instead"
    need_space $((SRC_BYTES + (1 << 30))) "copying the dataset into the collection"
    cp -a "$SRC" "$COLL"
fi

# One record per file: identifier, file, title, date, rights (the elements qoima check requires
# by default), type (StillImage for image names, else Dataset), creator, and section (the
# top-level folder, so that the METS has a logical structure).
RECORDS=$(python3 - "$COLL" "$DS" <<'PY'
import csv, os, sys
root, ds = sys.argv[1], sys.argv[2]
images = {'.jpg', '.jpeg', '.png', '.tif', '.tiff', '.gif', '.webp', '.jp2'}
rels = []
for d, _, files in os.walk(root):
    for n in files:
        rels.append(os.path.relpath(os.path.join(d, n), root).replace(os.sep, '/'))
rels.sort(key=lambda p: p.encode())
with open(os.path.join(root, 'metadata.csv'), 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['identifier', 'file', 'title', 'date', 'rights', 'type', 'creator', 'section'])
    for i, rel in enumerate(rels, 1):
        typ = 'StillImage' if os.path.splitext(rel)[1].lower() in images else 'Dataset'
        section = rel.split('/', 1)[0] if '/' in rel else '(top level)'
        w.writerow(['bench-%s-%05d' % (ds, i), rel, 'Benchmark file %d (%s)' % (i, os.path.basename(rel)),
                    '2022-01-05', 'CC0 1.0', typ, 'qoima bench/package.sh', section])
with open(os.path.join(root, 'collection.toml'), 'w', encoding='utf-8') as f:
    f.write('# Written by bench/package.sh\n'
            'identifier = "qoima-bench-%s"\n'
            'title = "qoima benchmark collection: the %s dataset"\n'
            'creator = ["qoima bench/package.sh"]\n'
            'date = "2022-01-05"\n'
            'rights = "CC0 1.0"\n'
            'type = "Collection"\n' % (ds, ds))
print(len(rels))
PY
) || die "generating metadata.csv failed"
[ "$RECORDS" = "$SRC_FILES" ] || die "metadata.csv has $RECORDS records for $SRC_FILES files"
COLL_STATS=$(tree_stats "$COLL")
say "metadata.csv: $RECORDS records; collection.toml written"

say "warming the page cache"
find "$COLL" -type f -print0 | xargs -0 -r cat >/dev/null

# ---------------------------------------------------------------------------------------------
# Measuring

keep_log() { # LOG
    tail -n 30 "$1" | cut -c1-400 >&2
    cp "$1" "$BENCH_DIR/failed.log" 2>/dev/null || true
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

# Wall time from EPOCHREALTIME (ms), peak RSS from GNU time's %M. Sets T_SEC and T_KIB.
timed() { # LOG CMD...
    local log=$1 t0 t1 rc=0
    shift
    T_KIB=
    t0=$EPOCHREALTIME
    if [ "$HAVE_TIME" = 1 ]; then
        /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >"$log" 2>&1 || rc=$?
    else
        "$@" >"$log" 2>&1 || rc=$?
    fi
    t1=$EPOCHREALTIME
    if [ "$rc" != 0 ]; then
        keep_log "$log"
        die "exit $rc from: $*  (end of its output above; all of it in $BENCH_DIR/failed.log)"
    fi
    [ "$HAVE_TIME" = 0 ] || T_KIB=$(tail -n1 "$WORK/time.out" | awk '{print $2}')
    T_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
}

sample() { # COMMAND RUN
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$T_SEC" "${T_KIB:--}" >>"$SAMPLES"
    if [ -n "$T_KIB" ]; then
        say "  $1 | run $2: $T_SEC s, $((T_KIB / 1024)) MiB"
    else
        say "  $1 | run $2: $T_SEC s"
    fi
}

# A compiler or another qoima running next to a timed command disturbs it: say so in the
# results. (Called between timed commands, when this script runs no qoima of its own.)
BUSY_RUNS=
busy() { # RUN: notes the run if cargo, rustc or a qoima is running now
    if ps -eo comm= | grep -qxE 'cargo|rustc|qoima'; then
        case " $BUSY_RUNS " in *" $1 "*) ;; *) BUSY_RUNS="${BUSY_RUNS:+$BUSY_RUNS }$1" ;; esac
    fi
}

Q=("$QOIMA" --quiet --jobs "$JOBS")

# The collection must pass the check (exit 0: no errors; warnings are fine) before any timing.
say "qoima check $COLL (untimed; must pass)"
rc=0
"${Q[@]}" check --json "$COLL" >"$WORK/check.json" 2>"$WORK/check.log" || rc=$?
if [ "$rc" != 0 ]; then
    "$QOIMA" check "$COLL" >"$WORK/check.log" 2>&1 || true
    keep_log "$WORK/check.log"
    die "qoima check $COLL exits $rc: the generated collection does not pass (end of the report above)"
fi
CHECK_SUMMARY=$(python3 - "$WORK/check.json" <<'PY'
import collections, json, sys
r = json.load(open(sys.argv[1], encoding='utf-8'))
codes = collections.Counter()
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get('code'), str):
            codes[o['code']] += 1
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(r)
bad = sorted(c for c in codes if '-W' not in c)
if bad or not r.get('passed') or r.get('counts', {}).get('errors'):
    sys.exit('qoima check exits 0 but reports errors: %s' % (', '.join(bad) or r.get('counts')))
n = lambda v: len(v) if isinstance(v, list) else v
w = ', '.join('%s x %d' % kv for kv in sorted(codes.items())) or 'none'
print('%s items, %s photos; warnings: %s' % (n(r.get('items', '?')), n(r.get('photos', '?')), w))
PY
) || die "could not read qoima check's JSON report ($WORK/check.json)"
say "qoima check: passed ($CHECK_SUMMARY)"

export SOURCE_DATE_EPOCH=$EPOCH
BAG_CMD=("${Q[@]}" bag "$COLL" -o "$OUT")
PKG_CMD=("${Q[@]}" package "$COLL" -o "$OUT")
need_space $((SRC_BYTES + (1 << 30))) "one bag of the collection"
say "timing $RUNS run(s) of each, alternating: qoima bag -o, qoima package"
for ((i = 1; i <= RUNS; i++)); do
    rm -rf "$OUT"
    sync
    busy "$i"
    timed "$WORK/bag.log" "${BAG_CMD[@]}"
    busy "$i"
    sample "qoima bag -o" "$i"
    rm -rf "$OUT"
    sync
    busy "$i"
    timed "$WORK/package.log" "${PKG_CMD[@]}"
    busy "$i"
    sample "qoima package" "$i"
done
[ -z "$BUSY_RUNS" ] ||
    note "cargo, rustc or another qoima was running around run(s) $BUSY_RUNS: those figures may be disturbed; rerun on a quiet machine"

# Correctness (untimed): the last package bag validates, holds the METS, the collection's DC
# and the report, and carries the whole collection; the dataset is unchanged.
say "validating the last package bag (untimed)"
must "qoima validate of the package bag" "$WORK/validate.log" "${Q[@]}" validate "$OUT"
for f in mets.xml metadata/dc.xml metadata/report.json bagit.txt bag-info.txt; do
    [ -s "$OUT/$f" ] || die "the package bag has no $f"
done
[ "$(tree_stats "$OUT/data")" = "$COLL_STATS" ] ||
    die "the package bag's data/ ($(tree_stats "$OUT/data")) differs from the collection ($COLL_STATS)"
[ "$(tree_stats "$SRC")" = "$SRC_STATS" ] || die "the dataset $SRC changed during the benchmark"
METS_BYTES=$(stat -c %s "$OUT/mets.xml")
[ "$(stat -L -c '%s %Y' "$QOIMA")" = "$QOIMA_STAMP" ] ||
    die "$QOIMA was replaced (rebuilt?) during the benchmark: the runs may mix two builds; run again"
rm -rf "$OUT"
say "package bag valid: mets.xml $METS_BYTES bytes; dataset unchanged"

# ---------------------------------------------------------------------------------------------
# Report

# The commit, read from .git/ (without running git).
commit_of() {
    local c= gd=$REPO/.git head ref
    if [ -f "$gd" ]; then # a worktree: "gitdir: PATH"
        gd=$(sed -n 's/^gitdir: //p' "$gd")
        case $gd in /*) ;; *) gd=$REPO/$gd ;; esac
    fi
    if [ -f "$gd/HEAD" ]; then
        head=$(cat "$gd/HEAD")
        case $head in
        "ref: "*)
            ref=${head#ref: }
            if [ -f "$gd/$ref" ]; then
                c=$(cat "$gd/$ref")
            elif [ -f "$gd/commondir" ] && [ -f "$gd/$(cat "$gd/commondir")/$ref" ]; then
                c=$(cat "$gd/$(cat "$gd/commondir")/$ref")
            else
                local packed=$gd/packed-refs
                [ ! -f "$gd/commondir" ] || packed=$gd/$(cat "$gd/commondir")/packed-refs
                [ ! -f "$packed" ] || c=$(awk -v r="$ref" '$2 == r {print $1}' "$packed")
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
    printf 'qoima\t%s, HEAD %s, %s (built %s)\n' "$("$QOIMA" --version | sed 's/^qoima //')" "$COMMIT" "$QOIMA" \
        "$(date -u -r "$QOIMA" '+%Y-%m-%d %H:%M UTC')"
    printf 'command\t%s\n' "$CMDLINE"
    printf 'dataset\t%s\n' "$DS"
    printf 'files\t%s\n' "$SRC_FILES"
    printf 'bytes\t%s\n' "$SRC_BYTES"
    printf 'records\t%s\n' "$RECORDS"
    printf 'check\t%s\n' "$CHECK_SUMMARY"
    printf 'mets\t%s\n' "$METS_BYTES"
    printf 'runs\t%s\n' "$RUNS"
    printf 'jobs\t%s\n' "$JOBS"
    printf 'epoch\t%s\n' "$EPOCH"
} >"$WORK/meta.tsv"

python3 - "$WORK" >"$WORK/report.md" <<'PY'
import os, statistics, sys
w = sys.argv[1]
meta = dict(l.rstrip('\n').split('\t', 1) for l in open(os.path.join(w, 'meta.tsv'), encoding='utf-8'))
samples = {}
for l in open(os.path.join(w, 'samples.tsv'), encoding='utf-8'):
    cmd, run, sec, kib = l.rstrip('\n').split('\t')
    samples.setdefault(cmd, []).append((float(sec), None if kib == '-' else int(kib)))
def med(cmd):
    v = samples[cmd]
    rss = [k for _, k in v if k is not None]
    return statistics.median(s for s, _ in v), (statistics.median(rss) / 1024 if rss else None)
bag, pkg = med('qoima bag -o'), med('qoima package')
ratio = pkg[0] / bag[0]
over = (ratio - 1) * 100
o = []
p = o.append
p('## qoima package against qoima bag -o: %s' % meta['date'])
p('')
p('- machine: %s' % meta['machine'])
p('- qoima: %s (`--quiet --jobs %s`)' % (meta['qoima'], meta['jobs']))
p('- command: `%s`' % meta['command'])
p('- collection: the `%s` dataset hard-linked, %s files, %s bytes, plus a generated `metadata.csv` '
  '(%s records: identifier, file, title, date, rights, type, creator, section) and `collection.toml`'
  % (meta['dataset'], meta['files'], meta['bytes'], meta['records']))
p('- `qoima check`: passed; %s' % meta['check'])
p('- `SOURCE_DATE_EPOCH=%s`; OUT deleted and synced before every run; runs alternate bag, package; '
  'warm page cache; peak RSS = median of the runs\' peak RSS (GNU time %%M)' % meta['epoch'])
p('- the last package bag passed `qoima validate` (untimed); its mets.xml has %s bytes' % meta['mets'])
p('')
p('| command | runs | runs (s) | median | peak RSS |')
p('|---|---:|---|---:|---:|')
for cmd, m, what in (('qoima bag -o', bag, '`qoima bag COLL -o OUT`'),
                     ('qoima package', pkg, '`qoima package COLL -o OUT`')):
    p('| %s | %d | %s | %.3f s | %s |' % (what, len(samples[cmd]), ', '.join('%.3f' % s for s, _ in samples[cmd]),
                                       m[0], '%.0f MiB' % m[1] if m[1] is not None else 'n/a'))
p('')
p('**package / bag = %.3f: checking and describing cost %+.1f%% over bagging alone** (target: under +10%%: %s).'
  % (ratio, over, 'met' if over < 10 else 'NOT met'))
notes = [n for n in open(os.path.join(w, 'notes.txt'), encoding='utf-8').read().split('\n') if n]
if notes:
    p('')
    p('Notes:')
    p('')
    for n in notes:
        p('- ' + n)
print('\n'.join(o))
PY

if [ -s "$RESULTS" ]; then printf '\n' >>"$RESULTS"; fi
cat "$WORK/report.md" >>"$RESULTS"
cat "$WORK/report.md"
say "done: appended to $RESULTS"
