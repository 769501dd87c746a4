/* Tests for node/data_key.c: the data.key file (create, reopen, wrong passphrase, missing,
 * wrong kind, modes), sealing (round trips, AAD binding, every bit flipped, truncation,
 * versions, fresh nonces, buffer capacity), the email blind index, and a known-answer check
 * that recomputes the documented construction (HKDF-SHA256 per RFC 5869, AES-256-GCM layout,
 * HMAC-SHA256 over "email:" || address) independently from the secret in the key file. Every
 * ca_data_key_open runs scrypt once (~100 ms), so the sealing tests share one key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "node/data_key.h"
#include "node/keystore.h"

static const char pass[] = "correct horse battery staple";
static const char aad[] = "user:42:email";

/* The key the sealing tests share, in its own directory (group setup). */
static char shared_dir[CA_TEST_DIR_MAX];
static ca_data_key *shared;

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];  /* fresh per test */
    char keys[CA_TEST_DIR_MAX + 16]; /* dir/keys, not made: ca_data_key_open makes it */
    char file[CA_TEST_DIR_MAX + 32]; /* dir/keys/data.key */
} fixture;

static int group_setup(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    if (!ca_test_tmpdir(shared_dir, sizeof shared_dir, "ca-data-key-shared-"))
        return -1;
    return ca_data_key_open(&shared, shared_dir, pass, strlen(pass), true, &eb) == CA_OK ? 0
                                                                                        : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ca_data_key_free(shared);
    ca_test_rmtree(shared_dir);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (!ca_test_tmpdir(f->dir, sizeof f->dir, "ca-data-key-")) {
        free(f);
        return -1;
    }
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    snprintf(f->file, sizeof f->file, "%s/data.key", f->keys);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ca_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Seals plain under the shared key into sealed (which holds len + CA_SEAL_OVERHEAD). */
static size_t seal(uint8_t *sealed, const uint8_t *plain, size_t len)
{
    size_t n = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_data_seal(shared, sealed, &n, plain, len, aad, strlen(aad), &eb), CA_OK);
    assert_int_equal(n, len + CA_SEAL_OVERHEAD);
    return n;
}

/* Opens sealed under the shared key and the standard aad; the plaintext buffer is filled with
 * a marker first, so a failure can be checked to leave nothing of the value behind. */
static ca_err open_sealed(uint8_t *out, size_t cap, size_t *len, const uint8_t *sealed,
                          size_t sealed_len)
{
    ca_errbuf eb = {{0}};
    memset(out, 0xEE, cap);
    *len = cap;
    ca_err rc = ca_data_open(shared, out, len, sealed, sealed_len, aad, strlen(aad), &eb);
    if (rc != CA_OK) {
        assert_int_equal(*len, 0);
        assert_true(eb.msg[0] != '\0');
    }
    return rc;
}

/* No byte of out[0..n) holds the value any more: each is the marker or zero. */
static void assert_no_plaintext(const uint8_t *out, size_t n, const uint8_t *plain)
{
    for (size_t i = 0; i < n; i++)
        if (out[i] != 0xEE && out[i] != 0)
            fail_msg("byte %zu of the output is 0x%02x after a failed open (value 0x%02x)", i,
                     out[i], plain[i]);
}

/* ---- sealing ---- */

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t plain[1024], sealed[1024 + CA_SEAL_OVERHEAD], out[1024];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7 + 3);
    size_t len;

    size_t n = seal(sealed, NULL, 0); /* the empty value */
    assert_int_equal(n, CA_SEAL_OVERHEAD);
    assert_int_equal(sealed[0], 1);
    assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_OK);
    assert_int_equal(len, 0);
    /* An empty value opens into no buffer at all. */
    ca_errbuf eb = {{0}};
    len = 0;
    assert_int_equal(ca_data_open(shared, NULL, &len, sealed, n, aad, strlen(aad), &eb), CA_OK);
    assert_int_equal(len, 0);

    n = seal(sealed, plain, sizeof plain); /* 1 KiB */
    assert_int_equal(sealed[0], 1);
    assert_memory_not_equal(sealed + 13, plain, 64); /* not the value in clear */
    assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_OK);
    assert_int_equal(len, sizeof plain);
    assert_memory_equal(out, plain, sizeof plain);

    /* NULL aad with length 0 is its own binding, distinct from any non-empty aad. */
    assert_int_equal(ca_data_seal(shared, sealed, &n, plain, 10, NULL, 0, &eb), CA_OK);
    len = sizeof out;
    assert_int_equal(ca_data_open(shared, out, &len, sealed, n, NULL, 0, &eb), CA_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(out, plain, 10);
    assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_ERR_VERIFY);
}

