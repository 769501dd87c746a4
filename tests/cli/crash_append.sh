#!/usr/bin/env bash
# kill -9 at random moments during appends (issue #2): after every round, and at the end,
# every acknowledged digest is still in the log at the index it was acknowledged with, the
# checkpoint covers all of them, and the root equals the root recomputed from the digests.
# Small index batches make kills land inside digest-index flushes too; odd rounds also use a
# one-page flush budget, which splits each flush into thousands of one-key transactions.
source "$(dirname "$0")/lib.bash"
D=$WORK/data
ROUNDS=${CA_CRASH_ROUNDS:-30}
export CREDANCHOR_STORE_INDEX_BATCH=3000
"$BIN" init --data-dir "$D" >/dev/null
gen_digests 0 1000000 > "$WORK/all"
: > "$WORK/acked"
killed=0
for round in $(seq 1 "$ROUNDS"); do
  size=$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)
  # Re-offer the tail of the last round too: duplicates must keep their indices.
  from=$(( size > 500 ? size - 500 : 0 ))
  sed -n "$((from + 1)),$((from + 30000))p" "$WORK/all" > "$WORK/chunk"
  pages=$(( round % 2 ? 1 : 8192 ))
  CREDANCHOR_STORE_INDEX_FLUSH_PAGES=$pages \
    "$BIN" append --data-dir "$D" --batch 50 - < "$WORK/chunk" > "$WORK/acks" 2>/dev/null &
  pid=$!
  sleep "0.$(printf "%03d" $((RANDOM % 400 + 120)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ "$(wc -l < "$WORK/acks")" -lt 30000 ] && killed=$((killed + 1))
  # A last line without its newline was cut by the kill, so never fully acknowledged: drop
  # it (cut inside the digest it still has two fields, e.g. "52865 174204f").
  [ -z "$(tail -c 1 "$WORK/acks")" ] || sed -i '$d' "$WORK/acks"
  cat "$WORK/acks" >> "$WORK/acked"
done
echo "rounds: $ROUNDS, killed mid-run: $killed, acknowledged lines: $(wc -l < "$WORK/acked")" >&2
[ "$killed" -ge $((ROUNDS / 3)) ] && ok || fail "only $killed of $ROUNDS rounds were killed mid-run"

size=$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)
# Each acknowledgement "INDEX DIGEST" must match digest number INDEX (leaf k is digest k).
python3 - "$WORK/acked" "$WORK/all" "$size" <<'PY' && ok || fail "an acknowledged digest is missing or moved"
import sys
acked, allf, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
digests = open(allf).read().split()
bad = 0
for line in open(acked):
    parts = line.split()
    if len(parts) != 2:
        continue
    i, d = int(parts[0]), parts[1]
    if i >= size or digests[i] != d:
        bad += 1
        print(f"acked {d} at {i}, log size {size}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
root=$("$BIN" merkle-root <(head -n "$size" "$WORK/all"))
cp_root=$("$BIN" checkpoint --data-dir "$D" | sed -n 3p | base64 -d | xxd -p -c 64)
[ "$root" = "$cp_root" ] && ok || fail "checkpoint root $cp_root != recomputed $root at size $size"
# Every acknowledged digest is provable (a sample across the whole log, plus the last one).
vkey=$("$BIN" checkpoint --data-dir "$D" --key)
sample=$( (awk 'NF==2' "$WORK/acked" | shuf -n 40 --random-source=<(yes); awk 'NF==2' "$WORK/acked" | tail -1) | cut -d' ' -f2)
for d in $sample; do
  "$BIN" prove --data-dir "$D" "$d" > "$WORK/p.json" && "$BIN" verify-proof --key "$vkey" "$WORK/p.json" >/dev/null \
    && ok || fail "acknowledged digest $d is not provable"
done
# The log still takes appends and stays consistent.
"$BIN" append --data-dir "$D" "$(sed -n "$((size + 1))p" "$WORK/all")" >/dev/null && ok || fail "append after crashes"
finish
