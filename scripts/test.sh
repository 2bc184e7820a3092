#!/usr/bin/env bash
# Runs every test qoima has, installing what the tests need when it is missing:
#   - Debian packages: pkg-config and libssl-dev (the default OpenSSL SHA-512 backend),
#     libimage-exiftool-perl (EXIF is cross-checked against ExifTool), libxml2-utils
#     (xmllint validates the XML qoima writes against the official schemas in schemas/),
#     zip and unzip (archives made by the zip tool are validated; GNU tar is in every Debian),
#     minisign (sealed bags: the CLI verifies qoima's signatures and the reverse, and each
#     sealed bag's verify.sh is run), age (encrypted bundles: the age CLI decrypts qoima's
#     bundles and qoima decrypts the CLI's files),
#     chromium (the HTML audit report is rendered headless; QOIMA_SKIP_BROWSER=1 skips),
#     imagemagick and libtiff-tools (the oracle for JPEG scans that end early; tests/it/decode.rs
#     makes photo variants with tiffcp and convert, and checks qoima's verdicts against
#     tiffinfo -D and identify -regard-warnings), strace (fault injection at every durable
#     system call), shellcheck (the verify.sh every sealed bag carries is linted);
#   - bagit-python 1.9.0 from PyPI, in a virtual environment at .venv (interop tests), and
#     fido (opf-fido 1.6.1, the PRONOM oracle of tests/it/identify.rs) in the same .venv.
# Then: rustfmt, shellcheck of the project's own scripts, clippy (warnings are errors), the
# full test suite, the library's unit tests once more in the pure-Rust build
# (--no-default-features), and a short smoke run of every cargo-fuzz target
# (scripts/fuzz-smoke.sh: nightly and cargo-fuzz, installed when missing; QOIMA_SKIP_FUZZ=1
# skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
command -v tiffcp >/dev/null 2>&1 || missing+=(libtiff-tools)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v minisign >/dev/null 2>&1 || missing+=(minisign)
command -v age >/dev/null 2>&1 || missing+=(age)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
# `openssl ts` is the local time-stamp authority of the tests and verify.sh's -t checker.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# ImageMagick's own convert (some machines carry a stand-in elsewhere on the PATH).
[ -x /usr/bin/convert ] || missing+=(imagemagick)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if [ -z "${QOIMA_SKIP_BROWSER:-}" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) and rerun" >&2
    exit 2
  fi
fi

venv="${QOIMA_VENV:-$PWD/.venv}"
if [ ! -x "$venv/bin/bagit.py" ]; then
  say "installing bagit-python 1.9.0 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check bagit==1.9.0
fi
if [ ! -x "$venv/bin/fido" ]; then
  say "installing fido (opf-fido 1.6.1) into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check opf-fido==1.6.1
fi
export QOIMA_BAGIT_PY="$venv/bin/bagit.py"
export QOIMA_FIDO="$venv/bin/fido"

say "cargo fmt --check"
cargo fmt --check
say "shellcheck scripts/*.sh .ci/run"
shellcheck scripts/*.sh .ci/run
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
say "cargo test"
cargo test --locked
say "cargo test --lib --no-default-features (pure-Rust hashing)"
cargo test --locked --lib --no-default-features
if [ -z "${QOIMA_SKIP_FUZZ:-}" ]; then
  say "fuzz smoke run (scripts/fuzz-smoke.sh)"
  ./scripts/fuzz-smoke.sh
fi
