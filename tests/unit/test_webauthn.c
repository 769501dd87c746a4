/* Tests for node/webauthn.c with the ceremonies of tests/vectors/webauthn/vectors.h (made by
 * make_vectors.py: ES256, EdDSA and RS256 authenticators with "none" attestation, plus
 * published py_webauthn ceremonies from real authenticators):
 *  - every registration and assertion case of the tables: valid ones give the stored
 *    credential (id, COSE_Key, alg, counter, AAGUID, flags), the others their error code and
 *    message (fmt "packed", flags, trailing bytes, a point off the curve, short RSA, ...);
 *  - a registration's stored COSE_Key verifies that authenticator's assertion, for each alg;
 *  - wrong challenge, origin and RP ID through the expectation, at both ceremonies;
 *  - the signature counter: backwards, equal, 0/0, from 0;
 *  - every bit of clientDataJSON, authData and signature flipped: never accepted;
 *  - every truncation of the attestationObject and of authData: an error, never a crash
 *    (each prefix is an exact heap copy, so ASan sees any read past it);
 *  - caps, CBOR bombs (huge declared counts, deep nesting, tags, indefinite lengths), and
 *    messages that stay short and printable whatever the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/webauthn.h"
#include "tests/vectors/webauthn/vectors.h"

static ca_webauthn_expect expect_of(wa_buf challenge, const char *origin, const char *rp_id,
                                    bool require_uv)
{
    ca_webauthn_expect ex = {challenge.p, challenge.n, origin, rp_id, require_uv};
    return ex;
}

/* The generated ceremonies' expectation. */
static ca_webauthn_expect reg_expect(void)
{
    return expect_of(wa_reg_challenge, WA_ORIGIN, WA_RP_ID, false);
}

static ca_webauthn_expect asn_expect(void)
{
    return expect_of(wa_asn_challenge, WA_ORIGIN, WA_RP_ID, false);
}

/* An exact-size heap copy: ASan reports a read one past the end. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* The cases "valid <name> registration" / "valid <name> assertion" come first, in the order of
 * wa_authenticators. */
static const wa_reg_case *reg_valid(size_t i)
{
    return &wa_reg_cases[i];
}

static const wa_asn_case *asn_valid(size_t i)
{
    return &wa_asn_cases[i];
}

/* A message: one line, short, printable. */
static void check_message(const ca_errbuf *eb, const char *desc)
{
    size_t n = strlen(eb->msg);
    if (n == 0 || n > 300)
        fail_msg("%s: message of %zu characters", desc, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)eb->msg[i] < 0x20 || (unsigned char)eb->msg[i] > 0x7e)
            fail_msg("%s: unprintable byte in the message: %s", desc, eb->msg);
}

static ca_err run_reg(ca_webauthn_credential *cred, const ca_webauthn_expect *ex,
                      const uint8_t *cdj, size_t cdj_len, const uint8_t *ao, size_t ao_len,
                      ca_errbuf *eb)
{
    uint8_t *c = dup_bytes(cdj, cdj_len), *a = dup_bytes(ao, ao_len);
    eb->msg[0] = '\0';
    ca_err err = ca_webauthn_verify_registration(cred, ex, c, cdj_len, a, ao_len, eb);
    free(c);
    free(a);
    return err;
}

static ca_err run_asn(uint32_t *count, bool *uv, const ca_webauthn_expect *ex, wa_buf key,
                      uint32_t stored, const uint8_t *cdj, size_t cdj_len, const uint8_t *ad,
                      size_t ad_len, const uint8_t *sig, size_t sig_len, ca_errbuf *eb)
{
    uint8_t *k = dup_bytes(key.p, key.n), *c = dup_bytes(cdj, cdj_len);
    uint8_t *a = dup_bytes(ad, ad_len), *s = dup_bytes(sig, sig_len);
    eb->msg[0] = '\0';
    ca_err err = ca_webauthn_verify_assertion(count, uv, ex, k, key.n, stored, c, cdj_len, a,
                                              ad_len, s, sig_len, eb);
    free(k);
    free(c);
    free(a);
    free(s);
    return err;
}

