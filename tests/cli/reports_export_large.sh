#!/usr/bin/env bash
# Issue #12 item 6 / #13 item 6: the auditor's CSV export of 100,000 credentials holds every
# row (it once stopped at 100) and is streamed in bounded memory: the serving node's peak
# heap (anonymous RSS) grows by less than REPORT_RSS_MAX_MIB while it sends them. Also: the first
# JSON page and the summary stay fast at that size; the export newest first (?sort=-issued)
# likewise. Kept out of the valgrind subset of
# scripts/test (heavy); CA_EXPORT_N scales it (default 100000). Credentials are bulk-issued by
# `credanchor issue`.
source "$(dirname "$0")/lib.bash"
N=${CA_EXPORT_N:-100000}
# Measured: +0 MiB in release and under ASan. 16 MiB is below the 24 MiB CSV itself, so a
# route that built the whole body in memory before sending it fails here.
RSS_MAX_MIB=${REPORT_RSS_MAX_MIB:-16}
D=$WORK/data
export CREDANCHOR_ANCHOR_RPC_URL=""
export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$CA_SOURCE_DIR/config/templates
export CREDANCHOR_CREDENTIALS_ISSUE_PREFIX=EXP
"$BIN" init --data-dir "$D" >/dev/null || fail "init"
python3 - "$WORK/list.csv" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w", encoding="utf-8") as f:
    f.write("externalId,name,email,department,course,completedAt\n")
    for i in range(n):
        name = "김민준 %d" % i if i % 2 else "=HYPERLINK(%d)" % i if i % 1000 == 0 else "Pat %d" % i
        f.write(f"E-{i:07d},{name},p{i}@export.example,Dept {i % 17},"
                f"security-awareness-2026,2026-06-{1 + i % 28:02d}\n")
PY
t0=$(date +%s)
"$BIN" issue --csv "$WORK/list.csv" --data-dir "$D" >/dev/null 2>"$WORK/issue.err" \
  && ok || fail "issue $N: $(tail -2 "$WORK/issue.err")"
echo "bulk issue of $N credentials: $(( $(date +%s) - t0 )) s" >&2

port=$(free_port)
# Under AddressSanitizer freed blocks sit in a 256 MiB quarantine before reuse, which is RSS
# that no release build has: the serving node gets none, so its heap is the live heap again.
serve_asan=${ASAN_OPTIONS:-}
[[ "${CA_CONSUMER_CFLAGS:-}" == *sanitize* ]] &&
  serve_asan="${serve_asan:+$serve_asan:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
ASAN_OPTIONS=$serve_asan CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --data-dir "$D" 2>"$WORK/serve.log" &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
for _ in $(seq 1 "$(scaled 200)"); do
  curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.05
done
AUD=$("$BIN" token create --role auditor --data-dir "$D")
get() { curl -s -H "Authorization: Bearer $AUD" "$@"; }
# The node's heap: its anonymous resident memory less AddressSanitizer's shadow mappings. The
# LMDB map is file-backed page cache (RssFile, shared and reclaimable, grown by the kernel's
# read-ahead), but under ASan every byte read from it is checked against its shadow byte, and
# the shadow of a file map is anonymous memory: 1/8 of the bytes read (557 MB of records here,
# +67 MiB), which no release build has. On x86_64 the shadow lies in [0x7fff8000,
# 0x10007fff8000) (compiler-rt asan_mapping.h); the heap, stacks and binary lie above it, and a
# release build maps nothing there.
heap_kib() {
  python3 -c '
import sys
anon = shadow = 0
for line in open(sys.argv[1]):
    head = line.split(None, 1)[0]
    if "-" in head and not head.endswith(":"):
        start = int(head.split("-")[0], 16)
    elif head == "Anonymous:":
        kib = int(line.split()[1])
        anon += kib
        shadow += kib if 0x7fff8000 <= start < 0x10007fff8000 else 0
print(anon - shadow)' "/proc/$spid/smaps"
}

# Warm up the route once, then sample the node's heap while it streams.
get -o /dev/null "http://127.0.0.1:$port/v1/credentials?limit=10"
base=$(heap_kib)
get -D "$WORK/h" -o "$WORK/export.csv" \
  "http://127.0.0.1:$port/v1/credentials?format=csv&bom=true" &
cpid=$!
peak=$base
while kill -0 "$cpid" 2>/dev/null; do
  cur=$(heap_kib)
  [ "$cur" -gt "$peak" ] && peak=$cur
  sleep 0.02
done
wait "$cpid"
rows=$(python3 - "$WORK/export.csv" <<'PY'
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
bad = [c for r in rows[1:] for c in r if c[:1] and c[:1] in "=+-@"]
print(len(rows) - 1 if not bad else -1)
PY
)
[ "$rows" = "$N" ] && ok || fail "CSV export: $rows rows, want $N (or a formula cell)"
head -c 3 "$WORK/export.csv" | od -An -tx1 | grep -q "ef bb bf" && ok || fail "no BOM"
grep -qi '^content-disposition: attachment' "$WORK/h" && ok || fail "no Content-Disposition"
grep -q '김민준' "$WORK/export.csv" && ok || fail "Hangul names"
grow=$(( (peak - base) / 1024 ))
echo "serve heap (anonymous RSS less ASan shadow) before the export ${base} KiB, peak ${peak} KiB: +${grow} MiB for" \
  "$N rows ($(stat -c %s "$WORK/export.csv") bytes sent)" >&2
[ "$grow" -lt "$RSS_MAX_MIB" ] && ok || fail "export heap grew by $grow MiB (max $RSS_MAX_MIB)"

# Newest first (?sort=-issued, issue #17): the same stream down the table, every row once in
# the reverse order, in the same bounded memory.
base=$(heap_kib)
get -o "$WORK/export-desc.csv" "http://127.0.0.1:$port/v1/credentials?format=csv&sort=-issued" &
cpid=$!
peak=$base
while kill -0 "$cpid" 2>/dev/null; do
  cur=$(heap_kib)
  [ "$cur" -gt "$peak" ] && peak=$cur
  sleep 0.02
done
wait "$cpid"
same=$(python3 - "$WORK/export.csv" "$WORK/export-desc.csv" <<'PY'
import csv, sys
ids = [[r[9] for r in list(csv.reader(open(p, encoding="utf-8-sig", newline="")))[1:]]
       for p in sys.argv[1:]]
print("yes" if ids[1] == ids[0][::-1] and len(set(ids[1])) == len(ids[1]) else
      f"no: {len(ids[1])} rows, {len(set(ids[1]))} distinct")
PY
)
[ "$same" = "yes" ] && ok || fail "CSV export sort=-issued: not the rows reversed ($same)"
grow=$(( (peak - base) / 1024 ))
echo "export sort=-issued: +${grow} MiB heap" >&2
[ "$grow" -lt "$RSS_MAX_MIB" ] && ok || fail "sort=-issued export heap grew by $grow MiB"

# The first page and the summary do not read the whole table (counters, cursor).
for path in "/v1/credentials?limit=100" "/v1/reports/summary"; do
  ms=$(get -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port$path" |
       awk '{printf "%d", $1 * 1000}')
  echo "GET $path: $ms ms" >&2
  [ "$ms" -lt "$(scaled 500)" ] && ok || fail "GET $path took $ms ms"
done
total=$(get "http://127.0.0.1:$port/v1/reports/summary" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["issued"])')
[ "$total" = "$N" ] && ok || fail "summary issued $total, want $N"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
