/* credential/verify.c — verifying one presented credential the way a third party does
 * (SPEC §5 "Verification takes a third party's path"; verify.h states the contract).
 *
 * Everything comes from the presented bytes and the injected lookups of ca_verify_env:
 *   signature  VC DM 2.0 §4.7 (issuer) and §4.8 (validity period); the issuer's DID document
 *              (DID Core §5.2 verificationMethod, §5.3.2 assertionMethod); VC-JOSE-COSE §3.1.1
 *              / OB 3.0 §8.2.4 for VC-JWT (RFC 7515 compact JWS, RFC 7519 claims); Data
 *              Integrity EdDSA Cryptosuites v1.0 §3.3 for eddsa-jcs-2022.
 *   status     Bitstring Status List v1.0 §3.2 (validate algorithm) over every
 *              BitstringStatusListEntry (§2.1); lists are fetched by URL, never from local state.
 *   inclusion  SPEC §1 digest, SPEC §3 proof, RFC 9162 §2.1.3.2 and C2SP signed-note (through
 *              ca_proof_check), with every key the log ever used (key rotation).
 *   anchor     SPEC §2 / §3 anchor record checked on chain through env->check_anchor, with the
 *              sender the issuer's DID document lists (SPEC §4 "anchors can be tied to the
 *              issuer").
 * Style: common.h (ca_err, ca_fail, goto-out cleanup). Nothing here touches the network itself.
 */
#include "credanchor/verify.h"

#include "credanchor/credential.h"

#include "credanchor/crypto.h"
#include "credanchor/data_integrity.h"
#include "credanchor/did.h"
#include "credanchor/encoding.h"
#include "credanchor/jcs.h"
#include "credanchor/jws.h"
#include "credanchor/multibase.h"
#include "credanchor/proof.h"
#include "credanchor/signer.h"
#include "credanchor/status_list.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOC_CACHE_MAX 16      /* distinct DIDs resolved in one verification */
#define LIST_CACHE_MAX 16     /* distinct status list URLs fetched in one verification */
#define STATUS_ENTRIES_MAX 16 /* credentialStatus entries examined */
#define URL_MAX 2048

/* ---- small helpers ----------------------------------------------------------------------- */

const char *ca_check_result_name(ca_check_result r)
{
    switch (r) {
    case CA_CHECK_PASS:
        return "pass";
    case CA_CHECK_FAIL:
        return "fail";
    case CA_CHECK_PENDING:
        return "pending";
    }
    return "fail";
}

