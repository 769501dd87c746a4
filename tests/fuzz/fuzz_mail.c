/* Recipients' email (issue #18): the address and From parsers (node/mail_message.h) and the
 * composer fed hostile free text. The first input byte picks the mode; the rest is the text.
 *   0: ca_mail_address_check — an accepted address has no byte outside printable ASCII and
 *      none of the characters that could end a header or an SMTP path (CR, LF, <, >, ",", ").
 *   1: ca_mail_from_parse — an accepted From gives an address ca_mail_address_check accepts.
 *   2: ca_mail_compose with the text as recipient name, course title and reason — the
 *      message's header block holds only the composer's own header names (no injected
 *      header), every line ends in CRLF, and no line is longer than 998 bytes (RFC 5322 §2.1.1).
 *   3: ca_webhook_url_check (node/webhooks.h) — never crashes; an accepted URL is https://
 *      (no allow list here). */
#include "fuzz_common.h"
#include "node/config.h"
#include "node/mail_message.h"
#include "node/webhooks.h"

#include <strings.h>

static void check_address(const char *s)
{
    ca_errbuf eb = {{0}};
    if (ca_mail_address_check(s, &eb) != CA_OK)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>,\"", *p))
            abort();
}

static void check_from(const char *s)
{
    char addr[512], name[512];
    ca_errbuf eb = {{0}};
    if (ca_mail_from_parse(s, addr, sizeof addr, name, sizeof name, &eb) != CA_OK)
        return;
    if (ca_mail_address_check(addr, &eb) != CA_OK)
        abort();
}

static bool own_header(const char *line)
{
    static const char *const names[] = {"From:", "To:", "Subject:", "Date:", "Message-ID:",
                                        "MIME-Version:", "Content-Type:", "Auto-Submitted:",
                                        "X-Credanchor-Event:", "Content-Language:"};
    if (line[0] == ' ' || line[0] == '\t')
        return true; /* a folded continuation */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

static void check_headers(const char *msg, size_t len)
{
    const char *p = msg, *end = msg + len;
    bool in_headers = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl == p || nl[-1] != '\r' || nl - p > 1000)
            abort(); /* a bare LF, a missing line end, or a line over 998 + CRLF */
        if (nl - p == 1)
            in_headers = false;
        else if (in_headers && !own_header(p))
            abort();
        p = nl + 1;
    }
}

static void check_compose(const char *text)
{
    ca_mail_content c = {.languages = "ko,en", .recipient_name = text,
                         .achievement_name = text, .issuer_name = "BizMarket",
                         .issue_number = "BIZM-202606-0001",
                         .page_url = "https://credentials.bizm.example/c/1",
                         .event = "credential.revoked", .reason = text};
    ca_mail_envelope e = {.from = "Training <training@bizm.example>",
                          .to = "a@bizm.example", .to_name = text,
                          .message_id = "abc.issued@bizm.example", .date = 1780000000};
    char *msg = NULL;
    size_t len = 0;
    ca_errbuf eb = {{0}};
    if (ca_mail_compose(&msg, &len, &e, &c, &eb) == CA_OK)
        check_headers(msg, len);
    free(msg);
}

static void check_webhook_url(const char *s)
{
    static ca_config cfg;
    static bool ready;
    if (!ready) {
        ca_config_defaults(&cfg);
        ready = true;
    }
    ca_errbuf eb = {{0}};
    if (ca_webhook_url_check(&cfg, s, &eb) == CA_OK && strncasecmp(s, "https:", 6) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *s = fuzz_strndup(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: check_address(s); break;
    case 1: check_from(s); break;
    case 2: check_compose(s); break;
    default: check_webhook_url(s); break;
    }
    free(s);
    return 0;
}
