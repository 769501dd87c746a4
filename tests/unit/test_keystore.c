/* Tests for node/keystore.c: key file round trips, tampering, permissions, no-replace, and the
 * passphrase file. Each key file read runs scrypt (N=2^15, ~100 ms), so the tamper test flips
 * every header byte but only a sample of the encrypted part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/keystore.h"
#include "credanchor/signer.h"

#define KEYFILE_LEN 85 /* 37-byte header, 32-byte secret, 16-byte tag */

static const char pass[] = "correct horse battery staple";

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (!ca_test_tmpdir(f->dir, sizeof f->dir, "ca-keystore-")) {
        free(f);
        return -1;
    }
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

static void path_in(char *out, size_t cap, const fixture *f, const char *name)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

static size_t read_file(uint8_t *buf, size_t cap, const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_round_trip_both_kinds(void **state)
{
    fixture *f = *state;
    char p1[256], p2[256];
    path_in(p1, sizeof p1, f, "log.key");
    path_in(p2, sizeof p2, f, "anchor.key");
    uint8_t s1[32], s2[32], out[64];
    for (int i = 0; i < 32; i++) {
        s1[i] = (uint8_t)i;
        s2[i] = (uint8_t)(0xA0 + i);
    }
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p1, CA_KEY_ED25519, s1, 32, pass, strlen(pass), &eb),
                     CA_OK);
    assert_int_equal(ca_keyfile_write(p2, CA_KEY_SECP256K1, s2, 32, pass, strlen(pass), &eb),
                     CA_OK);
    /* Only the two files: no temporary left behind. */
    assert_int_equal(count_entries(f->dir), 2);

    struct stat st;
    assert_int_equal(stat(p1, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, KEYFILE_LEN);

    size_t len = sizeof out;
    ca_key_kind kind = 0;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p1, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(len, 32);
    assert_int_equal(kind, CA_KEY_ED25519);
    assert_memory_equal(out, s1, 32);

    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p2, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(len, 32);
    assert_int_equal(kind, CA_KEY_SECP256K1);
    assert_memory_equal(out, s2, 32);

    /* The secret does not appear in the file in the clear. */
    uint8_t file[128];
    size_t n = read_file(file, sizeof file, p1);
    assert_null(memmem(file, n, s1, 8));

    /* A capacity too small for the secret. */
    len = 16;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p1, pass, strlen(pass), &eb),
                     CA_ERR_TOO_LARGE);
}

/* An RSA PKCS#8 DER (variable length, up to CA_SIGNER_SECRET_MAX) and a P-256 scalar. */
static void test_round_trip_rsa_and_p256(void **state)
{
    fixture *f = *state;
    char p1[256], p2[256], p3[256];
    path_in(p1, sizeof p1, f, "issuer-rsa.key");
    path_in(p2, sizeof p2, f, "issuer-p256.key");
    path_in(p3, sizeof p3, f, "max.key");
    static uint8_t rsa[CA_SIGNER_SECRET_MAX], out[CA_SIGNER_SECRET_MAX], big[CA_SIGNER_SECRET_MAX];
    uint8_t p256[CA_SIGNER_SECRET_MAX];
    size_t rsa_len = 0, p256_len = 0, len;
    ca_key_kind kind = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_signer_generate(rsa, &rsa_len, CA_ALG_RS256, &eb), CA_OK);
    assert_true(rsa_len > 1000 && rsa_len <= CA_SIGNER_SECRET_MAX);
    assert_int_equal(ca_signer_generate(p256, &p256_len, CA_ALG_ES256, &eb), CA_OK);
    assert_int_equal(p256_len, 32);

    assert_int_equal(ca_keyfile_write(p1, CA_KEY_RSA, rsa, rsa_len, pass, strlen(pass), &eb),
                     CA_OK);
    assert_int_equal(ca_keyfile_write(p2, CA_KEY_P256, p256, 32, pass, strlen(pass), &eb), CA_OK);
    struct stat st;
    assert_int_equal(stat(p1, &st), 0);
    assert_int_equal(st.st_size, 37 + (off_t)rsa_len + 16);

    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p1, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(kind, CA_KEY_RSA);
    assert_int_equal(len, rsa_len);
    assert_memory_equal(out, rsa, rsa_len);
    /* The stored secret opens as a signer. */
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, out, len, &eb), CA_OK);
    ca_signer_free(s);

    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p2, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(kind, CA_KEY_P256);
    assert_int_equal(len, 32);
    assert_memory_equal(out, p256, 32);

    /* A capacity of 32 (what the curve-key callers pass) is too small for an RSA secret. */
    len = 32;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p1, pass, strlen(pass), &eb),
                     CA_ERR_TOO_LARGE);

    /* The largest RSA secret round trips; the file is then exactly at the read cap. */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(ca_keyfile_write(p3, CA_KEY_RSA, big, sizeof big, pass, strlen(pass), &eb),
                     CA_OK);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p3, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(out, big, sizeof big);

    /* A P-256 file whose ciphertext is not 32 bytes is refused before decryption. */
    uint8_t file[128];
    size_t n = read_file(file, sizeof file, p2);
    assert_int_equal(n, KEYFILE_LEN);
    char t[256];
    path_in(t, sizeof t, f, "t");
    write_file(t, file, n - 1, 0600);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                     CA_ERR_INVALID);
    ca_wipe(rsa, sizeof rsa);
    ca_wipe(p256, sizeof p256);
}

