/* Checkpoints as C2SP signed notes (checkpoint.h, SPEC §1; C2SP tlog-checkpoint and
 * signed-note, whose reference implementation is Go's golang.org/x/mod/sumdb/note).
 *
 * Parsing is strict. A note is accepted only when all of this holds (failures are
 * CA_ERR_INVALID unless noted):
 *  1. At most CA_NOTE_MAX bytes (else CA_ERR_TOO_LARGE); valid UTF-8; no control character
 *     other than '\n' (signed-note).
 *  2. The last "\n\n" splits the signed text (up to and including its first '\n') from the
 *     signature block, which is non-empty and ends in '\n' (signed-note).
 *  3. The text is exactly three non-empty lines: origin, tree size, root. Extension lines are
 *     rejected: tlog-checkpoint allows them, but SPEC §1 says we never produce them, so a note
 *     carrying them was not made by a credanchor node and accepting it would only widen what
 *     an attacker can feed the verifier.
 *  4. The origin is a valid key name (below). The tree size is decimal ASCII without leading
 *     zeros ("0" alone is fine) and fits in 64 bits. The root is padded standard base64 of
 *     exactly 32 bytes, in its one canonical encoding.
 *  5. Every signature line is "— <name> <base64>" (U+2014 EM DASH, a space), with a valid
 *     name and a base64 blob of at least 5 bytes (4-byte key id + signature); at most 100
 *     lines (as Go's note.Open).
 *  6. The origin equals the verifier's name: the key name is the origin (SPEC §1), so a note
 *     for another origin is not a checkpoint of the log this verifier is for (CA_ERR_VERIFY).
 *  7. Lines whose (name, key id) is not the verifier's are ignored (signed-note). The first
 *     line that is the verifier's must carry a 64-byte Ed25519 signature that verifies over
 *     the text; repeats of it are ignored, as Go does. No such line, or a bad signature, is
 *     CA_ERR_VERIFY.
 *
 * Key names (and so origins): non-empty, at most CA_ORIGIN_MAX bytes, valid UTF-8, no Unicode
 * white space and no '+' (signed-note), and, beyond that, no control characters.
 */
#include "credanchor/checkpoint.h"
#include "credanchor/encoding.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NOTE_ALG_ED25519 0x01
#define NOTE_MAX_SIGS 100
#define SIG_BLOB_LEN (4 + CA_ED25519_SIG_SIZE) /* key id || signature */
#define ROOT_B64_LEN 44                       /* base64 of 32 bytes, padded */

