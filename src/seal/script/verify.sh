#!/bin/sh
# verify.sh: checks a qoima sealed bag (qoima-seal/1), or an encrypted bundle of one
# (qoima-bundle/2, NAME.tar.age), with stock tools only.
# Written by qoima into the bag it sealed (listed in the bag's tag manifests), and beside
# every encrypted bundle. The same script everywhere: nothing in it is filled in.
# Needs: sh, sha256sum (sha512sum, sha1sum, md5sum for those manifests), minisign,
#        awk, sed, find, sort, comm, cmp, mktemp (and ls, tail, wc, grep for custody/;
#        age, tar, tee, tr and mkfifo for a bundle; openssl for time-stamps).
#
# Usage: sh verify.sh [-i AGE_IDENTITY] [-t TSA_ROOTS] [-e EXPECTED_HEAD] TARGET TRUSTED_KEYS
#   TARGET: the sealed bag's folder, or an encrypted bundle NAME.tar.age (its
#   NAME.tar.age.sha256, NAME.tar.age.sha256.minisig and NAME.envelope.txt beside it).
#   TRUSTED_KEYS: the minisign public keys you trust, one base64 line (RW...) each;
#   '#' lines and minisign .pub files ("untrusted comment:" lines) are accepted.
#   -i AGE_IDENTITY: your age identity file, to decrypt a bundle.
#   -t TSA_ROOTS: the PEM certificates of the time-stamp authorities you trust (roots and
#   any intermediates); without it, RFC 3161 time-stamps (*.tsr) are listed, not checked.
#   -e EXPECTED_HEAD: a custody log head you kept (sha256:<hex>, e.g. from a receipt); the
#   custody log must still hold that entry. (It may also be given as a third argument.)
# Prints one line per check; exits 0 when every check passed, 1 when any failed,
# 2 when it could not run.
set -u
LC_ALL=C
export LC_ALL

usage() {
  echo "usage: sh verify.sh [-i AGE_IDENTITY] [-t TSA_ROOTS] [-e EXPECTED_HEAD] TARGET TRUSTED_KEYS" >&2
  exit 2
}
identity=
roots=
expect=
while getopts i:t:e: opt; do
  case $opt in
    i) identity=$OPTARG ;;
    t) roots=$OPTARG ;;
    e) expect=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  usage
fi
target=$1
keys=$2
[ "$#" -lt 3 ] || expect=$3
expect=${expect#sha256:}
for f in "$keys" ${identity:+"$identity"} ${roots:+"$roots"}; do
  if [ ! -f "$f" ] || [ ! -r "$f" ]; then
    echo "verify.sh: cannot read $f" >&2
    exit 2
  fi
done
for tool in minisign sha256sum awk sed find sort comm cmp mktemp; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "verify.sh: $tool is not installed" >&2
    exit 2
  fi
done
if [ -n "$roots" ] && ! command -v openssl >/dev/null 2>&1; then
  echo "verify.sh: openssl is not installed (needed for -t)" >&2
  exit 2
fi
abs() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
  esac
}
keys=$(abs "$keys")
[ -z "$identity" ] || identity=$(abs "$identity")
[ -z "$roots" ] || roots=$(abs "$roots")
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

failed=0
nl='
'
cr=$(printf '\r')
ok() { printf 'ok    %s\n' "$*"; }
# Why minisign refused (it says nothing with -Q when the signature does not match).
span() {
  if [ "$1" = "$2" ]; then echo "entry $1 is"; else echo "entries $1-$2 are"; fi
}
why() {
  r=$(head -n 1 "$tmp/err")
  printf '%s\n' "${r:-the signature does not match the file}"
}
fail() { printf 'FAIL  %s\n' "$*"; failed=1; }

# The trusted keys, one base64 line each.
sed -e 's/\r$//' -e '/^untrusted comment:/d' -e '/^#/d' -e 's/^[ 	]*//' -e 's/[ 	]*$//' \
  -e '/^$/d' "$keys" >"$tmp/keys"

