/* Tests for anchor/checkpoint.c: signed-note checkpoints (SPEC §1, C2SP tlog-checkpoint and
 * signed-note). Fixed vectors: a note for the RFC 8032 test-1 key (computed independently
 * with Node's crypto), and the PeterNeumann / EnochRoot vectors from Go's
 * golang.org/x/mod/sumdb/note tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "credanchor/checkpoint.h"
#include "credanchor/encoding.h"

static const char *rfc_seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *origin = "example.org/credanchor";

/* origin, size 12345, root = bytes 0x00..0x1f, signed with the RFC 8032 test-1 key. */
static const char expected_note[] =
    "example.org/credanchor\n"
    "12345\n"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    "\n"
    "\xE2\x80\x94 example.org/credanchor "
    "8D4yr5QKSjY8ksdTYJ/pgXhWvH9x3pahcZopTASeU42CPyg+us5SfEX2JPU/922kKW3uI7gSw+nSZllf3Zie3m6M2AE=\n";
static const char expected_vkey[] =
    "example.org/credanchor+f03e32af+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";

typedef struct fixture {
    ca_ed25519_key *key;
    uint8_t pub[32];
    ca_note_verifier v;
    ca_checkpoint cp;
    char note[CA_NOTE_MAX];
    size_t note_len;
} fixture;

static fixture fx;

static int setup(void **state)
{
    (void)state;
    uint8_t seed[32];
    memset(&fx, 0, sizeof fx);
    if (ca_hex_decode(seed, 32, rfc_seed, 64) != CA_OK ||
        ca_ed25519_key_from_seed(&fx.key, seed) != CA_OK)
        return -1;
    ca_ed25519_key_public(fx.key, fx.pub);
    char vkey[CA_VERIFIER_KEY_MAX];
    ca_verifier_key_format(vkey, origin, fx.pub);
    if (ca_verifier_key_parse(&fx.v, vkey, strlen(vkey), NULL) != CA_OK)
        return -1;
    strcpy(fx.cp.origin, origin);
    fx.cp.size = 12345;
    for (int i = 0; i < 32; i++)
        fx.cp.root.b[i] = (uint8_t)i;
    if (ca_checkpoint_sign(fx.note, &fx.note_len, &fx.cp, fx.key, NULL) != CA_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ca_ed25519_key_free(fx.key);
    return 0;
}

static ca_err open_text(const char *text, ca_checkpoint *cp)
{
    ca_errbuf eb = {{0}};
    ca_err rc = ca_checkpoint_open(cp, text, strlen(text), &fx.v, &eb);
    if (rc != CA_OK)
        assert_true(eb.msg[0] != '\0' && strchr(eb.msg, '\n') == NULL);
    return rc;
}

static void test_exact_layout(void **state)
{
    (void)state;
    assert_int_equal(fx.note_len, strlen(expected_note));
    assert_string_equal(fx.note, expected_note);
}

static void test_verifier_key_text(void **state)
{
    (void)state;
    char vkey[CA_VERIFIER_KEY_MAX];
    ca_verifier_key_format(vkey, origin, fx.pub);
    assert_string_equal(vkey, expected_vkey);

    uint8_t id[4];
    ca_note_key_id(id, origin, fx.pub);
    assert_memory_equal(id, "\xf0\x3e\x32\xaf", 4);

    ca_note_verifier v;
    assert_int_equal(ca_verifier_key_parse(&v, vkey, strlen(vkey), NULL), CA_OK);
    assert_string_equal(v.name, origin);
    assert_memory_equal(v.key_id, id, 4);
    assert_memory_equal(v.pub, fx.pub, 32);
}

static void test_round_trip(void **state)
{
    (void)state;
    ca_checkpoint cp;
    memset(&cp, 0xFF, sizeof cp);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_checkpoint_open(&cp, fx.note, fx.note_len, &fx.v, &eb), CA_OK);
    assert_string_equal(cp.origin, origin);
    assert_int_equal(cp.size, 12345);
    assert_memory_equal(cp.root.b, fx.cp.root.b, 32);

    /* Edge sizes: 0 and 2^64-1. */
    static const uint64_t sizes[] = {0, 1, 10, UINT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        ca_checkpoint in = fx.cp, out;
        in.size = sizes[i];
        char note[CA_NOTE_MAX];
        size_t len;
        assert_int_equal(ca_checkpoint_sign(note, &len, &in, fx.key, NULL), CA_OK);
        assert_int_equal(len, strlen(note));
        assert_int_equal(ca_checkpoint_open(&out, note, len, &fx.v, NULL), CA_OK);
        assert_true(out.size == sizes[i]);
    }

    /* A longest-possible origin still fits. */
    ca_checkpoint big = fx.cp, out;
    memset(big.origin, 'o', CA_ORIGIN_MAX);
    big.origin[CA_ORIGIN_MAX] = '\0';
    big.size = UINT64_MAX;
    char note[CA_NOTE_MAX], vkey[CA_VERIFIER_KEY_MAX];
    size_t len;
    assert_int_equal(ca_checkpoint_sign(note, &len, &big, fx.key, NULL), CA_OK);
    ca_note_verifier v;
    ca_verifier_key_format(vkey, big.origin, fx.pub);
    assert_int_equal(ca_verifier_key_parse(&v, vkey, strlen(vkey), NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&out, note, len, &v, NULL), CA_OK);
    assert_string_equal(out.origin, big.origin);
}