static const char em_dash_space[] = "\xE2\x80\x94 "; /* "— " */
#define EM_DASH_SPACE_LEN 4

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length and sets *cp, or 0
 * for an invalid sequence (truncated, overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_decode(uint32_t *cp, const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Unicode White_Space, as Go's unicode.IsSpace. */
static bool is_unicode_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static bool valid_name(const char *s, size_t len)
{
    if (len == 0 || len > CA_ORIGIN_MAX)
        return false;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_decode(&c, p + i, len - i);
        if (n == 0 || c == '+' || c < 0x20 || c == 0x7F || is_unicode_space(c))
            return false;
        i += n;
    }
    return true;
}

void ca_note_key_id(uint8_t id[4], const char *name, const uint8_t pub[CA_ED25519_PUB_SIZE])
{
    CA_ASSERT(id != NULL && name != NULL && pub != NULL);
    size_t name_len = strlen(name);
    CA_ASSERT(name_len <= CA_ORIGIN_MAX);
    uint8_t buf[CA_ORIGIN_MAX + 2 + CA_ED25519_PUB_SIZE];
    memcpy(buf, name, name_len);
    buf[name_len] = '\n';
    buf[name_len + 1] = NOTE_ALG_ED25519;
    memcpy(buf + name_len + 2, pub, CA_ED25519_PUB_SIZE);
    ca_hash h;
    ca_sha256(&h, buf, name_len + 2 + CA_ED25519_PUB_SIZE);
    memcpy(id, h.b, 4);
}

void ca_verifier_key_format(char *out, const char *name, const uint8_t pub[CA_ED25519_PUB_SIZE])
{
    CA_ASSERT(out != NULL && name != NULL && pub != NULL);
    CA_ASSERT(strlen(name) <= CA_ORIGIN_MAX);
    uint8_t id[4], key[1 + CA_ED25519_PUB_SIZE];
    char id_hex[9], key_b64[ROOT_B64_LEN + 5];
    ca_note_key_id(id, name, pub);
    ca_hex_encode(id_hex, id, sizeof id);
    key[0] = NOTE_ALG_ED25519;
    memcpy(key + 1, pub, CA_ED25519_PUB_SIZE);
    ca_base64_encode(key_b64, key, sizeof key);
    snprintf(out, CA_VERIFIER_KEY_MAX, "%s+%s+%s", name, id_hex, key_b64);
}

ca_err ca_verifier_key_parse(ca_note_verifier *v, const char *text, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(v != NULL && (text != NULL || len == 0));
    if (len > CA_VERIFIER_KEY_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "verifier key is longer than %d bytes",
                       CA_VERIFIER_KEY_MAX);
    /* <name>+<8 hex>+<base64(0x01 || pub)> */
    const char *plus1 = len ? memchr(text, '+', len) : NULL;
    if (!plus1)
        return ca_fail(eb, CA_ERR_INVALID, "verifier key is not <name>+<key id>+<key>");
    size_t name_len = (size_t)(plus1 - text);
    if (!valid_name(text, name_len))
        return ca_fail(eb, CA_ERR_INVALID, "verifier key has an invalid name");
    const char *hex = plus1 + 1;
    size_t rest = len - name_len - 1;
    if (rest < 9 || hex[8] != '+')
        return ca_fail(eb, CA_ERR_INVALID, "verifier key id is not 8 hex digits");
    uint8_t id[4];
    if (ca_hex_decode(id, sizeof id, hex, 8) != CA_OK)
        return ca_fail(eb, CA_ERR_INVALID, "verifier key id is not 8 hex digits");
    const char *b64 = hex + 9;
    size_t b64_len = rest - 9;
    uint8_t key[1 + CA_ED25519_PUB_SIZE];
    size_t key_len = sizeof key;
    ca_err rc = ca_base64_decode(key, &key_len, b64, b64_len);
    if (rc == CA_OK && key_len >= 1 && key[0] != NOTE_ALG_ED25519)
        return ca_fail(eb, CA_ERR_INVALID,
                       "verifier key uses algorithm %u; only Ed25519 (1) is supported", key[0]);
    if (rc != CA_OK || key_len != sizeof key)
        return ca_fail(eb, CA_ERR_INVALID,
                       "verifier key is not base64 of 0x01 and a 32-byte Ed25519 key");

    ca_note_verifier tmp;
    memset(&tmp, 0, sizeof tmp);
    memcpy(tmp.name, text, name_len);
    tmp.name[name_len] = '\0';
    memcpy(tmp.pub, key + 1, CA_ED25519_PUB_SIZE);
    ca_note_key_id(tmp.key_id, tmp.name, tmp.pub);
    if (memcmp(tmp.key_id, id, sizeof id) != 0)
        return ca_fail(eb, CA_ERR_INVALID,
                       "verifier key id %.8s does not match its name and key", hex);
    *v = tmp;
    return CA_OK;
}

/* Writes the checkpoint body into out (cap bytes); returns its length, or 0 if it does not
 * fit. The origin has been validated. */
static size_t format_body(char *out, size_t cap, const ca_checkpoint *cp)
{
    char root_b64[ROOT_B64_LEN + 1];
    ca_base64_encode(root_b64, cp->root.b, CA_HASH_SIZE);
    int n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, root_b64);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

ca_err ca_checkpoint_sign(char *out, size_t *out_len, const ca_checkpoint *cp,
                          const ca_ed25519_key *key, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && out_len != NULL && cp != NULL && key != NULL);
    size_t origin_len = strnlen(cp->origin, sizeof cp->origin);
    if (origin_len == sizeof cp->origin || !valid_name(cp->origin, origin_len))
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint origin must be 1-%d bytes of UTF-8 without spaces or '+'",
                       CA_ORIGIN_MAX);

    char note[CA_NOTE_MAX];
    size_t body_len = format_body(note, sizeof note, cp);
    if (body_len == 0)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "checkpoint note would exceed %d bytes",
                       CA_NOTE_MAX);

    uint8_t pub[CA_ED25519_PUB_SIZE], blob[SIG_BLOB_LEN];
    ca_ed25519_key_public(key, pub);
    ca_note_key_id(blob, cp->origin, pub);
    ca_err rc = ca_ed25519_sign(key, blob + 4, note, body_len);
    if (rc != CA_OK)
        return ca_fail(eb, rc, "signing the checkpoint failed");

    char sig_b64[(SIG_BLOB_LEN + 2) / 3 * 4 + 1];
    ca_base64_encode(sig_b64, blob, sizeof blob);
    int n = snprintf(note + body_len, sizeof note - body_len, "\n%s%s %s\n", em_dash_space,
                     cp->origin, sig_b64);
    if (n < 0 || (size_t)n >= sizeof note - body_len)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "checkpoint note would exceed %d bytes",
                       CA_NOTE_MAX);
    size_t total = body_len + (size_t)n;
    memcpy(out, note, total + 1);
    *out_len = total;
    return CA_OK;
}

