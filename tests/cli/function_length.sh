#!/usr/bin/env bash
# Function length (issue #14, "Long functions that do several jobs"): no function in the
# production code (common/, anchor/, did/, credential/, node/) is longer than 120 lines, from the
# line of its name to its closing brace, as universal-ctags measures it. Prints file, function
# and length for each one over the limit. Fails when universal-ctags is missing too
# (scripts/install-deps installs it), so a machine without it cannot pass by measuring nothing.
source "$(dirname "$0")/lib.bash"
: "${CA_SOURCE_DIR:?set by ctest}"
LIMIT=120

version=$(ctags --version 2>/dev/null)
if [[ "$version" != *"Universal Ctags"* ]]; then
  fail "universal-ctags is not installed (scripts/install-deps installs it)"
  finish
  exit 1
fi

cd "$CA_SOURCE_DIR" || { fail "cd $CA_SOURCE_DIR"; finish; exit 1; }
files=(common/*.c anchor/*.c did/*.c credential/*.c node/*.c)
# %N name, %F file, %n first line, %e last line (the closing brace).
if ! ctags -x --c-kinds=f --fields=+ne --_xformat='%N %F %n %e' "${files[@]}" > "$WORK/tags"; then
  fail "ctags failed"
  finish
  exit 1
fi
# Enough functions were measured: an empty or truncated listing must not pass.
count=$(wc -l < "$WORK/tags")
[ "$count" -ge 500 ] && ok || fail "ctags listed only $count functions"
awk '$4 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $4 - $3 + 1, $2, $1 }' "$WORK/tags" |
  sort -rn > "$WORK/lengths"
# Every listed function has an end line (a missing one would measure as nothing).
[ "$(wc -l < "$WORK/lengths")" = "$count" ] && ok ||
  fail "ctags gave no end line for some functions"
long=$(awk -v limit="$LIMIT" '$1 > limit { printf "%s %s: %d lines\n", $2, $3, $1 }' \
  "$WORK/lengths")
if [ -n "$long" ]; then
  fail "functions over $LIMIT lines:"
  printf '%s\n' "$long" >&2
else
  ok
fi
finish