static void test_wrong_passphrase(void **state)
{
    fixture *f = *state;
    char p[256];
    path_in(p, sizeof p, f, "k");
    uint8_t s[32] = {1, 2, 3}, out[32];
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb), CA_OK);
    size_t len = sizeof out;
    ca_key_kind kind;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p, "wrong", 5, &eb), CA_ERR_VERIFY);
    assert_non_null(strstr(eb.msg, p));
    assert_null(strchr(eb.msg, '\n'));
    /* A passphrase that differs only by a trailing byte. */
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p, pass, strlen(pass) - 1, &eb),
                     CA_ERR_VERIFY);
}

static void test_tampering(void **state)
{
    fixture *f = *state;
    char p[256], t[256];
    path_in(p, sizeof p, f, "k");
    path_in(t, sizeof t, f, "tampered");
    uint8_t s[32], out[32], file[256];
    memset(s, 0x5A, sizeof s);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p, CA_KEY_SECP256K1, s, 32, pass, strlen(pass), &eb),
                     CA_OK);
    size_t n = read_file(file, sizeof file, p);
    assert_int_equal(n, KEYFILE_LEN);

    /* Every header byte (magic, version, kind, scrypt parameters), then a sample of salt,
     * nonce, ciphertext and tag. */
    static const size_t positions[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  16, 24,
                                       25, 30, 36, 37, 52, 68, 69, 76, 84};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            size_t pos = positions[i];
            file[pos] ^= (uint8_t)(1u << bit);
            write_file(t, file, n, 0600);
            size_t len = sizeof out;
            ca_key_kind kind;
            ca_err rc = ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb);
            if (rc == CA_OK)
                fail_msg("flipping bit %d of byte %zu went unnoticed", bit, pos);
            if (pos >= 9)
                assert_int_equal(rc, CA_ERR_VERIFY);
            file[pos] ^= (uint8_t)(1u << bit);
        }
    }
    /* Untouched copy still reads. */
    write_file(t, file, n, 0600);
    size_t len = sizeof out;
    ca_key_kind kind;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb), CA_OK);
    assert_memory_equal(out, s, 32);
}

static void test_truncated_and_not_a_keyfile(void **state)
{
    fixture *f = *state;
    char p[256], t[256];
    path_in(p, sizeof p, f, "k");
    path_in(t, sizeof t, f, "t");
    uint8_t s[32] = {9}, out[32], file[4200];
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb), CA_OK);
    size_t n = read_file(file, sizeof file, p);
    size_t len;
    ca_key_kind kind;

    static const size_t cuts[] = {0, 3, 4, 20, 52, KEYFILE_LEN - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(t, file, cuts[i], 0600);
        len = sizeof out;
        assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                         CA_ERR_INVALID);
        assert_non_null(strstr(eb.msg, t));
    }
    /* Extra trailing bytes. */
    file[n] = 0;
    write_file(t, file, n + 1, 0600);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                     CA_ERR_INVALID);

    write_file(t, "-----BEGIN PRIVATE KEY-----\n", 28, 0600);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                     CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "not a credanchor key file"));

    /* Over the size cap. */
    memset(file, 'A', sizeof file);
    memcpy(file, "CAKF", 4);
    write_file(t, file, sizeof file, 0600);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                     CA_ERR_TOO_LARGE);

    /* Out-of-range scrypt parameters are refused before scrypt runs. */
    n = read_file(file, sizeof file, p);
    file[6] = 30; /* log2 N */
    write_file(t, file, n, 0600);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, t, pass, strlen(pass), &eb),
                     CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "scrypt"));

    char missing[256];
    path_in(missing, sizeof missing, f, "missing");
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, missing, pass, strlen(pass), &eb),
                     CA_ERR_NOT_FOUND);
    /* A directory is not a key file. */
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, f->dir, pass, strlen(pass), &eb),
                     CA_ERR_INVALID);
}

