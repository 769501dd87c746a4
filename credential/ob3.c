/* credential/ob3.c — Open Badges 3.0 / VC Data Model 2.0 credential shapes (SPEC §5,
 * include/credanchor/credential.h). */
#include "credanchor/credential.h"

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *ca_credential_format_name(ca_credential_format f)
{
    switch (f) {
    case CA_FORMAT_VC_JWT:
        return "vc+jwt";
    case CA_FORMAT_DI_EDDSA_JCS:
        return "eddsa-jcs-2022";
    }
    return NULL;
}

ca_err ca_credential_format_parse(ca_credential_format *f, const char *name)
{
    if (name && strcmp(name, "vc+jwt") == 0)
        *f = CA_FORMAT_VC_JWT;
    else if (name && strcmp(name, "eddsa-jcs-2022") == 0)
        *f = CA_FORMAT_DI_EDDSA_JCS;
    else
        return CA_ERR_INVALID;
    return CA_OK;
}

/* ---- dateTime (XML Schema, as VC DM 2.0 §4.9 uses it) ------------------------------------ */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

ca_err ca_date_bound_parse(int64_t *t, const char *text, bool end_of_day)
{
    char full[64];
    size_t n = text ? strlen(text) : 0;
    if (n == 10) /* a date: from its start, to its end */
        snprintf(full, sizeof full, "%sT%s", text, end_of_day ? "23:59:59Z" : "00:00:00Z");
    else if (n < sizeof full)
        snprintf(full, sizeof full, "%s", text ? text : "");
    else
        return CA_ERR_INVALID;
    return ca_datetime_parse(t, full);
}

ca_err ca_datetime_parse(int64_t *t, const char *text)
{
    /* XML Schema 1.1 dateTimeStamp, as VC DM 2.0 §4.9 and Data Integrity §2.1 use it:
     * YYYY-MM-DDThh:mm:ss[.s+](Z|(+|-)hh:mm), a four-digit year, the zone required, 24:00:00
     * as the end of a day, fractions dropped (whole seconds suffice here). */
    int year, mon, day, hour, min, sec;
    const char *p = text;
    if (!text || strlen(text) < 20 || !digits(p, 4, &year) || p[4] != '-' ||
        !digits(p + 5, 2, &mon) || p[7] != '-' || !digits(p + 8, 2, &day) || p[10] != 'T' ||
        !digits(p + 11, 2, &hour) || p[13] != ':' || !digits(p + 14, 2, &min) ||
        p[16] != ':' || !digits(p + 17, 2, &sec))
        return CA_ERR_INVALID;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
        (mon == 2 && day == 29 && !leap) || hour > 24 || min > 59 || sec > 59)
        return CA_ERR_INVALID;
    p += 19;
    bool frac_nonzero = false;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return CA_ERR_INVALID;
        for (; isdigit((unsigned char)*p); p++)
            frac_nonzero |= *p != '0';
    }
    if (hour == 24 && (min || sec || frac_nonzero))
        return CA_ERR_INVALID;
    int64_t offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || om > 59 ||
            oh > 14 || (oh == 14 && om))
            return CA_ERR_INVALID;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return CA_ERR_INVALID; /* a time without a zone is ambiguous: refused */
    }
    if (*p)
        return CA_ERR_INVALID;
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                    .tm_hour = hour, .tm_min = min, .tm_sec = sec};
    *t = (int64_t)timegm(&tm) - offset; /* timegm normalises 24:00:00 to the next day */
    return CA_OK;
}

ca_err ca_completion_date_parse(int64_t *t, const char *text)
{
    char full[40];
    if (text && strlen(text) == 10) { /* a date: midnight UTC */
        snprintf(full, sizeof full, "%sT00:00:00Z", text);
        text = full;
    }
    int64_t v;
    if (ca_datetime_parse(&v, text) || v <= 0)
        return CA_ERR_INVALID;
    *t = v;
    return CA_OK;
}

