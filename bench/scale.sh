#!/usr/bin/env bash
# Memory at scale (issue 13, items 7 and 16): peak RSS and wall time, one run each, of
#   - `qoima bag` of N tiny files (folders of 1,000) to a new place, and `qoima validate` of it;
#   - bagit-python 1.9.0 making (in place, on a hard-linked copy) and validating a bag of the
#     first BP_N of the same files (default: all N);
#   - `qoima check` of a collection whose metadata.csv has CSV_N records (default 1,000,000);
#   - `qoima validate` of a bag whose manifest ends in a 10 GB line (a sparse file: no disk
#     space), and of bags whose bag-info.txt is 1 GB: one line of zeros (sparse), and 1 GB of
#     short `Label: value` lines (written for real, then removed);
#   - `qoima validate` of a bag whose manifest has BLANK_N blank lines (default 10,000,000).
# Prints one line per measurement: what, seconds, peak RSS (MiB), exit code.
#
#   bench/scale.sh [N]                 default N = 1,000,000
#
# Environment: QOIMA (binary, default target/release/qoima), SCALE_DIR (default
# /tmp/qoima-scale; the data is made once and kept), BP_N, CSV_N, BLANK_N, JOBS (default 2),
# SKIP (space-separated names among: tree bagit csv line info blank).
# Needs GNU time at /usr/bin/time, python3 with venv (bagit==1.9.0 is installed from PyPI
# into $SCALE_DIR/venv once), and about 2 × N × 4 KiB of disk for the files and their copy.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
BP_N="${BP_N:-$N}"
CSV_N="${CSV_N:-1000000}"
BLANK_N="${BLANK_N:-10000000}"
JOBS="${JOBS:-2}"
SKIP=" ${SKIP:-} "
DIR="${SCALE_DIR:-/tmp/qoima-scale}"
QOIMA="${QOIMA:-$PWD/target/release/qoima}"
[ -x "$QOIMA" ] || cargo build --release --locked
mkdir -p "$DIR"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
wants() { [[ "$SKIP" != *" $1 "* ]]; }

# measure NAME CMD...: runs CMD under GNU time and prints NAME, seconds, peak MiB, exit code.
measure() {
  local name="$1"; shift
  local log="$DIR/time-$name.txt" code=0
  /usr/bin/time -v -o "$log" "$@" >"$DIR/out-$name.txt" 2>"$DIR/err-$name.txt" || code=$?
  local rss secs
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  printf '%-34s %9.1f s %8.1f MiB  exit %s\n' "$name" "$secs" "$(echo "$rss / 1024" | bc -l)" "$code"
}