static void test_permissions(void **state)
{
    fixture *f = *state;
    char p[256];
    path_in(p, sizeof p, f, "k");
    uint8_t s[32] = {7}, out[32];
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb), CA_OK);
    static const mode_t bad_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601};
    for (size_t i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
        assert_int_equal(chmod(p, bad_modes[i]), 0);
        size_t len = sizeof out;
        ca_key_kind kind;
        eb.msg[0] = '\0';
        assert_int_equal(ca_keyfile_read(out, &len, &kind, p, pass, strlen(pass), &eb),
                         CA_ERR_PERMISSION);
        assert_non_null(strstr(eb.msg, p));
        assert_non_null(strstr(eb.msg, "chmod 600"));
        assert_null(strchr(eb.msg, '\n'));
    }
    assert_int_equal(chmod(p, 0400), 0);
    size_t len = sizeof out;
    ca_key_kind kind;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, p, pass, strlen(pass), &eb), CA_OK);
}

static void test_no_replace(void **state)
{
    fixture *f = *state;
    char p[256];
    path_in(p, sizeof p, f, "k");
    write_file(p, "precious", 8, 0600);
    uint8_t s[32] = {1};
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_keyfile_write(p, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb),
                     CA_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, p));
    uint8_t buf[16];
    assert_int_equal(read_file(buf, sizeof buf, p), 8);
    assert_memory_equal(buf, "precious", 8);
    assert_int_equal(count_entries(f->dir), 1);

    /* Second write of a fresh key to the same path. */
    char q[256];
    path_in(q, sizeof q, f, "q");
    assert_int_equal(ca_keyfile_write(q, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(ca_keyfile_write(q, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb),
                     CA_ERR_EXISTS);
    assert_int_equal(count_entries(f->dir), 2);

    /* A directory that does not exist. */
    char r[256];
    path_in(r, sizeof r, f, "nodir/k");
    assert_int_equal(ca_keyfile_write(r, CA_KEY_ED25519, s, 32, pass, strlen(pass), &eb),
                     CA_ERR_IO);
    assert_non_null(strstr(eb.msg, r));
}

static void test_passphrase_create_load(void **state)
{
    fixture *f = *state;
    char p[256];
    path_in(p, sizeof p, f, "passphrase");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_passphrase_create(p, &eb), CA_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);

    char buf[CA_PASSPHRASE_MAX];
    size_t len = 0;
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_int_equal(len, 64);
    assert_int_equal(strlen(buf), 64);
    for (size_t i = 0; i < len; i++)
        assert_non_null(strchr("0123456789abcdef", buf[i]));

    /* Never overwritten. */
    assert_int_equal(ca_passphrase_create(p, &eb), CA_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, p));
    char again[CA_PASSPHRASE_MAX];
    size_t len2 = 0;
    assert_int_equal(ca_passphrase_load(again, &len2, p, &eb), CA_OK);
    assert_string_equal(again, buf);

    /* Two created passphrases differ. */
    char p2[256];
    path_in(p2, sizeof p2, f, "passphrase2");
    assert_int_equal(ca_passphrase_create(p2, &eb), CA_OK);
    assert_int_equal(ca_passphrase_load(again, &len2, p2, &eb), CA_OK);
    assert_string_not_equal(again, buf);

    /* Group/other access refused. */
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_PERMISSION);
    assert_non_null(strstr(eb.msg, p));
    assert_non_null(strstr(eb.msg, "chmod 600"));
}

