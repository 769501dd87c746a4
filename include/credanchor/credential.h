/*
 * Open Badges 3.0 / VC Data Model 2.0 credential shapes (SPEC §5): checking an unsigned
 * OpenBadgeCredential, the members the node fills in, the VC-JWT claims, the hashed recipient
 * identity, issue numbers, credential ids and the dateTime form. No I/O and no state: the
 * issuance engine (node/issuer.c) and the verifier (credential/verify.c) share these.
 * Conventions: common.h; JSON values are jansson's.
 */
#ifndef CREDANCHOR_CREDENTIAL_H
#define CREDANCHOR_CREDENTIAL_H

#include "credanchor/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_VC_CONTEXT_V2 "https://www.w3.org/ns/credentials/v2"
#define CA_OB_CONTEXT_V3 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#define CA_CREDENTIAL_ID_MAX 48   /* "urn:uuid:" + 36 + NUL */
#define CA_ISSUE_NUMBER_MAX 40    /* PREFIX(<=16) "-" YYYYMM "-" NNNN.. + NUL */
#define CA_DATETIME_MAX 32

typedef enum ca_credential_format {
    CA_FORMAT_VC_JWT = 1,      /* "vc+jwt" */
    CA_FORMAT_DI_EDDSA_JCS = 2 /* "eddsa-jcs-2022" */
} ca_credential_format;

const char *ca_credential_format_name(ca_credential_format f);
ca_err ca_credential_format_parse(ca_credential_format *f, const char *name);

/* Checks the OB 3.0 members a request must carry (the node fills id, issuer, validFrom and
 * credentialStatus, so those may be absent): @context starting with the VC 2.0 context and
 * holding the OB 3.0 one; type holding "VerifiableCredential" and "OpenBadgeCredential" (or
 * "AchievementCredential"); name; credentialSubject an object with type "AchievementSubject",
 * an "id" or an "identifier", and an achievement with id, type "Achievement", name,
 * description and criteria (id or narrative). A present issuer must be a Profile whose id is
 * expected_issuer (the node signs only as itself); a present credentialStatus is refused
 * (the node assigns it); validFrom/validUntil/awardedDate, when present, must be dateTimes.
 * CA_ERR_INVALID with eb naming the member path ("credentialSubject.achievement.criteria: ..."). */
ca_err ca_ob3_check(const json_t *cred, const char *expected_issuer, ca_errbuf *eb);

/* The unix time of an XML Schema dateTime with a zone ("2026-06-01T09:00:00Z", fractions and
 * "+02:00" accepted). CA_ERR_INVALID otherwise. */
ca_err ca_datetime_parse(int64_t *t, const char *text);
/* A query bound: a date "YYYY-MM-DD" (UTC; its first second, or its last when end_of_day) or
 * a dateTime as ca_datetime_parse takes it. CA_ERR_INVALID otherwise. */
ca_err ca_date_bound_parse(int64_t *t, const char *text, bool end_of_day);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void ca_datetime_format(char out[CA_DATETIME_MAX], int64_t t);
/* A completion date as participant lists and requests give it (issue #12 item 8): a date
 * "YYYY-MM-DD" (midnight UTC) or a dateTime with a zone, after 1970. CA_ERR_INVALID
 * otherwise. */
ca_err ca_completion_date_parse(int64_t *t, const char *text);

/* True when type names an Open Badges 3.0 credential: "OpenBadgeCredential" or its alias
 * "AchievementCredential" (OB 3.0 §8.1). Such a credential carries exactly one
 * credentialStatus object (OB 3.0 B.1.2, SPEC §5), so never the suspension entry. */
bool ca_credential_is_open_badge(const json_t *cred);

/* A new credential id: a version 7 UUID (RFC 9562 §5.7: Unix milliseconds, a 12-bit counter
 * in rand_a (§6.2 method 1), then 62 random bits from the CSPRNG in rand_b) as
 * "urn:uuid:xxxxxxxx-...". uuid gets the 16 bytes. Within a process ids only increase, so
 * credentials issued in number order sort in that order (the reports walk them by id). */
ca_err ca_credential_new_id(char out[CA_CREDENTIAL_ID_MAX], uint8_t uuid[16]);
/* The 16 bytes of a "urn:uuid:" id (lowercase or uppercase hex). CA_ERR_INVALID otherwise. */
ca_err ca_credential_id_parse(uint8_t uuid[16], const char *text);
void ca_credential_id_format(char out[CA_CREDENTIAL_ID_MAX], const uint8_t uuid[16]);

/* "<PREFIX>-<YYYYMM>-<NNNN>" (SPEC §5): seq zero-padded to at least four digits. */
void ca_issue_number_format(char out[CA_ISSUE_NUMBER_MAX], const char *prefix, int64_t when,
                            uint64_t seq);
/* True when text has that shape (a prefix of 1-16 [A-Za-z0-9_], six digits for a valid
 * year and month, four or more digits). */
bool ca_issue_number_syntax_ok(const char *text);

/* The OB 3.0 IdentityObject for a hashed email (OB 3.0 §B.1.x IdentityObject):
 * {"type":"IdentityObject","identityHash":"sha256$<hex of SHA-256(email || salt)>",
 *  "identityType":"emailAddress","hashed":true,"salt":salt}. The email is trimmed and
 * lowercased first. NULL on OOM. */
json_t *ca_identity_object(const char *email, const char *salt);

/* The VC-JWT payload (SPEC §5, OB 3.0 §8.2): the credential's members in order, then
 * "iss" (issuer id), "jti" (id), "nbf" (validFrom), "sub" (credentialSubject.id) and "exp"
 * (validUntil), each where it applies. Compact JSON text, malloc'd. */
ca_err ca_vcjwt_payload(char **out, size_t *len, const json_t *cred, ca_errbuf *eb);

/* The issuer id of a credential: "issuer" as a string or its "id". NULL if neither. */
const char *ca_credential_issuer_id(const json_t *cred);

#ifdef __cplusplus
}
#endif
#endif