static ca_err run_asn_case(const wa_asn_case *c, const ca_webauthn_expect *ex, uint32_t stored,
                           uint32_t *count, ca_errbuf *eb)
{
    bool uv;
    return run_asn(count, &uv, ex, c->cose_key, stored, c->cdj.p, c->cdj.n, c->ad.p, c->ad.n,
                   c->sig.p, c->sig.n, eb);
}

static void check_credential(const wa_reg_case *c, const ca_webauthn_credential *cred)
{
    assert_int_equal(cred->id_len, c->cred_id.n);
    assert_memory_equal(cred->id, c->cred_id.p, c->cred_id.n);
    assert_int_equal(cred->cose_key_len, c->cose_key.n);
    assert_memory_equal(cred->cose_key, c->cose_key.p, c->cose_key.n);
    assert_int_equal(cred->alg, c->alg);
    assert_int_equal(cred->sign_count, c->sign_count);
    assert_int_equal(c->aaguid.n, 16);
    assert_memory_equal(cred->aaguid, c->aaguid.p, 16);
    assert_int_equal(cred->uv, (c->flags & CA_WEBAUTHN_FLAG_UV) != 0);
    assert_int_equal(cred->backup_eligible, (c->flags & CA_WEBAUTHN_FLAG_BE) != 0);
    assert_int_equal(cred->backed_up, (c->flags & CA_WEBAUTHN_FLAG_BS) != 0);
}

static void test_registration_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wa_reg_cases / sizeof wa_reg_cases[0]; i++) {
        const wa_reg_case *c = &wa_reg_cases[i];
        ca_webauthn_expect ex = expect_of(c->challenge, c->origin, c->rp_id, c->require_uv);
        ca_webauthn_credential cred;
        ca_errbuf eb;
        ca_err err = run_reg(&cred, &ex, c->cdj.p, c->cdj.n, c->ao.p, c->ao.n, &eb);
        if (err != c->want)
            fail_msg("%s: got %s (%s), want %s", c->desc, ca_strerror(err), eb.msg,
                     ca_strerror(c->want));
        if (err == CA_OK) {
            check_credential(c, &cred);
            continue;
        }
        check_message(&eb, c->desc);
        if (!strstr(eb.msg, c->want_msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->desc, eb.msg, c->want_msg);
        assert_int_equal(cred.id_len, 0);
        assert_int_equal(cred.cose_key_len, 0);
    }
}

static void test_assertion_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wa_asn_cases / sizeof wa_asn_cases[0]; i++) {
        const wa_asn_case *c = &wa_asn_cases[i];
        ca_webauthn_expect ex = expect_of(c->challenge, c->origin, c->rp_id, c->require_uv);
        uint32_t count = 12345;
        bool uv = true;
        ca_errbuf eb;
        ca_err err = run_asn(&count, &uv, &ex, c->cose_key, c->stored_count, c->cdj.p, c->cdj.n,
                             c->ad.p, c->ad.n, c->sig.p, c->sig.n, &eb);
        if (err != c->want)
            fail_msg("%s: got %s (%s), want %s", c->desc, ca_strerror(err), eb.msg,
                     ca_strerror(c->want));
        if (err == CA_OK) {
            assert_int_equal(count, c->sign_count);
            assert_int_equal(uv, c->uv);
            continue;
        }
        check_message(&eb, c->desc);
        if (!strstr(eb.msg, c->want_msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->desc, eb.msg, c->want_msg);
        assert_int_equal(count, 0);
        assert_false(uv);
    }
}

/* Registration, then an assertion checked against what registration stored. */
static void test_register_then_sign_in(void **state)
{
    (void)state;
    size_t n = sizeof wa_authenticators / sizeof wa_authenticators[0];
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        const wa_reg_case *r = reg_valid(i);
        const wa_asn_case *a = asn_valid(i);
        ca_webauthn_expect rex = reg_expect(), aex = asn_expect();
        ca_webauthn_credential cred;
        ca_errbuf eb;
        assert_int_equal(run_reg(&cred, &rex, r->cdj.p, r->cdj.n, r->ao.p, r->ao.n, &eb), CA_OK);
        assert_int_equal(cred.alg, wa_authenticators[i].alg);
        assert_int_equal(cred.id_len, wa_authenticators[i].cred_id.n);
        assert_memory_equal(cred.id, wa_authenticators[i].cred_id.p, cred.id_len);
        wa_buf stored = {cred.cose_key, cred.cose_key_len};
        uint32_t count;
        bool uv;
        aex.require_uv = true;
        ca_err err = run_asn(&count, &uv, &aex, stored, cred.sign_count, a->cdj.p, a->cdj.n,
                             a->ad.p, a->ad.n, a->sig.p, a->sig.n, &eb);
        if (err != CA_OK)
            fail_msg("%s: %s", wa_authenticators[i].name, eb.msg);
        assert_int_equal(count, a->sign_count);
        assert_true(uv);
    }
}

