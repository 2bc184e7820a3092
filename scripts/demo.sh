#!/usr/bin/env bash
# The main job on the bundled sample collection: check fixtures/collections/qantar-2022
# (photos and metadata), bag it into a new bag (the sample stays untouched), then validate it.
#   ./scripts/demo.sh [OUT]      (default OUT: /tmp/qantar-2022-bag, replaced if present)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/qantar-2022-bag}"
cargo build --release --locked --quiet
rm -rf -- "$out"
./target/release/qoima check fixtures/collections/qantar-2022
./target/release/qoima bag fixtures/collections/qantar-2022 -o "$out" \
  --source-organization "Qoima sample archive" \
  --external-identifier qantar-2022 \
  --external-description "Synthetic photo chronicle of January 2022 in Almaty and the year after"
./target/release/qoima validate "$out"