static void test_wrong_aad(void **state)
{
    (void)state;
    const uint8_t plain[] = "alice@example.com";
    uint8_t sealed[sizeof plain + CA_SEAL_OVERHEAD], out[sizeof plain];
    size_t n = seal(sealed, plain, sizeof plain);
    static const char *const others[] = {"user:43:email", "user:42:name", "user:42:email ",
                                         "user:42:emai", ""};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        size_t len = sizeof out;
        ca_errbuf eb = {{0}};
        memset(out, 0xEE, sizeof out);
        assert_int_equal(ca_data_open(shared, out, &len, sealed, n, others[i],
                                      strlen(others[i]), &eb),
                         CA_ERR_VERIFY);
        assert_int_equal(len, 0);
        assert_no_plaintext(out, sizeof out, plain);
        assert_null(strstr(eb.msg, "alice")); /* no plaintext in the message */
    }
}

static void test_flipped_bits(void **state)
{
    (void)state;
    uint8_t plain[40], sealed[40 + CA_SEAL_OVERHEAD], out[40];
    memset(plain, 'x', sizeof plain);
    size_t n = seal(sealed, plain, sizeof plain), len;
    /* Every bit of every byte: the version byte is refused as an unknown version before any
     * decryption; nonce, ciphertext and tag fail the GCM tag. */
    for (size_t pos = 0; pos < n; pos++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            sealed[pos] ^= (uint8_t)(1u << bit);
            ca_err rc = open_sealed(out, sizeof out, &len, sealed, n);
            if (rc == CA_OK)
                fail_msg("flipping bit %u of byte %zu went unnoticed", bit, pos);
            assert_int_equal(rc, pos == 0 ? CA_ERR_INVALID : CA_ERR_VERIFY);
            assert_no_plaintext(out, sizeof out, plain);
            sealed[pos] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_OK);
    assert_memory_equal(out, plain, sizeof plain);
}

static void test_truncated(void **state)
{
    (void)state;
    uint8_t plain[20], sealed[20 + CA_SEAL_OVERHEAD], out[20];
    memset(plain, 'y', sizeof plain);
    size_t n = seal(sealed, plain, sizeof plain), len;
    /* Shorter than version + nonce + tag: malformed. Long enough but cut: the tag fails. */
    for (size_t cut = 0; cut < n; cut++) {
        ca_err rc = open_sealed(out, sizeof out, &len, sealed, cut);
        assert_int_equal(rc, cut < CA_SEAL_OVERHEAD ? CA_ERR_INVALID : CA_ERR_VERIFY);
        assert_no_plaintext(out, sizeof out, plain);
    }
}

static void test_unknown_version(void **state)
{
    (void)state;
    uint8_t plain[8] = "version", sealed[8 + CA_SEAL_OVERHEAD], out[8];
    size_t n = seal(sealed, plain, sizeof plain), len;
    static const uint8_t versions[] = {0, 2, 0x81, 0xFF};
    for (size_t i = 0; i < sizeof versions; i++) {
        sealed[0] = versions[i];
        assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_ERR_INVALID);
    }
    sealed[0] = 1;
    assert_int_equal(open_sealed(out, sizeof out, &len, sealed, n), CA_OK);
}

