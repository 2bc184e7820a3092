#!/usr/bin/env bash
# The main job on the bundled sample collection: package fixtures/collections/qantar-2022
# (check its photos and metadata, then bag it with METS, Dublin Core, PREMIS and MIX; the
# sample stays untouched), then validate the bag.
#   ./scripts/demo.sh [OUT]      (default OUT: /tmp/qantar-2022-bag, replaced if present)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/qantar-2022-bag}"
cargo build --release --locked --quiet
rm -rf -- "$out"
./target/release/qoima package fixtures/collections/qantar-2022 -o "$out" \
  --source-organization "Qoima sample archive" \
  --external-identifier qantar-2022
./target/release/qoima validate "$out"
