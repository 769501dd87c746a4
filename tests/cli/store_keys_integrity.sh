#!/usr/bin/env bash
# Store and key integrity (issue #13 items 7, 8, 9, 11):
#   - a missing issuer key file the store names is refused by every opening verb with
#     "restore the key from a backup", never regenerated; `check` fails on it, and on a key
#     file that holds another key than the store names (what a silent regeneration left);
#   - `init` on a data dir whose store was emptied refuses (a second log under the same log
#     key would fork the log) and points to restore, as do the other verbs;
#   - a truncated data.mdb is refused with "store truncated: restore from a backup", not SIGBUS.
# Small logs only: this runs under valgrind in CI too.
source "$(dirname "$0")/lib.bash"
D=$WORK/data
"$BIN" init --data-dir "$D" >/dev/null || fail "init"
gen_digests 0 300 > "$WORK/d300"
"$BIN" append --data-dir "$D" - < "$WORK/d300" > /dev/null || fail "append 300"
"$BIN" issue --help > /dev/null || fail "issue --help"
TPL=$CA_SOURCE_DIR/config/templates/security-awareness-2026.json
head -3 "$CA_SOURCE_DIR/tests/data/participants-166.csv" > "$WORK/two.csv"
"$BIN" issue --data-dir "$D" --csv "$WORK/two.csv" --template "$TPL" > /dev/null 2>&1 ||
  fail "issue two credentials"
expect_exit 0 "check: intact" -- "$BIN" check --data-dir "$D"
grep -q '^ok    keys: ' <<<"$("$BIN" check --data-dir "$D")" && ok || fail "check keys line"

# Item 7: a missing JOSE key file (its history names it since init) and a missing issuer.key.
for f in issuer-es256k.key issuer-rs256.key issuer.key; do
  mv "$D/keys/$f" "$WORK/$f.saved"
  expect_exit 2 "issue refuses without $f" -- "$BIN" issue --data-dir "$D" --csv "$WORK/two.csv" --template "$TPL"
  grep -q "keys/$f.*restore the key from a backup" "$WORK/stderr" && ok || fail "$f hint: $(cat "$WORK/stderr")"
  expect_exit 2 "keys migrate refuses without $f" -- "$BIN" keys migrate --data-dir "$D"
  [ ! -e "$D/keys/$f" ] && ok || fail "$f was created again"
  expect_exit 1 "check fails without $f" -- "$BIN" check --data-dir "$D"
  grep -q "^fail  keys: .*$f" <<<"$("$BIN" check --data-dir "$D" 2>/dev/null)" && ok ||
    fail "check keys line without $f"
  mv "$WORK/$f.saved" "$D/keys/$f"
done
expect_exit 0 "check: keys restored" -- "$BIN" check --data-dir "$D"
expect_exit 0 "keys migrate: nothing to create" -- "$BIN" keys migrate --data-dir "$D"

# Item 11: a key file holding another key than the store names (a silent regeneration), made
# by a second init that shares the passphrase file.
E=$WORK/other
CREDANCHOR_NODE_KEY_PASSPHRASE_FILE=$D/passphrase "$BIN" init --data-dir "$E" > /dev/null ||
  fail "init other"
ls "$D/passphrase" > /dev/null 2>&1 || fail "passphrase file at $D/passphrase"
for f in issuer-es256.key log.key; do
  cp "$D/keys/$f" "$WORK/$f.saved"
  cp "$E/keys/$f" "$D/keys/$f.tmp" && mv "$D/keys/$f.tmp" "$D/keys/$f"
  expect_exit 1 "check fails on another $f" -- "$BIN" check --data-dir "$D"
  grep -q "^fail  keys: .*$f" <<<"$("$BIN" check --data-dir "$D" 2>/dev/null)" && ok ||
    fail "check keys line for another $f: $("$BIN" check --data-dir "$D" 2>&1)"
  cp "$WORK/$f.saved" "$D/keys/$f.tmp" && mv "$D/keys/$f.tmp" "$D/keys/$f"
done
expect_exit 0 "check: keys put back" -- "$BIN" check --data-dir "$D"

# Item 8: the store emptied (data.mdb cut to 0 bytes, the keys kept).
L=$WORK/lost
cp -a "$D" "$L"
: > "$L/db/data.mdb"
expect_exit 2 "init refuses on an emptied store" -- "$BIN" init --data-dir "$L"
grep -q "store holds no log.*restore" "$WORK/stderr" && ok || fail "init hint: $(cat "$WORK/stderr")"
expect_exit 2 "append on an emptied store" -- "$BIN" append --data-dir "$L" - < "$WORK/d300"
grep -q "credanchor restore" "$WORK/stderr" && ! grep -q "run credanchor init" "$WORK/stderr" && ok ||
  fail "append hint: $(cat "$WORK/stderr")"
expect_exit 2 "init still refuses after an append tried" -- "$BIN" init --data-dir "$L"
expect_exit 2 "check on an emptied store" -- "$BIN" check --data-dir "$L"
# The keys gone instead, the store kept: restore the keys, never new ones.
K=$WORK/nokeys
cp -a "$D" "$K"
rm -f "$K"/keys/*.key
expect_exit 2 "init refuses on a store without keys" -- "$BIN" init --data-dir "$K"
grep -q "restore the keys from a backup" "$WORK/stderr" && ok || fail "no-keys hint: $(cat "$WORK/stderr")"
[ -z "$(ls "$K/keys")" ] && ok || fail "init created keys beside a kept log: $(ls "$K/keys")"

# Item 9: data.mdb truncated to half: a message, not SIGBUS (exit 135).
T=$WORK/trunc
cp -a "$D" "$T"
size=$(stat -c %s "$T/db/data.mdb")
truncate -s $((size / 2)) "$T/db/data.mdb"
for verb in check append; do
  args=(--data-dir "$T")
  [ $verb = append ] && args+=(-)
  expect_exit 2 "$verb on a truncated store" -- "$BIN" $verb "${args[@]}" < "$WORK/d300"
  grep -q "store truncated: .*restore from a backup" "$WORK/stderr" && ok ||
    fail "$verb truncated message: $(cat "$WORK/stderr")"
done
finish
