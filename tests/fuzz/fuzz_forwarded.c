/* X-Forwarded-For behind trusted proxies (node/http.c ca_http_forwarded_client, issue #16's
 * node.trusted_proxies): any header bytes give either the peer itself or an address parsed
 * from the header, as 16 bytes whose text form parses back to them; never a read past the
 * header's NUL (ASan); and from a peer that is not trusted, the header is ignored. The first
 * input byte chooses the peer (trusted 127.0.0.1, trusted ::1, or untrusted 10.0.0.1). */
#include "fuzz_common.h"
#include "node/http.h"

#include <arpa/inet.h>

static void mapped4(uint8_t key[16], const char *dotted)
{
    memset(key, 0, 16);
    key[10] = key[11] = 0xff;
    inet_pton(AF_INET, dotted, key + 12);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t trusted[2][16] = {{0}};
    mapped4(trusted[0], "127.0.0.1");
    inet_pton(AF_INET6, "::1", trusted[1]);
    uint8_t key[16];
    char text[64];
    switch (data[0] % 3) {
    case 0: mapped4(key, "127.0.0.1"); snprintf(text, sizeof text, "127.0.0.1"); break;
    case 1: memcpy(key, trusted[1], 16); snprintf(text, sizeof text, "::1"); break;
    default: mapped4(key, "10.0.0.1"); snprintf(text, sizeof text, "10.0.0.1"); break;
    }
    uint8_t peer[16];
    memcpy(peer, key, 16);
    char *xff = fuzz_strndup(data + 1, size - 1);
    ca_http_forwarded_client(key, text, sizeof text, xff, (const uint8_t(*)[16])trusted, 2);
    if (data[0] % 3 == 2 && memcmp(key, peer, 16) != 0)
        abort(); /* an untrusted peer's header was believed */
    uint8_t back[16] = {0};
    bool v4 = key[10] == 0xff && key[11] == 0xff && !memcmp(key, (uint8_t[10]){0}, 10);
    if (v4) {
        back[10] = back[11] = 0xff;
        if (inet_pton(AF_INET, text, back + 12) != 1)
            abort();
    } else if (inet_pton(AF_INET6, text, back) != 1) {
        abort();
    }
    if (memcmp(back, key, 16) != 0)
        abort(); /* the text and the bytes name different addresses */
    free(xff);
    return 0;
}
