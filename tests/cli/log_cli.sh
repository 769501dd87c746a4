#!/usr/bin/env bash
# The log's command line (issue #2): the happy path, then each kind of bad input getting a
# one-line error and a non-zero exit with nothing acknowledged lost.
source "$(dirname "$0")/lib.bash"
D=$WORK/data

expect_exit 0 "init" -- "$BIN" init --data-dir "$D" --json
json=$("$BIN" init --data-dir "$D" --json)
[[ "$json" =~ ^\{\"did\":\"did:web:localhost%3A8080\",\"anchorAddress\":\"0x[0-9a-f]{40}\",\"logKey\":\"localhost:8080/credanchor\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+\"\}$ ]] && ok || fail "init --json shape: $json"
[ "$(stat -c %a "$D")" = 700 ] && [ "$(stat -c %a "$D/keys/log.key")" = 600 ] && [ "$(stat -c %a "$D/passphrase")" = 600 ] && ok || fail "modes"
json2=$("$BIN" init --data-dir "$D" --json)
[ "$json" = "$json2" ] && ok || fail "init reports the same identity twice"

gen_digests 0 1000 > "$WORK/d1000"
expect_exit 0 "append 1000" -- "$BIN" append --data-dir "$D" -
"$BIN" append --data-dir "$D" - < "$WORK/d1000" > "$WORK/acks" || fail "append"
[ "$(wc -l < "$WORK/acks")" = 1000 ] && [ "$(tail -1 "$WORK/acks" | cut -d' ' -f1)" = 999 ] && ok || fail "acks"
# Idempotent: the same digest again keeps its index.
again=$("$BIN" append --data-dir "$D" "$(sed -n 5p "$WORK/d1000")")
[ "${again%% *}" = 4 ] && ok || fail "idempotent append gave $again"
root=$("$BIN" merkle-root "$WORK/d1000")
cp_root=$("$BIN" checkpoint --data-dir "$D" | sed -n 3p | base64 -d | xxd -p -c 64)
[ "$root" = "$cp_root" ] && ok || fail "checkpoint root $cp_root != merkle-root $root"
[ "$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)" = 1000 ] && ok || fail "checkpoint size"
# merkle-root: binary form, empty list, stdin.
python3 -c "import sys,binascii; sys.stdout.buffer.write(b''.join(binascii.unhexlify(l.strip()) for l in open('$WORK/d1000')))" > "$WORK/d1000.bin"
[ "$("$BIN" merkle-root --binary "$WORK/d1000.bin")" = "$root" ] && ok || fail "merkle-root --binary"
[ "$(printf '' | "$BIN" merkle-root -)" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ] && ok || fail "empty root"

# Proofs: latest, historical, each verified offline three ways.
d=$(sed -n 100p "$WORK/d1000")
"$BIN" prove --data-dir "$D" "$d" > "$WORK/proof.json" && ok || fail "prove"
expect_exit 0 "verify-proof local key" -- "$BIN" verify-proof --data-dir "$D" "$WORK/proof.json"
vkey=$("$BIN" checkpoint --data-dir "$D" --key)
expect_exit 0 "verify-proof --key" -- "$BIN" verify-proof --key "$vkey" "$WORK/proof.json"
"$BIN" prove --data-dir "$D" --tree-size 100 "$d" > "$WORK/p100.json" && ok || fail "prove at 100"
expect_exit 0 "verify-proof at 100" -- "$BIN" verify-proof --key "$vkey" "$WORK/p100.json"
grep -q '"treeSize":100,' "$WORK/p100.json" && ok || fail "historical size"

# digest (SPEC §1): a VC-JWT is hashed as its compact JWS string, a JSON credential as its
# JCS form (key order and spacing do not matter), anything else as bytes.
jws="eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZToxIn0.c2lnbmF0dXJl"
printf '%s\n' "$jws" > "$WORK/cred.jwt"
[ "$("$BIN" digest "$WORK/cred.jwt")" = "$(printf '%s' "$jws" | sha256sum | cut -d' ' -f1)" ] && ok || fail "digest of a JWS"
printf '{ "b": [1, 2.50, "é"], "a": {"y": true, "x": null} }' > "$WORK/cred.json"
jcs='{"a":{"x":null,"y":true},"b":[1,2.5,"é"]}'
[ "$("$BIN" digest "$WORK/cred.json")" = "$(printf '%s' "$jcs" | sha256sum | cut -d' ' -f1)" ] && ok || fail "digest of JSON (JCS)"
[ "$("$BIN" digest --raw "$WORK/cred.json")" = "$(sha256sum < "$WORK/cred.json" | cut -d' ' -f1)" ] && ok || fail "digest --raw"
printf '{"a":1,"a":2}' > "$WORK/dup.json"
expect_exit 2 "digest: duplicate JSON keys" -- "$BIN" digest "$WORK/dup.json"
expect_exit 2 "digest: missing file" -- "$BIN" digest "$WORK/none.json"

# Bad input: each is one line on stderr and exit 2 (1 for a failed check).
expect_exit 2 "append: wrong hex" -- "$BIN" append --data-dir "$D" "zz$(printf '%062d' 0)"
expect_exit 2 "append: odd length" -- "$BIN" append --data-dir "$D" "$(printf '%063d' 0)"
expect_exit 2 "append: 31 bytes" -- "$BIN" append --data-dir "$D" "$(printf '%062d' 0)"
expect_exit 2 "append: 33 bytes" -- "$BIN" append --data-dir "$D" "$(printf '%066d' 0)"
printf '%s\nnot-a-digest\n' "$(sed -n 1p "$WORK/d1000")" > "$WORK/mixed"
expect_exit 2 "append: a bad line rejects the whole input" -- "$BIN" append --data-dir "$D" "$WORK/mixed"
expect_exit 2 "append: bad stdin line" -- bash -c "\"$BIN\" append --data-dir \"$D\" - < \"$WORK/mixed\""
expect_exit 2 "merkle-root: bad line" -- "$BIN" merkle-root "$WORK/mixed"
head -c 33 "$WORK/d1000.bin" > "$WORK/odd.bin"
expect_exit 2 "merkle-root: binary not a multiple of 32" -- "$BIN" merkle-root --binary "$WORK/odd.bin"
expect_exit 2 "merkle-root: missing file" -- "$BIN" merkle-root "$WORK/nope"
expect_exit 2 "prove: tree size out of range" -- "$BIN" prove --data-dir "$D" --tree-size 5000 "$d"
expect_exit 2 "prove: tree size not containing the leaf" -- "$BIN" prove --data-dir "$D" --tree-size 99 "$d"
expect_exit 2 "prove: tree size not a number" -- "$BIN" prove --data-dir "$D" --tree-size 12x "$d"
expect_exit 2 "prove: negative tree size" -- "$BIN" prove --data-dir "$D" --tree-size -1 "$d"
expect_exit 2 "prove: unknown digest" -- "$BIN" prove --data-dir "$D" "$(printf '%064d' 0)"
expect_exit 2 "missing data dir" -- "$BIN" append --data-dir "$WORK/none" "$d"
expect_exit 2 "checkpoint: missing data dir" -- "$BIN" checkpoint --data-dir "$WORK/none"
expect_exit 2 "unknown option" -- "$BIN" append --bogus
expect_exit 2 "unknown verb" -- "$BIN" frobnicate
# --version prints the version CMake's project() sets, and exits 0 (issue 12 item 10).
want_version=$(sed -n 's/^project(credanchor VERSION \([0-9.]*\).*/\1/p' "$CA_SOURCE_DIR/CMakeLists.txt")
[ -n "$want_version" ] && [ "$("$BIN" --version)" = "credanchor $want_version" ] && ok \
  || fail "--version: '$("$BIN" --version 2>&1)', want 'credanchor $want_version'"
expect_exit 2 "missing option value" -- "$BIN" prove --tree-size
for f in "{" "[]" '{"digest":"00"}' 'null' "$(sed 's/"leafIndex":99/"leafIndex":"99"/' "$WORK/proof.json")" \
         "$(sed 's/"inclusionPath":\[/"inclusionPath":["zz",/' "$WORK/proof.json")" \
         "$(sed 's/"checkpoint":"/"checkpoint":0,"x":"/' "$WORK/proof.json")"; do
  printf '%s' "$f" > "$WORK/bad.json"
  expect_exit 2 "verify-proof: corrupt proof file ${f:0:20}" -- "$BIN" verify-proof --key "$vkey" "$WORK/bad.json"
done
head -c 200 "$WORK/proof.json" > "$WORK/trunc.json"
expect_exit 2 "verify-proof: truncated proof" -- "$BIN" verify-proof --key "$vkey" "$WORK/trunc.json"
# Failed checks exit 1: a flipped path hash, a wrong root, another log's key, a swapped index.
flip() { python3 -c "import sys; s=open(sys.argv[1]).read(); i=s.index(sys.argv[2])+len(sys.argv[2]); c=s[i]; sys.stdout.write(s[:i]+('1' if c!='1' else '2')+s[i+1:])" "$@"; }
flip "$WORK/proof.json" '"inclusionPath":["' > "$WORK/bad.json"
expect_exit 1 "verify-proof: flipped path" -- "$BIN" verify-proof --key "$vkey" "$WORK/bad.json"
flip "$WORK/proof.json" '"rootHash":"' > "$WORK/bad.json"
expect_exit 1 "verify-proof: flipped root" -- "$BIN" verify-proof --key "$vkey" "$WORK/bad.json"
sed 's/"leafIndex":99/"leafIndex":98/' "$WORK/proof.json" > "$WORK/bad.json"
expect_exit 1 "verify-proof: wrong index" -- "$BIN" verify-proof --key "$vkey" "$WORK/bad.json"
"$BIN" init --data-dir "$WORK/other" >/dev/null
expect_exit 1 "verify-proof: another log's key" -- "$BIN" verify-proof --data-dir "$WORK/other" "$WORK/proof.json"
expect_exit 2 "verify-proof: malformed key" -- "$BIN" verify-proof --key "nonsense" "$WORK/proof.json"
expect_exit 2 "verify-proof: unreachable node" -- "$BIN" verify-proof --node http://127.0.0.1:1 "$WORK/proof.json"

# A bad config value stops a verb with one line naming the key (file and environment).
printf '[node]\nmax_body = 10x\n' > "$WORK/bad.conf"
expect_exit 2 "config: bad value in file" -- "$BIN" checkpoint --config "$WORK/bad.conf" --data-dir "$D"
grep -q "node.max_body" "$WORK/stderr" && ok || fail "config error names the key: $(cat "$WORK/stderr")"
printf '[node]\nmax_bodyy = 10\n' > "$WORK/typo.conf"
expect_exit 2 "config: unknown key" -- "$BIN" checkpoint --config "$WORK/typo.conf" --data-dir "$D"
expect_exit 2 "config: bad environment value" -- env CREDANCHOR_STORE_MAX_MAP_SIZE=lots "$BIN" checkpoint --data-dir "$D"
grep -q "CREDANCHOR_STORE_MAX_MAP_SIZE" "$WORK/stderr" && ok || fail "env error names the variable"
expect_exit 2 "config: missing file" -- "$BIN" checkpoint --config "$WORK/none.conf" --data-dir "$D"

# A data dir open to others is refused; a locked one (another writer) too.
chmod 755 "$D"
expect_exit 2 "world-readable data dir" -- "$BIN" append --data-dir "$D" "$d"
chmod 700 "$D"
chmod 644 "$D/keys/log.key"
expect_exit 2 "world-readable key file" -- "$BIN" append --data-dir "$D" "$d"
chmod 600 "$D/keys/log.key"
exec 9>>"$D/db/writer.lock"; flock -n 9
expect_exit 2 "locked data dir" -- "$BIN" append --data-dir "$D" "$d"
[ "$("$BIN" init --data-dir "$D" --json)" = "$json" ] && ok || fail "init reports while another process writes"
flock -u 9; exec 9>&-
# Nothing acknowledged was lost through all of that.
[ "$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)" = 1000 ] && ok || fail "size after bad input"
for v in init digest merkle-root append checkpoint prove verify-proof; do
  out=$("$BIN" "$v" --help) && [[ "$out" == usage:* ]] && ok || fail "$v --help"
done

# A store written before a table existed (rebuilt here with mdb_dump/mdb_load without the
# `tiles` and `did_cache` tables) still opens read-only: the missing tables read as empty.
if command -v mdb_dump >/dev/null; then
  O=$WORK/older
  mkdir -p "$O/db" && cp -r "$D/keys" "$D/passphrase" "$O/" && chmod 700 "$O" "$O/db"
  for t in $(mdb_dump -l "$D/db"); do
    case $t in tiles|did_cache) continue ;; esac
    mdb_dump -s "$t" "$D/db" | mdb_load -s "$t" "$O/db" 2>/dev/null
  done
  [ "$("$BIN" checkpoint --data-dir "$O" | sed -n 2p)" = 1000 ] && ok || fail "read-only open of a store lacking newer tables"
fi

# A full map (store.max_map_size) and a full disk: a clear error, exit 2, nothing lost.
S=$WORK/small
CREDANCHOR_STORE_MAX_MAP_SIZE=4M "$BIN" init --data-dir "$S" >/dev/null
gen_digests 0 100000 > "$WORK/d40k"
CREDANCHOR_STORE_MAX_MAP_SIZE=4M "$BIN" append --data-dir "$S" - < "$WORK/d40k" > "$WORK/acks_small" 2> "$WORK/err_small" && rc=0 || rc=$?
[ "$rc" = 2 ] && grep -q "max_map_size" "$WORK/err_small" && ok || fail "full map: rc=$rc $(cat "$WORK/err_small")"
n_acked=$(wc -l < "$WORK/acks_small")
size=$("$BIN" checkpoint --data-dir "$S" | sed -n 2p)
[ "$n_acked" -gt 0 ] && [ "$size" = "$n_acked" ] && ok || fail "full map: acked $n_acked, size $size"
[ "$("$BIN" merkle-root <(head -n "$size" "$WORK/d40k"))" = "$("$BIN" checkpoint --data-dir "$S" | sed -n 3p | base64 -d | xxd -p -c 64)" ] && ok || fail "full map root"
# Where 256 GiB of address space cannot be reserved (ulimit -v), the log reserves less and
# still works (node/log.c CACHE_MAX_LEAVES_LOG2). Not under ASan (its shadow memory needs more
# address space than the limit) or a wrapper such as scripts/valgrind-run. (The ldd output
# is captured, not piped into grep -q: under pipefail an early grep exit fails the pipe.)
libs=$(ldd "$BIN" 2>/dev/null || true)
if [ "$(head -c4 "$BIN" | tr -d '\177')" = ELF ] && [[ "$libs" != *libasan* ]]; then
  L=$WORK/limited
  (ulimit -v 8388608 && "$BIN" init --data-dir "$L" >/dev/null &&
   "$BIN" append --data-dir "$L" - < "$WORK/d1000" > "$WORK/acks_limited" &&
   "$BIN" prove --data-dir "$L" "$(sed -n 700p "$WORK/d1000")" > "$WORK/p_limited.json" &&
   "$BIN" verify-proof --data-dir "$L" "$WORK/p_limited.json" > /dev/null) 2> "$WORK/err_limited" \
    && [ "$(wc -l < "$WORK/acks_limited")" = 1000 ] && ok \
    || fail "8 GiB address-space limit: $(cat "$WORK/err_limited")"
  (ulimit -v 8388608 && "$BIN" checkpoint --data-dir "$L" | sed -n 3p) > "$WORK/root_limited"
  [ "$(base64 -d < "$WORK/root_limited" | xxd -p -c 64)" = "$root" ] && ok || fail "limited root"
fi
if mkdir -p "$WORK/tmpfs" && mount -t tmpfs -o size=3m tmpfs "$WORK/tmpfs" 2>/dev/null; then
  cleanup_hooks+=("umount '$WORK/tmpfs'")
  T=$WORK/tmpfs/data
  "$BIN" init --data-dir "$T" >/dev/null
  "$BIN" append --data-dir "$T" - < "$WORK/d40k" > "$WORK/acks_disk" 2> "$WORK/err_disk" && rc=0 || rc=$?
  n_acked=$(wc -l < "$WORK/acks_disk")
  size=$("$BIN" checkpoint --data-dir "$T" | sed -n 2p)
  [ "$rc" = 2 ] && grep -qi "full\|space" "$WORK/err_disk" && ok || fail "full disk: rc=$rc $(cat "$WORK/err_disk")"
  [ "$n_acked" -gt 0 ] && [ "$size" -ge "$n_acked" ] && ok || fail "full disk: acked $n_acked, size $size"
  "$BIN" prove --data-dir "$T" "$(sed -n "${n_acked}p" "$WORK/d40k")" > "$WORK/pd.json" && "$BIN" verify-proof --data-dir "$T" "$WORK/pd.json" >/dev/null && ok || fail "full disk: last ack provable"
else
  echo "note: full-disk case skipped: cannot mount a tmpfs here (needs root)" >&2
fi
finish