static void test_seals_differ(void **state)
{
    (void)state;
    const uint8_t plain[] = "bob@example.org";
    uint8_t a[sizeof plain + CA_SEAL_OVERHEAD], b[sizeof plain + CA_SEAL_OVERHEAD];
    uint8_t out[sizeof plain];
    size_t na = seal(a, plain, sizeof plain), nb = seal(b, plain, sizeof plain), len;
    assert_int_equal(na, nb);
    assert_memory_not_equal(a + 1, b + 1, 12);                        /* fresh nonces */
    assert_memory_not_equal(a + 13, b + 13, sizeof plain);            /* so ciphertexts differ */
    assert_memory_not_equal(a + 13 + sizeof plain, b + 13 + sizeof plain, 16); /* and tags */
    assert_int_equal(open_sealed(out, sizeof out, &len, a, na), CA_OK);
    assert_memory_equal(out, plain, sizeof plain);
    assert_int_equal(open_sealed(out, sizeof out, &len, b, nb), CA_OK);
    assert_memory_equal(out, plain, sizeof plain);
}

static void test_small_buffer(void **state)
{
    (void)state;
    uint8_t plain[16] = "sixteen bytes!!", sealed[16 + CA_SEAL_OVERHEAD], out[16];
    size_t n = seal(sealed, plain, sizeof plain), len;
    assert_int_equal(open_sealed(out, 15, &len, sealed, n), CA_ERR_TOO_LARGE);
    assert_int_equal(open_sealed(out, 16, &len, sealed, n), CA_OK);
    assert_int_equal(len, 16);
}

/* ---- blind index ---- */

static void test_blind_email(void **state)
{
    (void)state;
    uint8_t want[CA_BLIND_INDEX_LEN], got[CA_BLIND_INDEX_LEN];
    ca_data_blind_email(shared, want, "alice@example.com");
    static const char *const same[] = {" Alice@Example.COM ", "ALICE@EXAMPLE.COM",
                                       "\t alice@example.com\t\t", "alice@example.com"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        ca_data_blind_email(shared, got, same[i]);
        if (memcmp(got, want, sizeof want) != 0)
            fail_msg("\"%s\" does not match alice@example.com", same[i]);
    }
    /* Inner spaces, other addresses and other trailing characters are different values. */
    static const char *const other[] = {"bob@example.com", "alice@example.co", "alice@ example.com",
                                        "alice@example.com\n", "", "email:alice@example.com"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        ca_data_blind_email(shared, got, other[i]);
        if (memcmp(got, want, sizeof want) == 0)
            fail_msg("\"%s\" matches alice@example.com", other[i]);
    }
    /* An address longer than the normalising block still folds its case. */
    char long_lower[300], long_mixed[300];
    memset(long_lower, 'a', 289);
    memcpy(long_lower + 289, "@b.example", 11); /* 299 characters and the NUL */
    memcpy(long_mixed, long_lower, sizeof long_mixed);
    long_mixed[200] = 'A';
    long_mixed[290] = 'B';
    ca_data_blind_email(shared, want, long_lower);
    ca_data_blind_email(shared, got, long_mixed);
    assert_memory_equal(got, want, sizeof want);
}

/* ---- the key file ---- */