static void test_passphrase_contents(void **state)
{
    fixture *f = *state;
    char p[256];
    path_in(p, sizeof p, f, "pp");
    char buf[CA_PASSPHRASE_MAX];
    size_t len;
    ca_errbuf eb = {{0}};

    write_file(p, "secret", 6, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "secret");

    write_file(p, "secret\r\n", 8, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_string_equal(buf, "secret");

    write_file(p, " spaced out \n", 13, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_string_equal(buf, " spaced out ");

    static const char *const empties[] = {"", "\n", "\r\n"};
    for (size_t i = 0; i < 3; i++) {
        write_file(p, empties[i], strlen(empties[i]), 0600);
        eb.msg[0] = '\0';
        assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_INVALID);
        assert_non_null(strstr(eb.msg, p));
    }
    write_file(p, "two\nlines\n", 10, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_INVALID);
    write_file(p, "secret\n\n", 8, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_INVALID);
    write_file(p, "nul\0byte", 8, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_INVALID);

    /* Longest accepted: CA_PASSPHRASE_MAX - 1 bytes, with or without "\r\n". */
    char big[CA_PASSPHRASE_MAX + 8];
    memset(big, 'x', sizeof big);
    write_file(p, big, CA_PASSPHRASE_MAX - 1, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_int_equal(len, CA_PASSPHRASE_MAX - 1);
    big[CA_PASSPHRASE_MAX - 1] = '\r';
    big[CA_PASSPHRASE_MAX] = '\n';
    write_file(p, big, CA_PASSPHRASE_MAX + 1, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_OK);
    assert_int_equal(len, CA_PASSPHRASE_MAX - 1);
    memset(big, 'x', sizeof big);
    write_file(p, big, CA_PASSPHRASE_MAX, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_TOO_LARGE);
    assert_non_null(strstr(eb.msg, p));
    write_file(p, big, sizeof big, 0600);
    assert_int_equal(ca_passphrase_load(buf, &len, p, &eb), CA_ERR_TOO_LARGE);

    /* A FIFO is refused at once rather than waited on. */
    char fifo[256];
    path_in(fifo, sizeof fifo, f, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(ca_passphrase_load(buf, &len, fifo, &eb), CA_ERR_INVALID);

    char missing[256];
    path_in(missing, sizeof missing, f, "nope");
    assert_int_equal(ca_passphrase_load(buf, &len, missing, &eb), CA_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, missing));
}

static void test_passphrase_drives_keyfile(void **state)
{
    fixture *f = *state;
    char pp[256], k[256];
    path_in(pp, sizeof pp, f, "passphrase");
    path_in(k, sizeof k, f, "log.key");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_passphrase_create(pp, &eb), CA_OK);
    char pw[CA_PASSPHRASE_MAX];
    size_t pw_len;
    assert_int_equal(ca_passphrase_load(pw, &pw_len, pp, &eb), CA_OK);
    uint8_t s[32], out[32];
    memset(s, 0xEE, sizeof s);
    assert_int_equal(ca_keyfile_write(k, CA_KEY_ED25519, s, 32, pw, pw_len, &eb), CA_OK);
    size_t len = sizeof out;
    ca_key_kind kind;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, k, pw, pw_len, &eb), CA_OK);
    assert_memory_equal(out, s, 32);
}

/* The memo scope (keystore.h): files written in one scope share a salt and read back in a
 * scope, a wrong passphrase still fails inside it (the memo is per passphrase), and outside
 * any scope every file gets a fresh salt. */

static void test_memo_scope(void **state)
{
    fixture *f = *state;
    char a[256], b[256], c[256], d[256];
    path_in(a, sizeof a, f, "a");
    path_in(b, sizeof b, f, "b");
    path_in(c, sizeof c, f, "c");
    path_in(d, sizeof d, f, "d");
    uint8_t s1[32], s2[32], out[32], fa[KEYFILE_LEN], fb[KEYFILE_LEN], fc[KEYFILE_LEN],
        fd[KEYFILE_LEN];
    memset(s1, 0x11, sizeof s1);
    memset(s2, 0x22, sizeof s2);
    ca_errbuf eb = {{0}};
    size_t len;
    ca_key_kind kind;

    ca_keystore_memo_begin();
    assert_int_equal(ca_keyfile_write(a, CA_KEY_ED25519, s1, 32, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(ca_keyfile_write(b, CA_KEY_SECP256K1, s2, 32, pass, strlen(pass), &eb),
                     CA_OK);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, a, pass, strlen(pass), &eb), CA_OK);
    assert_memory_equal(out, s1, 32);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, b, "wrong", 5, &eb), CA_ERR_VERIFY);
    ca_keystore_memo_end();

    /* Outside a scope: fresh salts, and reads still work (scrypt each time). */
    assert_int_equal(ca_keyfile_write(c, CA_KEY_ED25519, s1, 32, pass, strlen(pass), &eb), CA_OK);
    assert_int_equal(ca_keyfile_write(d, CA_KEY_ED25519, s1, 32, pass, strlen(pass), &eb), CA_OK);
    len = sizeof out;
    assert_int_equal(ca_keyfile_read(out, &len, &kind, b, pass, strlen(pass), &eb), CA_OK);
    assert_memory_equal(out, s2, 32);
    assert_int_equal(kind, CA_KEY_SECP256K1);

    assert_int_equal(read_file(fa, sizeof fa, a), KEYFILE_LEN);
    assert_int_equal(read_file(fb, sizeof fb, b), KEYFILE_LEN);
    assert_int_equal(read_file(fc, sizeof fc, c), KEYFILE_LEN);
    assert_int_equal(read_file(fd, sizeof fd, d), KEYFILE_LEN);
    assert_memory_equal(fa + 9, fb + 9, 16);     /* one salt inside the scope */
    assert_memory_not_equal(fa + 25, fb + 25, 12); /* but never one nonce */
    assert_memory_not_equal(fc + 9, fd + 9, 16); /* fresh salts outside */
    assert_memory_not_equal(fa + 9, fc + 9, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_both_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_rsa_and_p256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_not_a_keyfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_create_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_drives_keyfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_scope, setup, teardown),
    };
    return ca_run_tests("keystore", tests, NULL, NULL);
}