void ca_datetime_format(char out[CA_DATETIME_MAX], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, CA_DATETIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- ids and issue numbers ----------------------------------------------------------------- */

void ca_credential_id_format(char out[CA_CREDENTIAL_ID_MAX], const uint8_t u[16])
{
    char hex[33];
    ca_hex_encode(hex, u, 16);
    snprintf(out, CA_CREDENTIAL_ID_MAX, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

/* The last id's time and counter (ca_credential_new_id). */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t id_last_ms;
static uint16_t id_last_counter;

ca_err ca_credential_new_id(char out[CA_CREDENTIAL_ID_MAX], uint8_t uuid[16])
{
    /* RFC 9562 §5.7 version 7: 48 bits of Unix milliseconds, 12 bits rand_a, then 62 random
     * bits. Still unguessable (SPEC §5: rand_b alone is 62 CSPRNG bits), and ids issued
     * together sort together, so the stores keyed by id append instead of dirtying a random
     * page per credential. rand_a is a counter (§6.2 method 1, "fixed bit-length dedicated
     * counter"): seeded at random below 2^11 in each new millisecond and incremented within
     * one, with the previous time reused if the clock steps back (§6.2) and the time moved on
     * by one when the counter runs out, so ids never decrease within a process and the
     * reports' walk in id order is issue order (issue #13 item 6). */
    ca_err err = ca_random_bytes(uuid + 6, 10);
    if (err)
        return err;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint16_t counter = (uint16_t)(((uuid[6] << 8) | uuid[7]) & 0x07ff);
    pthread_mutex_lock(&id_lock);
    if (ms <= id_last_ms) {
        ms = id_last_ms;
        counter = (uint16_t)(id_last_counter + 1);
        if (counter > 0x0fff) {
            ms++;
            counter = (uint16_t)(((uuid[6] << 8) | uuid[7]) & 0x07ff); /* fresh seed */
        }
    }
    id_last_ms = ms;
    id_last_counter = counter;
    pthread_mutex_unlock(&id_lock);
    for (int i = 0; i < 6; i++)
        uuid[i] = (uint8_t)(ms >> (40 - 8 * i));
    uuid[6] = (uint8_t)(0x70 | (counter >> 8)); /* version 7, counter bits 11..8 */
    uuid[7] = (uint8_t)(counter & 0xff);
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* variant 10 */
    ca_credential_id_format(out, uuid);
    return CA_OK;
}

ca_err ca_credential_id_parse(uint8_t uuid[16], const char *text)
{
    static const char prefix[] = "urn:uuid:";
    if (!text || strncasecmp(text, prefix, sizeof prefix - 1) != 0 ||
        strlen(text) != sizeof prefix - 1 + 36)
        return CA_ERR_INVALID;
    const char *p = text + sizeof prefix - 1;
    char hex[33];
    size_t n = 0;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (p[i] == '-'))
            return CA_ERR_INVALID;
        if (!dash)
            hex[n++] = (char)tolower((unsigned char)p[i]);
    }
    return ca_hex_decode(uuid, 16, hex, 32);
}

void ca_issue_number_format(char out[CA_ISSUE_NUMBER_MAX], const char *prefix, int64_t when,
                            uint64_t seq)
{
    time_t tt = (time_t)when;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, CA_ISSUE_NUMBER_MAX, "%s-%04d%02d-%04llu", prefix, tm.tm_year + 1900,
             tm.tm_mon + 1, (unsigned long long)seq);
}

bool ca_issue_number_syntax_ok(const char *text)
{
    const char *dash = text ? strchr(text, '-') : NULL;
    size_t plen = dash ? (size_t)(dash - text) : 0;
    if (plen < 1 || plen > 16)
        return false;
    for (size_t i = 0; i < plen; i++)
        if (!isalnum((unsigned char)text[i]) && text[i] != '_')
            return false;
    int year, mon, seq_digits = 0;
    const char *p = dash + 1;
    if (!digits(p, 4, &year) || !digits(p + 4, 2, &mon) || mon < 1 || mon > 12 || p[6] != '-')
        return false;
    for (p += 7; *p; p++, seq_digits++)
        if (!isdigit((unsigned char)*p) || seq_digits >= 12)
            return false;
    return seq_digits >= 4;
}

/* ---- the OB 3.0 request check --------------------------------------------------------------- */