# Checks the RFC 3161 time-stamp tokens given (DATA.NAME.tsr: a token by the authority NAME
# over the file DATA): the token is over DATA and signed by a time-stamp authority you trust
# (-t). Each DATA so anchored is added to $tmp/stamped.
stamps() {
  for tsr in "$@"; do
    [ -f "$tsr" ] || continue
    data=${tsr%.tsr}
    tsa=${data##*.}
    data=${data%.*}
    case $data in
      seal/tagmanifest-*.txt.minisig) signed=${data#seal/}; signed=${signed%.minisig} ;;
      custody/[0-9][0-9][0-9][0-9][0-9][0-9].json.minisig) signed=$data ;;
      "${bundle:-/}.sha256.minisig") signed=$bundle.sha256 ;;
      *) signed= ;;
    esac
    case $signed in
      */*/*|"") fail "$tsr: a time-stamp over a signature of this seal (it stamps $data)"; continue ;;
    esac
    if [ ! -f "$data" ] || [ -L "$data" ] || [ ! -f "$signed" ]; then
      fail "$tsr: the file it time-stamps ($data) is present"
      continue
    fi
    if [ -z "$roots" ]; then
      echo "note  $tsr: a time-stamp by $tsa, not checked (give -t TSA_ROOTS)"
      continue
    fi
    if openssl ts -verify -data "$data" -in "$tsr" -CAfile "$roots" >"$tmp/ts" 2>&1; then
      when=$(openssl ts -reply -in "$tsr" -text 2>/dev/null | sed -n 's/^Time stamp: //p')
      ok "$tsr: $data existed at $when (time-stamp by $tsa, an authority you trust)"
      echo "$data" >>"$tmp/stamped"
    else
      fail "$tsr: a time-stamp over $data by an authority you trust ($(grep -v '^Using configuration' "$tmp/ts" | head -n 2 | tr '\n' ' '))"
    fi
  done
}
: >"$tmp/stamped"

bundle=
if [ -f "$target" ]; then
  # 0. An encrypted bundle: its signed digest, the ciphertext, the envelope, decryption.
  case $target in
    *.tar.age) ;;
    *) echo "verify.sh: $target is neither a bag folder nor an encrypted bundle (NAME.tar.age)" >&2
       exit 2 ;;
  esac
  for tool in age tar tee mkfifo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "verify.sh: $tool is not installed" >&2
      exit 2
    fi
  done
  bundle=$(basename "$target")
  bname=${bundle%.tar.age}
  cd "$(dirname "$target")" || exit 2
  sums=$bundle.sha256
  statement=
  signer=
  if [ ! -f "$sums.minisig" ] && [ -f "$bundle.minisig" ]; then
    fail "$bundle: a qoima-bundle/2 bundle ($bundle.minisig is the signature of the first format, qoima-bundle/1: decrypt it with age -d, unpack the tar, and check the bag with its own verify.sh)"
  elif [ ! -f "$sums" ] || [ ! -f "$sums.minisig" ]; then
    fail "$sums and $sums.minisig present (the ciphertext's signed sha256)"
  else
    # Checked and read as copies, so that what is verified is what is read.
    cat "$sums" >"$tmp/sums" && cat "$sums.minisig" >"$tmp/sums.minisig" || exit 2
    while IFS= read -r k; do
      if tc=$(minisign -Q -H -V -m "$tmp/sums" -x "$tmp/sums.minisig" -P "$k" 2>/dev/null); then
        statement=$tc
        signer=$k
        break
      fi
    done <"$tmp/keys"
    case $statement in
      "qoima-bundle/2 verify-sh-sha256="*" tagmanifest-"*)
        ok "$sums: signed by trusted key $signer" ;;
      "") fail "$sums: signed by a key in $keys (no trusted key verifies $sums.minisig: it was altered, or the signer is not one you trust)" ;;
      *) fail "$sums: the signed statement is a qoima-bundle/2 statement (it says: $statement)"
         statement= ;;
    esac
  fi
  # The signed digest: one sha256sum line, naming this bundle and no other file.
  ct_want=
  if [ -n "$statement" ]; then
    if [ "$(awk 'END { print NR }' "$tmp/sums")" = 1 ]; then
      ct_want=$(awk -v n="$bundle" '{ h = substr($0, 1, 64); s = substr($0, 65, 2); r = substr($0, 67) }
        length(h) == 64 && h !~ /[^0-9a-fA-F]/ && (s == "  " || s == " *") && r == n { print tolower(h) }' "$tmp/sums")
    fi
    if [ -z "$ct_want" ]; then
      fail "$sums: one sha256sum line naming $bundle"
    fi
  fi
  lower() { printf '%s\n' "$1" | tr 'A-F' 'a-f'; }
  tm_pair=${statement##* }
  tm_name=${tm_pair%%=*}.txt
  tm_want=$(lower "${tm_pair#*=}")
  # The copy of this script beside the bundle is signed too: its sha256 is in the statement.
  vs_want=$(lower "$(printf '%s\n' "$statement" | sed -n 's/.* verify-sh-sha256=\([0-9a-fA-F]*\) .*/\1/p')")
  if [ -n "$vs_want" ] && [ -e verify.sh ]; then
    d=$(sha256sum <verify.sh | awk '{ print $1 }')
    if [ "$d" = "$vs_want" ]; then
      ok "verify.sh beside $bundle is the script the sealer signed"
    else
      fail "verify.sh beside $bundle is the script the sealer signed (its sha256 is $d; signed: $vs_want)"
    fi
  fi
  stamps "$sums".minisig.*.tsr
  ct_got=$(sha256sum <"$bundle" | awk '{ print $1 }')
  ct_ok=0
  if [ -n "$ct_want" ]; then
    if [ "$ct_got" = "$ct_want" ]; then
      ok "$bundle: the ciphertext has the signed sha256 $ct_want"
      ct_ok=1
    else
      fail "$bundle: the ciphertext has the signed sha256 (it is $ct_got; signed: $ct_want; it was altered, truncated or swapped)"
    fi
  fi
  envelope=$bname.envelope.txt
  # A field of the envelope (label without regard to case; hex in lower case).
  field() {
    awk -v want="$1" 'BEGIN { want = tolower(want) }
      { sub(/\r$/, "") }
      /^[^#]/ {
        i = index($0, ":")
        if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
          v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print tolower(v); exit
        }
      }' "$envelope"
  }
  if [ ! -f "$envelope" ]; then
    fail "$envelope present"
  else
    env_ok=1
    [ "$(field Ciphertext-SHA256)" = "$ct_got" ] || { fail "$envelope: Ciphertext-SHA256 is the ciphertext's ($ct_got)"; env_ok=0; }
    if [ -n "$statement" ]; then
      [ "$(field Tag-Manifest-SHA256)" = "$tm_want" ] || { fail "$envelope: Tag-Manifest-SHA256 is the signed one"; env_ok=0; }
    fi
    [ "$env_ok" = 0 ] || ok "$envelope: the ciphertext's sha256 and the signed tag-manifest digest"
  fi
  if [ -z "$identity" ]; then
    fail "decryption (no identity given: -i AGE_IDENTITY; the bag inside cannot be checked)"
    echo "NOT VERIFIED: $target"
    exit 1
  fi
  if [ -z "$statement" ] || [ "$ct_ok" != 1 ]; then
    # Anyone can encrypt to you: a ciphertext no trusted key vouches for is not decrypted.
    echo "NOT VERIFIED: $target"
    exit 1
  fi
  # Decrypted in the same read that hashes it again: the tar unpacked below comes from the
  # very bytes whose digest the sealer signed, even if the file is replaced meanwhile.
  mkfifo "$tmp/ct" || exit 2
  sha256sum <"$tmp/ct" >"$tmp/ct.sum" &
  hasher=$!
  tee "$tmp/ct" <"$bundle" | age -d -i "$identity" -o "$tmp/plain.tar" 2>"$tmp/err"
  decrypted=$?
  wait "$hasher"
  if [ "$decrypted" != 0 ]; then
    fail "decryption with $identity ($(head -n 2 "$tmp/err" | tr '\n' ' '))"
    echo "NOT VERIFIED: $target"
    exit 1
  fi
  ok "decrypted with $identity"
  if [ "$(awk '{ print $1 }' "$tmp/ct.sum")" != "$ct_want" ]; then
    fail "$bundle: unchanged while it was decrypted (its sha256 is no longer the signed one)"
    echo "NOT VERIFIED: $target"
    exit 1
  fi
  tops=$(tar -tf "$tmp/plain.tar" 2>/dev/null | sed -e 's|^\./||' -e 's|/.*||' | sort -u)
  case $tops in
    ''|.|..|*"$nl"*|/*)
      fail "the tar holds one bag folder"
      echo "NOT VERIFIED: $target"
      exit 1 ;;
  esac
  mkdir "$tmp/x" && (cd "$tmp/x" && tar -xf "$tmp/plain.tar") 2>"$tmp/err" || {
    fail "the tar unpacks ($(head -n 1 "$tmp/err"))"
    echo "NOT VERIFIED: $target"
    exit 1
  }
  rm -f "$tmp/plain.tar"
  bag=$tmp/x/$tops
else
  bag=$target
fi
if [ ! -d "$bag" ]; then
  echo "verify.sh: $bag is not a folder" >&2
  exit 2
fi
cd "$bag" || exit 2

# The first value of a bag-info.txt element (label without regard to case).
info() {
  awk -v want="$1" 'BEGIN { want = tolower(want) }
    { sub(/\r$/, "") }
    /^[^ \t]/ {
      i = index($0, ":")
      if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
        v = substr($0, i + 1); sub(/^[ \t]/, "", v); sub(/[ \t]+$/, "", v); print v; exit
      }
    }' bag-info.txt
}

# The sum tool of a manifest algorithm, if this machine has it.
sumtool() {
  case $1 in
    md5|sha1|sha224|sha256|sha384|sha512)
      if command -v "${1}sum" >/dev/null 2>&1; then echo "${1}sum"; fi ;;
  esac
}

# The paths a manifest lists.
paths_of() {
  sed -e 's/\r$//' -e 's/^[0-9a-fA-F]*[ 	]*//' "$1"
}