static void expect_reg_error(const ca_webauthn_expect *ex, ca_err want, const char *part)
{
    for (size_t i = 0; i < 3; i++) {
        const wa_reg_case *r = reg_valid(i);
        ca_webauthn_credential cred;
        ca_errbuf eb;
        ca_err err = run_reg(&cred, ex, r->cdj.p, r->cdj.n, r->ao.p, r->ao.n, &eb);
        if (err != want || !strstr(eb.msg, part))
            fail_msg("%s: got %s (%s), want %s with \"%s\"", r->desc, ca_strerror(err), eb.msg,
                     ca_strerror(want), part);
    }
}

static void expect_asn_error(const ca_webauthn_expect *ex, ca_err want, const char *part)
{
    for (size_t i = 0; i < 3; i++) {
        const wa_asn_case *a = asn_valid(i);
        uint32_t count;
        ca_errbuf eb;
        ca_err err = run_asn_case(a, ex, a->stored_count, &count, &eb);
        if (err != want || !strstr(eb.msg, part))
            fail_msg("%s: got %s (%s), want %s with \"%s\"", a->desc, ca_strerror(err), eb.msg,
                     ca_strerror(want), part);
    }
}

static void test_wrong_challenge(void **state)
{
    (void)state;
    uint8_t ch[32];
    memcpy(ch, wa_reg_challenge.p, 32);
    ch[31] ^= 1;
    wa_buf flipped = {ch, 32}, shorter = {wa_reg_challenge.p, 31};
    ca_webauthn_expect ex = expect_of(flipped, WA_ORIGIN, WA_RP_ID, false);
    expect_reg_error(&ex, CA_ERR_VERIFY, "challenge");
    ex = expect_of(shorter, WA_ORIGIN, WA_RP_ID, false);
    expect_reg_error(&ex, CA_ERR_VERIFY, "challenge");
    /* The assertion challenge at registration and the other way round. */
    ex = asn_expect();
    expect_reg_error(&ex, CA_ERR_VERIFY, "challenge");
    ex = reg_expect();
    expect_asn_error(&ex, CA_ERR_VERIFY, "challenge");
}

static void test_wrong_origin(void **state)
{
    (void)state;
    static const char *const origins[] = {
        "https://evil.example", "https://issuer.example/", "https://issuer.example:443",
        "http://issuer.example", "https://ISSUER.example", "https://sub.issuer.example",
        "https://issuer.exampl",
    };
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        ca_webauthn_expect ex = expect_of(wa_reg_challenge, origins[i], WA_RP_ID, false);
        expect_reg_error(&ex, CA_ERR_VERIFY, "origin");
        ex = expect_of(wa_asn_challenge, origins[i], WA_RP_ID, false);
        expect_asn_error(&ex, CA_ERR_VERIFY, "origin");
    }
}

static void test_wrong_rp_id(void **state)
{
    (void)state;
    static const char *const rps[] = {"evil.example", "Issuer.example", "issuer.example.",
                                      "example", "localhost"};
    for (size_t i = 0; i < sizeof rps / sizeof rps[0]; i++) {
        ca_webauthn_expect ex = expect_of(wa_reg_challenge, WA_ORIGIN, rps[i], false);
        expect_reg_error(&ex, CA_ERR_VERIFY, "rpIdHash");
        ex = expect_of(wa_asn_challenge, WA_ORIGIN, rps[i], false);
        expect_asn_error(&ex, CA_ERR_VERIFY, "rpIdHash");
    }
}

