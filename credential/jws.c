/* Compact JWS (jws.h; RFC 7515 §7.1) for VC-JWT credentials (SPEC §5).
 *
 * Signing builds the protected header itself, members in the order alg, kid, typ (RFC 7515
 * §4.1.1, §4.1.4, §4.1.9), and signs ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
 * (RFC 7515 §5.1 steps 5-6).
 *
 * Parsing is strict, so that one token has one reading:
 *  - exactly three parts, none empty, only the base64url alphabet (RFC 7515 §2: no padding,
 *    no line breaks or other whitespace), canonical trailing bits (encoding.c);
 *  - the header is a JSON object without duplicate member names (RFC 7515 §5.2 step 4 allows
 *    refusing them) whose "alg" is a string naming one of our algorithms; "none" (RFC 7518
 *    §3.6) is refused, and so is any "crit" (RFC 7515 §4.1.11: we understand no extension);
 *  - the payload is a JSON object (a credential), again without duplicate names.
 * The algorithm used to verify is the key's; a header claiming another fails (RFC 8725 §3.1). */
#include "credanchor/jws.h"
#include "credanchor/encoding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- signing ---- */

ca_err ca_jws_sign(char **jws, size_t *jws_len, const ca_signer *s, const char *kid,
                   const char *typ, const char *payload, size_t payload_len, ca_errbuf *eb)
{
    CA_ASSERT(jws != NULL && jws_len != NULL && s != NULL);
    CA_ASSERT(payload != NULL || payload_len == 0);
    ca_err result = CA_ERR_NOMEM;
    json_t *hdr = json_object();
    char *hdr_text = NULL, *out = NULL;
    uint8_t sig[CA_SIG_MAX];
    size_t sig_len = 0;
    *jws = NULL;
    *jws_len = 0;

    if (!hdr || json_object_set_new(hdr, "alg", json_string(ca_jws_alg_name(ca_signer_alg(s)))))
        goto out;
    if (kid && json_object_set_new(hdr, "kid", json_string(kid))) {
        result = ca_fail(eb, CA_ERR_INVALID, "the JWS kid is not valid UTF-8");
        goto out;
    }
    if (typ && json_object_set_new(hdr, "typ", json_string(typ))) {
        result = ca_fail(eb, CA_ERR_INVALID, "the JWS typ is not valid UTF-8");
        goto out;
    }
    hdr_text = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!hdr_text)
        goto out;
    size_t hdr_len = strlen(hdr_text);

    /* Every part must fit in CA_JWS_MAX so that what we sign we can parse back. */
    if (payload_len > CA_JWS_MAX || hdr_len > CA_JWS_MAX) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE, "the JWS would be longer than %u bytes",
                         CA_JWS_MAX);
        goto out;
    }
    size_t h64 = ca_base64url_encoded_len(hdr_len) - 1;
    size_t p64 = ca_base64url_encoded_len(payload_len) - 1;
    size_t s64max = ca_base64url_encoded_len(CA_SIG_MAX) - 1;
    if (h64 + 1 + p64 + 1 + s64max > CA_JWS_MAX) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE, "the JWS would be longer than %u bytes",
                         CA_JWS_MAX);
        goto out;
    }
    out = malloc(h64 + 1 + p64 + 1 + s64max + 1);
    if (!out)
        goto out;
    ca_base64url_encode(out, (const uint8_t *)hdr_text, hdr_len);
    out[h64] = '.';
    ca_base64url_encode(out + h64 + 1, (const uint8_t *)payload, payload_len);
    size_t input_len = h64 + 1 + p64;
    if ((result = ca_signer_sign(s, sig, &sig_len, out, input_len, eb)) != CA_OK)
        goto out;
    out[input_len] = '.';
    ca_base64url_encode(out + input_len + 1, sig, sig_len);
    *jws_len = input_len + 1 + (ca_base64url_encoded_len(sig_len) - 1);
    *jws = out;
    out = NULL;
    result = CA_OK;
out:
    if (result == CA_ERR_NOMEM)
        result = ca_fail(eb, CA_ERR_NOMEM, "out of memory building a JWS");
    free(out);
    free(hdr_text);
    json_decref(hdr);
    return result;
}

/* ---- parsing ---- */

/* Decodes one base64url part into a malloc'd buffer (*out, *out_len). */
static ca_err decode_part(uint8_t **out, size_t *out_len, const char *text, size_t len)
{
    size_t cap = len / 4 * 3 + 3;
    uint8_t *buf = malloc(cap);
    *out = NULL;
    if (!buf)
        return CA_ERR_NOMEM;
    ca_err rc = ca_base64url_decode(buf, &cap, text, len);
    if (rc != CA_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = cap;
    return CA_OK;
}

/* A JSON object from text, duplicate member names refused (RFC 7515 §5.2 step 4). jansson
 * also refuses invalid UTF-8, NUL in strings, and trailing bytes. */
static json_t *load_object(const uint8_t *text, size_t len, json_error_t *jerr)
{
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, jerr);
    if (j && !json_is_object(j)) {
        json_decref(j);
        snprintf(jerr->text, sizeof jerr->text, "not a JSON object");
        return NULL;
    }
    return j;
}

/* RFC 7515 §7.1: exactly three parts separated by two '.' (at *d1 and *d2), none empty.
 * NULL, or why the token is refused (*part names the part at fault). */
