#!/usr/bin/env bash
# Rebuilds the committed seed corpora (fuzz/corpus/<target>/) from the repository's fixtures
# and from bags, archives and METS that qoima itself writes from those fixtures. Each seed is
# named by the SHA-1 of its content (as libFuzzer names its own), so reruns are idempotent and
# duplicates collapse. Needs a built `qoima` (QOIMA=path, default target/debug/qoima), zip and
# GNU tar. The corpora stay small (a few KiB to ~100 KiB per target).
set -euo pipefail
cd "$(dirname "$0")/.."
qoima="${QOIMA:-target/debug/qoima}"
corpus=fuzz/corpus
rm -rf "$corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# seed TARGET FILE...: copies each file into the target's corpus under its content hash.
seed() {
  local target="$1"; shift
  mkdir -p "$corpus/$target"
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    cp "$f" "$corpus/$target/$(sha1sum "$f" | cut -c1-40)"
  done
}
# seed_text TARGET TEXT: a handwritten seed (printf format).
seed_text() {
  printf "$2" > "$work/text"
  seed "$1" "$work/text"
}

# A small collection (two tiny photos, a CSV sidecar, collection.toml) and the bags and
# archives qoima makes of it.
collection="$work/collection"
mkdir -p "$collection/photos"
cp fixtures/photos/good/tiny.jpg fixtures/photos/good/tiny.png "$collection/photos/"
cat > "$collection/metadata.csv" <<'CSV'
identifier,file,title,date,creator,subject,language,rights,type
c-001,photos/tiny.jpg,Площадь Республики,2022-01-05,Айгерим С.,Протесты|Алматы,ru,CC BY 4.0,StillImage
c-002,photos/tiny.png,"Митинг, февраль",2022-02~,Данияр К.,Алматы,kk,CC BY 4.0,StillImage
CSV
cat > "$collection/collection.toml" <<'TOML'
identifier = "seed"
title = "Seed collection"
creator = ["A", "B"]
date = 2022-01-05
TOML
"$qoima" package "$collection" -o "$work/pkg" >/dev/null 2>&1
"$qoima" bag "$collection" -o "$work/bag" >/dev/null 2>&1
"$qoima" bag "$collection" -o "$work/bag-zip" --zip >/dev/null 2>&1
"$qoima" bag "$collection" -o "$work/bag-tar" --tar >/dev/null 2>&1
"$qoima" bag "$collection" -o "$work/bag-tgz" --tar-gz >/dev/null 2>&1
(cd "$work" && zip -qr tool.zip bag && tar --format=pax -cf tool-pax.tar bag \
  && tar --format=gnu -czf tool-gnu.tar.gz bag)

# BagIt tag files: the fixtures' and the fresh bags', plus the older forms qoima still reads.
seed bagit_declaration $(find fixtures "$work" -name bagit.txt)
seed_text bagit_declaration '\xef\xbb\xbfBagIt-Version: 0.97\r\nTag-File-Character-Encoding: ISO-8859-1\r\n'
seed bagit_baginfo $(find fixtures "$work" -name bag-info.txt)
seed_text bagit_baginfo 'Source-Organization: A\n  continued\nPayload-Oxum: 12.2\nBagging-Date: 2024-01-01\n'
seed bagit_manifest $(find fixtures "$work" -name 'manifest-*.txt' -o -name 'tagmanifest-*.txt')
seed_text bagit_manifest 'd41d8cd98f00b204e9800998ecf8427e *data/a%0Ab.txt\nd41d8cd98f00b204e9800998ecf8427e  data/../x\n'
seed bagit_fetch $(find fixtures -name fetch.txt)
seed_text bagit_fetch 'https://example.org/a.jpg 563 data/photos/a.jpg\nhttp://x - data/b%20c.txt\n'

# Archives: qoima's own writer and the stock tools.
seed zip_listing "$work/bag-zip.zip" "$work/tool.zip"
seed tar_listing "$work/bag-tar.tar" "$work/bag-tgz.tar.gz" "$work/tool-pax.tar" "$work/tool-gnu.tar.gz"

# Photos: every good and broken fixture, and a few of the sample collection's (with Exif).
photos=(fixtures/photos/good/* fixtures/photos/broken/*
  fixtures/collections/qantar-2022/photos/01-january/001-oyan-march.jpg
  fixtures/collections/qantar-2022/photos/02-after-january/024-tagzym-memorial.tif
  fixtures/collections/qantar-2022/photos/01-january/005-republic-square-night.png
  fixtures/collections/broken/PHOTO-030-bad-header/photos/bad-header.tif)
seed photo_structure "${photos[@]}"
seed exif "${photos[@]}"
# JPEG 2000 and HEIF have no fixture file; the smallest box structures qoima identifies.
python3 - "$work" <<'PY'
import struct, sys
def box(t, c): return struct.pack('>I', 8 + len(c)) + t + c
jp2 = (box(b'jP  ', b'\r\n\x87\n') + box(b'ftyp', b'jp2 \0\0\0\0jp2 ')
       + box(b'jp2h', box(b'ihdr', struct.pack('>IIHBBBB', 1, 1, 3, 7, 7, 0, 0))
                      + box(b'colr', b'\x01\0\0\0\0\0\x10'))
       + box(b'jp2c', b'\xff\x4f\xff\x51' + b'\0' * 8 + b'\xff\xd9'))
open(sys.argv[1] + '/seed.jp2', 'wb').write(jp2)
heic = box(b'ftyp', b'heic\0\0\0\0mif1heic') + box(b'meta', b'\0\0\0\0' + box(b'hdlr', b'\0' * 8 + b'pict' + b'\0' * 13)) + box(b'mdat', b'\0' * 4)
open(sys.argv[1] + '/seed.heic', 'wb').write(heic)
PY
seed photo_structure "$work/seed.jp2" "$work/seed.heic"

# Sidecars and collection.toml.
seed csv_sidecar $(find fixtures/collections -name metadata.csv -size -8k) "$collection/metadata.csv"
seed json_sidecar $(find fixtures/collections -name metadata.json)
seed_text json_sidecar '{"items": [{"identifier": "a", "file": "photos/a.jpg", "subject": ["x", "y"], "date": "2022-01"}]}'
seed_text json_sidecar '[{"identifier": "b", "file": "b.png", "title": null, "n": 1.5e300}]'
seed collection_toml fixtures/collections/qantar-2022/collection.toml "$collection/collection.toml"
seed_text collection_toml '[title]\nx = 1\n[[creator]]\nname = "a"\ndate = 1979-05-27T07:32:00Z\n'

# The METS qoima writes, and the seal files.
seed mets_read $(find "$work/pkg" -name '*.xml')
seed custody_entry $(find fixtures/seal -path '*/custody/*.json' -size -4k | sort | head -n 12)
seed bundle_envelope $(find fixtures/seal -name '*.envelope.txt' -o -name '*.tar.age.sha256')
for sig in $(find fixtures/seal -name '*.minisig' | sort | head -n 6); do
  sed -n 's/^trusted comment: //p' "$sig" > "$work/comment"
  seed bundle_envelope "$work/comment"
done
seed timestamp_token $(find fixtures/seal -name '*.tsr')

du -sh "$corpus"/* >&2