if [ ! -f bagit.txt ] || [ ! -f bag-info.txt ] || [ ! -d data ]; then
  fail "bagit.txt, bag-info.txt and data/ present"
  echo "NOT VERIFIED: $target is not a bag"
  exit 1
fi

# 1. What is in the bag: plain files only, no fetch.txt, no names needing %-encoding.
if [ -e fetch.txt ]; then
  fail "no fetch.txt (a sealed bag holds its whole payload)"
else
  ok "no fetch.txt"
fi
odd=$(find . ! -type f ! -type d -print | head -n 1)
if [ -n "$odd" ]; then
  fail "only plain files and folders (found $odd: a link or special file)"
else
  ok "only plain files and folders (no symbolic links)"
fi
odd=$(find data \( -name '*%*' -o -name "*$nl*" -o -name "*$cr*" \) -print | head -n 1)
if [ -n "$odd" ]; then
  fail "no payload names holding %, CR or LF (found $odd)"
else
  ok "no payload names holding %, CR or LF"
fi

# 2. The payload: every listed file present and unchanged, and nothing unlisted.
payload=""
find data -type f -print | sort >"$tmp/found"
for m in manifest-*.txt; do
  [ -f "$m" ] || continue
  alg=${m#manifest-}
  alg=${alg%.txt}
  tool=$(sumtool "$alg")
  if [ -z "$tool" ]; then
    echo "skip  $m (no ${alg}sum on this machine)"
    continue
  fi
  if "$tool" -c --quiet --strict "$m" >"$tmp/out" 2>&1; then
    ok "$m: every listed file present and unchanged"
  else
    fail "$m: $(head -n 3 "$tmp/out" | tr '\n' ' ')"
  fi
  payload=$m
  paths_of "$m" | sort >"$tmp/listed"
  if cmp -s "$tmp/found" "$tmp/listed"; then
    ok "data/ holds exactly the files $m lists"
  else
    extra=$(comm -23 "$tmp/found" "$tmp/listed" | head -n 3 | tr '\n' ' ')
    gone=$(comm -13 "$tmp/found" "$tmp/listed" | head -n 3 | tr '\n' ' ')
    fail "data/ holds exactly the files $m lists (not listed: ${extra:-none}; missing: ${gone:-none})"
  fi
done
if [ -z "$payload" ]; then
  fail "a payload manifest this machine can check"
fi

# 3. The tag files: bag-info.txt, the manifests, the key, VERIFY.txt and this script.
for tm in tagmanifest-*.txt; do
  [ -f "$tm" ] || continue
  alg=${tm#tagmanifest-}
  alg=${alg%.txt}
  tool=$(sumtool "$alg")
  if [ -z "$tool" ]; then
    echo "skip  $tm (no ${alg}sum on this machine)"
    continue
  fi
  if "$tool" -c --quiet --strict "$tm" >"$tmp/out" 2>&1; then
    ok "$tm: every listed tag file present and unchanged"
  else
    fail "$tm: $(head -n 3 "$tmp/out" | tr '\n' ' ')"
  fi
done

# Everything outside data/, seal/ and custody/ is listed in every tag manifest: a file added
# after sealing (a planted manifest, a note) is not part of the seal.
find . \( -path ./data -o -path ./seal -o -path ./custody \) -prune -o -type f -print |
  sed 's|^\./||' | grep -v '^tagmanifest-[^/]*\.txt$' | sort >"$tmp/outside"
for tm in tagmanifest-*.txt; do
  [ -f "$tm" ] || continue
  paths_of "$tm" | sort >"$tmp/tagged"
  extra=$(comm -23 "$tmp/outside" "$tmp/tagged" | head -n 3 | tr '\n' ' ')
  if [ -n "$extra" ]; then
    fail "$tm lists every file outside data/, seal/ and custody/ (not sealed: $extra)"
  fi
done

# 4. The signer's key: named in bag-info.txt, kept in the bag, and trusted by you.
version=$(info Seal-Version)
key=$(info Seal-Signer-Key)
if [ "$version" = "qoima-seal/1" ] && [ -n "$key" ]; then
  ok "bag-info.txt: Seal-Version qoima-seal/1, Seal-Signer-Key $key"
else
  fail "bag-info.txt names Seal-Version qoima-seal/1 and a Seal-Signer-Key (the bag is not sealed)"
  echo "NOT VERIFIED: $target"
  exit 1
fi
kept=$(sed -e 's/\r$//' -e '/^untrusted comment:/d' -e '/^#/d' -e '/^[ 	]*$/d' \
  metadata/keys/sealer.minisign.pub 2>/dev/null | head -n 1)
if [ "$kept" = "$key" ]; then
  ok "metadata/keys/sealer.minisign.pub holds Seal-Signer-Key"
else
  fail "metadata/keys/sealer.minisign.pub holds Seal-Signer-Key"
fi
if awk -v k="$key" '{ sub(/\r$/, ""); gsub(/^[ \t]+|[ \t]+$/, "") } $0 == k { f = 1 } END { exit !f }' "$keys"; then
  ok "Seal-Signer-Key is in $keys"
else
  fail "Seal-Signer-Key is in $keys (the signer is not one you trust)"
fi

# 5. The signatures: each tag manifest signed by that key, with a statement naming this
#    bag and the tag manifest's sha256.
name=$(info External-Identifier)
[ -n "$name" ] || name=$(basename "$(pwd -P)")
signed=0
for tm in tagmanifest-*.txt; do
  [ -f "$tm" ] || continue
  stem=${tm%.txt}
  alg=${stem#tagmanifest-}
  sig=seal/$tm.minisig
  if [ ! -f "$sig" ]; then
    fail "$sig present"
    continue
  fi
  if ! tc=$(minisign -Q -H -V -m "$tm" -x "$sig" -P "$key" 2>"$tmp/err"); then
    fail "$tm: signature by Seal-Signer-Key ($(why))"
    continue
  fi
  d=$(sha256sum <"$tm" | awk '{ print $1 }')
  case $tc in
    "qoima-seal/1 bag=$name $stem=$d sealed="*)
      ok "$tm: signed by Seal-Signer-Key; the statement names this bag and sha256 $d" ;;
    *)
      fail "$tm: the signed statement names this bag and sha256 $d (it says: $tc)"
      continue ;;
  esac
  if paths_of "$tm" | grep -qx 'bag-info.txt' && paths_of "$tm" | grep -qx 'metadata/keys/sealer.minisign.pub'; then
    :
  else
    fail "$tm lists bag-info.txt and metadata/keys/sealer.minisign.pub"
    continue
  fi
  case $alg in
    sha256|sha512) signed=1 ;;
  esac