static void set_check(ca_check *c, ca_check_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_check(ca_check *c, ca_check_result r, const char *fmt, ...)
{
    va_list ap;
    c->result = r;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

/* Appends "; <text>" (or just <text> into an empty buffer), truncating at cap. */
static void add_detail(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_detail(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 3 >= cap)
        return;
    if (used) {
        memcpy(buf + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static bool is_ascii_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* A JSON "type" member (a string or an array of strings) names t. */
static bool has_type(const json_t *o, const char *t)
{
    const json_t *ty = json_object_get(o, "type");
    if (json_is_string(ty))
        return strcmp(json_string_value(ty), t) == 0;
    for (size_t i = 0; json_is_array(ty) && i < json_array_size(ty); i++) {
        const char *s = json_string_value(json_array_get(ty, i));
        if (s && strcmp(s, t) == 0)
            return true;
    }
    return false;
}

/* VC DM 2.0 §4.7: "issuer" is a URL or an object with an "id" URL. NULL when neither. */
static const char *issuer_id(const json_t *cred)
{
    const json_t *iss = json_object_get(cred, "issuer");
    if (json_is_object(iss))
        iss = json_object_get(iss, "id");
    const char *s = json_string_value(iss);
    if (!s || !*s || strlen(s) != json_string_length(iss))
        return NULL;
    return s;
}

/* A JSON string member that is a dateTimeStamp. *present false when absent. */
static ca_err get_date(int64_t *t, bool *present, const char **text, const json_t *o,
                       const char *name, ca_errbuf *eb)
{
    const json_t *v = json_object_get(o, name);
    *present = v != NULL;
    *text = NULL;
    if (!v)
        return CA_OK;
    *text = json_string_value(v);
    if (!*text || ca_datetime_parse(t, *text) != CA_OK)
        return ca_fail(eb, CA_ERR_INVALID, "\"%s\" is not an XML Schema dateTimeStamp", name);
    return CA_OK;
}

/* Bitstring Status List v1.0 §2.1: statusListIndex is a base-10 string, here without sign or
 * leading zeros. */
static bool parse_index(uint64_t *out, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n == 0 || n > 19 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *out = x;
    return true;
}

static bool is_url(const char *s, size_t n)
{
    if (!s || n >= URL_MAX || strlen(s) != n)
        return false;
    size_t p;
    if (strncmp(s, "https://", 8) == 0)
        p = 8;
    else if (strncmp(s, "http://", 7) == 0)
        p = 7;
    else
        return false;
    if (p == n || s[p] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

/* ---- the verification context: per-call caches --------------------------------------------- */

typedef struct doc_slot {
    char *did;
    json_t *doc;
    ca_err err;
    char msg[sizeof(((ca_errbuf *)0)->msg)];
} doc_slot;

typedef struct list_slot {
    char *url;
    ca_err err;             /* fetching, parsing or verifying the list failed */
    char msg[CA_VERIFY_DETAIL_MAX];
    json_t *list;           /* the verified list credential */
    uint8_t *bits;
    size_t nbytes;
    char note[CA_VERIFY_DETAIL_MAX]; /* e.g. the did:key issuer exception */
} list_slot;

typedef struct vctx {
    const ca_verify_env *env;
    const char *issuer;     /* the credential's issuer id (NULL when it has none) */
    doc_slot docs[DOC_CACHE_MAX];
    size_t ndocs;
    list_slot lists[LIST_CACHE_MAX];
    size_t nlists;
} vctx;

static void vctx_free(vctx *c)
{
    for (size_t i = 0; i < c->ndocs; i++) {
        free(c->docs[i].did);
        json_decref(c->docs[i].doc);
    }
    for (size_t i = 0; i < c->nlists; i++) {
        free(c->lists[i].url);
        json_decref(c->lists[i].list);
        free(c->lists[i].bits);
    }
}

/* The DID document of did (borrowed from the cache), resolved once per call. */
static ca_err resolve(vctx *c, const json_t **doc, const char *did, ca_errbuf *eb)
{
    *doc = NULL;
    for (size_t i = 0; i < c->ndocs; i++)
        if (strcmp(c->docs[i].did, did) == 0) {
            if (c->docs[i].err)
                return ca_fail(eb, c->docs[i].err, "%s", c->docs[i].msg);
            *doc = c->docs[i].doc;
            return CA_OK;
        }
    if (c->ndocs == DOC_CACHE_MAX)
        return ca_fail(eb, CA_ERR_RANGE, "more than %d DIDs to resolve", DOC_CACHE_MAX);
    if (!c->env->resolve_did)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no DID resolver to resolve %.200s", did);
    doc_slot *s = &c->docs[c->ndocs];
    memset(s, 0, sizeof *s);
    s->did = strdup(did);
    if (!s->did)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    c->ndocs++;
    ca_errbuf e = {{0}};
    json_t *d = NULL;
    ca_err err = c->env->resolve_did(c->env->ctx, did, &d, &e);
    if (err == CA_OK && !json_is_object(d)) {
        err = ca_fail(&e, CA_ERR_INVALID, "the DID document is not a JSON object");
        json_decref(d);
        d = NULL;
    } else if (err != CA_OK) {
        json_decref(d);
        d = NULL;
    }
    if (err == CA_OK) {
        /* DID Core §5.1.1: the document's id is the DID it was resolved for. */
        const json_t *id = json_object_get(d, "id");
        if (id && (!json_is_string(id) || strcmp(json_string_value(id), did) != 0)) {
            err = ca_fail(&e, CA_ERR_INVALID, "the DID document's id is not %.200s", did);
            json_decref(d);
            d = NULL;
        }
    }
    s->doc = d;
    s->err = err;
    if (err)
        snprintf(s->msg, sizeof s->msg, "cannot resolve %.200s: %s", did, ca_errmsg(&e, err));
    if (err)
        return ca_fail(eb, err, "%s", s->msg);
    *doc = d;
    return CA_OK;
}

/* ---- verification methods (DID Core §5.2, §5.3.2) ------------------------------------------ */

typedef struct vm_key {
    ca_verify_key *k;
    ca_jws_alg alg;
    bool has_ed25519;
    uint8_t ed25519[CA_ED25519_PUB_SIZE]; /* the raw key when alg is EdDSA */
} vm_key;

static void vm_key_clear(vm_key *v)
{
    ca_verify_key_free(v->k);
    memset(v, 0, sizeof *v);
}

/* An id in a DID document names vm_id: absolute, or relative "#frag" against the DID. */
static bool id_names(const json_t *id, const char *vm_id, const char *frag)
{
    const char *s = json_string_value(id);
    return s && (strcmp(s, vm_id) == 0 || strcmp(s, frag) == 0);
}

/* Multikey (Controlled Identifiers v1.0 §2.2.2): 'z' base58btc of varint(multicodec) || key. */
static ca_err multikey_decode(vm_key *out, const char *text, size_t len, ca_errbuf *eb)
{
    uint8_t buf[128];
    size_t blen = sizeof buf;
    ca_errbuf e = {{0}};
    ca_err err = ca_multibase_decode(buf, &blen, text, len, &e);
    if (err)
        return ca_fail(eb, CA_ERR_INVALID, "publicKeyMultibase: %s", ca_errmsg(&e, err));
    uint64_t codec;
    size_t used;
    if ((err = ca_varint_decode(&codec, &used, buf, blen, &e)))
        return ca_fail(eb, CA_ERR_INVALID, "publicKeyMultibase: %s", ca_errmsg(&e, err));
    const uint8_t *key = buf + used;
    size_t klen = blen - used;
    ca_jws_alg alg;
    if (codec == 0xed && klen == 32)
        alg = CA_ALG_EDDSA;
    else if (codec == 0xe7 && klen == 33)
        alg = CA_ALG_ES256K;
    else if (codec == 0x1200 && klen == 33)
        alg = CA_ALG_ES256;
    else
        return ca_fail(eb, CA_ERR_INVALID, "publicKeyMultibase: unsupported key (multicodec "
                       "0x%" PRIx64 ", %zu bytes)", codec, klen);
    if ((err = ca_verify_key_from_raw(&out->k, alg, key, klen, &e)))
        return ca_fail(eb, CA_ERR_INVALID, "publicKeyMultibase: %s", ca_errmsg(&e, err));
    out->alg = alg;
    if (alg == CA_ALG_EDDSA) {
        memcpy(out->ed25519, key, 32);
        out->has_ed25519 = true;
    }
    return CA_OK;
}

static ca_err jwk_decode(vm_key *out, const json_t *jwk, ca_errbuf *eb)
{
    ca_errbuf e = {{0}};
    ca_err err = ca_verify_key_from_jwk(&out->k, jwk, &e);
    if (err)
        return ca_fail(eb, CA_ERR_INVALID, "publicKeyJwk: %s", ca_errmsg(&e, err));
    out->alg = ca_verify_key_alg(out->k);
    if (out->alg == CA_ALG_EDDSA) {
        /* RFC 8037 §2: OKP "x" is the 32-byte public key, base64url. */
        const json_t *x = json_object_get(jwk, "x");
        size_t n = sizeof out->ed25519;
        if (!json_is_string(x) ||
            ca_base64url_decode(out->ed25519, &n, json_string_value(x), json_string_length(x)) ||
            n != sizeof out->ed25519)
            return ca_fail(eb, CA_ERR_INVALID, "publicKeyJwk: \"x\" is not a 32-byte key");
        out->has_ed25519 = true;
    }
    return CA_OK;
}

/* The key of verification method vm_id of did: vm_id is did + "#" + fragment, the method is
 * referenced from assertionMethod (by id, absolute or relative, or embedded) and found either
 * embedded there or in verificationMethod, and its key is a publicKeyJwk or a
 * publicKeyMultibase (Multikey). CA_ERR_VERIFY / CA_ERR_NOT_FOUND / CA_ERR_INVALID with eb. */
static ca_err find_key(vctx *c, vm_key *out, const char *did, const char *vm_id, ca_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    size_t dlen = strlen(did);
    if (strncmp(did, "did:", 4) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the issuer %.200s is not a DID", did);
    if (strncmp(vm_id, did, dlen) != 0 || vm_id[dlen] != '#' || vm_id[dlen + 1] == '\0')
        return ca_fail(eb, CA_ERR_VERIFY, "the verification method %.200s is not one of the "
                       "issuer %.200s (it must be <issuer>#<fragment>)", vm_id, did);
    const char *frag = vm_id + dlen;
    const json_t *doc;
    ca_err err = resolve(c, &doc, did, eb);
    if (err)
        return err;

    const json_t *vm = NULL, *am = json_object_get(doc, "assertionMethod");
    bool listed = false;
    for (size_t i = 0; json_is_array(am) && i < json_array_size(am) && !listed; i++) {
        const json_t *e = json_array_get(am, i);
        if (json_is_string(e) && id_names(e, vm_id, frag)) {
            listed = true;
        } else if (json_is_object(e) && id_names(json_object_get(e, "id"), vm_id, frag)) {
            listed = true;
            vm = e;
        }
    }
    if (!listed)
        return ca_fail(eb, CA_ERR_VERIFY, "%.200s is not listed under assertionMethod in the "
                       "DID document of %.200s", vm_id, did);
    const json_t *vms = json_object_get(doc, "verificationMethod");
    for (size_t i = 0; !vm && json_is_array(vms) && i < json_array_size(vms); i++) {
        const json_t *e = json_array_get(vms, i);
        if (json_is_object(e) && id_names(json_object_get(e, "id"), vm_id, frag))
            vm = e;
    }
    if (!vm)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "the DID document of %.200s has no verification "
                       "method %.200s", did, vm_id);
    const json_t *ctl = json_object_get(vm, "controller");
    if (ctl && (!json_is_string(ctl) || strcmp(json_string_value(ctl), did) != 0))
        return ca_fail(eb, CA_ERR_VERIFY, "the verification method %.200s is not controlled "
                       "by %.200s", vm_id, did);
    const json_t *jwk = json_object_get(vm, "publicKeyJwk");
    const json_t *mb = json_object_get(vm, "publicKeyMultibase");
    if (json_is_object(jwk))
        err = jwk_decode(out, jwk, eb);
    else if (json_is_string(mb))
        err = multikey_decode(out, json_string_value(mb), json_string_length(mb), eb);
    else
        err = ca_fail(eb, CA_ERR_INVALID, "the verification method %.200s has neither "
                      "publicKeyJwk nor publicKeyMultibase", vm_id);
    if (err)
        vm_key_clear(out);
    return err;
}

/* ---- signature and validity ---------------------------------------------------------------- */

/* VC DM 2.0 §4.8: validFrom / validUntil against now; for a JWT also the RFC 7519 claims that
 * mirror them (OB 3.0 §8.2.4.1: nbf = validFrom, exp = validUntil, iss, jti, sub). */
static ca_err check_validity(const json_t *cred, const json_t *claims, int64_t now,
                             ca_errbuf *eb)
{
    int64_t from = 0, until = 0;
    bool has_from, has_until;
    const char *from_text, *until_text;
    ca_err err;
    if ((err = get_date(&from, &has_from, &from_text, cred, "validFrom", eb)) ||
        (err = get_date(&until, &has_until, &until_text, cred, "validUntil", eb)))
        return err;
    if (claims) {
        const json_t *nbf = json_object_get(claims, "nbf"), *exp = json_object_get(claims, "exp");
        if (nbf && !json_is_integer(nbf))
            return ca_fail(eb, CA_ERR_VERIFY, "JWT \"nbf\" is not an integer");
        if (exp && !json_is_integer(exp))
            return ca_fail(eb, CA_ERR_VERIFY, "JWT \"exp\" is not an integer");
        if (nbf && has_from && json_integer_value(nbf) != from)
            return ca_fail(eb, CA_ERR_VERIFY, "JWT \"nbf\" %" PRId64 " differs from validFrom "
                           "%.64s", (int64_t)json_integer_value(nbf), from_text);
        if (exp && has_until && json_integer_value(exp) != until)
            return ca_fail(eb, CA_ERR_VERIFY, "JWT \"exp\" %" PRId64 " differs from validUntil "
                           "%.64s", (int64_t)json_integer_value(exp), until_text);
        if (nbf && !has_from && json_integer_value(nbf) > now)
            return ca_fail(eb, CA_ERR_VERIFY, "not valid until %" PRId64 " (JWT nbf)",
                           (int64_t)json_integer_value(nbf));
        if (exp && !has_until && json_integer_value(exp) <= now)
            return ca_fail(eb, CA_ERR_VERIFY, "expired at %" PRId64 " (JWT exp)",
                           (int64_t)json_integer_value(exp));
    }
    if (has_from && from > now)
        return ca_fail(eb, CA_ERR_VERIFY, "not valid until %.64s", from_text);
    if (has_until && until < now)
        return ca_fail(eb, CA_ERR_VERIFY, "expired at %.64s", until_text);
    return CA_OK;
}

/* RFC 7519 claims against the credential they carry (OB 3.0 §8.2.4.1, VC-JOSE-COSE §3.1.1). */
static ca_err check_jwt_claims(const json_t *cred, const char *issuer, ca_errbuf *eb)
{
    const json_t *iss = json_object_get(cred, "iss"), *jti = json_object_get(cred, "jti");
    const json_t *sub = json_object_get(cred, "sub"), *id = json_object_get(cred, "id");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "JWT \"iss\" is missing or differs from the issuer");
    if (jti && id && !json_equal(jti, id))
        return ca_fail(eb, CA_ERR_VERIFY, "JWT \"jti\" differs from the credential id");
    if (sub) {
        const json_t *cs = json_object_get(cred, "credentialSubject");
        if (json_is_array(cs) && json_array_size(cs) == 1)
            cs = json_array_get(cs, 0);
        const json_t *sid = json_object_get(cs, "id");
        if (!json_is_string(sub) || !json_is_object(cs) || !json_equal(sub, sid))
            return ca_fail(eb, CA_ERR_VERIFY, "JWT \"sub\" differs from credentialSubject.id");
    }
    return CA_OK;
}

static void check_signature(vctx *c, ca_verify_report *r, const json_t *cred,
                            const ca_jws *jws, const char *jws_text)
{
    ca_errbuf e = {{0}};
    ca_err err;
    vm_key key;
    memset(&key, 0, sizeof key);
    ca_di_proof_info info;
    const char *vm_id;

    if (!c->issuer) {
        set_check(&r->signature, CA_CHECK_FAIL, "the credential has no issuer id (VC DM 2.0 "
                  "§4.7)");
        return;
    }
    if (jws) {
        vm_id = jws->kid;
        if (!vm_id || !*vm_id) {
            set_check(&r->signature, CA_CHECK_FAIL, "the JWT header has no \"kid\"");
            return;
        }
    } else {
        if ((err = ca_di_verify(cred, NULL, &info, &e))) {
            set_check(&r->signature, CA_CHECK_FAIL, "malformed Data Integrity proof: %s",
                      ca_errmsg(&e, err));
            return;
        }
        if (strcmp(info.proof_purpose, "assertionMethod") != 0) {
            set_check(&r->signature, CA_CHECK_FAIL, "the proof purpose is \"%.64s\", not "
                      "assertionMethod", info.proof_purpose);
            return;
        }
        vm_id = info.verification_method;
    }
    if ((err = find_key(c, &key, c->issuer, vm_id, &e))) {
        set_check(&r->signature, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
        return;
    }
    if (jws) {
        if (jws->alg != key.alg) {
            set_check(&r->signature, CA_CHECK_FAIL, "the JWT alg %s does not match the %s key "
                      "of %.200s", ca_jws_alg_name(jws->alg), ca_jws_alg_name(key.alg), vm_id);
            goto out;
        }
        if ((err = ca_jws_verify(jws, jws_text, key.k, &e))) {
            set_check(&r->signature, CA_CHECK_FAIL, "the JWS signature does not verify: %s",
                      ca_errmsg(&e, err));
            goto out;
        }
        if ((err = check_jwt_claims(cred, c->issuer, &e))) {
            set_check(&r->signature, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
            goto out;
        }
    } else {
        if (!key.has_ed25519) {
            set_check(&r->signature, CA_CHECK_FAIL, "eddsa-jcs-2022 needs an Ed25519 key, but "
                      "%.200s is a %s key", vm_id, ca_jws_alg_name(key.alg));
            goto out;
        }
        if ((err = ca_di_verify(cred, key.ed25519, NULL, &e))) {
            set_check(&r->signature, CA_CHECK_FAIL, "the Data Integrity proof does not "
                      "verify: %s", ca_errmsg(&e, err));
            goto out;
        }
    }
    if ((err = check_validity(cred, jws ? cred : NULL, c->env->now, &e))) {
        set_check(&r->signature, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
        goto out;
    }
    set_check(&r->signature, CA_CHECK_PASS, "%s signature by %.200s verifies",
              jws ? ca_jws_alg_name(jws->alg) : CA_DI_CRYPTOSUITE, vm_id);
out:
    vm_key_clear(&key);
}

/* ---- status (Bitstring Status List v1.0 §3.2) ---------------------------------------------- */

/* §3.2 step: dereference statusListCredential (STATUS_RETRIEVAL_ERROR), and parse it (body
 * and list are the caller's to free, also on failure). */
static ca_err fetch_list(vctx *c, const char *url, char **body, size_t *len, json_t **list,
                         ca_errbuf *e)
{
    ca_err err;
    if (!c->env->fetch_url)
        return ca_fail(e, CA_ERR_NOT_FOUND, "no way to fetch status lists");
    if ((err = c->env->fetch_url(c->env->ctx, url, body, len, e))) {
        ca_errbuf e2 = {{0}};
        err = ca_fail(&e2, err, "cannot fetch: %s", ca_errmsg(e, err));
        *e = e2;
        return err;
    }
    json_error_t jerr;
    *list = json_loadb(*body ? *body : "", *len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(*list))
        return ca_fail(e, CA_ERR_INVALID, "not a JSON object (%s)", *list ? "wrong type"
                                                                           : jerr.text);
    return CA_OK;
}

/* §2.2 BitstringStatusListCredential: its types, its id (the URL it came from), its
 * credentialSubject and its issuer id (*list_issuer, borrowed from list). */
static ca_err check_list_form(const json_t *list, const char *url, const char **list_issuer,
                              ca_errbuf *e)
{
    if (!has_type(list, "VerifiableCredential") ||
        !has_type(list, "BitstringStatusListCredential"))
        return ca_fail(e, CA_ERR_VERIFY, "not a VerifiableCredential of type "
                       "BitstringStatusListCredential");
    const json_t *lid = json_object_get(list, "id");
    if (!json_is_string(lid) || strcmp(json_string_value(lid), url) != 0)
        return ca_fail(e, CA_ERR_VERIFY, "its id is not the URL it was fetched from");
    const json_t *cs = json_object_get(list, "credentialSubject");
    if (!json_is_object(cs) || !has_type(cs, "BitstringStatusList") ||
        !json_is_string(json_object_get(cs, "encodedList")))
        return ca_fail(e, CA_ERR_INVALID, "credentialSubject is not a BitstringStatusList with "
                       "an encodedList");
    *list_issuer = issuer_id(list);
    if (!*list_issuer)
        return ca_fail(e, CA_ERR_INVALID, "the list has no issuer id");
    return CA_OK;
}

/* §3.2: verify all proofs of the list credential (STATUS_VERIFICATION_ERROR), against the
 * DID document of the list's own issuer. */
static ca_err verify_list_proof(vctx *c, const json_t *list, const char *list_issuer,
                                ca_errbuf *e)
{
    ca_err err;
    vm_key key;
    memset(&key, 0, sizeof key);
    ca_di_proof_info info;
    const json_t *proof = json_object_get(list, "proof");
    if (!json_is_object(proof) ||
        !json_is_string(json_object_get(proof, "cryptosuite")) ||
        strcmp(json_string_value(json_object_get(proof, "cryptosuite")), CA_DI_CRYPTOSUITE))
        return ca_fail(e, CA_ERR_VERIFY, "the list has no " CA_DI_CRYPTOSUITE " proof");
    ca_errbuf e2 = {{0}};
    if ((err = ca_di_verify(list, NULL, &info, &e2))) {
        err = ca_fail(e, CA_ERR_VERIFY, "malformed proof: %s", ca_errmsg(&e2, err));
        goto out;
    }
    if ((err = find_key(c, &key, list_issuer, info.verification_method, &e2))) {
        err = ca_fail(e, err, "%s", ca_errmsg(&e2, err));
        goto out;
    }
    if (!key.has_ed25519) {
        err = ca_fail(e, CA_ERR_VERIFY, "the list's verification method is not an Ed25519 "
                      "key");
        goto out;
    }
    if ((err = ca_di_verify(list, key.ed25519, NULL, &e2))) {
        err = ca_fail(e, CA_ERR_VERIFY, "the list's proof does not verify: %s",
                      ca_errmsg(&e2, err));
        goto out;
    }
out:
    vm_key_clear(&key);
    return err;
}

/* The list speaks for the credential's issuer only. A did:key node signs its lists with
 * its Ed25519 did:key while an ES256K/ES256 credential names its secp256k1/P-256 did:key,
 * and one did:key cannot list another as a key: that pair is accepted and reported (s->note). */
static ca_err check_list_issuer(vctx *c, list_slot *s, const char *list_issuer, ca_errbuf *e)
{
    if (!c->issuer || strcmp(list_issuer, c->issuer) != 0) {
        if (c->issuer &&
            ca_did_method_of(list_issuer, strlen(list_issuer)) == CA_DID_METHOD_KEY &&
            ca_did_method_of(c->issuer, strlen(c->issuer)) == CA_DID_METHOD_KEY) {
            snprintf(s->note, sizeof s->note, "list issued by another did:key (%.120s)",
                     list_issuer);
        } else {
            return ca_fail(e, CA_ERR_VERIFY, "the list is issued by %.200s, not by the "
                           "credential's issuer", list_issuer);
        }
    }
    return CA_OK;
}

/* VC DM 2.0 §4.8 for the list itself, then §3.2: decode encodedList (GZIP) into s, at least
 * 131,072 bits (§2.2 minimum). */
static ca_err decode_list(vctx *c, list_slot *s, const json_t *list, ca_errbuf *e)
{
    ca_err err;
    ca_errbuf e2 = {{0}};
    int64_t until;
    bool has_until;
    const char *until_text;
    if ((err = get_date(&until, &has_until, &until_text, list, "validUntil", &e2)))
        return ca_fail(e, CA_ERR_INVALID, "%s", ca_errmsg(&e2, err));
    if (has_until && until < c->env->now)
        return ca_fail(e, CA_ERR_VERIFY, "the list expired at %.64s", until_text);
    const json_t *enc = json_object_get(json_object_get(list, "credentialSubject"),
                                        "encodedList");
    if ((err = ca_status_list_decode(&s->bits, &s->nbytes, json_string_value(enc),
                                     json_string_length(enc), CA_STATUS_LIST_BITS,
                                     CA_STATUS_LIST_MAX_BYTES, &e2)))
        return ca_fail(e, err, "%s", ca_errmsg(&e2, err));
    return CA_OK;
}

/* Fetches, parses and verifies the list at url (once per call). */
static list_slot *load_list(vctx *c, const char *url, ca_errbuf *eb)
{
    for (size_t i = 0; i < c->nlists; i++)
        if (strcmp(c->lists[i].url, url) == 0)
            return &c->lists[i];
    if (c->nlists == LIST_CACHE_MAX) {
        ca_fail(eb, CA_ERR_RANGE, "more than %d status lists", LIST_CACHE_MAX);
        return NULL;
    }
    list_slot *s = &c->lists[c->nlists];
    memset(s, 0, sizeof *s);
    s->url = strdup(url);
    if (!s->url) {
        ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->nlists++;

    ca_errbuf e = {{0}};
    ca_err err;
    char *body = NULL;
    size_t len = 0;
    json_t *list = NULL;
    const char *list_issuer = NULL;

    if ((err = fetch_list(c, url, &body, &len, &list, &e)) ||
        (err = check_list_form(list, url, &list_issuer, &e)) ||
        (err = verify_list_proof(c, list, list_issuer, &e)) ||
        (err = check_list_issuer(c, s, list_issuer, &e)) ||
        (err = decode_list(c, s, list, &e)))
        goto out;
    s->list = list;
    list = NULL;
out:
    free(body);
    json_decref(list);
    s->err = err;
    if (err)
        snprintf(s->msg, sizeof s->msg, "%s", ca_errmsg(&e, err));
    return s;
}

/* The list's statusPurpose (a string, or an array of strings) includes purpose. */
static bool list_has_purpose(const json_t *list, const char *purpose)
{
    const json_t *p = json_object_get(json_object_get(list, "credentialSubject"),
                                      "statusPurpose");
    if (json_is_string(p))
        return strcmp(json_string_value(p), purpose) == 0;
    for (size_t i = 0; json_is_array(p) && i < json_array_size(p); i++) {
        const char *s = json_string_value(json_array_get(p, i));
        if (s && strcmp(s, purpose) == 0)
            return true;
    }
    return false;
}

/* What the credentialStatus entries found so far add up to. */
typedef struct status_tally {
    char detail[CA_VERIFY_DETAIL_MAX];
    bool failed, pending;
    size_t checked;
} status_tally;

/* §3.2 for one entry whose fields are valid: the list at url, its purpose, and the bit. */
static void check_status_bit(vctx *c, ca_verify_report *r, status_tally *t, const char *purpose,
                             bool revocation, uint64_t index, const char *url)
{
    ca_errbuf eb = {{0}};
    list_slot *ls = load_list(c, url, &eb);
    if (!ls) {
        add_detail(t->detail, sizeof t->detail, "%s: %s", purpose, ca_errmsg(&eb, CA_ERR_RANGE));
        t->failed = true;
        return;
    }
    if (ls->err) {
        add_detail(t->detail, sizeof t->detail, "%s list %.160s: %s", purpose, url, ls->msg);
        t->failed = true;
        return;
    }
    /* §3.2: the entry's purpose must be one of the list's. */
    if (!list_has_purpose(ls->list, purpose)) {
        add_detail(t->detail, sizeof t->detail, "%s list %.160s has another statusPurpose",
                   purpose, url);
        t->failed = true;
        return;
    }
    if (index / 8 >= ls->nbytes) {
        add_detail(t->detail, sizeof t->detail, "%s index %" PRIu64 " is outside the list of "
                   "%zu entries (RANGE_ERROR)", purpose, index, ls->nbytes * 8);
        t->failed = true;
        return;
    }
    t->checked++;
    if (ls->note[0])
        add_detail(t->detail, sizeof t->detail, "%s", ls->note);
    if (ca_status_bit_get(ls->bits, index)) {
        if (revocation)
            r->revoked = true;
        else
            r->suspended = true;
        add_detail(t->detail, sizeof t->detail, "%s (index %" PRIu64 " of %.160s)",
                   revocation ? "revoked" : "suspended", index, url);
        t->failed = true;
    } else {
        add_detail(t->detail, sizeof t->detail, "not %s (index %" PRIu64 ")",
                   revocation ? "revoked" : "suspended", index);
    }
}

/* Entry i of credentialStatus: its type and its §2.1 fields, then its bit. */
static void check_status_entry(vctx *c, ca_verify_report *r, status_tally *t, const json_t *e,
                               size_t i)
{
    if (!json_is_object(e)) {
        add_detail(t->detail, sizeof t->detail, "entry %zu is not an object", i);
        t->failed = true;
        return;
    }
    if (!has_type(e, "BitstringStatusListEntry")) {
        /* Not a mechanism this verifier knows: the status stays unknown, which is not a
         * failure of the credential but is not a pass either. */
        const json_t *ty = json_object_get(e, "type");
        add_detail(t->detail, sizeof t->detail, "entry %zu of type %.64s not checked", i,
                   json_is_string(ty) ? json_string_value(ty) : "(unknown)");
        t->pending = true;
        return;
    }
    /* §2.1: statusPurpose, statusListIndex, statusListCredential. */
    const char *purpose = json_string_value(json_object_get(e, "statusPurpose"));
    if (!purpose) {
        add_detail(t->detail, sizeof t->detail, "entry %zu has no statusPurpose", i);
        t->failed = true;
        return;
    }
    bool revocation = strcmp(purpose, "revocation") == 0;
    if (!revocation && strcmp(purpose, "suspension") != 0) {
        add_detail(t->detail, sizeof t->detail, "entry %zu with statusPurpose \"%.32s\" ignored",
                   i, purpose);
        return;
    }
    uint64_t index;
    if (!parse_index(&index, json_object_get(e, "statusListIndex"))) {
        add_detail(t->detail, sizeof t->detail, "entry %zu: statusListIndex is not a base-10 "
                   "string", i);
        t->failed = true;
        return;
    }
    const json_t *u = json_object_get(e, "statusListCredential");
    const char *url = json_string_value(u);
    if (!is_url(url, json_string_length(u))) {
        add_detail(t->detail, sizeof t->detail, "entry %zu: statusListCredential is not a URL",
                   i);
        t->failed = true;
        return;
    }
    check_status_bit(c, r, t, purpose, revocation, index, url);
}

static void check_status(vctx *c, ca_verify_report *r, const json_t *cred)
{
    const json_t *st = json_object_get(cred, "credentialStatus");
    status_tally t;
    memset(&t, 0, sizeof t);
    size_t n;

    if (!st) {
        set_check(&r->status, CA_CHECK_PASS, "no credentialStatus");
        return;
    }
    if (json_is_object(st)) {
        n = 1;
    } else if (json_is_array(st)) {
        n = json_array_size(st);
    } else {
        set_check(&r->status, CA_CHECK_FAIL, "credentialStatus is neither an object nor an "
                  "array");
        return;
    }
    if (n > STATUS_ENTRIES_MAX) {
        set_check(&r->status, CA_CHECK_FAIL, "more than %d credentialStatus entries",
                  STATUS_ENTRIES_MAX);
        return;
    }
    for (size_t i = 0; i < n; i++)
        check_status_entry(c, r, &t, json_is_array(st) ? json_array_get(st, i) : st, i);
    ca_check_result res = t.failed    ? CA_CHECK_FAIL
                          : t.pending ? CA_CHECK_PENDING
                                      : CA_CHECK_PASS;
    if (!t.failed && !t.pending && t.checked == 0 && !t.detail[0])
        snprintf(t.detail, sizeof t.detail, "no status entries");
    set_check(&r->status, res, "%s", t.detail);
}

/* ---- inclusion (SPEC §1, §3) and anchor (SPEC §2, §3) --------------------------------------- */

/* Fetches the inclusion proof of r->digest and parses it (body and proof are the caller's to
 * free, also on failure). False, with the inclusion check failed, when there is none usable. */
static bool fetch_log_proof(vctx *c, ca_verify_report *r, char **body, size_t *len,
                            json_t **proof)
{
    const ca_verify_env *env = c->env;
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, &r->digest);
    ca_errbuf e = {{0}};
    ca_err err;

    if (!env->fetch_proof) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "no log to ask for an inclusion proof");
        return false;
    }
    err = env->fetch_proof(env->ctx, hex, body, len, &e);
    if (err == CA_ERR_NOT_FOUND) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "digest not in the log");
        return false;
    }
    if (err) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "cannot fetch the inclusion proof: %s",
                  ca_errmsg(&e, err));
        return false;
    }
    if (*len > CA_PROOF_MAX_BYTES) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "the inclusion proof is larger than %u bytes",
                  CA_PROOF_MAX_BYTES);
        return false;
    }
    json_error_t jerr;
    *proof = json_loadb(*body ? *body : "", *len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *pd = json_object_get(*proof, "digest");
    ca_hash got;
    if (!json_is_object(*proof) || !json_is_string(pd) ||
        ca_hash_from_hex(&got, json_string_value(pd), json_string_length(pd))) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "the inclusion proof is malformed (no hex "
                  "\"digest\")");
        return false;
    }
    if (memcmp(got.b, r->digest.b, CA_HASH_SIZE) != 0) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "the inclusion proof is for another digest");
        return false;
    }
    return true;
}

