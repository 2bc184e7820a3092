#!/usr/bin/env bash
# Builds the cargo-fuzz targets (fuzz/) and gives each a short, bounded run: first every input
# that once failed (fuzz/regressions/<target>/) is replayed, then the target is fuzzed from its
# committed seeds (fuzz/corpus/<target>/) for QOIMA_FUZZ_SECONDS seconds (default 12), with a
# memory limit per input, so that a crash, a leak of time (timeout) or of memory (out of memory)
# is a failure. Exit status: 0 when no target failed, 1 when one did (its input is kept in
# fuzz/artifacts/<target>/, which git ignores), 2 when the fuzzers could not be built.
#
# Needs the nightly toolchain and cargo-fuzz; installs cargo-fuzz when it is missing.
# QOIMA_FUZZ_TARGETS="a b" limits the run to some targets; QOIMA_FUZZ_SECONDS=1800 with
# QOIMA_FUZZ_WORK=DIR is the longer campaign. See docs/validation.md (Fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

seconds="${QOIMA_FUZZ_SECONDS:-12}"
# -rss_limit_mb also bounds a single allocation (libFuzzer's -malloc_limit_mb defaults to it).
limits=(-rss_limit_mb=512 -timeout=10)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "installing the nightly toolchain (cargo fuzz needs it)"
  rustup toolchain install nightly --profile minimal >/dev/null || exit 2
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install cargo-fuzz --locked || exit 2
fi

say "cargo +nightly fuzz build"
cargo +nightly fuzz build || exit 2
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="fuzz/target/$host/release"

# Each target's dictionary, when it has one.
dict_of() {
  case "$1" in
    bagit_*) echo fuzz/dict/bagit.dict ;;
    zip_listing | tar_listing) echo fuzz/dict/archive.dict ;;
    photo_structure | exif) echo fuzz/dict/photo.dict ;;
    timestamp_token) ;;
    *) echo fuzz/dict/text.dict ;;
  esac
}

# Scratch space for what the fuzzers add to their corpora and for the files the targets
# write (archives, collection.toml): the committed corpora are only read.
# QOIMA_FUZZ_WORK=DIR keeps them in DIR instead (for a longer campaign, whose grown corpora
# and logs are worth reading afterwards).
if [ -n "${QOIMA_FUZZ_WORK:-}" ]; then
  scratch="$QOIMA_FUZZ_WORK"
  mkdir -p "$scratch"
else
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
fi
# The files the targets write go to memory when /dev/shm is there (several times the
# executions per second of a disk under load).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  TMPDIR="$(mktemp -d -p /dev/shm qoima-fuzz.XXXXXX)"
  trap 'rm -rf "$TMPDIR"; [ -n "${QOIMA_FUZZ_WORK:-}" ] || rm -rf "$scratch"' EXIT
else
  TMPDIR="$scratch/tmp"
  mkdir -p "$TMPDIR"
fi
export TMPDIR

failed=()
targets="${QOIMA_FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
for target in $targets; do
  bin="$bin_dir/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$artifacts" "$scratch/corpus/$target"
  log="$scratch/$target.log"
  regressions=()
  if [ -d "fuzz/regressions/$target" ]; then
    mapfile -t regressions < <(find "fuzz/regressions/$target" -type f | sort)
  fi
  if [ ${#regressions[@]} -gt 0 ] &&
    ! "$bin" "${limits[@]}" -artifact_prefix="$artifacts/" "${regressions[@]}" >"$log" 2>&1; then
    say "$target: a regression input fails again"
    tail -n 30 "$log" >&2
    failed+=("$target")
    continue
  fi
  dict="$(dict_of "$target")"
  if "$bin" "${limits[@]}" -max_total_time="$seconds" \
    -artifact_prefix="$artifacts/" ${dict:+-dict="$dict"} \
    "$scratch/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    say "$target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)," \
      "$(grep -Eo 'DONE +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1 | sed 's/DONE *//')," \
      "${#regressions[@]} regression input(s) replayed"
  else
    say "$target: FAILED (input kept in $artifacts/)"
    tail -n 40 "$log" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  say "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
say "every fuzz target ran ${seconds}s without a crash, timeout or memory blow-up"