static void test_create_reopen_and_mode(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    ca_data_key *k1 = NULL, *k2 = NULL, *k3 = NULL;
    assert_int_equal(ca_data_key_open(&k1, f->keys, pass, strlen(pass), true, &eb), CA_OK);
    struct stat st;
    assert_int_equal(stat(f->keys, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(f->file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    const uint8_t plain[] = "Alice Example";
    uint8_t sealed[sizeof plain + CA_SEAL_OVERHEAD], out[sizeof plain];
    uint8_t b1[CA_BLIND_INDEX_LEN], b2[CA_BLIND_INDEX_LEN];
    size_t n = 0, len = sizeof out;
    assert_int_equal(ca_data_seal(k1, sealed, &n, plain, sizeof plain, aad, strlen(aad), &eb),
                     CA_OK);
    ca_data_blind_email(k1, b1, "alice@example.com");
    ca_data_key_free(k1);

    /* From disk again: create=false, and create=true on the existing file (it is read, never
     * replaced: the same secret comes back). */
    assert_int_equal(ca_data_key_open(&k2, f->keys, pass, strlen(pass), false, &eb), CA_OK);
    assert_int_equal(ca_data_open(k2, out, &len, sealed, n, aad, strlen(aad), &eb), CA_OK);
    assert_int_equal(len, sizeof plain);
    assert_memory_equal(out, plain, sizeof plain);
    ca_data_blind_email(k2, b2, "alice@example.com");
    assert_memory_equal(b1, b2, sizeof b1);
    assert_int_equal(ca_data_key_open(&k3, f->keys, pass, strlen(pass), true, &eb), CA_OK);
    len = sizeof out;
    assert_int_equal(ca_data_open(k3, out, &len, sealed, n, aad, strlen(aad), &eb), CA_OK);
    assert_memory_equal(out, plain, sizeof plain);

    /* Another node's key (the shared one) opens nothing of this one's, and indexes apart. */
    len = sizeof out;
    assert_int_equal(ca_data_open(shared, out, &len, sealed, n, aad, strlen(aad), &eb),
                     CA_ERR_VERIFY);
    ca_data_blind_email(shared, b2, "alice@example.com");
    assert_memory_not_equal(b1, b2, sizeof b1);
    ca_data_key_free(k2);
    ca_data_key_free(k3);
    ca_data_key_free(NULL); /* allowed */
}

static void test_wrong_passphrase(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    ca_data_key *k = NULL;
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), true, &eb), CA_OK);
    ca_data_key_free(k);
    k = shared; /* any non-NULL value: a failed open must reset it */
    assert_int_equal(ca_data_key_open(&k, f->keys, "wrong", 5, false, &eb), CA_ERR_VERIFY);
    assert_null(k);
    /* create=true never answers a wrong passphrase with a new secret. */
    assert_int_equal(ca_data_key_open(&k, f->keys, "wrong", 5, true, &eb), CA_ERR_VERIFY);
    assert_null(k);
}

static void test_missing(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    ca_data_key *k = NULL;
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), false, &eb),
                     CA_ERR_NOT_FOUND);
    assert_null(k);
    struct stat st;
    assert_int_equal(stat(f->keys, &st), -1); /* nothing was created */
    /* The keys dir present but no data.key: the same. */
    assert_int_equal(mkdir(f->keys, 0700), 0);
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), false, &eb),
                     CA_ERR_NOT_FOUND);
    assert_int_equal(stat(f->file, &st), -1);
}

static void test_wrong_kind(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    ca_data_key *k = NULL;
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    assert_int_equal(mkdir(f->keys, 0700), 0);
    assert_int_equal(
        ca_keyfile_write(f->file, CA_KEY_ED25519, seed, sizeof seed, pass, strlen(pass), &eb),
        CA_OK);
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), true, &eb),
                     CA_ERR_INVALID);
    assert_null(k);
}

static void test_readable_file(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    ca_data_key *k = NULL;
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), true, &eb), CA_OK);
    ca_data_key_free(k);
    k = NULL;
    assert_int_equal(chmod(f->file, 0644), 0);
    assert_int_equal(ca_data_key_open(&k, f->keys, pass, strlen(pass), true, &eb),
                     CA_ERR_PERMISSION);
    assert_null(k);
}

/* ---- known answers: the construction, recomputed outside data_key.c ---- */