# tree DIR COUNT: COUNT files of a few bytes each, 1,000 per folder.
tree() {
  [ -f "$1.done" ] && return
  say "making $2 files in $1 (once)"
  rm -rf "$1"
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range((n + 999) // 1000):
    folder = os.path.join(root, f"d{d:04d}")
    os.makedirs(folder)
    for k in range(d * 1000, min(n, d * 1000 + 1000)):
        with open(os.path.join(folder, f"f{k:07d}.txt"), "w") as f:
            f.write(f"{k}\n")
PY
  touch "$1.done"
}

# small_bag NAME: a fresh bag of three files, made by qoima.
small_bag() {
  rm -rf "$DIR/$1" "$DIR/$1-src"
  mkdir -p "$DIR/$1-src/sub"
  printf 'a\n' >"$DIR/$1-src/a.txt"; printf 'b\n' >"$DIR/$1-src/sub/b.txt"; : >"$DIR/$1-src/empty"
  "$QOIMA" bag "$DIR/$1-src" -o "$DIR/$1" 2>/dev/null
}

if wants tree; then
  tree "$DIR/src-$N" "$N"
  rm -rf "$DIR/bag-$N"
  measure "qoima bag $N files" "$QOIMA" --jobs "$JOBS" bag "$DIR/src-$N" -o "$DIR/bag-$N"
  measure "qoima validate $N files" "$QOIMA" --jobs "$JOBS" validate "$DIR/bag-$N"
  rm -rf "$DIR/bag-$N"
fi

if wants bagit; then
  [ -x "$DIR/venv/bin/bagit.py" ] || { python3 -m venv "$DIR/venv" && "$DIR/venv/bin/pip" -q install bagit==1.9.0; }
  tree "$DIR/src-$BP_N" "$BP_N"
  rm -rf "$DIR/bp-$BP_N"
  cp -al "$DIR/src-$BP_N" "$DIR/bp-$BP_N"
  measure "bagit.py make $BP_N files" "$DIR/venv/bin/bagit.py" --processes "$JOBS" --sha256 --sha512 "$DIR/bp-$BP_N"
  measure "bagit.py validate $BP_N files" "$DIR/venv/bin/bagit.py" --processes "$JOBS" --validate "$DIR/bp-$BP_N"
  rm -rf "$DIR/bp-$BP_N"
  if [ "$BP_N" != "$N" ]; then
    rm -rf "$DIR/bag-$BP_N"
    measure "qoima bag $BP_N files" "$QOIMA" --jobs "$JOBS" bag "$DIR/src-$BP_N" -o "$DIR/bag-$BP_N"
    measure "qoima validate $BP_N files" "$QOIMA" --jobs "$JOBS" validate "$DIR/bag-$BP_N"
    rm -rf "$DIR/bag-$BP_N"
  fi
fi

if wants csv; then
  coll="$DIR/coll-$CSV_N"
  if [ ! -f "$coll/metadata.csv" ]; then
    say "writing $CSV_N records (once)"
    mkdir -p "$coll"
    # Every record is well formed; the files they name are absent (META-009 per record),
    # which is what makes check do its per-record work without a million photos.
    python3 - "$coll/metadata.csv" "$CSV_N" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("identifier,file,title,date,rights,subject\n")
    for n in range(int(sys.argv[2])):
        f.write(f"q-{n},photos/{n:07d}.jpg,Photograph number {n},2022-01-05,CC BY 4.0,Almaty|Protest\n")
PY
  fi
  measure "qoima check $CSV_N records" "$QOIMA" --jobs "$JOBS" check "$coll"
  measure "qoima check --json $CSV_N records" "$QOIMA" --jobs "$JOBS" --json check "$coll"
fi

if wants line; then
  small_bag line
  truncate -s +10G "$DIR/line/manifest-sha256.txt"
  measure "validate 10 GB manifest line" "$QOIMA" --jobs "$JOBS" validate "$DIR/line"
  grep -o 'BAG-011[^:]*' "$DIR/err-validate 10 GB manifest line.txt" | head -1 >&2 || true
  rm -rf "$DIR/line" "$DIR/line-src"
fi

if wants info; then
  small_bag info0
  truncate -s +1G "$DIR/info0/bag-info.txt"
  measure "validate 1 GB bag-info (1 line)" "$QOIMA" --jobs "$JOBS" validate "$DIR/info0"
  rm -rf "$DIR/info0" "$DIR/info0-src"
  small_bag info1
  { yes 'Note: v' || true; } | head -c 1G >>"$DIR/info1/bag-info.txt"
  measure "validate 1 GB bag-info (lines)" "$QOIMA" --jobs "$JOBS" validate "$DIR/info1"
  grep -o 'BAG-011[^:]*' "$DIR/err-validate 1 GB bag-info (lines).txt" | head -1 >&2 || true
  rm -rf "$DIR/info1" "$DIR/info1-src"
fi

if wants blank; then
  small_bag blank
  head -c "$BLANK_N" /dev/zero | tr '\0' '\n' >>"$DIR/blank/manifest-sha256.txt"
  measure "validate $BLANK_N blank lines" "$QOIMA" --jobs "$JOBS" validate "$DIR/blank"
  measure "validate --json $BLANK_N blank" "$QOIMA" --jobs "$JOBS" --json validate "$DIR/blank"
  rm -rf "$DIR/blank" "$DIR/blank-src"
fi
