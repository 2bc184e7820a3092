#!/usr/bin/env bash
# Before/after comparison for restructurings (issue 15): run every command over the fixtures with
# two qoima binaries in the same working path, and diff stdout, stderr, exit codes and every file
# written. Build the base binary from the commit before the change, e.g.
#   git worktree add /tmp/base BASE && (cd /tmp/base && cargo build) && scripts/golden.sh /tmp/base/target/debug/qoima target/debug/qoima
# Usage: golden.sh BASE_BIN NEW_BIN [REPO]   (REPO: where fixtures/ are; default: this script's repository)
set -u
BASE=$(readlink -f "$1"); NEW=$(readlink -f "$2"); REPO=$(readlink -f "${3:-$(dirname "$0")/..}")
FX=$REPO/fixtures
K=$FX/seal/keys
W=$(mktemp -d /tmp/golden.XXXXXX)
export SOURCE_DATE_EPOCH=1700000000 TZ=UTC LC_ALL=C NO_COLOR=1

run() { # run NAME ARGS... : record stdout, stderr, rc of one command in $OUT
  local name=$1; shift
  "$Q" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null
  echo $? >"$OUT/$name.rc"
}

side() {
  Q=$1; OUT=$W/$2.res; mkdir -p "$OUT"
  R=$W/run; rm -rf "$R"; mkdir -p "$R"; cd "$R" || exit 2
  # help of every verb
  run help --help
  for v in bag validate check package serialize unpack audit keygen seal verify-seal custody timestamp fetch; do
    run "help-$v" "$v" --help; done
  for v in append show verify export; do run "help-custody-$v" custody "$v" --help; done
  for v in history report export-premis; do run "help-audit-$v" audit "$v" --help; done
  run usage-bad bag; run usage-bad2 validate --nope x; run usage-bad3 custody append --event nonsense x
  # check and package
  cp -a "$FX/collections" cols
  run check-qantar check cols/qantar-2022
  run check-qantar-json --json check cols/qantar-2022
  for c in cols/broken/*/; do n=$(basename "$c"); run "check-broken-$n" --json check "$c"; run "check-broken-$n-text" check "$c"; done
  run package package cols/qantar-2022 -o pkg
  run package-json --json package cols/qantar-2022 -o pkg2
  for c in cols/broken/*/; do n=$(basename "$c"); run "package-broken-$n" package "$c" -o "pkgb-$n"; done
  # bag, validate, serialize, unpack
  run bag bag cols/qantar-2022/photos -o bag1
  run bag-json --json bag cols/qantar-2022/photos -o bag2 --algorithm sha256 --algorithm md5
  run bag-zip bag cols/qantar-2022/photos -o bag3.zip
  run bag-tgz --json bag cols/qantar-2022/photos -o bag4.tar.gz
  cp -a cols/qantar-2022/photos inplace; run bag-inplace bag --in-place inplace
  run validate validate bag1 bag2 pkg
  run validate-json --json validate bag1 bag2 pkg bag3.zip bag4.tar.gz
  run validate-fast --json validate --fast bag1
  run validate-compl validate --completeness-only bag1
  run serialize-zip serialize --zip bag1 -o s1.zip
  run serialize-tar --json serialize --tar bag1 -o s1.tar
  run serialize-tgz serialize --tar-gz bag1 -o s1.tar.gz
  run unpack unpack s1.zip -o u1
  run unpack-tgz --json unpack s1.tar.gz -o u2
  # damage a copy and validate it
  cp -a bag1 dmg; f=$(find dmg/data -type f | sort | head -1); printf x >>"$f"; rm -f "$(find dmg/data -type f | sort | tail -1)"; echo extra >dmg/data/extra.txt
  printf 'Bag-Size: 3\n' >>dmg/bag-info.txt
  run validate-dmg validate dmg; run validate-dmg-json --json validate dmg
  # update
  cp -a bag1 upd; echo new >upd/data/new.txt; run update bag --update upd; run update-json --json validate upd
  # audit
  run audit audit -j 1 --register reg.sqlite bag1 dmg s1.zip
  run audit-json --json audit -j 1 --register reg.sqlite bag1 dmg s1.zip
  run audit-history audit history --register reg.sqlite bag1
  run audit-report audit report --register reg.sqlite
  run audit-premis audit export-premis --register reg.sqlite bag1
  # seal, custody
  cp -a bag1 sealed
  run seal seal --sign "$K/sealer.key" --name "Golden Sealer" sealed
  run verify-seal verify-seal --trusted-keys "$K/trusted-keys.txt" sealed
  run verify-seal-json --json verify-seal --trusted-keys "$K/trusted-keys.txt" sealed
  run custody-append custody append --event transfer --agent Courier --sign "$K/courier.key" --trusted-keys "$K/trusted-keys.txt" --detail "handed <over> & kept" sealed
  run custody-show custody show sealed
  run custody-verify --json custody verify --trusted-keys "$K/trusted-keys.txt" sealed
  run custody-export custody export --premis --trusted-keys "$K/trusted-keys.txt" sealed
  cp -a bag1 sealed2
  run seal-to --json seal --sign "$K/sealer.key" --to "$(cat "$K/age-recipient.txt")" -o bundle --bundle-name golden sealed2
  run verify-bundle --json verify-seal --trusted-keys "$K/trusted-keys.txt" -i "$K/age-identity.txt" bundle/golden.tar.age
  # the seal corpus
  for c in "$FX"/seal/cases/*/; do n=$(basename "$c"); t=$c/bag; [ -d "$t" ] || t=$(find "$c" -maxdepth 1 -name '*.tar.age' | sort | head -n 1)
    [ -n "$t" ] && run "corpus-$n" --json verify-seal --trusted-keys "$K/trusted-keys.txt" --tsa-roots "$K/tsa-roots.pem" -i "$K/age-identity.txt" "$t"; done
  # photos
  for d in "$FX"/photos/*/; do n=$(basename "$d"); mkdir -p "ph-$n"; cp -a "$d" "ph-$n/photos"
    { echo identifier,file,title,date,rights; i=0; find "ph-$n/photos" -type f ! -name '*.md' ! -name '*.json' ! -name '*.txt' | LC_ALL=C sort | while read -r f; do i=$((i+1)); echo "id-$i,${f#"ph-$n"/},Photo $i,2022-01-0$(( i % 9 + 1 )),CC BY 4.0"; done; } >"ph-$n/metadata.csv"
    run "check-photos-$n-text" check --decode "ph-$n"; run "check-photos-$n" --json check --decode "ph-$n" ; done
  # ciphertexts are random: keep their names and sizes only; the sqlite register is binary
  find "$R" -name '*.age' -type f | while read -r f; do echo "age ciphertext" >"$f"; done
  find "$R" -name '*.age.sha256*' -type f -delete
  # minisign signatures carry random noise (the minisign crate signs with it): mask lines 2 and 4
  find "$R" -name '*.minisig' -type f | while read -r f; do sed -i '2s/.*/<SIGNATURE>/; 4s/.*/<GLOBAL-SIGNATURE>/' "$f"; done
  find "$R" -name '*.envelope.txt' -type f | while read -r f; do sed -i -E 's/^(Ciphertext-[A-Za-z0-9]+): .*/\1: <RANDOM>/' "$f"; done
  rm -f "$R"/reg.sqlite*
  rm -rf cols
  cd "$W" && mv "$R" "$W/$2.tree"
}