done
if [ "$signed" = 1 ]; then
  ok "a sha256 or sha512 tag manifest is signed"
else
  fail "a sha256 or sha512 tag manifest is signed"
fi
for f in seal/* seal/.[!.]* seal/..?*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  case $f in
    seal/tagmanifest-*.txt.minisig|seal/*.tsr) [ -f "$f" ] && [ ! -L "$f" ] && continue ;;
  esac
  fail "seal/ holds only signatures and time-stamps (found $f)"
done
stamps seal/*.tsr

# 6. The custody log (custody/), when there is one: entries 000001.json, 000002.json, ...
#    each one canonical JSON line whose prev is the sha256 of the entry before it (entry 1:
#    of tagmanifest-sha256.txt), signed by the key it names, that key trusted by you.
if [ -d custody ]; then
  if [ -f tagmanifest-sha256.txt ]; then
    run=$(sha256sum <tagmanifest-sha256.txt | awk '{ print $1 }')
  else
    run=none
    fail "custody: tagmanifest-sha256.txt present (entry 1 chains to it)"
  fi
  : >"$tmp/expected"
  : >"$tmp/digests"
  i=0
  lastkey=
  receipt=0
  while :; do
    n=$(printf '%06d' $((i + 1)))
    f=custody/$n.json
    [ -f "$f" ] || break
    i=$((i + 1))
    printf '%s\n%s\n' "$n.json" "$n.json.minisig" >>"$tmp/expected"
    for t in "$f".minisig.*.tsr; do
      [ -f "$t" ] && printf '%s\n' "${t#custody/}" >>"$tmp/expected"
    done
    d=$(sha256sum <"$f" | awk '{ print $1 }')
    echo "$d" >>"$tmp/digests"
    fields=$(sed -n 's|^{"v":1,"seq":\([0-9][0-9]*\),"prev":"sha256:\([0-9a-f]*\)","time":"[0-9TZ:-]*","event":"[^"\\]*","event_label":"[a-z ]*","agent":{"key":"\([A-Za-z0-9+/=]*\)",.*$|\1 \2 \3|p' "$f")
    if [ -z "$fields" ] || [ "$(wc -l <"$f")" -ne 1 ] || [ "$(tail -c 1 "$f" | wc -l)" -ne 1 ]; then
      fail "$f: a qoima custody entry (one JSON line)"
      run=$d
      continue
    fi
    seq=${fields%% *}
    rest=${fields#* }
    prev=${rest%% *}
    ekey=${rest#* }
    entry_ok=1
    if [ "$seq" != "$i" ]; then
      fail "$f holds entry $i (it holds entry $seq: entries were reordered)"
      entry_ok=0
    fi
    if [ "$prev" != "$run" ]; then
      fail "$f: prev is the sha256 of the entry before it ($run; it says $prev)"
      entry_ok=0
    fi
    if ! tc=$(minisign -Q -H -V -m "$f" -x "$f.minisig" -P "$ekey" 2>"$tmp/err"); then
      fail "$f: signed by the key it names ($(why))"
      entry_ok=0
    elif [ "$tc" != "qoima-custody/1 bag=$name seq=$i sha256=$d" ]; then
      fail "$f: the signed statement names this bag, entry $i and sha256 $d (it says: $tc)"
      entry_ok=0
    fi
    if ! awk -v k="$ekey" '{ sub(/\r$/, ""); gsub(/^[ \t]+|[ \t]+$/, "") } $0 == k { f = 1 } END { exit !f }' "$keys"; then
      fail "$f: signed by a key in $keys ($ekey is not one you trust)"
      entry_ok=0
    fi
    if [ -n "$lastkey" ] && [ "$lastkey" != "$ekey" ]; then
      receipt=$i
    fi
    lastkey=$ekey
    if [ "$entry_ok" = 1 ]; then
      ok "$f: chained, signed by trusted key $ekey"
    fi
    run=$d
  done
  ls -A custody | sort >"$tmp/found"
  sort "$tmp/expected" >"$tmp/listed"
  if cmp -s "$tmp/found" "$tmp/listed"; then
    ok "custody/ holds exactly entries 1-$i and their signatures"
  else
    extra=$(comm -23 "$tmp/found" "$tmp/listed" | head -n 3 | tr '\n' ' ')
    gone=$(comm -13 "$tmp/found" "$tmp/listed" | head -n 3 | tr '\n' ' ')
    fail "custody/ holds exactly entries 1-$i and their signatures (not part of the chain: ${extra:-none}; missing: ${gone:-none})"
  fi
  stamps custody/*.tsr
  if [ "$i" -gt 0 ]; then
    echo "head  sha256:$run (entry $i)"
    through=0
    if [ "$receipt" -gt 1 ]; then
      through=$((receipt - 1))
      echo "note  $(span 1 "$through") anchored by receipt (entry $receipt, signed by another custodian, records the head it saw; an anchor while a copy of it is kept outside the bag)"
    fi
    ts=0
    k=1
    while [ "$k" -le "$i" ]; do
      if grep -qx "custody/$(printf '%06d' "$k").json.minisig" "$tmp/stamped"; then
        ts=$k
      fi
      k=$((k + 1))
    done
    if [ "$ts" -gt 0 ]; then
      echo "note  $(span 1 "$ts") anchored by a trusted time-stamp (over entry $ts's signature; an anchor while a copy of it is kept outside the bag)"
      [ "$ts" -le "$through" ] || through=$ts
    else
      echo "note  no entry is anchored by a trusted time-stamp"
    fi
    if [ "$through" -lt "$i" ]; then
      echo "note  $(span $((through + 1)) "$i") not anchored: entries removed from here on would go undetected; keep the head outside the bag and pass it with -e"
    else
      echo "note  every entry is anchored"
    fi
  fi
  if [ -n "$expect" ]; then
    if grep -qx "$expect" "$tmp/digests"; then
      ok "custody: the log holds the head you expected (sha256:$expect)"
    else
      fail "custody: the log holds the head you expected (sha256:$expect; entries were removed from its end, or the log was replaced)"
    fi
  fi
elif [ -n "$expect" ]; then
  fail "custody: the log holds the head you expected (there is no custody/)"
fi

# 7. A bundle's outer signature names this bag's signed tag manifest.
if [ -n "$bundle" ]; then
  d=$(sha256sum <"$tm_name" 2>/dev/null | awk '{ print $1 }')
  if [ -n "$statement" ] && [ "$d" = "$tm_want" ]; then
    ok "$bundle: its signed statement names this bag's $tm_name (sha256 $d)"
  else
    fail "$bundle: its signed statement names this bag's ${tm_name:-tag manifest} (sha256 ${d:-none}; signed: ${tm_want:-none})"
  fi
fi

if [ "$failed" = 0 ]; then
  echo "SEALED: $target is bit-identical to what the holder of $key sealed"
  exit 0
fi
echo "NOT VERIFIED: $target"
exit 1