static void test_sign_rejects_bad_origin(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "has space", "a+b", "tab\there", "nl\nx",
                                      "nbsp\xC2\xA0x", "\xFF"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ca_checkpoint cp = fx.cp;
        snprintf(cp.origin, sizeof cp.origin, "%s", bad[i]);
        char note[CA_NOTE_MAX];
        size_t len;
        assert_int_equal(ca_checkpoint_sign(note, &len, &cp, fx.key, NULL), CA_ERR_INVALID);
    }
    ca_checkpoint cp = fx.cp;
    memset(cp.origin, 'o', sizeof cp.origin); /* not NUL-terminated within the field */
    char note[CA_NOTE_MAX];
    size_t len;
    assert_int_equal(ca_checkpoint_sign(note, &len, &cp, fx.key, NULL), CA_ERR_INVALID);
}

/* Replaces the first occurrence of from with to in expected_note. */
static void mutate(char *out, size_t cap, const char *from, const char *to)
{
    const char *at = strstr(expected_note, from);
    assert_non_null(at);
    int n = snprintf(out, cap, "%.*s%s%s", (int)(at - expected_note), expected_note, to,
                     at + strlen(from));
    assert_true(n > 0 && (size_t)n < cap);
}

static void test_flipped_bytes(void **state)
{
    (void)state;
    char buf[CA_NOTE_MAX + 1];
    size_t len = strlen(expected_note);
    ca_checkpoint cp;
    /* Flipping any bit of any byte is caught (as malformed or as a bad signature). */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, expected_note, len);
            buf[i] = (char)(buf[i] ^ (1 << bit));
            ca_err rc = ca_checkpoint_open(&cp, buf, len, &fx.v, NULL);
            if (rc == CA_OK)
                fail_msg("flip of bit %d in byte %zu accepted", bit, i);
        }
    }
    /* A body change that stays well-formed is a signature failure. */
    mutate(buf, sizeof buf, "12345", "12346");
    assert_int_equal(open_text(buf, &cp), CA_ERR_VERIFY);
    mutate(buf, sizeof buf, "AAECAwQF", "AAECAwQG");
    assert_int_equal(open_text(buf, &cp), CA_ERR_VERIFY);
}

