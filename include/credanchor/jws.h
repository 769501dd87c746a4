/*
 * Compact JWS (RFC 7515 §7.1) for VC-JWT credentials (SPEC §5, Open Badges 3.0 §8.2): the
 * protected header is {"alg","kid","typ"} and nothing else; the payload is the JSON credential
 * with its JWT claims. Conventions: common.h.
 */
#ifndef CREDANCHOR_JWS_H
#define CREDANCHOR_JWS_H

#include "credanchor/common.h"
#include "credanchor/signer.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_JWS_MAX (1u << 20) /* the longest compact JWS parsed */

/* Signs payload (payload_len bytes of JSON text, taken as is) into a malloc'd NUL-terminated
 * compact JWS "<b64url header>.<b64url payload>.<b64url sig>". The header is, in this order,
 * {"alg":<alg of s>,"kid":kid,"typ":typ} (kid/typ omitted when NULL). */
ca_err ca_jws_sign(char **jws, size_t *jws_len, const ca_signer *s, const char *kid,
                   const char *typ, const char *payload, size_t payload_len, ca_errbuf *eb);

/* A parsed compact JWS. header and payload are parsed JSON (duplicate member names refused;
 * payload must be an object). */
typedef struct ca_jws {
    json_t *header;
    json_t *payload;
    ca_jws_alg alg;         /* from header "alg"; "none" and unknown algs are refused */
    const char *kid;        /* header "kid" or NULL; valid while header lives */
    size_t signing_input_len; /* bytes of the text before the second '.' */
    uint8_t sig[CA_SIG_MAX];
    size_t sig_len;
} ca_jws;

/* Parses text (len bytes; must stay alive for ca_jws_verify's msg). Strict: exactly three
 * non-empty parts of base64url without padding, no whitespace, header an object with a
 * known "alg" and no "crit", at most CA_JWS_MAX bytes. CA_ERR_INVALID naming the part. */
ca_err ca_jws_parse(ca_jws *jws, const char *text, size_t len, ca_errbuf *eb);
void ca_jws_clear(ca_jws *jws);

/* Verifies the parsed jws over its signing input (text as given to ca_jws_parse) with k.
 * CA_ERR_VERIFY for a bad signature or an alg that is not k's. */
ca_err ca_jws_verify(const ca_jws *jws, const char *text, const ca_verify_key *k,
                     ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