/* The assertion of the clientDataJSON of a registration (type "webauthn.create"). */
static void test_wrong_type(void **state)
{
    (void)state;
    const wa_reg_case *r = reg_valid(0);
    const wa_asn_case *a = asn_valid(0);
    ca_webauthn_expect ex = asn_expect();
    ex.challenge = wa_reg_challenge.p;
    ex.challenge_len = wa_reg_challenge.n;
    uint32_t count;
    bool uv;
    ca_errbuf eb;
    assert_int_equal(run_asn(&count, &uv, &ex, a->cose_key, 0, r->cdj.p, r->cdj.n, a->ad.p,
                             a->ad.n, a->sig.p, a->sig.n, &eb),
                     CA_ERR_VERIFY);
    assert_non_null(strstr(eb.msg, "type"));
    /* An assertion's clientDataJSON at registration. */
    ex = asn_expect();
    ca_webauthn_credential cred;
    assert_int_equal(run_reg(&cred, &ex, a->cdj.p, a->cdj.n, r->ao.p, r->ao.n, &eb),
                     CA_ERR_VERIFY);
    assert_non_null(strstr(eb.msg, "type"));
}

static void test_counter(void **state)
{
    (void)state;
    const wa_asn_case *es = asn_valid(0), *ed = asn_valid(1), *rs = asn_valid(2);
    ca_webauthn_expect ex = asn_expect();
    uint32_t count = 0;
    ca_errbuf eb;
    assert_int_equal(es->sign_count, 5);
    assert_int_equal(run_asn_case(es, &ex, 4, &count, &eb), CA_OK);
    assert_int_equal(count, 5);
    assert_int_equal(run_asn_case(es, &ex, 0, &count, &eb), CA_OK); /* a counter starts */
    /* Equal, non-zero: refused, with the counts still reported. */
    assert_int_equal(run_asn_case(es, &ex, 5, &count, &eb), CA_ERR_CONFLICT);
    assert_int_equal(count, 5);
    assert_non_null(strstr(eb.msg, "cloned authenticator"));
    check_message(&eb, "equal counter");
    assert_int_equal(run_asn_case(es, &ex, 6, &count, &eb), CA_ERR_CONFLICT);
    assert_int_equal(run_asn_case(es, &ex, UINT32_MAX, &count, &eb), CA_ERR_CONFLICT);
    /* An authenticator without a counter: 0 after 0 is fine, 0 after 3 is not. */
    assert_int_equal(ed->sign_count, 0);
    assert_int_equal(run_asn_case(ed, &ex, 0, &count, &eb), CA_OK);
    assert_int_equal(count, 0);
    assert_int_equal(run_asn_case(ed, &ex, 3, &count, &eb), CA_ERR_CONFLICT);
    assert_int_equal(count, 0);
    assert_int_equal(rs->sign_count, 1);
    assert_int_equal(run_asn_case(rs, &ex, 1, &count, &eb), CA_ERR_CONFLICT);
    /* A forged signature is refused as such, not as a counter conflict. */
    uint8_t sig[CA_WEBAUTHN_SIG_MAX];
    memcpy(sig, es->sig.p, es->sig.n);
    sig[es->sig.n - 1] ^= 1;
    bool uv;
    assert_int_equal(run_asn(&count, &uv, &ex, es->cose_key, 9, es->cdj.p, es->cdj.n, es->ad.p,
                             es->ad.n, sig, es->sig.n, &eb),
                     CA_ERR_VERIFY);
    assert_int_equal(count, 0);
}

/* Flips every bit of one of the three signed inputs of an assertion; none may be accepted. */
static void flip_all(const wa_asn_case *a, int which)
{
    ca_webauthn_expect ex = asn_expect();
    wa_buf parts[3] = {a->cdj, a->ad, a->sig};
    uint8_t *buf = dup_bytes(parts[which].p, parts[which].n);
    for (size_t bit = 0; bit < parts[which].n * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        wa_buf p[3] = {parts[0], parts[1], parts[2]};
        p[which].p = buf;
        uint32_t count;
        bool uv;
        ca_errbuf eb;
        ca_err err = run_asn(&count, &uv, &ex, a->cose_key, 0, p[0].p, p[0].n, p[1].p, p[1].n,
                             p[2].p, p[2].n, &eb);
        if (err == CA_OK || (which == 2 && err != CA_ERR_VERIFY))
            fail_msg("%s: part %d bit %zu flipped gives %s (%s)", a->desc, which, bit,
                     ca_strerror(err), eb.msg);
        check_message(&eb, a->desc);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    free(buf);
}

static void test_forged_bits(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++)
        for (int which = 0; which < 3; which++)
            flip_all(asn_valid(i), which);
}