static void test_wrong_key_and_key_id(void **state)
{
    (void)state;
    ca_checkpoint cp;
    /* A different key with the same name. */
    uint8_t other_seed[32] = {42};
    ca_ed25519_key *other = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&other, other_seed), CA_OK);
    uint8_t other_pub[32];
    ca_ed25519_key_public(other, other_pub);
    char vkey[CA_VERIFIER_KEY_MAX];
    ca_verifier_key_format(vkey, origin, other_pub);
    ca_note_verifier v;
    assert_int_equal(ca_verifier_key_parse(&v, vkey, strlen(vkey), NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, expected_note, strlen(expected_note), &v, NULL),
                     CA_ERR_VERIFY);

    /* The right public key but a different key id: no line by this key. */
    v = fx.v;
    v.key_id[0] ^= 1;
    assert_int_equal(ca_checkpoint_open(&cp, expected_note, strlen(expected_note), &v, NULL),
                     CA_ERR_VERIFY);

    /* The right key id but a wrong public key: the signature does not verify. */
    v = fx.v;
    memcpy(v.pub, other_pub, 32);
    assert_int_equal(ca_checkpoint_open(&cp, expected_note, strlen(expected_note), &v, NULL),
                     CA_ERR_VERIFY);

    /* A verifier whose name is not the origin. */
    ca_verifier_key_format(vkey, "other.example/credanchor", fx.pub);
    assert_int_equal(ca_verifier_key_parse(&v, vkey, strlen(vkey), NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, expected_note, strlen(expected_note), &v, NULL),
                     CA_ERR_VERIFY);

    /* A note signed by another key, under the same name, alongside ours: ours still
     * verifies; unknown lines are ignored whether before or after. */
    char note2[CA_NOTE_MAX];
    size_t n2;
    assert_int_equal(ca_checkpoint_sign(note2, &n2, &fx.cp, other, NULL), CA_OK);
    const char *other_line = strstr(note2, "\n\n") + 2;
    const char *our_line = strstr(expected_note, "\n\n") + 2;
    char combo[CA_NOTE_MAX + 1];
    size_t body = (size_t)(our_line - expected_note);
    snprintf(combo, sizeof combo, "%.*s%s%s", (int)body, expected_note, other_line, our_line);
    assert_int_equal(open_text(combo, &cp), CA_OK);
    snprintf(combo, sizeof combo, "%.*s%s%s", (int)body, expected_note, our_line, other_line);
    assert_int_equal(open_text(combo, &cp), CA_OK);
    /* Only the other key's line: no signature by us. */
    assert_int_equal(open_text(note2, &cp), CA_ERR_VERIFY);
    /* Unknown lines from other signers with other names. */
    snprintf(combo, sizeof combo, "%.*s\xE2\x80\x94 witness.example AAAAAAA=\n%s", (int)body,
             expected_note, our_line);
    assert_int_equal(open_text(combo, &cp), CA_OK);
    ca_ed25519_key_free(other);
}