/* Parses the decimal tree size: no sign, no leading zeros, at most 2^64 - 1. */
static bool parse_size(uint64_t *out, const char *s, size_t len)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* 1. UTF-8, and no control characters but '\n'. */
static ca_err check_note_chars(const char *note, size_t len, ca_errbuf *eb)
{
    const uint8_t *u = (const uint8_t *)note;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_decode(&c, u + i, len - i);
        if (n == 0 || (c < 0x20 && c != '\n'))
            return ca_fail(eb, CA_ERR_INVALID,
                           "checkpoint note has invalid UTF-8 or a control character at byte "
                           "%zu", i);
        i += n;
    }
    return CA_OK;
}

/* 2. Text and signature block around the last blank line: the text is note[0, *text_len). */
static ca_err split_note(size_t *text_len, const char *note, size_t len, ca_errbuf *eb)
{
    size_t split = len; /* index of the first '\n' of the last "\n\n" */
    for (size_t i = len; i >= 2; i--) {
        if (note[i - 2] == '\n' && note[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len)
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint note has no blank line before its signatures");
    *text_len = split + 1;
    const char *sigs = note + split + 2, *end = note + len;
    if (sigs == end || end[-1] != '\n')
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint note must end with signature lines, each ending in a "
                       "newline");
    return CA_OK;
}

/* 3-4. The three body lines of the text (which ends in '\n') into cp. */
static ca_err parse_body(ca_checkpoint *cp, const char *text, size_t text_len, ca_errbuf *eb)
{
    const char *line[3];
    size_t line_len[3];
    const char *p = text, *text_end = text + text_len;
    for (int i = 0; i < 3; i++) {
        if (p == text_end)
            return ca_fail(eb, CA_ERR_INVALID, "checkpoint body has %d lines, expected 3", i);
        const char *nl = memchr(p, '\n', (size_t)(text_end - p));
        /* text ends in '\n', so nl is found */
        line[i] = p;
        line_len[i] = (size_t)(nl - p);
        p = nl + 1;
    }
    if (p != text_end)
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint body has more than 3 lines (extension lines are not "
                       "accepted)");

    if (!valid_name(line[0], line_len[0]))
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint origin must be 1-%d bytes of UTF-8 without spaces or '+'",
                       CA_ORIGIN_MAX);
    memcpy(cp->origin, line[0], line_len[0]);
    if (!parse_size(&cp->size, line[1], line_len[1]))
        return ca_fail(eb, CA_ERR_INVALID,
                       "checkpoint tree size is not a decimal number without leading zeros");
    size_t root_len = CA_HASH_SIZE;
    if (line_len[2] != ROOT_B64_LEN ||
        ca_base64_decode(cp->root.b, &root_len, line[2], line_len[2]) != CA_OK ||
        root_len != CA_HASH_SIZE)
        return ca_fail(eb, CA_ERR_INVALID, "checkpoint root is not base64 of 32 bytes");
    return CA_OK;
}