# Both binaries run as `qoima` (clap's usage lines name the program by its file name).
mkdir -p "$W/base-bin" "$W/new-bin"; cp "$BASE" "$W/base-bin/qoima"; cp "$NEW" "$W/new-bin/qoima"
side "$W/base-bin/qoima" base
side "$W/new-bin/qoima" new
# wall-clock times (audit runs, custody and register entries) differ between runs: mask them
norm() { find "$1" -type f -print0 | xargs -0 -r sed -i -E 's/20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/<TIME>/g; s/"(duration_ms|elapsed_ms|duration_s|elapsed)": [0-9.]+/"\1": <N>/g'; }
# age adds a random-length grease stanza: a ciphertext's size and digest differ on every run
mask_age() { for f in "$1"/seal-to.* "$1"/verify-bundle.*; do sed -i -E 's/[0-9a-f]{64}/<CIPHERTEXT-SHA256>/g; s/"ciphertext_bytes": [0-9]+/"ciphertext_bytes": <N>/; s/recipient\(s\), [0-9]+ bytes/recipient(s), <N> bytes/' "$f"; done; }
norm "$W/base.res"; norm "$W/new.res"; mask_age "$W/base.res"; mask_age "$W/new.res"
if diff -r "$W/base.res" "$W/new.res" >"$W/diff.txt" && diff -r "$W/base.tree" "$W/new.tree" >>"$W/diff.txt"; then
  echo "golden: identical ($(find "$W/base.res" -type f | wc -l) result files, $(find "$W/base.tree" -type f | wc -l) files written) — $W"
  exit 0
else
  echo "golden: DIFFERENT — see $W/diff.txt"; head -40 "$W/diff.txt"; exit 1
fi