/* Checks the proof in body with every key the log ever used (SPEC §3, through
 * ca_proof_check); fills *pr and sets the inclusion check. True when it passes. */
static bool check_inclusion(vctx *c, ca_verify_report *r, const char *body, size_t len,
                            ca_proof_report *pr)
{
    const ca_verify_env *env = c->env;
    ca_errbuf e = {{0}};
    ca_err err;
    ca_note_verifier *keys = NULL;
    size_t nkeys = 0;
    bool passed = false;

    if (!env->log_keys) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "no log verifier keys");
        goto out;
    }
    keys = calloc(CA_VERIFY_LOG_KEYS_MAX, sizeof *keys);
    if (!keys) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "out of memory");
        goto out;
    }
    if ((err = env->log_keys(env->ctx, keys, &nkeys, &e))) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "cannot get the log keys: %s",
                  ca_errmsg(&e, err));
        goto out;
    }
    if (nkeys == 0 || nkeys > CA_VERIFY_LOG_KEYS_MAX) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "no log verifier keys");
        goto out;
    }
    /* Key rotation: the checkpoint may be signed by any key the log ever used. */
    size_t ok = nkeys;
    ca_errbuf first = {{0}};
    ca_err first_err = CA_OK;
    for (size_t i = 0; i < nkeys && ok == nkeys; i++) {
        ca_errbuf ke = {{0}};
        err = ca_proof_check(pr, body, len, &keys[i], &ke);
        if (err == CA_OK) {
            ok = i;
        } else if (first_err == CA_OK) {
            first_err = err;
            first = ke;
        }
        if (err == CA_ERR_INVALID) /* malformed: no other key will do better */
            break;
    }
    if (ok == nkeys) {
        set_check(&r->inclusion, CA_CHECK_FAIL, "%s%s", ca_errmsg(&first, first_err),
                  nkeys > 1 ? " (with every log key)" : "");
        goto out;
    }
    char kid[9];
    ca_hex_encode(kid, keys[ok].key_id, 4);
    set_check(&r->inclusion, CA_CHECK_PASS, "leaf %" PRIu64 " of tree size %" PRIu64
              ", checkpoint signed by %.200s (key id %s)", pr->leaf_index, pr->tree_size,
              keys[ok].name, kid);
    passed = true;