/* HKDF-SHA256 (RFC 5869 §2.2 extract, §2.3 expand) from HMAC alone, for L <= 64. */
static void hkdf_ref(uint8_t *okm, size_t L, const uint8_t *salt, size_t salt_len,
                     const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
    static const uint8_t zeros[32];
    uint8_t prk[32], t[32] = {0}, block[32 + 64 + 1];
    unsigned int n = 0;
    assert_true(L <= 64 && info_len <= 64);
    if (salt_len == 0) { /* "if not provided, it is set to a string of HashLen zeros" */
        salt = zeros;
        salt_len = sizeof zeros;
    }
    assert_non_null(HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n));
    size_t t_len = 0, done = 0;
    for (uint8_t i = 1; done < L; i++) { /* T(i) = HMAC(PRK, T(i-1) || info || i) */
        memcpy(block, t, t_len);
        memcpy(block + t_len, info, info_len);
        block[t_len + info_len] = i;
        assert_non_null(HMAC(EVP_sha256(), prk, 32, block, t_len + info_len + 1, t, &n));
        t_len = 32;
        size_t take = L - done < 32 ? L - done : 32;
        memcpy(okm + done, t, take);
        done += take;
    }
}

static void test_hkdf_rfc5869_case1(void **state)
{
    (void)state;
    /* RFC 5869 Appendix A.1 (Test Case 1): SHA-256, 22-byte IKM, 13-byte salt, 10-byte info. */
    uint8_t ikm[22], salt[13], info[10], okm[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    static const uint8_t want[42] = {
        0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36,
        0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56,
        0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65};
    hkdf_ref(okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info);
    assert_memory_equal(okm, want, sizeof want);
}

/* Reads the shared key's secret from its file, derives both keys with hkdf_ref (checked
 * against RFC 5869 above), and checks that ca_data_blind_email is HMAC-SHA256(blind key,
 * "email:" || normalised address) and that a sealed value is version || nonce || AES-256-GCM
 * ciphertext || tag under the seal key with the caller's aad. */
static void test_known_answer(void **state)
{
    (void)state;
    char path[CA_TEST_DIR_MAX + 16];
    snprintf(path, sizeof path, "%s/data.key", shared_dir);
    uint8_t secret[64], seal_key[32], blind_key[32];
    size_t secret_len = sizeof secret;
    ca_key_kind kind = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(
        ca_keyfile_read(secret, &secret_len, &kind, path, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(kind, CA_KEY_DATA);
    assert_int_equal(secret_len, 32);
    static const char seal_info[] = "credanchor data seal v1";
    static const char blind_info[] = "credanchor blind index v1";
    hkdf_ref(seal_key, 32, NULL, 0, secret, 32, (const uint8_t *)seal_info, strlen(seal_info));
    hkdf_ref(blind_key, 32, NULL, 0, secret, 32, (const uint8_t *)blind_info,
             strlen(blind_info));

    static const char msg[] = "email:alice@example.com";
    uint8_t want[32], got[CA_BLIND_INDEX_LEN];
    unsigned int n = 0;
    assert_non_null(HMAC(EVP_sha256(), blind_key, 32, (const uint8_t *)msg, strlen(msg), want, &n));
    ca_data_blind_email(shared, got, " Alice@Example.COM ");
    assert_memory_equal(got, want, sizeof want);

    const uint8_t plain[] = "known answer";
    uint8_t sealed[sizeof plain + CA_SEAL_OVERHEAD], out[sizeof plain];
    size_t sealed_len = seal(sealed, plain, sizeof plain);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    assert_non_null(ctx);
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_DecryptInit_ex(ctx, NULL, NULL, seal_key, sealed + 1), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad, (int)strlen(aad)),
                     1);
    assert_int_equal(EVP_DecryptUpdate(ctx, out, &outl, sealed + 13, (int)sizeof plain), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
                                         sealed + sealed_len - 16),
                     1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, out + outl, &outl), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_memory_equal(out, plain, sizeof plain);
    OPENSSL_cleanse(secret, sizeof secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_wrong_aad),
        cmocka_unit_test(test_flipped_bits),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_seals_differ),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_blind_email),
        cmocka_unit_test(test_hkdf_rfc5869_case1),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test_setup_teardown(test_create_reopen_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readable_file, setup, teardown),
    };
    return ca_run_tests("data_key", tests, group_setup, group_teardown);
}