/* A BER (non-DER) ES256 signature: the long form of the outer length. */
static void test_es256_signature_not_der(void **state)
{
    (void)state;
    const wa_asn_case *a = asn_valid(0);
    ca_webauthn_expect ex = asn_expect();
    uint8_t sig[80];
    assert_true(a->sig.n <= 72 && a->sig.p[0] == 0x30 && a->sig.p[1] < 0x80);
    sig[0] = 0x30;
    sig[1] = 0x81;
    memcpy(sig + 2, a->sig.p + 1, a->sig.n - 1);
    uint32_t count;
    bool uv;
    ca_errbuf eb;
    ca_err err = run_asn(&count, &uv, &ex, a->cose_key, 0, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n,
                         sig, a->sig.n + 1, &eb);
    assert_int_not_equal(err, CA_OK);
    /* Trailing bytes after the DER value. */
    memcpy(sig, a->sig.p, a->sig.n);
    sig[a->sig.n] = 0;
    if (a->sig.n < 72) {
        err = run_asn(&count, &uv, &ex, a->cose_key, 0, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n,
                      sig, a->sig.n + 1, &eb);
        assert_int_not_equal(err, CA_OK);
    }
}

static void test_truncated_attestation_object(void **state)
{
    (void)state;
    size_t ncases = sizeof wa_reg_cases / sizeof wa_reg_cases[0];
    for (size_t i = 0; i < ncases; i++) {
        const wa_reg_case *c = &wa_reg_cases[i];
        if (c->want != CA_OK)
            continue;
        ca_webauthn_expect ex = expect_of(c->challenge, c->origin, c->rp_id, c->require_uv);
        for (size_t len = 0; len < c->ao.n; len++) {
            ca_webauthn_credential cred;
            ca_errbuf eb;
            ca_err err = run_reg(&cred, &ex, c->cdj.p, c->cdj.n, c->ao.p, len, &eb);
            if (err == CA_OK)
                fail_msg("%s: accepted when cut to %zu of %zu bytes", c->desc, len, c->ao.n);
            check_message(&eb, c->desc);
            assert_int_equal(cred.id_len, 0);
        }
    }
}

/* Any single bit of an attestationObject flipped: no crash; when still accepted (the bit was
 * in the AAGUID, the credential id, the counter, a key coordinate that stays on the curve...),
 * the result is consistent. */