out:
    free(keys);
    return passed;
}

/* The account the anchor must come from: the one the issuer's DID document lists for the
 * claim's chain, else the caller's. The expected sender is the account the issuer lists, never
 * the record's own "from". False, with the anchor check failed, when none is known. */
static bool anchor_sender(vctx *c, ca_verify_report *r, const ca_anchor_claim *claim,
                          uint8_t from[CA_ETH_ADDRESS_SIZE])
{
    const ca_verify_env *env = c->env;
    ca_errbuf e = {{0}};
    const json_t *doc = NULL;
    ca_err err = CA_ERR_NOT_FOUND;
    if (!c->issuer) {
        set_check(&r->anchor, CA_CHECK_FAIL, "the credential names no issuer whose anchor "
                  "account could be checked");
        return false;
    }
    if (strncmp(c->issuer, "did:", 4) == 0) {
        if ((err = resolve(c, &doc, c->issuer, &e))) {
            set_check(&r->anchor, CA_CHECK_FAIL, "no anchor account: %s", ca_errmsg(&e, err));
            return false;
        }
        err = ca_did_anchor_account(from, doc, claim->chain_id, &e);
        if (err && err != CA_ERR_NOT_FOUND) {
            set_check(&r->anchor, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
            return false;
        }
    }
    if (err) {
        /* The DID document lists none for this chain (did:key issuers): the caller's. */
        ca_errbuf ae = {{0}};
        ca_err aerr = CA_ERR_NOT_FOUND;
        if (env->anchor_account)
            aerr = env->anchor_account(env->ctx, claim->chain_id, from, &ae);
        if (aerr) {
            set_check(&r->anchor, CA_CHECK_FAIL, "no anchor account is known for the issuer on "
                      "eip155:%" PRIu64 "%s%s", claim->chain_id,
                      aerr == CA_ERR_NOT_FOUND ? "" : ": ",
                      aerr == CA_ERR_NOT_FOUND ? "" : ca_errmsg(&ae, aerr));
            return false;
        }
    }
    return true;
}

/* The anchor record of a proof that passed (SPEC §2, §3): its checkpoint is the proof's, it
 * comes from the issuer's account, and it has enough confirmations on chain. */
static void check_anchor_record(vctx *c, ca_verify_report *r, const json_t *proof,
                                const ca_proof_report *pr)
{
    const ca_verify_env *env = c->env;
    ca_errbuf e = {{0}};
    ca_err err;
    const json_t *anchor = json_object_get(proof, "anchor");
    if (!anchor || json_is_null(anchor)) {
        set_check(&r->anchor, CA_CHECK_PENDING, "not yet anchored");
        return;
    }
    ca_anchor_claim claim;
    if ((err = ca_anchor_claim_parse(&claim, anchor, &e))) {
        set_check(&r->anchor, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
        return;
    }
    if (claim.tree_size != pr->tree_size || memcmp(claim.root.b, pr->root.b, CA_HASH_SIZE)) {
        set_check(&r->anchor, CA_CHECK_FAIL, "the anchor record is for tree size %" PRIu64
                  " with another root, not the proof's checkpoint", claim.tree_size);
        return;
    }
    uint8_t from[CA_ETH_ADDRESS_SIZE];
    if (!anchor_sender(c, r, &claim, from))
        return;
    if (!env->check_anchor) {
        set_check(&r->anchor, CA_CHECK_PENDING, "no RPC endpoint to check the anchor on chain");
        return;
    }
    ca_anchor_report ar;
    memset(&ar, 0, sizeof ar);
    err = env->check_anchor(env->ctx, anchor, pr->tree_size, &pr->root, from, &ar, &e);
    if (err == CA_ERR_VERIFY || err == CA_ERR_INVALID) {
        set_check(&r->anchor, CA_CHECK_FAIL, "%s", ca_errmsg(&e, err));
        return;
    }
    if (err) {
        /* The credential claims an anchor that could not be read (an RPC endpoint mistyped or
         * down): that is not "not anchored yet" (pending is kept for a proof with no anchor),
         * and "verified" must not be claimed without it (issue 12 item 9). */
        set_check(&r->anchor, CA_CHECK_FAIL, "cannot check the anchor on chain: %s",
                  ca_errmsg(&e, err));
        return;
    }
    char tx[67];
    tx[0] = '0';
    tx[1] = 'x';
    ca_hex_encode(tx + 2, claim.tx_hash, 32);
    bool by_chain = env->min_confirmations == CA_CONFIRMATIONS_BY_CHAIN;
    uint64_t need = by_chain ? ca_anchor_default_confirmations(claim.chain_id)
                             : env->min_confirmations;
    if (ar.confirmations < need || strcmp(claim.status, "final") != 0) {
        set_check(&r->anchor, CA_CHECK_PENDING, "%" PRIu64 " confirmation(s), %" PRIu64
                  " required%s (record status %s, tx %s)", ar.confirmations, need,
                  by_chain ? " by the chain's default" : "", claim.status, tx);
        return;
    }
    set_check(&r->anchor, CA_CHECK_PASS, "tx %s in block %" PRIu64 " on eip155:%" PRIu64
              " (%" PRIu64 " confirmations, %" PRIu64 " required) anchors tree size %" PRIu64,
              tx, claim.block_number, claim.chain_id, ar.confirmations, need, claim.tree_size);
}

static void check_log(vctx *c, ca_verify_report *r)
{
    char *body = NULL;
    size_t len = 0;
    json_t *proof = NULL;
    ca_proof_report pr;

    set_check(&r->anchor, CA_CHECK_PENDING, "no inclusion proof");
    if (fetch_log_proof(c, r, &body, &len, &proof) && check_inclusion(c, r, body, len, &pr))
        check_anchor_record(c, r, proof, &pr);
    json_decref(proof);
    free(body);
}

/* ---- entry point ---------------------------------------------------------------------------- */

/* A JSON credential secured with a Data Integrity proof (eddsa-jcs-2022): *doc is the parsed
 * credential (the caller's to free, also on failure). */
static ca_err parse_json_credential(ca_verify_report *r, json_t **doc, const char *text,
                                    size_t len, ca_errbuf *eb)
{
    ca_err err;
    json_error_t jerr;
    *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(*doc))
        return ca_fail(eb, CA_ERR_INVALID, "the credential is not a JSON object (line %d: "
                       "%.200s)", jerr.line, *doc ? "wrong type" : jerr.text);
    const json_t *proof = json_object_get(*doc, "proof");
    const char *suite = json_string_value(json_object_get(proof, "cryptosuite"));
    if (!json_is_object(proof) || !suite || strcmp(suite, CA_DI_CRYPTOSUITE) != 0)
        return ca_fail(eb, CA_ERR_INVALID, "the JSON credential has no single \"proof\" "
                       "object with cryptosuite " CA_DI_CRYPTOSUITE);
    /* SPEC §1: SHA-256 of the JCS form of the whole signed JSON, proof included. */
    ca_errbuf e = {{0}};
    if ((err = ca_jcs_digest(&r->digest, text, len, &e)))
        return ca_fail(eb, CA_ERR_INVALID, "the credential is not I-JSON: %s",
                       ca_errmsg(&e, err));
    snprintf(r->format, sizeof r->format, "%s", CA_DI_CRYPTOSUITE);
    return CA_OK;
}

/* A compact JWS (VC-JWT): the payload is the credential (SPEC §5, no "vc" wrapper).
 * *jws_text is a NUL-terminated copy of text (the caller's to free, also on failure); *is_jws
 * says jws needs ca_jws_clear. */
static ca_err parse_jws_credential(ca_verify_report *r, ca_jws *jws, bool *is_jws,
                                   char **jws_text, const char *text, size_t len, ca_errbuf *eb)
{
    ca_err err;
    *jws_text = malloc(len + 1);
    if (!*jws_text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    memcpy(*jws_text, text, len);
    (*jws_text)[len] = '\0';
    ca_errbuf e = {{0}};
    if ((err = ca_jws_parse(jws, *jws_text, len, &e)))
        return ca_fail(eb, err == CA_ERR_TOO_LARGE ? err : CA_ERR_INVALID,
                       "the credential is neither JSON nor a compact JWS: %s",
                       ca_errmsg(&e, err));
    *is_jws = true;
    /* SPEC §1: SHA-256 of the exact compact JWS bytes. */
    ca_sha256(&r->digest, *jws_text, len);
    snprintf(r->format, sizeof r->format, "vc+jwt");
    return CA_OK;
}

ca_err ca_verify_credential(ca_verify_report *r, const char *text, size_t len,
                            const ca_verify_env *env, ca_errbuf *eb)
{
    CA_ASSERT(r && env && (text || len == 0));
    memset(r, 0, sizeof *r);
    r->signature.result = r->status.result = r->inclusion.result = CA_CHECK_FAIL;
    r->anchor.result = CA_CHECK_PENDING;
    if (len > CA_JWS_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the credential is larger than %u bytes",
                       CA_JWS_MAX);
    while (len && is_ascii_ws(*text)) {
        text++;
        len--;
    }
    while (len && is_ascii_ws(text[len - 1]))
        len--;
    if (len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "the credential is empty");

    ca_err err = CA_OK;
    ca_jws jws;
    memset(&jws, 0, sizeof jws);
    bool is_jws = false;
    json_t *doc = NULL;
    const json_t *cred;
    char *jws_text = NULL;
    vctx c;
    memset(&c, 0, sizeof c);
    c.env = env;

    if (text[0] == '{') {
        if ((err = parse_json_credential(r, &doc, text, len, eb)))
            goto out;
        cred = doc;
    } else {
        if ((err = parse_jws_credential(r, &jws, &is_jws, &jws_text, text, len, eb)))
            goto out;
        cred = jws.payload;
    }

    const json_t *id = json_object_get(cred, "id");
    if (json_is_string(id))
        snprintf(r->id, sizeof r->id, "%s", json_string_value(id));
    c.issuer = issuer_id(cred);
    if (c.issuer && strlen(c.issuer) >= sizeof r->issuer)
        c.issuer = NULL; /* no DID is that long (CA_DID_TEXT_MAX) */
    if (c.issuer)
        snprintf(r->issuer, sizeof r->issuer, "%s", c.issuer);

    check_signature(&c, r, cred, is_jws ? &jws : NULL, jws_text);
    check_status(&c, r, cred);
    check_log(&c, r);
    r->verified = r->signature.result != CA_CHECK_FAIL && r->status.result != CA_CHECK_FAIL &&
                  r->inclusion.result != CA_CHECK_FAIL && r->anchor.result != CA_CHECK_FAIL;
out:
    vctx_free(&c);
    if (is_jws)
        ca_jws_clear(&jws);
    free(jws_text);
    json_decref(doc);
    if (err) {
        memset(r, 0, sizeof *r);
        r->signature.result = r->status.result = r->inclusion.result = CA_CHECK_FAIL;
        r->anchor.result = CA_CHECK_PENDING;
    }
    return err;
}

/* ---- report JSON (SPEC §5) ----------------------------------------------------------------- */

/* A JSON string of s; bytes that would make it invalid UTF-8 (a detail truncated inside a
 * character) become '?'. */
static json_t *safe_string(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *check_json(const ca_check *c)
{
    return json_pack("{s:s, s:o}", "result", ca_check_result_name(c->result), "detail",
                     safe_string(c->detail));
}

json_t *ca_verify_report_json(const ca_verify_report *r)
{
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, &r->digest);
    json_t *status = check_json(&r->status);
    if (!status)
        return NULL;
    if (json_object_set_new(status, "revoked", json_boolean(r->revoked)) ||
        json_object_set_new(status, "suspended", json_boolean(r->suspended))) {
        json_decref(status);
        return NULL;
    }
    return json_pack("{s:o, s:b, s:{s:o, s:o, s:o, s:o}, s:o, s:s, s:s}",
                     "id", r->id[0] ? safe_string(r->id) : json_null(),
                     "verified", r->verified,
                     "checks",
                     "signature", check_json(&r->signature),
                     "status", status,
                     "inclusion", check_json(&r->inclusion),
                     "anchor", check_json(&r->anchor),
                     "issuer", r->issuer[0] ? safe_string(r->issuer) : json_null(),
                     "format", r->format,
                     "digest", hex);
}
