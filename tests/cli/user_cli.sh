#!/usr/bin/env bash
# CLI test: `credanchor user invite|list|disable|enable|roles` (issue #16, people with
# passkeys). Invites print exactly one line, the enrollment URL <public_url>/admin/enroll#
# + 43 base64url chars; a re-invite of an invited email replaces the secret; bad input is one
# error line and exit 2; list (text and --json); roles, disable, enable; every write is in the
# audit log, which verifies and never holds an email or name; no email reaches the data dir in
# clear; invite, list, disable and enable work while `serve` runs on the same data dir.
# Env: CREDANCHOR_BIN (the binary), CA_SOURCE_DIR (repo root).
source "$(dirname "$0")/lib.bash"
# public_url with a path and a trailing slash: the URL must not get "//admin".
export CREDANCHOR_ANCHOR_RPC_URL= CREDANCHOR_NODE_PUBLIC_URL=https://people.credanchor.test/ca/ \
  CREDANCHOR_NODE_RATE_LIMIT_PER_IP=0
D=$WORK/data
URL_RE='^https://people\.credanchor\.test/ca/admin/enroll#[A-Za-z0-9_-]{43}$'
ADMIN_EMAIL=Alice.Admin@People.Example
ISSUER_EMAIL=bob.issuer@people.example
ISSUER_NAME="Bob Quuxworth"
"$BIN" init --data-dir "$D" >/dev/null || { fail "init"; finish; exit 1; }

# run NAME WANT_RC CMD...: CMD's stdout and stderr go to $WORK/out and $WORK/err.
run() {
  local name=$1 want=$2 rc=0
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = "$want" ] && ok || fail "$name: exit $rc, want $want; stderr: $(head -c 400 "$WORK/err")"
}
lines() { wc -l <"$1" | tr -d ' '; }
# check_usage NAME CMD...: exit 2, exactly one "credanchor user: ..." line, empty stdout.
check_usage() {
  local name=$1
  shift
  run "$name" 2 "$@"
  if [ "$(lines "$WORK/err")" = 1 ] && grep -q '^credanchor user: ' "$WORK/err" && [ ! -s "$WORK/out" ]; then
    ok
  else
    fail "$name: want one 'credanchor user:' line and empty stdout; got: $(cat "$WORK/err" "$WORK/out")"
  fi
}
# invite NAME ARGS...: a successful invite; sets $url, $secret and $uid (from stderr).
invite() {
  local name=$1
  shift
  run "$name" 0 "$BIN" user invite --data-dir "$D" "$@"
  url=$(cat "$WORK/out")
  secret=${url##*#}
  uid=$(grep -oE 'invited [0-9a-f]{16}' "$WORK/err" | cut -d' ' -f2)
  if [ "$(lines "$WORK/out")" = 1 ] && grep -Eq "$URL_RE" "$WORK/out"; then ok; else
    fail "$name: stdout is not exactly one enrollment URL line: $(cat "$WORK/out")"
  fi
  if [ -n "$uid" ] && ! grep -qF -- "$secret" "$WORK/err"; then ok; else
    fail "$name: stderr should name the user id and never the secret: $(cat "$WORK/err")"
  fi
}
# users_json: `user list --json` into $WORK/users.json.
users_json() {
  run "list --json" 0 "$BIN" user list --json --data-dir "$D"
  cp "$WORK/out" "$WORK/users.json"
}
# user_field ID FIELD: one field of a user in $WORK/users.json (roles joined by ",").
user_field() {
  python3 - "$WORK/users.json" "$1" "$2" <<'EOF'
import json, sys
u = {x["id"]: x for x in json.load(open(sys.argv[1]))["users"]}[sys.argv[2]]
v = u[sys.argv[3]]
print(",".join(v) if isinstance(v, list) else ("null" if v is None else v))
EOF
}

# --- help ---
run "user --help" 0 "$BIN" user --help
for w in invite list disable enable roles --email --role --name --ttl --reason --json --config --data-dir; do
  grep -q -- "$w" "$WORK/out" && ok || fail "user --help does not mention $w"
done
run "credanchor --help" 0 "$BIN" --help
grep -Eq '^  user ' "$WORK/out" && ok || fail "credanchor --help does not list the user verb"

# --- before any invite: no users, and no data key is made by reading ---
run "list, no users" 0 "$BIN" user list --data-dir "$D"
[ "$(cat "$WORK/out")" = "no users" ] && ok || fail "list with no users: $(cat "$WORK/out")"
run "list --json, no users" 0 "$BIN" user list --json --data-dir "$D"
[ "$(cat "$WORK/out")" = '{"users":[]}' ] && ok || fail "list --json with no users: $(cat "$WORK/out")"
[ ! -e "$D/keys/data.key" ] && ok || fail "a read-only list created the data key"

# --- invite ---
invite "invite admin" --email "$ADMIN_EMAIL" --role admin
admin=$uid
first_secret=$secret
[ "$(stat -c %a "$D/keys/data.key" 2>/dev/null)" = 600 ] && ok || fail "the first invite did not make keys/data.key (0600)"
invite "invite the same email again while invited" --role admin --email "$ADMIN_EMAIL"
[ "$uid" = "$admin" ] && ok || fail "a re-invite made a new user ($uid, not $admin)"
[ "$secret" != "$first_secret" ] && ok || fail "a re-invite kept the old secret"
# ttl: the default is auth.invite_ttl; --ttl overrides it.
invite "invite issuer, several roles" --email "$ISSUER_EMAIL" --name "$ISSUER_NAME" \
  --role issuer --role revoker,auditor --ttl 45m
issuer=$uid
expiry_in() { # seconds from now to the "until <time>" of the last invite's stderr
  python3 -c 'import re,sys,time,calendar
t = re.search(r"until (\S+Z)", open(sys.argv[1]).read()).group(1)
print(calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) - int(time.time()))' "$WORK/err"
}
e=$(expiry_in); [ "$e" -gt 2640 ] && [ "$e" -le 2700 ] && ok || fail "--ttl 45m: expires in $e s"
CREDANCHOR_AUTH_INVITE_TTL=2h invite "invite, ttl from config" --email carol@people.example --role auditor
carol=$uid
e=$(expiry_in); [ "$e" -gt 7140 ] && [ "$e" -le 7200 ] && ok || fail "auth.invite_ttl 2h: expires in $e s"
invite "invite, default ttl 30m" --email dave@people.example --role=issuer
dave=$uid
e=$(expiry_in); [ "$e" -gt 1740 ] && [ "$e" -le 1800 ] && ok || fail "default ttl: expires in $e s"