/* 5. Signature lines in [sigs, end); remember the first one by v (*found, its blob in mine,
 * *mine_len bytes long; mine is filled only when that is SIG_BLOB_LEN). */
static ca_err scan_signatures(bool *found, uint8_t mine[SIG_BLOB_LEN], size_t *mine_len,
                              const char *sigs, const char *end, const ca_note_verifier *v,
                              ca_errbuf *eb)
{
    uint8_t blob[CA_NOTE_MAX];
    int nsigs = 0;
    size_t vname_len = strlen(v->name);
    for (const char *p = sigs; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = (size_t)(nl - p);
        if (++nsigs > NOTE_MAX_SIGS)
            return ca_fail(eb, CA_ERR_INVALID, "checkpoint note has more than %d signatures",
                           NOTE_MAX_SIGS);
        if (ll < EM_DASH_SPACE_LEN || memcmp(p, em_dash_space, EM_DASH_SPACE_LEN) != 0)
            return ca_fail(eb, CA_ERR_INVALID,
                           "checkpoint signature line %d does not start with an em dash and "
                           "a space", nsigs);
        const char *name = p + EM_DASH_SPACE_LEN;
        size_t rest = ll - EM_DASH_SPACE_LEN;
        const char *sp = memchr(name, ' ', rest);
        size_t name_len = sp ? (size_t)(sp - name) : rest;
        const char *b64 = sp ? sp + 1 : name + rest;
        size_t b64_len = sp ? rest - name_len - 1 : 0;
        size_t blob_len = sizeof blob;
        if (!valid_name(name, name_len) || b64_len == 0 ||
            ca_base64_decode(blob, &blob_len, b64, b64_len) != CA_OK || blob_len < 5)
            return ca_fail(eb, CA_ERR_INVALID, "checkpoint signature line %d is malformed",
                           nsigs);
        if (!*found && name_len == vname_len && memcmp(name, v->name, name_len) == 0 &&
            memcmp(blob, v->key_id, 4) == 0) {
            *found = true;
            *mine_len = blob_len;
            if (blob_len == SIG_BLOB_LEN)
                memcpy(mine, blob, SIG_BLOB_LEN);
        }
        p = nl + 1;
    }
    return CA_OK;
}

ca_err ca_checkpoint_open(ca_checkpoint *cp, const char *note, size_t len,
                          const ca_note_verifier *v, ca_errbuf *eb)
{
    CA_ASSERT(cp != NULL && v != NULL && (note != NULL || len == 0));
    if (len > CA_NOTE_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "checkpoint note is longer than %d bytes",
                       CA_NOTE_MAX);

    ca_err err;
    size_t text_len = 0;
    if ((err = check_note_chars(note, len, eb)) || (err = split_note(&text_len, note, len, eb)))
        return err;

    ca_checkpoint tmp;
    memset(&tmp, 0, sizeof tmp);
    if ((err = parse_body(&tmp, note, text_len, eb)))
        return err;

    uint8_t mine[SIG_BLOB_LEN];
    size_t mine_len = 0;
    bool found = false;
    if ((err = scan_signatures(&found, mine, &mine_len, note + text_len + 1, note + len, v, eb)))
        return err;

    /* 6-7. */
    if (strcmp(tmp.origin, v->name) != 0)
        return ca_fail(eb, CA_ERR_VERIFY,
                       "checkpoint origin %s is not the verifier key's name %s", tmp.origin,
                       v->name);
    if (!found)
        return ca_fail(eb, CA_ERR_VERIFY, "checkpoint has no signature by key %s+%02x%02x%02x%02x",
                       v->name, v->key_id[0], v->key_id[1], v->key_id[2], v->key_id[3]);
    if (mine_len != SIG_BLOB_LEN ||
        ca_ed25519_verify(v->pub, mine + 4, note, text_len) != CA_OK)
        return ca_fail(eb, CA_ERR_VERIFY, "checkpoint signature by key %s does not verify",
                       v->name);
    *cp = tmp;
    return CA_OK;
}
