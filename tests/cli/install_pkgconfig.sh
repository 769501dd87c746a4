#!/usr/bin/env bash
# `cmake --install` and the pkg-config file (issue #2): install into a scratch DESTDIR, then
# compile and run a program that uses the library through `pkg-config credanchor`.
source "$(dirname "$0")/lib.bash"
: "${CA_BUILD_DIR:?set by ctest}"
DEST=$WORK/root
DESTDIR=$DEST cmake --install "$CA_BUILD_DIR" --prefix /usr/local >/dev/null && ok || fail "cmake --install"
[ -x "$DEST/usr/local/bin/credanchor" ] && [ -f "$DEST/usr/local/include/credanchor/merkle.h" ] && ok || fail "installed files"
cat > "$WORK/use.c" <<'C'
#include <credanchor/encoding.h>
#include <credanchor/merkle.h>
#include <stdio.h>
int main(void)
{
    ca_hash root;
    char hex[65];
    ca_merkle_empty_root(&root);
    ca_hash_to_hex(hex, &root);
    puts(hex);
    return 0;
}
C
export PKG_CONFIG_PATH=$DEST/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST
# shellcheck disable=SC2046
cc -std=c17 ${CA_CONSUMER_CFLAGS:-} -o "$WORK/use" "$WORK/use.c" $(pkg-config --cflags --libs credanchor) && ok || fail "compile against pkg-config credanchor"
[ "$("$WORK/use")" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ] && ok || fail "program output"
finish