# --- bad input: exit 2, one line, nothing on stdout ---
check_usage "invalid email" "$BIN" user invite --email not-an-address --role admin --data-dir "$D"
check_usage "email without domain" "$BIN" user invite --email eve@ --role admin --data-dir "$D"
check_usage "unknown role" "$BIN" user invite --email eve@people.example --role root --data-dir "$D"
check_usage "upper-case role" "$BIN" user invite --email eve@people.example --role Admin --data-dir "$D"
check_usage "empty item in a role list" "$BIN" user invite --email eve@people.example --role admin, --data-dir "$D"
check_usage "missing role" "$BIN" user invite --email eve@people.example --data-dir "$D"
check_usage "missing email" "$BIN" user invite --role admin --data-dir "$D"
for t in 0 -5 abc 8d 1.5h ""; do
  check_usage "bad --ttl '$t'" "$BIN" user invite --email eve@people.example --role admin --ttl "$t" --data-dir "$D"
done
check_usage "name too long" "$BIN" user invite --email eve@people.example --role admin \
  --name "$(printf 'n%.0s' $(seq 1 200))" --data-dir "$D"
check_usage "unexpected argument" "$BIN" user invite extra --email eve@people.example --role admin --data-dir "$D"
check_usage "no subcommand" "$BIN" user --data-dir "$D"
check_usage "unknown subcommand" "$BIN" user frob --data-dir "$D"
check_usage "unknown option" "$BIN" user list --bogus --data-dir "$D"
check_usage "disable unknown id" "$BIN" user disable 0123456789abcdef --data-dir "$D"
grep -q "no user with id 0123456789abcdef" "$WORK/err" && ok || fail "unknown id: unclear error: $(cat "$WORK/err")"
check_usage "enable unknown id" "$BIN" user enable 0123456789abcdef --data-dir "$D"
check_usage "roles of unknown id" "$BIN" user roles 0123456789abcdef --role admin --data-dir "$D"
check_usage "disable malformed id" "$BIN" user disable nothex --data-dir "$D"
check_usage "disable without id" "$BIN" user disable --data-dir "$D"
check_usage "roles without --role" "$BIN" user roles "$issuer" --data-dir "$D"
check_usage "roles, unknown role" "$BIN" user roles "$issuer" --role root --data-dir "$D"
check_usage "uninitialised data dir" "$BIN" user list --data-dir "$WORK/nowhere"