static bool has_type(const json_t *type, const char *name)
{
    if (json_is_string(type))
        return strcmp(json_string_value(type), name) == 0;
    size_t i;
    const json_t *v;
    json_array_foreach(type, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    return false;
}

static bool nonempty_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

/* A name/description: a non-empty string (OB 3.0 allows a language map too). */
static bool text_value(const json_t *v)
{
    return nonempty_string(v) || (json_is_object(v) && json_object_size(v) > 0);
}

static ca_err check_datetime(const json_t *cred, const char *member, ca_errbuf *eb)
{
    const json_t *v = json_object_get(cred, member);
    int64_t t;
    if (v && (!json_is_string(v) || ca_datetime_parse(&t, json_string_value(v))))
        return ca_fail(eb, CA_ERR_INVALID, "%s: must be a dateTime with a time zone, e.g. "
                       "2026-06-01T09:00:00Z", member);
    return CA_OK;
}

bool ca_credential_is_open_badge(const json_t *cred)
{
    const json_t *type = json_object_get(cred, "type");
    return has_type(type, "OpenBadgeCredential") || has_type(type, "AchievementCredential");
}

ca_err ca_ob3_check(const json_t *cred, const char *expected_issuer, ca_errbuf *eb)
{
    if (!json_is_object(cred))
        return ca_fail(eb, CA_ERR_INVALID, "credential: must be a JSON object");
    /* VC DM 2.0 §4.3: the first context is the VC 2.0 one; OB 3.0 §8.1 adds its own. */
    const json_t *ctx = json_object_get(cred, "@context");
    if (!json_is_array(ctx) || json_array_size(ctx) < 2 ||
        !json_is_string(json_array_get(ctx, 0)) ||
        strcmp(json_string_value(json_array_get(ctx, 0)), CA_VC_CONTEXT_V2) != 0)
        return ca_fail(eb, CA_ERR_INVALID, "@context: must be an array starting with \"%s\"",
                       CA_VC_CONTEXT_V2);
    bool ob = false;
    size_t i;
    const json_t *v;
    json_array_foreach(ctx, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, "https://purl.imsglobal.org/spec/ob/v3p0/context", 47) == 0)
            ob = true;
        else if (!s && !json_is_object(v))
            return ca_fail(eb, CA_ERR_INVALID, "@context[%zu]: must be a URL or an object", i);
    }
    if (!ob)
        return ca_fail(eb, CA_ERR_INVALID, "@context: must hold the Open Badges 3.0 context "
                       "\"%s\"", CA_OB_CONTEXT_V3);
    const json_t *type = json_object_get(cred, "type");
    if (!has_type(type, "VerifiableCredential") ||
        !(has_type(type, "OpenBadgeCredential") || has_type(type, "AchievementCredential")))
        return ca_fail(eb, CA_ERR_INVALID, "type: must hold \"VerifiableCredential\" and "
                       "\"OpenBadgeCredential\"");
    if (!text_value(json_object_get(cred, "name")))
        return ca_fail(eb, CA_ERR_INVALID, "name: required (OB 3.0 AchievementCredential)");
    const json_t *id = json_object_get(cred, "id");
    if (id && !nonempty_string(id))
        return ca_fail(eb, CA_ERR_INVALID, "id: must be a URI string (or absent: the node "
                       "assigns a urn:uuid)");
    if (id)
        return ca_fail(eb, CA_ERR_INVALID, "id: the node assigns the credential id; leave it "
                       "out");
    const json_t *issuer = json_object_get(cred, "issuer");
    if (issuer) {
        /* An object without an id is a template's profile (name, image, url): the node
         * fills in its own DID and the Profile type. */
        bool node_fills = json_is_object(issuer) && !json_object_get(issuer, "id");
        const char *iid = ca_credential_issuer_id(cred);
        if (!iid && !node_fills)
            return ca_fail(eb, CA_ERR_INVALID, "issuer: must be a Profile object (its id "
                           "may be left out: the node fills it)");
        const json_t *itype = json_object_get(issuer, "type");
        if (json_is_object(issuer) && (itype || !node_fills) && !has_type(itype, "Profile"))
            return ca_fail(eb, CA_ERR_INVALID, "issuer.type: must hold \"Profile\"");
        if (iid && expected_issuer && strcmp(iid, expected_issuer) != 0)
            return ca_fail(eb, CA_ERR_INVALID, "issuer.id: this node signs only as %s",
                           expected_issuer);
    }
    if (json_object_get(cred, "credentialStatus"))
        return ca_fail(eb, CA_ERR_INVALID, "credentialStatus: assigned by the node; leave it "
                       "out");
    if (json_object_get(cred, "proof"))
        return ca_fail(eb, CA_ERR_INVALID, "proof: the credential must be unsigned");
    ca_err err;
    if ((err = check_datetime(cred, "validFrom", eb)) ||
        (err = check_datetime(cred, "validUntil", eb)) ||
        (err = check_datetime(cred, "awardedDate", eb)))
        return err;
    const json_t *subject = json_object_get(cred, "credentialSubject");
    if (!json_is_object(subject))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject: required, an "
                       "AchievementSubject object");
    if (!has_type(json_object_get(subject, "type"), "AchievementSubject"))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.type: must hold "
                       "\"AchievementSubject\"");
    const json_t *sid = json_object_get(subject, "id");
    const json_t *ident = json_object_get(subject, "identifier");
    if (sid && !nonempty_string(sid))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.id: must be a URI string");
    if (!sid && !(json_is_array(ident) && json_array_size(ident) > 0))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject: needs an id or an identifier "
                       "(IdentityObject) array");
    const json_t *ach = json_object_get(subject, "achievement");
    if (!json_is_object(ach))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement: required, an "
                       "Achievement object");
    if (!nonempty_string(json_object_get(ach, "id")))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement.id: required");
    if (!has_type(json_object_get(ach, "type"), "Achievement"))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement.type: must hold "
                       "\"Achievement\"");
    if (!text_value(json_object_get(ach, "name")))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement.name: required");
    if (!text_value(json_object_get(ach, "description")))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement.description: "
                       "required");
    const json_t *crit = json_object_get(ach, "criteria");
    if (!json_is_object(crit) || !(nonempty_string(json_object_get(crit, "id")) ||
                                   text_value(json_object_get(crit, "narrative"))))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject.achievement.criteria: required, "
                       "with an id or a narrative");
    return CA_OK;
}