static const char *split_parts(const char **d1, const char **d2, const char **part,
                               const char *text, size_t len)
{
    *d1 = len ? memchr(text, '.', len) : NULL;
    *d2 = *d1 ? memchr(*d1 + 1, '.', len - (size_t)(*d1 + 1 - text)) : NULL;
    if (!*d1 || !*d2)
        return "it does not have three dot-separated parts";
    if (memchr(*d2 + 1, '.', len - (size_t)(*d2 + 1 - text)))
        return "it has more than three parts";
    size_t l1 = (size_t)(*d1 - text), l2 = (size_t)(*d2 - *d1 - 1);
    size_t l3 = len - (size_t)(*d2 + 1 - text);
    if (l1 == 0 || l2 == 0 || l3 == 0) {
        *part = l1 == 0 ? "header" : l2 == 0 ? "payload" : "signature";
        return "it is empty";
    }
    return NULL;
}

/* The members of the parsed header this implementation reads (alg, kid, typ) and refuses
 * (alg "none", crit) into jws; NULL, or why the header is refused. */
static const char *check_header(ca_jws *jws)
{
    const json_t *alg = json_object_get(jws->header, "alg");
    if (!json_is_string(alg))
        return "\"alg\" is missing or not a string";
    if (strcmp(json_string_value(alg), "none") == 0)
        return "\"alg\":\"none\" (an unsecured JWS) is not accepted";
    if (strlen(json_string_value(alg)) != json_string_length(alg) ||
        ca_jws_alg_parse(&jws->alg, json_string_value(alg)) != CA_OK)
        return "\"alg\" is not EdDSA, ES256K, ES256 or RS256";
    if (json_object_get(jws->header, "crit"))
        return "it has \"crit\" extensions, none of which are understood";
    const json_t *kid = json_object_get(jws->header, "kid");
    if (kid && !json_is_string(kid))
        return "\"kid\" is not a string";
    const json_t *typ = json_object_get(jws->header, "typ");
    if (typ && !json_is_string(typ))
        return "\"typ\" is not a string";
    jws->kid = kid ? json_string_value(kid) : NULL;
    return NULL;
}

ca_err ca_jws_parse(ca_jws *jws, const char *text, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(jws != NULL);
    CA_ASSERT(text != NULL || len == 0);
    ca_err result = CA_ERR_INVALID;
    const char *part = "token";
    const char *why = NULL;
    uint8_t *hdr = NULL, *pay = NULL;
    size_t hdr_len = 0, pay_len = 0;
    json_error_t jerr;
    memset(jws, 0, sizeof *jws);

    if (len > CA_JWS_MAX) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE, "JWS refused: longer than %u bytes", CA_JWS_MAX);
        goto out;
    }
    const char *d1, *d2;
    if ((why = split_parts(&d1, &d2, &part, text, len)))
        goto out;
    size_t l1 = (size_t)(d1 - text), l2 = (size_t)(d2 - d1 - 1);
    size_t l3 = len - (size_t)(d2 + 1 - text);

    /* Header. */
    part = "header";
    if ((result = decode_part(&hdr, &hdr_len, text, l1)) != CA_OK) {
        why = result == CA_ERR_NOMEM ? "out of memory" : "it is not unpadded base64url";
        goto out;
    }
    result = CA_ERR_INVALID;
    if (!(jws->header = load_object(hdr, hdr_len, &jerr))) {
        why = jerr.text;
        goto out;
    }
    if ((why = check_header(jws)))
        goto out;

    /* Payload. */
    part = "payload";
    if ((result = decode_part(&pay, &pay_len, d1 + 1, l2)) != CA_OK) {
        why = result == CA_ERR_NOMEM ? "out of memory" : "it is not unpadded base64url";
        goto out;
    }
    result = CA_ERR_INVALID;
    if (!(jws->payload = load_object(pay, pay_len, &jerr))) {
        why = jerr.text;
        goto out;
    }

    /* Signature. */
    part = "signature";
    jws->sig_len = sizeof jws->sig;
    result = ca_base64url_decode(jws->sig, &jws->sig_len, d2 + 1, l3);
    if (result != CA_OK) {
        result = CA_ERR_INVALID;
        why = "it is not unpadded base64url of at most 512 bytes";
        goto out;
    }
    jws->signing_input_len = (size_t)(d2 - text);
    result = CA_OK;
out:
    free(hdr);
    if (pay)
        ca_wipe(pay, pay_len); /* a credential may carry personal data */
    free(pay);
    if (result != CA_OK) {
        ca_jws_clear(jws);
        if (why)
            result = ca_fail(eb, result, "JWS %s refused: %s", part, why);
    }
    return result;
}

void ca_jws_clear(ca_jws *jws)
{
    if (!jws)
        return;
    json_decref(jws->header);
    json_decref(jws->payload);
    memset(jws, 0, sizeof *jws);
}

ca_err ca_jws_verify(const ca_jws *jws, const char *text, const ca_verify_key *k, ca_errbuf *eb)
{
    CA_ASSERT(jws != NULL && text != NULL && k != NULL);
    CA_ASSERT(jws->header != NULL);
    /* RFC 7515 §5.2 step 8: the signature is over the header and payload parts as received,
     * i.e. the first signing_input_len bytes of text. */
    return ca_verify_sig(k, jws->alg, jws->sig, jws->sig_len, text, jws->signing_input_len, eb);
}