# --- list ---
run "list" 0 "$BIN" user list --data-dir "$D"
grep -Eq "^ID +STATE +ROLES +EMAIL +NAME +LAST SIGN-IN$" "$WORK/out" && ok || fail "list header: $(head -1 "$WORK/out")"
grep -Eq "^$admin +invited +admin +$ADMIN_EMAIL +Alice\.Admin +never$" "$WORK/out" && ok ||
  fail "list: no invited admin named by the email's local part: $(cat "$WORK/out")"
grep -Eq "^$issuer +invited +issuer,revoker,auditor +$ISSUER_EMAIL +$ISSUER_NAME +never$" "$WORK/out" && ok ||
  fail "list: no invited issuer with three roles: $(cat "$WORK/out")"
[ "$(lines "$WORK/out")" = 5 ] && ok || fail "list: want a header and 4 users (one per email)"
grep -qF -- "$secret" "$WORK/out" && fail "list shows an invite secret" || ok
users_json
python3 - "$WORK/users.json" "$admin" "$issuer" "$ISSUER_NAME" <<'EOF' && ok || fail "list --json content: $(cat "$WORK/users.json")"
import json, re, sys
doc = json.load(open(sys.argv[1]))
assert set(doc) == {"users"}
users = {u["id"]: u for u in doc["users"]}
assert len(users) == 4, users
rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
for u in users.values():
    assert list(u) == ["id", "name", "email", "roles", "state", "createdAt", "activatedAt",
                       "lastSignInAt", "disabledAt", "disabledReason"], list(u)
    assert u["state"] == "invited" and rfc3339.match(u["createdAt"]), u
    for k in ("activatedAt", "lastSignInAt", "disabledAt", "disabledReason"):
        assert u[k] is None, (k, u)
a, i = users[sys.argv[2]], users[sys.argv[3]]
assert a["roles"] == ["admin"] and a["name"] == "Alice.Admin", a
assert a["email"] == "Alice.Admin@People.Example", a
assert i["roles"] == ["issuer", "revoker", "auditor"] and i["name"] == sys.argv[4], i
EOF

# --- roles, disable, enable ---
run "roles" 0 "$BIN" user roles "$issuer" --role issuer --role auditor --data-dir "$D"
[ "$(lines "$WORK/out")" = 1 ] && ok || fail "roles: want one line: $(cat "$WORK/out")"
run "roles, comma list" 0 "$BIN" user roles --data-dir "$D" "$dave" --role admin,issuer
users_json
[ "$(user_field "$issuer" roles)" = "issuer,auditor" ] && ok || fail "roles: $(user_field "$issuer" roles)"
[ "$(user_field "$dave" roles)" = "admin,issuer" ] && ok || fail "roles, comma list: $(user_field "$dave" roles)"