const char *ca_credential_issuer_id(const json_t *cred)
{
    const json_t *issuer = json_object_get(cred, "issuer");
    if (json_is_string(issuer))
        return json_string_value(issuer);
    return ca_json_str(issuer, "id");
}

/* ---- hashed recipient identity ---------------------------------------------------------------- */

json_t *ca_identity_object(const char *email, const char *salt)
{
    /* OB 3.0 IdentityObject: identityHash = "sha256$" + hex(SHA-256(identity || salt)). The
     * address is normalised (trimmed, lowercased) so one person hashes one way. */
    size_t a = 0, b = strlen(email);
    while (a < b && isspace((unsigned char)email[a]))
        a++;
    while (b > a && isspace((unsigned char)email[b - 1]))
        b--;
    size_t slen = strlen(salt);
    char *buf = malloc(b - a + slen + 1);
    if (!buf)
        return NULL;
    for (size_t i = a; i < b; i++)
        buf[i - a] = (char)tolower((unsigned char)email[i]);
    memcpy(buf + (b - a), salt, slen);
    ca_hash h;
    ca_sha256(&h, buf, b - a + slen);
    ca_wipe(buf, b - a + slen);
    free(buf);
    char hash[7 + 2 * CA_HASH_SIZE + 1] = "sha256$";
    ca_hex_encode(hash + 7, h.b, CA_HASH_SIZE);
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "type", "IdentityObject", "identityHash",
                     hash, "identityType", "emailAddress", "hashed", 1, "salt", salt);
}

/* ---- VC-JWT payload ------------------------------------------------------------------------- */

ca_err ca_vcjwt_payload(char **out, size_t *len, const json_t *cred, ca_errbuf *eb)
{
    *out = NULL;
    /* A shallow copy: only top-level claims are added, the members are shared. */
    json_t *p = json_copy((json_t *)cred);
    if (!p)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = CA_OK;
    int64_t t = 0;
    const char *iss = ca_credential_issuer_id(cred);
    const json_t *id = json_object_get(cred, "id");
    const json_t *from = json_object_get(cred, "validFrom");
    const json_t *until = json_object_get(cred, "validUntil");
    const json_t *sub = json_object_get(json_object_get(cred, "credentialSubject"), "id");
    /* OB 3.0 §8.2.4.2 / SPEC §5: the claims mirror the credential's members, no "vc"
     * wrapper, in the order iss, jti, nbf, sub, exp. */
    bool has_from = from && !ca_datetime_parse(&t, json_string_value(from));
    int64_t nbf = t;
    bool has_until = until && !ca_datetime_parse(&t, json_string_value(until));
    if ((iss && json_object_set_new(p, "iss", json_string(iss))) ||
        (json_is_string(id) && json_object_set(p, "jti", (json_t *)id)) ||
        (has_from && json_object_set_new(p, "nbf", json_integer(nbf))) ||
        (json_is_string(sub) && json_object_set(p, "sub", (json_t *)sub)) ||
        (has_until && json_object_set_new(p, "exp", json_integer(t)))) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    *out = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!*out) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    *len = strlen(*out);
out:
    json_decref(p);
    return err;
}
