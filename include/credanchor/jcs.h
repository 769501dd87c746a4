/*
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON text that Data
 * Integrity credentials are hashed (SPEC: a credential's digest is SHA-256 over the JCS form of
 * the whole signed JSON) and eddsa-jcs-2022 signatures are made over. Conventions: common.h.
 *
 * The input is parsed strictly (RFC 8259 plus the I-JSON rules RFC 8785 §3.1 requires):
 * no trailing commas, leading zeros, NaN/Infinity, duplicate member names (compared after
 * unescaping), lone surrogates, invalid UTF-8, raw control characters in strings, nesting
 * deeper than CA_JCS_MAX_DEPTH, numbers that overflow an IEEE-754 double, or anything after
 * the value but whitespace. A violation is CA_ERR_INVALID with a sentence naming the byte
 * offset of the problem.
 *
 * The output has no whitespace, object members sorted by name as UTF-16 code units
 * (§3.2.3), strings with the minimal escaping of §3.2.2.2 and numbers written as ECMAScript's
 * Number.prototype.toString writes them (§3.2.2.3). It is not NUL-terminated in the
 * length, though a NUL follows the last byte for convenience.
 */
#ifndef CREDANCHOR_JCS_H
#define CREDANCHOR_JCS_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arrays and objects nested deeper than this are refused (the top-level value is depth 1). */
#define CA_JCS_MAX_DEPTH 64

/* Canonicalizes json_len bytes of JSON text.
 * Out:  *out      a malloc'd buffer the caller frees, holding *out_len bytes plus a NUL;
 *                 NULL on failure.
 *       *out_len  the canonical length (0 on failure).
 * In:   json      the text (need not be NUL-terminated; may hold NULs, which are refused).
 *       max_out   the largest canonical form accepted: CA_ERR_TOO_LARGE beyond it.
 * Returns CA_OK, CA_ERR_INVALID (bad JSON), CA_ERR_TOO_LARGE or CA_ERR_NOMEM. */
ca_err ca_jcs_canonicalize(char **out, size_t *out_len, const char *json, size_t json_len,
                           size_t max_out, ca_errbuf *eb);

/* SHA-256 of the canonical form of len bytes of JSON text, with no cap on the canonical size
 * beyond what the input implies (the canonical form of a valid text is never more than six
 * times its length). Errors as ca_jcs_canonicalize. */
ca_err ca_jcs_digest(ca_hash *out, const char *json, size_t len, ca_errbuf *eb);

/* JCS canonical bytes of a jansson value (jansson's compact dump, reparsed and canonicalized
 * here: never hashed as jansson prints it, since it writes reals with %.17g). Malloc'd,
 * NUL-terminated; the caller frees. Used for the SPEC §1 digest of a Data Integrity
 * credential, its proof, and status list versions. */
struct json_t;
ca_err ca_jcs_of_json(char **out, size_t *out_len, const struct json_t *value, ca_errbuf *eb);

/* Writes the ECMAScript Number::toString form of a finite double (RFC 8785 §3.2.2.3) into
 * buf, NUL-terminated, and returns its length. -0 gives "0". buf must hold
 * CA_JCS_NUMBER_MAX bytes. Caller bug (abort) for NaN or an infinity. */
#define CA_JCS_NUMBER_MAX 32
size_t ca_jcs_format_number(char buf[CA_JCS_NUMBER_MAX], double value);

#ifdef __cplusplus
}
#endif
#endif