run "disable" 0 "$BIN" user disable "$issuer" --data-dir "$D"
[ "$(lines "$WORK/out")" = 1 ] && grep -q "$issuer" "$WORK/out" && ok || fail "disable: want one line naming the id: $(cat "$WORK/out")"
run "disable with --reason" 0 "$BIN" user disable --reason "left the team" "$carol" --data-dir "$D"
run "disable again keeps the first reason" 0 "$BIN" user disable --reason "other" "$carol" --data-dir "$D"
users_json
[ "$(user_field "$issuer" state)" = disabled ] && ok || fail "disable: state $(user_field "$issuer" state)"
[ "$(user_field "$issuer" disabledReason)" = "disabled by cli" ] && ok || fail "disable: default reason $(user_field "$issuer" disabledReason)"
[ "$(user_field "$carol" disabledReason)" = "left the team" ] && ok || fail "disable --reason: $(user_field "$carol" disabledReason)"
[ "$(user_field "$issuer" disabledAt)" != null ] && ok || fail "disable: no disabledAt"
run "list shows disabled" 0 "$BIN" user list --data-dir "$D"
grep -Eq "^$issuer +disabled +issuer,auditor " "$WORK/out" && ok || fail "list: the disabled user: $(cat "$WORK/out")"
check_usage "re-invite of a disabled user's email" "$BIN" user invite --email "$ISSUER_EMAIL" --role issuer --data-dir "$D"
check_usage "bad --reason (control character)" "$BIN" user disable --reason $'a\tb' "$dave" --data-dir "$D"
run "enable" 0 "$BIN" user enable "$issuer" --data-dir "$D"
[ "$(lines "$WORK/out")" = 1 ] && ok || fail "enable: want one line: $(cat "$WORK/out")"
users_json
# Never enrolled, so enabled means invited again (a new invite is needed to sign in).
[ "$(user_field "$issuer" state)" = invited ] && ok || fail "enable: state $(user_field "$issuer" state)"
[ "$(user_field "$issuer" disabledReason)" = null ] && ok || fail "enable: the reason stayed"
invite "invite again after enable" --email "$ISSUER_EMAIL" --role issuer
[ "$uid" = "$issuer" ] && ok || fail "invite after enable made a new user"

# --- invite, list, disable and enable while `serve` runs on the same data dir ---
port=$(free_port)
CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --data-dir "$D" >"$WORK/serve.log" 2>&1 &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
if wait_healthy "http://127.0.0.1:$port"; then ok; else fail "serve did not start: $(tail -3 "$WORK/serve.log")"; fi
invite "invite while serving" --email frank@people.example --role auditor
frank=$uid
run "list while serving" 0 "$BIN" user list --data-dir "$D"
grep -q "^$frank " "$WORK/out" && ok || fail "list while serving: no $frank"
run "disable while serving" 0 "$BIN" user disable "$frank" --data-dir "$D"
run "enable while serving" 0 "$BIN" user enable "$frank" --data-dir "$D"
run "roles while serving" 0 "$BIN" user roles "$frank" --role issuer --data-dir "$D"
kill -TERM "$spid"
wait "$spid" && ok || fail "serve did not stop cleanly: $(tail -3 "$WORK/serve.log")"

# --- the audit log: every write, no email, no name, no secret ---
run "audit list" 0 "$BIN" audit list --data-dir "$D"
cp "$WORK/out" "$WORK/audit.txt"
for want in "user invite users/$admin" "user invite users/$issuer" "user roles users/$issuer" \
  "user disable users/$issuer" "user enable users/$issuer" "user disable users/$carol" \
  "user invite users/$frank" "user roles users/$frank"; do
  grep -q " cli - $want 0 " "$WORK/audit.txt" && ok || fail "audit list has no \"$want\""
done
# 7 invites, 3 roles, 4 disables, 2 enables; refused writes leave no entry.
[ "$(grep -c ' cli - user ' "$WORK/audit.txt")" = 16 ] && ok ||
  fail "audit: want 16 user entries, got $(grep -c ' cli - user ' "$WORK/audit.txt")"
run "audit list --json" 0 "$BIN" audit list --json --data-dir "$D"
cat "$WORK/out" >>"$WORK/audit.txt"
for s in "$ADMIN_EMAIL" "$ISSUER_EMAIL" "$ISSUER_NAME" "@people.example" "$secret" "$first_secret"; do
  grep -qiF -- "$s" "$WORK/audit.txt" && fail "the audit log holds \"$s\"" || ok
done
run "audit verify" 0 "$BIN" audit verify --data-dir "$D"
grep -q "audit log intact" "$WORK/out" && ok || fail "audit verify: $(cat "$WORK/out")"

# --- nothing personal or secret in clear in the data dir (LMDB files, keys, anything) ---
for s in "$ADMIN_EMAIL" "$ISSUER_EMAIL" "people.example" "$ISSUER_NAME" "$secret"; do
  n=$(find "$D" -type f -exec grep -c -a -i -F -- "$s" {} + | awk -F: '{s += $NF} END {print s + 0}')
  [ "$n" = 0 ] && ok || fail "\"$s\" appears $n times in clear in the data dir"
done
ls "$D"/db/*.mdb >/dev/null 2>&1 && ok || fail "no LMDB files in $D/db"

finish
