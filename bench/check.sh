#!/usr/bin/env bash
# Benchmark of `qoima check` on a collection of N photos (default 5,000; about 1.4 GB): median wall time and
# peak RSS against the time to read every byte once (`cat` of all photos, the I/O bound) and
# against `qoima check --decode`. Photos are made once with ImageMagick and ExifTool (cached).
#
#   bench/check.sh [N] [RUNS]        defaults: 5000 photos, 5 runs
#
# Needs: /usr/bin/convert (Debian imagemagick), exiftool (libimage-exiftool-perl), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5000}"
RUNS="${2:-5}"
BENCH_DIR="${BENCH_DIR:-/tmp/qoima-bench}"
COLL="$BENCH_DIR/data/photos-$N"
QOIMA="$PWD/target/release/qoima"
CONVERT=/usr/bin/convert

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[ -x "$CONVERT" ] && "$CONVERT" -version >/dev/null 2>&1 || { echo "needs ImageMagick at $CONVERT (apt-get install imagemagick)" >&2; exit 2; }
command -v exiftool >/dev/null || { echo "needs exiftool (apt-get install libimage-exiftool-perl)" >&2; exit 2; }
[ -x "$QOIMA" ] || cargo build --release --locked

if [ ! -f "$COLL/metadata.csv" ]; then
  say "making $N photos in $COLL (once)"
  rm -rf "$COLL.tmp"; mkdir -p "$COLL.tmp/base"
  # Three base images of realistic size: a 12-megapixel-like JPEG, a PNG and a TIFF.
  # Smoothed plasma compresses about as well as a photograph does.
  "$CONVERT" -seed 8493 -size 2400x1600 plasma:fractal -blur 0x3 -quality 88 "$COLL.tmp/base/a.jpg"
  "$CONVERT" -seed 8494 -size 800x533 plasma:fractal -blur 0x3 -depth 8 -define png:exclude-chunks=date,time "$COLL.tmp/base/b.png"
  "$CONVERT" -seed 8495 -size 800x533 plasma:fractal -blur 0x3 -depth 8 -compress lzw "$COLL.tmp/base/c.tif"
  exiftool -q -overwrite_original -DateTimeOriginal="2022:01:05 10:00:00" -OffsetTimeOriginal="+06:00" \
    -Make=Canon -Model="EOS 5D Mark IV" -GPSLatitude=43.238 -GPSLatitudeRef=N -GPSLongitude=76.945 -GPSLongitudeRef=E \
    "$COLL.tmp/base/a.jpg" "$COLL.tmp/base/c.tif"
  python3 - "$COLL.tmp" "$N" <<'PY'
import os, shutil, sys
root, n = sys.argv[1], int(sys.argv[2])
exts = ["jpg", "jpg", "jpg", "png", "tif"]
rows = ["identifier,file,title,date,rights,type,coverage,section"]
for i in range(n):
    ext = exts[i % len(exts)]
    base = {"jpg": "a.jpg", "png": "b.png", "tif": "c.tif"}[ext]
    rel = f"photos/{i // 500:02d}/{i:05d}.{ext}"
    os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
    shutil.copyfile(os.path.join(root, "base", base), os.path.join(root, rel))
    rows.append(f"q-{i:05d},{rel},Фото {i},2022-01-05,CC BY 4.0,StillImage,Алматы,Section {i // 1000}")
shutil.rmtree(os.path.join(root, "base"))
with open(os.path.join(root, "metadata.csv"), "w", encoding="utf-8") as f:
    f.write("\n".join(rows) + "\n")
PY
  mv "$COLL.tmp" "$COLL"
fi

bytes=$(du -sb "$COLL/photos" | cut -f1)
say "collection: $N photos, $bytes bytes; warming the page cache"
find "$COLL/photos" -type f -exec cat {} + >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label, command...
  local label="$1"; shift
  local walls=() rss=()
  for _ in $(seq "$RUNS"); do
    local t0 t1 out
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$BENCH_DIR/check-time.out" "$@" >/dev/null 2>&1
    out=$(tail -1 "$BENCH_DIR/check-time.out")
    t1=$EPOCHREALTIME
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"); rss+=("$out")
  done
  local w r
  w=$(printf '%s\n' "${walls[@]}" | median); r=$(printf '%s\n' "${rss[@]}" | median)
  printf '| %s | %.3f | %.1f |\n' "$label" "$w" "$(awk -v r="$r" 'BEGIN {print r / 1024}')"
}

echo "# qoima check: $N photos, $bytes bytes ($(nproc) cores, $(date -u +%F), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
echo
echo "| command | median s | peak RSS MiB |"
echo "|---|---:|---:|"
measure "read every photo once (cat, 1 process)" sh -c "find '$COLL/photos' -type f -exec cat {} + > /dev/null"
measure "qoima check" "$QOIMA" check -q "$COLL"
measure "qoima check --decode" "$QOIMA" check -q --decode "$COLL"
