#!/usr/bin/env bash
# The layer rule (issue #14; README "Tour of the code"): common/, anchor/, did/ and credential/
# are protocol code, built as libcredanchor_protocol.a, and include nothing from above them;
# node/ (libcredanchor_node.a) puts them together. Fails when
#  1. a file under common/, anchor/, did/ or credential/, or a header in include/credanchor/,
#     includes a node header ("node/...", or the name of a header that lives in node/ or was
#     moved there by issue #14), <lmdb.h>, <microhttpd.h> or <ini.h>;
#  2. a node header is still in include/credanchor/ (the installed, public headers);
#  3. libcredanchor_protocol.a is missing, holds an object built from node/, or has an
#     undefined reference to LMDB, libmicrohttpd or inih;
#  4. protocol code calls a ca_* function that only node code defines (nm, object by object,
#     over every libcredanchor*.a of the build);
#  5. common/ calls a ca_* function defined in anchor/, did/ or credential/ (common is the
#     bottom layer: e.g. Keccak-256 lives in common/keccak.c because crypto.c uses it).
# Runs no credanchor process: it reads the sources (CA_SOURCE_DIR) and the build's static
# archives (CA_BUILD_DIR).
source "$(dirname "$0")/lib.bash"
: "${CA_SOURCE_DIR:?set by ctest}" "${CA_BUILD_DIR:?set by ctest}"
SRC=$CA_SOURCE_DIR
PROTOCOL_DIRS=(common anchor did credential)

# The node's header names: every node/*.h, plus those issue #14 moved out of
# include/credanchor/ (so an old include line is caught even where node/ lacks the file).
node_headers=(store log http node config auth issuer reports resolver backup bulk keystore
              fetch verify_env anchor anchor_engine cli)
for h in "$SRC"/node/*.h; do
  [ -e "$h" ] && node_headers+=("$(basename "$h" .h)")
done
is_node_header() { # NAME (without .h)
  local n
  for n in "${node_headers[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# 1. Include lines of protocol code and of the public headers.
files=()
for d in "${PROTOCOL_DIRS[@]}"; do
  while IFS= read -r f; do files+=("$f"); done < <(find "$SRC/$d" -name '*.[ch]' | sort)
done
for f in "$SRC"/include/credanchor/*.h; do files+=("$f"); done
bad_includes=0
for f in "${files[@]}"; do
  while IFS=: read -r line inc; do
    path=${inc#*[\"<]}
    path=${path%%[\">]*}
    name=$(basename "$path" .h)
    why=""
    case $path in
      node/*) why="a node header" ;;
      lmdb.h | microhttpd.h | ini.h) why="a node-only library's header" ;;
      *) if [[ $path == *.h ]] && is_node_header "$name" && [[ $inc == *\"* ]]; then
           why="a node header's name"
         fi ;;
    esac
    if [ -n "$why" ]; then
      fail "${f#"$SRC"/}:$line includes $path ($why)"
      bad_includes=$((bad_includes + 1))
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$f" |
           sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*/\1:/')
done
[ "$bad_includes" = 0 ] && ok

# 2. No node header left among the public ones.
left=0
for h in "$SRC"/include/credanchor/*.h; do
  if is_node_header "$(basename "$h" .h)"; then
    fail "${h#"$SRC"/} is a node header in include/credanchor/ (it belongs in node/)"
    left=$((left + 1))
  fi
done
[ "$left" = 0 ] && ok

# 3. The protocol library exists and is protocol code only.
P=$CA_BUILD_DIR/libcredanchor_protocol.a
layer_of() { # OBJECT MEMBER NAME (e.g. crypto.c.o) -> common|anchor|did|credential|node|?
  local src=${1%.o} d hits=()
  # The one generated source: web/ embedded at build time (cmake/embed_web.cmake) for node/.
  [ "$src" = web_assets.c ] && { echo node; return; }
  for d in "${PROTOCOL_DIRS[@]}" node; do [ -f "$SRC/$d/$src" ] && hits+=("$d"); done
  if [ ${#hits[@]} = 1 ]; then echo "${hits[0]}"; else echo "?"; fi
}
if [ ! -f "$P" ]; then
  fail "no libcredanchor_protocol.a in $CA_BUILD_DIR: the protocol code is not a library of its own"
else
  mixed=0
  while IFS= read -r m; do
    [ "$(layer_of "$m")" = node ] && { fail "libcredanchor_protocol.a holds node object $m"; mixed=1; }
  done < <(ar t "$P")
  [ "$mixed" = 0 ] && ok
  libs=$(nm -u "$P" | awk '$1 == "U" {print $2}' | grep -E '^(mdb_|MHD_|ini_)' | sort -u)
  [ -z "$libs" ] && ok || fail "libcredanchor_protocol.a needs LMDB, libmicrohttpd or inih: ${libs//$'\n'/ }"
fi

# 4 and 5. Calls across layers, object by object: which member defines and which uses each
# ca_* symbol, each member placed in its layer by the source file it was built from.
syms=$WORK/syms
: > "$syms"
shopt -s nullglob
archives=("$CA_BUILD_DIR"/libcredanchor*.a)
shopt -u nullglob
[ ${#archives[@]} -gt 0 ] || fail "no libcredanchor*.a in $CA_BUILD_DIR"
declare -A layer_cache=()
for a in "${archives[@]}"; do
  # nm -A prints "archive:member:VALUE TYPE symbol", or "archive:member: U symbol".
  nm -A "$a" 2>/dev/null | awk '{
      n = split($1, p, ":"); sym = $NF; type = $(NF - 1)
      if (sym !~ /^ca_/) next
      if (type == "U") print p[n - 1], "U", sym
      else if (type ~ /^[TDBRCVW]$/) print p[n - 1], "D", sym
    }'
done | sort -u > "$WORK/raw"
while read -r member kind sym; do
  [ -n "${layer_cache[$member]:-}" ] || layer_cache[$member]=$(layer_of "$member")
  echo "${layer_cache[$member]} $member $kind $sym"
done < "$WORK/raw" > "$syms"
unknown=$(awk '$1 == "?" {print $2}' "$syms" | sort -u)
[ -z "$unknown" ] && ok || fail "objects with no single source file in the layer folders: ${unknown//$'\n'/ }"
# Fields: layer member kind symbol. A symbol only node objects define is a node symbol; one
# an anchor/, did/ or credential/ object defines is above common/.
up_calls=$(awk '
    $3 == "D" && $1 == "node" { node[$4] = 1 }
    $3 == "D" && $1 != "node" { proto[$4] = 1 }
    $3 == "D" && $1 != "node" && $1 != "common" { upper[$4] = $1 }
    $3 == "D" && $1 == "common" { low[$4] = 1 }
    $3 == "U" && $1 != "node" && $1 != "?" { use[++n] = $1 " " $2 " " $4 }
    END {
      for (i = 1; i <= n; i++) {
        split(use[i], f, " ")
        if ((f[3] in node) && !(f[3] in proto))
          print f[1] "/" f[2] " calls " f[3] " (defined only in node/)"
        else if (f[1] == "common" && (f[3] in upper) && !(f[3] in low))
          print "common/" f[2] " calls " f[3] " (defined in " upper[f[3]] "/)"
      }
    }' "$syms" | sort -u)
if [ -z "$up_calls" ]; then
  ok
else
  while IFS= read -r l; do fail "$l"; done <<<"$up_calls"
fi
finish