static void test_flipped_attestation_object(void **state)
{
    (void)state;
    ca_webauthn_expect ex = reg_expect();
    for (size_t i = 0; i < 3; i++) {
        const wa_reg_case *c = reg_valid(i);
        uint8_t *ao = dup_bytes(c->ao.p, c->ao.n);
        for (size_t bit = 0; bit < c->ao.n * 8; bit++) {
            ao[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ca_webauthn_credential cred;
            ca_errbuf eb;
            ca_err err = run_reg(&cred, &ex, c->cdj.p, c->cdj.n, ao, c->ao.n, &eb);
            if (err == CA_OK) {
                assert_true(cred.id_len >= 1 && cred.id_len <= CA_WEBAUTHN_CRED_ID_MAX);
                assert_true(cred.cose_key_len > 0 && cred.cose_key_len <= CA_WEBAUTHN_COSE_KEY_MAX);
            } else {
                check_message(&eb, c->desc);
            }
            ao[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        free(ao);
    }
}

static void test_truncated_auth_data(void **state)
{
    (void)state;
    ca_webauthn_expect ex = asn_expect();
    for (size_t i = 0; i < 3; i++) {
        const wa_asn_case *a = asn_valid(i);
        for (size_t len = 0; len < a->ad.n; len++) {
            uint32_t count;
            bool uv;
            ca_errbuf eb;
            ca_err err = run_asn(&count, &uv, &ex, a->cose_key, 0, a->cdj.p, a->cdj.n, a->ad.p,
                                 len, a->sig.p, a->sig.n, &eb);
            assert_int_not_equal(err, CA_OK);
            check_message(&eb, a->desc);
        }
        /* And one byte more. */
        uint8_t ad[64];
        assert_true(a->ad.n < sizeof ad);
        memcpy(ad, a->ad.p, a->ad.n);
        ad[a->ad.n] = 0;
        uint32_t count;
        bool uv;
        ca_errbuf eb;
        assert_int_equal(run_asn(&count, &uv, &ex, a->cose_key, 0, a->cdj.p, a->cdj.n, ad,
                                 a->ad.n + 1, a->sig.p, a->sig.n, &eb),
                         CA_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "trailing"));
        /* Every truncation of the stored COSE_Key. */
        for (size_t len = 0; len < a->cose_key.n; len++) {
            wa_buf key = {a->cose_key.p, len};
            assert_int_equal(run_asn(&count, &uv, &ex, key, 0, a->cdj.p, a->cdj.n, a->ad.p,
                                     a->ad.n, a->sig.p, a->sig.n, &eb),
                             CA_ERR_INVALID);
        }
    }
}

static void test_caps(void **state)
{
    (void)state;
    size_t big = CA_WEBAUTHN_ATT_OBJECT_MAX + 1;
    uint8_t *junk = calloc(1, big);
    assert_non_null(junk);
    const wa_reg_case *r = reg_valid(0);
    const wa_asn_case *a = asn_valid(0);
    ca_webauthn_expect rex = reg_expect(), aex = asn_expect();
    ca_webauthn_credential cred;
    uint32_t count;
    bool uv;
    ca_errbuf eb;
    assert_int_equal(run_reg(&cred, &rex, junk, CA_WEBAUTHN_CLIENT_DATA_MAX + 1, r->ao.p,
                             r->ao.n, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(run_reg(&cred, &rex, r->cdj.p, r->cdj.n, junk, big, &eb), CA_ERR_TOO_LARGE);
    wa_buf key = {junk, CA_WEBAUTHN_COSE_KEY_MAX + 1};
    assert_int_equal(run_asn(&count, &uv, &aex, key, 0, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n,
                             a->sig.p, a->sig.n, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(run_asn(&count, &uv, &aex, a->cose_key, 0, junk,
                             CA_WEBAUTHN_CLIENT_DATA_MAX + 1, a->ad.p, a->ad.n, a->sig.p,
                             a->sig.n, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(run_asn(&count, &uv, &aex, a->cose_key, 0, a->cdj.p, a->cdj.n, junk,
                             CA_WEBAUTHN_AUTH_DATA_MAX + 1, a->sig.p, a->sig.n, &eb),
                     CA_ERR_TOO_LARGE);
    assert_int_equal(run_asn(&count, &uv, &aex, a->cose_key, 0, a->cdj.p, a->cdj.n, a->ad.p,
                             a->ad.n, junk, CA_WEBAUTHN_SIG_MAX + 1, &eb), CA_ERR_TOO_LARGE);
    /* Empty inputs. */
    assert_int_equal(run_reg(&cred, &rex, r->cdj.p, 0, r->ao.p, r->ao.n, &eb), CA_ERR_INVALID);
    assert_int_equal(run_reg(&cred, &rex, r->cdj.p, r->cdj.n, r->ao.p, 0, &eb), CA_ERR_INVALID);
    free(junk);
}

/* Attestation objects that would make a naive decoder allocate, recurse or loop. */
static void test_cbor_bombs(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        uint8_t bytes[24];
        size_t len;
        const char *part;
    } bombs[] = {
        {"array of 2^32 items", {0x9b, 0, 0, 0, 1, 0, 0, 0, 0}, 9, "ends too early"},
        {"map of 2^62 pairs", {0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0}, 9, "ends too early"},
        {"byte string of 2^64-1 bytes", {0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9,
         "ends too early"},
        {"indefinite array", {0x9f, 0x01, 0xff}, 3, "indefinite"},
        {"indefinite byte string", {0x5f, 0x41, 0x00, 0xff}, 4, "indefinite"},
        {"a tag", {0xd8, 0x18, 0x41, 0x00}, 4, "tag"},
        {"a lone break", {0xff}, 1, "well-formed"},
        {"reserved additional information", {0x1c}, 1, "well-formed"},
        {"a one-byte simple value", {0xf8, 0x20}, 2, "well-formed"},
        {"an integer", {0x01}, 1, "map"},
        {"an empty map", {0xa0}, 1, "fmt"},
    };
    ca_webauthn_expect ex = reg_expect();
    const wa_reg_case *r = reg_valid(0);
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        ca_webauthn_credential cred;
        ca_errbuf eb;
        ca_err err = run_reg(&cred, &ex, r->cdj.p, r->cdj.n, bombs[i].bytes, bombs[i].len, &eb);
        if (err != CA_ERR_INVALID || !strstr(eb.msg, bombs[i].part))
            fail_msg("%s: got %s (%s)", bombs[i].desc, ca_strerror(err), eb.msg);
    }
    /* 2000 nested one-item arrays. */
    uint8_t deep[2001];
    memset(deep, 0x81, 2000);
    deep[2000] = 0x00;
    ca_webauthn_credential cred;
    ca_errbuf eb;
    assert_int_equal(run_reg(&cred, &ex, r->cdj.p, r->cdj.n, deep, sizeof deep, &eb),
                     CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "deeper"));
}

/* An attacker's fmt of 1000 bytes with control characters is not echoed. */
static void test_message_bounded(void **state)
{
    (void)state;
    uint8_t ao[1100];
    size_t n = 0;
    static const uint8_t head[] = {0xa2, 0x63, 'f', 'm', 't', 0x79, 0x03, 0xe8};
    memcpy(ao, head, sizeof head);
    n = sizeof head;
    for (size_t i = 0; i < 1000; i++)
        ao[n++] = (uint8_t)(i % 3 == 0 ? '\n' : (i % 3 == 1 ? 0x1b : 'A'));
    static const uint8_t tail[] = {0x67, 'a', 't', 't', 'S', 't', 'm', 't', 0xa0};
    memcpy(ao + n, tail, sizeof tail);
    n += sizeof tail;
    ca_webauthn_expect ex = reg_expect();
    const wa_reg_case *r = reg_valid(0);
    ca_webauthn_credential cred;
    ca_errbuf eb;
    assert_int_equal(run_reg(&cred, &ex, r->cdj.p, r->cdj.n, ao, n, &eb), CA_ERR_INVALID);
    check_message(&eb, "long fmt");
    assert_true(strlen(eb.msg) < 120);
    assert_non_null(strstr(eb.msg, "only \"none\""));
    /* A clientDataJSON that is not JSON at all, or JSON but not an object. */
    static const char *const bad_cdj[] = {
        "\x01\x02garbage\xff",
        "[1,2]",
        "\"webauthn.create\"",
        "{\"type\":1}",
        "{\"type\":\"webauthn.create\",\"challenge\":\"***\"}",
    };
    for (size_t i = 0; i < sizeof bad_cdj / sizeof bad_cdj[0]; i++) {
        assert_int_equal(run_reg(&cred, &ex, (const uint8_t *)bad_cdj[i], strlen(bad_cdj[i]),
                                 r->ao.p, r->ao.n, &eb),
                         CA_ERR_INVALID);
        check_message(&eb, bad_cdj[i]);
    }
}

/* NULL outputs are allowed for the assertion. */
static void test_null_outputs(void **state)
{
    (void)state;
    const wa_asn_case *a = asn_valid(0);
    ca_webauthn_expect ex = asn_expect();
    ca_errbuf eb;
    assert_int_equal(ca_webauthn_verify_assertion(NULL, NULL, &ex, a->cose_key.p, a->cose_key.n,
                                                  0, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n,
                                                  a->sig.p, a->sig.n, &eb),
                     CA_OK);
    assert_int_equal(ca_webauthn_verify_assertion(NULL, NULL, &ex, a->cose_key.p, a->cose_key.n,
                                                  0, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n,
                                                  a->sig.p, a->sig.n, NULL),
                     CA_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_cases),
        cmocka_unit_test(test_assertion_cases),
        cmocka_unit_test(test_register_then_sign_in),
        cmocka_unit_test(test_wrong_challenge),
        cmocka_unit_test(test_wrong_origin),
        cmocka_unit_test(test_wrong_rp_id),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_forged_bits),
        cmocka_unit_test(test_es256_signature_not_der),
        cmocka_unit_test(test_truncated_attestation_object),
        cmocka_unit_test(test_flipped_attestation_object),
        cmocka_unit_test(test_truncated_auth_data),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_cbor_bombs),
        cmocka_unit_test(test_message_bounded),
        cmocka_unit_test(test_null_outputs),
    };
    return ca_run_tests("webauthn", tests, NULL, NULL);
}