static void test_malformed(void **state)
{
    (void)state;
    char buf[2 * CA_NOTE_MAX];
    ca_checkpoint cp;

    /* Missing blank line. */
    mutate(buf, sizeof buf, "=\n\n\xE2\x80\x94", "=\n\xE2\x80\x94");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Extra (extension) body line. */
    mutate(buf, sizeof buf, "=\n\n", "=\nextension\n\n");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Two lines only. */
    mutate(buf, sizeof buf, "12345\n", "");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Extra blank line between body and signatures. */
    mutate(buf, sizeof buf, "=\n\n", "=\n\n\n");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Leading zero, sign, hex, empty, overflow in the size. */
    static const char *const bad_sizes[] = {"012345", "+12345", "0x3039", "",
                                            "18446744073709551616", "1 2345", "-1"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        char from[16], to[32];
        snprintf(from, sizeof from, "\n12345\n");
        snprintf(to, sizeof to, "\n%s\n", bad_sizes[i]);
        mutate(buf, sizeof buf, from, to);
        assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    }
    /* Root: bad base64, 31 bytes, 33 bytes, unpadded, non-canonical trailing bits. */
    static const char *const bad_roots[] = {
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",     /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",     /* 33 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",      /* no padding */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",     /* trailing bits set */
        "",
    };
    for (size_t i = 0; i < sizeof bad_roots / sizeof bad_roots[0]; i++) {
        mutate(buf, sizeof buf, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", bad_roots[i]);
        assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    }
    /* Wrong dash: ASCII hyphen, EN DASH U+2013, missing space. */
    mutate(buf, sizeof buf, "\xE2\x80\x94 ", "- ");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "\xE2\x80\x94 ", "\xE2\x80\x93 ");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "\xE2\x80\x94 ", "\xE2\x80\x94");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* No trailing newline after the signature. */
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(expected_note) - 1, expected_note);
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Signature block empty. */
    mutate(buf, sizeof buf, "\n\n", "\n\n\n");
    buf[strstr(buf, "\n\n\n") - buf + 3] = '\0';
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Trailing junk line after the signature. */
    snprintf(buf, sizeof buf, "%sUnexpected line.\n", expected_note);
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Bad signer name, bad signature base64, too-short signature blob. */
    mutate(buf, sizeof buf, "\xE2\x80\x94 example.org/credanchor ",
           "\xE2\x80\x94 example.org/credanchor+x ");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "8D4yr5QK", "8D4y!5QK");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "\n\n", "\n\n\xE2\x80\x94 a AAAA\n");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Control character and invalid UTF-8. */
    mutate(buf, sizeof buf, "example.org", "exa\tmple.org");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "12345\n", "12345\r\n");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    mutate(buf, sizeof buf, "example.org", "exa\xC3mple.org");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Origin with a space. */
    mutate(buf, sizeof buf, "example.org/credanchor\n", "example.org credanchor\n");
    assert_int_equal(open_text(buf, &cp), CA_ERR_INVALID);
    /* Empty input, and embedded NUL. */
    assert_int_equal(ca_checkpoint_open(&cp, "", 0, &fx.v, NULL), CA_ERR_INVALID);
    assert_int_equal(ca_checkpoint_open(&cp, expected_note, strlen(expected_note) + 1, &fx.v,
                                        NULL),
                     CA_ERR_INVALID);
}

static void test_oversized(void **state)
{
    (void)state;
    static const char line[] = "\xE2\x80\x94 w AAAAAAA=\n"; /* an unknown signer's line */
    const size_t line_len = sizeof line - 1;
    char buf[CA_NOTE_MAX + 64];
    ca_checkpoint cp;
    /* Pad with unknown signature lines while still within the cap: accepted. */
    size_t len = strlen(expected_note);
    memcpy(buf, expected_note, len);
    while (len + line_len <= CA_NOTE_MAX) {
        memcpy(buf + len, line, line_len);
        len += line_len;
    }
    assert_int_equal(ca_checkpoint_open(&cp, buf, len, &fx.v, NULL), CA_OK);
    /* One more line goes over: refused before any parsing. */
    memcpy(buf + len, line, line_len);
    len += line_len;
    assert_true(len > CA_NOTE_MAX);
    assert_int_equal(ca_checkpoint_open(&cp, buf, len, &fx.v, NULL), CA_ERR_TOO_LARGE);
}

static void test_verifier_key_parse_negatives(void **state)
{
    (void)state;
    ca_note_verifier v;
    const char *good = expected_vkey;
    size_t n = strlen(good);
    assert_int_equal(ca_verifier_key_parse(&v, good, n, NULL), CA_OK);
    /* Every proper substring and every single-byte increment fails (as Go's tests). */
    char buf[CA_VERIFIER_KEY_MAX];
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i + 1; j <= n; j++)
            if (i != 0 || j != n)
                assert_int_not_equal(ca_verifier_key_parse(&v, good + i, j - i, NULL), CA_OK);
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, good, n);
        buf[i]++;
        assert_int_not_equal(ca_verifier_key_parse(&v, buf, n, NULL), CA_OK);
    }
    /* Upper-case hex key id is accepted (Go parses it as a number). */
    snprintf(buf, sizeof buf, "example.org/credanchor+F03E32AF+%s", good + strlen(origin) + 10);
    assert_int_equal(ca_verifier_key_parse(&v, buf, strlen(buf), NULL), CA_OK);
    assert_int_equal(ca_verifier_key_parse(&v, "", 0, NULL), CA_ERR_INVALID);
    /* Too long. */
    char big[CA_VERIFIER_KEY_MAX + 2];
    memset(big, 'a', sizeof big);
    assert_int_equal(ca_verifier_key_parse(&v, big, sizeof big, NULL), CA_ERR_TOO_LARGE);
    /* Go's bad keys: wrong-length key and unknown algorithm, each with a matching hash. */
    static const char *const go_bad[] = {
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    };
    for (size_t i = 0; i < 2; i++) {
        ca_errbuf eb = {{0}};
        assert_int_equal(ca_verifier_key_parse(&v, go_bad[i], strlen(go_bad[i]), &eb),
                         CA_ERR_INVALID);
        assert_true(eb.msg[0] != '\0');
    }
}

/* golang.org/x/mod/sumdb/note test vectors. */
static const char peter_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char enoch_vkey[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
/* Seed from "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz". */
static const char peter_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char peter_text[] = "If you think cryptography is the answer to your problem,\n"
                                 "then you don't know what your problem is.\n";
static const char peter_sig_b64[] =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

static void test_go_sumdb_note_vectors(void **state)
{
    (void)state;
    ca_note_verifier v;
    assert_int_equal(ca_verifier_key_parse(&v, peter_vkey, strlen(peter_vkey), NULL), CA_OK);
    assert_string_equal(v.name, "PeterNeumann");
    assert_memory_equal(v.key_id, "\xc7\x4f\x20\xa3", 4);
    uint8_t id[4];
    ca_note_key_id(id, "PeterNeumann", v.pub);
    assert_memory_equal(id, "\xc7\x4f\x20\xa3", 4);
    char vkey[CA_VERIFIER_KEY_MAX];
    ca_verifier_key_format(vkey, "PeterNeumann", v.pub);
    assert_string_equal(vkey, peter_vkey);

    /* The signature line's blob is key id || Ed25519 signature over the text. */
    uint8_t blob[68];
    size_t blob_len = sizeof blob;
    assert_int_equal(ca_base64_decode(blob, &blob_len, peter_sig_b64, strlen(peter_sig_b64)),
                     CA_OK);
    assert_int_equal(blob_len, 68);
    assert_memory_equal(blob, v.key_id, 4);
    assert_int_equal(ca_ed25519_verify(v.pub, blob + 4, peter_text, strlen(peter_text)), CA_OK);
    blob[10] ^= 1;
    assert_int_equal(ca_ed25519_verify(v.pub, blob + 4, peter_text, strlen(peter_text)),
                     CA_ERR_VERIFY);

    /* The private key signs to exactly that signature (Ed25519 is deterministic). */
    uint8_t skey[33];
    size_t skey_len = sizeof skey;
    assert_int_equal(ca_base64_decode(skey, &skey_len, peter_skey_b64, strlen(peter_skey_b64)),
                     CA_OK);
    assert_int_equal(skey_len, 33);
    assert_int_equal(skey[0], 0x01);
    ca_ed25519_key *k = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&k, skey + 1), CA_OK);
    uint8_t pub[32], sig[64];
    ca_ed25519_key_public(k, pub);
    assert_memory_equal(pub, v.pub, 32);
    assert_int_equal(ca_ed25519_sign(k, sig, peter_text, strlen(peter_text)), CA_OK);
    blob[10] ^= 1;
    assert_memory_equal(sig, blob + 4, 64);
    ca_ed25519_key_free(k);

    assert_int_equal(ca_verifier_key_parse(&v, enoch_vkey, strlen(enoch_vkey), NULL), CA_OK);
    assert_string_equal(v.name, "EnochRoot");
    ca_verifier_key_format(vkey, "EnochRoot", v.pub);
    assert_string_equal(vkey, enoch_vkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_layout),
        cmocka_unit_test(test_verifier_key_text),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_rejects_bad_origin),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_wrong_key_and_key_id),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_verifier_key_parse_negatives),
        cmocka_unit_test(test_go_sumdb_note_vectors),
    };
    return ca_run_tests("checkpoint", tests, setup, teardown);
}
