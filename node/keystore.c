/* Keys at rest: the passphrase file and scrypt + AES-256-GCM key files (keystore.h, SPEC §7).
 *
 * Key file layout (binary, version 1; multi-byte fields none, so no byte order to get wrong):
 *
 *   off len
 *     0   4  magic "CAKF"
 *     4   1  version = 1
 *     5   1  kind (ca_key_kind)
 *     6   1  scrypt log2(N)   (written: 15)
 *     7   1  scrypt r         (written: 8)
 *     8   1  scrypt p         (written: 1)
 *     9  16  scrypt salt (random)
 *    25  12  GCM nonce (random)
 *    37   n  ciphertext (n = 32 for Ed25519, secp256k1, P-256 and the data secret; 1..4096
 *            for an RSA PKCS#8 DER)
 *  37+n  16  GCM tag
 *
 * Bytes 0..36 (everything before the ciphertext) are the GCM additional data, so no header
 * field can be changed without the tag failing. The scrypt parameters are stored so a later
 * version can raise them; on reading they are capped (N <= 2^20, memory <= 256 MiB, bounded
 * work) *before* scrypt runs, because an attacker who can edit the file could otherwise make
 * the node spend unbounded memory or time before the tag is ever checked.
 *
 * Files are written atomically (temp file opened O_EXCL with mode 0600, fsync, renameat2
 * RENAME_NOREPLACE or link()+unlink() where the filesystem lacks it, fsync of the directory)
 * and never replace an existing file. Files group or others have any permission on are
 * refused. Derived keys and plaintext are wiped on every path.
 */
#include "node/keystore.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/signer.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KF_MAGIC "CAKF"
#define KF_MAGIC_LEN 4
#define KF_VERSION 1
#define KF_SALT_LEN 16
#define KF_NONCE_LEN 12
#define KF_TAG_LEN 16
#define KF_KEY_LEN 32
#define KF_OFF_SALT 9
#define KF_OFF_NONCE (KF_OFF_SALT + KF_SALT_LEN)
#define KF_HEADER_LEN (KF_OFF_NONCE + KF_NONCE_LEN) /* 37: the AAD */
#define KF_SECRET_LEN 32                    /* Ed25519, secp256k1, P-256 and data secrets */
#define KF_SECRET_MAX CA_SIGNER_SECRET_MAX  /* an RSA PKCS#8 DER */
#define KF_FILE_MAX (KF_HEADER_LEN + KF_SECRET_MAX + KF_TAG_LEN) /* read cap */

/* Parameters written today (about 100 ms and 32 MiB). */
#define KF_LOG2N_DEFAULT 15
#define KF_R_DEFAULT 8
#define KF_P_DEFAULT 1

/* Caps checked before running scrypt on a file's parameters. */
#define KF_LOG2N_MAX 20
#define KF_R_MAX 32
#define KF_P_MAX 16
#define KF_MAXMEM ((uint64_t)256 << 20)
#define KF_WORK_MAX ((uint64_t)1 << 25) /* N * r * p; default is 2^18 */

/* ---- small file helpers ---- */

/* Reads until EOF or cap bytes. *more is set when the file holds more than cap bytes. */
static int read_capped(int fd, uint8_t *buf, size_t cap, size_t *n, bool *more)
{
    size_t got = 0;
    *more = false;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got == cap) {
        uint8_t extra;
        ssize_t r;
        do {
            r = read(fd, &extra, 1);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
            return -1;
        *more = r > 0;
    }
    *n = got;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

ca_err ca_fsync_dir(const char *dir, ca_errbuf *eb)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ca_fail(eb, CA_ERR_IO, "%s: cannot open the directory: %s", dir, strerror(errno));
    int rc = fsync(dfd);
    int err = errno;
    close(dfd);
    if (rc != 0)
        return ca_fail(eb, CA_ERR_IO, "%s: cannot fsync the directory: %s", dir, strerror(err));
    return CA_OK;
}

/* fsyncs the directory holding path so a create or rename in it is durable. */
static ca_err fsync_parent(const char *path, ca_errbuf *eb)
{
    char copy[PATH_MAX];
    if (strlen(path) >= sizeof copy)
        return ca_fail(eb, CA_ERR_INVALID, "%s: path too long", path);
    strcpy(copy, path);
    return ca_fsync_dir(dirname(copy), eb);
}

/* Opens path for reading and refuses it unless it is a regular file with no group/other
 * permission bits. what names the file's role in messages ("key file", "passphrase file"). */
static ca_err open_private(int *fd_out, const char *path, const char *what, ca_errbuf *eb)
{
    /* O_NONBLOCK so a FIFO planted at path cannot hang us; it is refused just below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return ca_fail(eb, CA_ERR_NOT_FOUND, "%s %s does not exist", what, path);
        if (err == EACCES)
            return ca_fail(eb, CA_ERR_PERMISSION, "%s %s: permission denied", what, path);
        return ca_fail(eb, CA_ERR_IO, "%s %s: cannot open: %s", what, path, strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return ca_fail(eb, CA_ERR_IO, "%s %s: cannot stat: %s", what, path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ca_fail(eb, CA_ERR_INVALID, "%s %s is not a regular file", what, path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return ca_fail(eb, CA_ERR_PERMISSION,
                       "%s %s has mode %04o, which lets group or others access it; "
                       "run chmod 600 %s", what, path, (unsigned)(st.st_mode & 07777), path);
    }
    *fd_out = fd;
    return CA_OK;
}

/* ---- passphrase file ---- */

ca_err ca_passphrase_create(const char *path, ca_errbuf *eb)
{
    CA_ASSERT(path != NULL);
    uint8_t raw[32];
    char text[2 * sizeof raw + 2];
    ca_err result = CA_OK;
    int fd = -1;

    if (ca_random_bytes(raw, sizeof raw) != CA_OK) {
        result = ca_fail(eb, CA_ERR_CRYPTO, "passphrase file %s: the random generator failed",
                         path);
        goto out;
    }
    ca_hex_encode(text, raw, sizeof raw);
    text[2 * sizeof raw] = '\n';
    text[2 * sizeof raw + 1] = '\0';

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0) {
        int err = errno;
        if (err == EEXIST)
            result = ca_fail(eb, CA_ERR_EXISTS, "passphrase file %s already exists", path);
        else if (err == EACCES)
            result = ca_fail(eb, CA_ERR_PERMISSION, "passphrase file %s: permission denied",
                             path);
        else
            result = ca_fail(eb, CA_ERR_IO, "passphrase file %s: cannot create: %s", path,
                             strerror(err));
        goto out;
    }
    if (write_all(fd, text, 2 * sizeof raw + 1) != 0 || fsync(fd) != 0) {
        result = ca_fail(eb, CA_ERR_IO, "passphrase file %s: cannot write: %s", path,
                         strerror(errno));
        close(fd);
        fd = -1;
        unlink(path); /* never leave a half-written passphrase behind */
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        result = ca_fail(eb, CA_ERR_IO, "passphrase file %s: cannot write: %s", path,
                         strerror(errno));
        unlink(path);
        goto out;
    }
    fd = -1;
    result = fsync_parent(path, eb);
out:
    if (fd >= 0)
        close(fd);
    ca_wipe(raw, sizeof raw);
    ca_wipe(text, sizeof text);
    return result;
}

/* The passphrase is the file's one line: one trailing "\n" or "\r\n" is dropped; any other
 * CR, LF or NUL byte makes the file invalid (it would silently differ from what the operator
 * sees). Other bytes, spaces included, are taken as they are. */
ca_err ca_passphrase_load(char *pass, size_t *pass_len, const char *path, ca_errbuf *eb)
{
    CA_ASSERT(pass != NULL && pass_len != NULL && path != NULL);
    *pass_len = 0;
    pass[0] = '\0';
    uint8_t buf[CA_PASSPHRASE_MAX + 2]; /* up to MAX-1 bytes, "\r\n", one over */
    size_t n = 0;
    bool more = false;
    int fd;
    ca_err result = open_private(&fd, path, "passphrase file", eb);
    if (result != CA_OK)
        return result;
    if (read_capped(fd, buf, sizeof buf, &n, &more) != 0) {
        result = ca_fail(eb, CA_ERR_IO, "passphrase file %s: cannot read: %s", path,
                         strerror(errno));
        goto out;
    }
    if (more) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE,
                         "passphrase file %s is longer than %d bytes", path,
                         CA_PASSPHRASE_MAX - 1);
        goto out;
    }
    if (n && buf[n - 1] == '\n') {
        n--;
        if (n && buf[n - 1] == '\r')
            n--;
    }
    if (n == 0) {
        result = ca_fail(eb, CA_ERR_INVALID, "passphrase file %s is empty", path);
        goto out;
    }
    if (n > CA_PASSPHRASE_MAX - 1) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE,
                         "passphrase file %s is longer than %d bytes", path,
                         CA_PASSPHRASE_MAX - 1);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\0') {
            result = ca_fail(eb, CA_ERR_INVALID,
                             "passphrase file %s must hold a single line of text", path);
            goto out;
        }
    }
    memcpy(pass, buf, n);
    pass[n] = '\0';
    *pass_len = n;
out:
    close(fd);
    ca_wipe(buf, sizeof buf);
    return result;
}

/* ---- key files ---- */

static bool kind_known(unsigned kind)
{
    return kind == CA_KEY_ED25519 || kind == CA_KEY_SECP256K1 || kind == CA_KEY_RSA ||
           kind == CA_KEY_P256 || kind == CA_KEY_DATA;
}

/* Fixed 32 bytes for the curve kinds and the data secret; 1..KF_SECRET_MAX for an RSA PKCS#8
 * DER. */
static bool secret_len_ok(unsigned kind, size_t len)
{
    if (kind == CA_KEY_RSA)
        return len >= 1 && len <= KF_SECRET_MAX;
    return len == KF_SECRET_LEN;
}

/* scrypt's memory need as OpenSSL counts it: 128*r*p for B plus 128*r*(N+2) for V. */
static uint64_t scrypt_mem(unsigned log2n, unsigned r, unsigned p)
{
    return 128u * (uint64_t)r * (((uint64_t)1 << log2n) + 2 + p);
}

static bool scrypt_params_ok(unsigned log2n, unsigned r, unsigned p)
{
    if (log2n < 1 || log2n > KF_LOG2N_MAX || r < 1 || r > KF_R_MAX || p < 1 || p > KF_P_MAX)
        return false;
    if (scrypt_mem(log2n, r, p) > KF_MAXMEM)
        return false;
    return ((uint64_t)1 << log2n) * r * p <= KF_WORK_MAX;
}

static ca_err derive_key(uint8_t key[KF_KEY_LEN], const char *pass, size_t pass_len,
                         const uint8_t salt[KF_SALT_LEN], unsigned log2n, unsigned r,
                         unsigned p)
{
    ca_err result = CA_ERR_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (!kctx)
        goto out;
    uint64_t n = (uint64_t)1 << log2n, maxmem = KF_MAXMEM;
    uint32_t r32 = r, p32 = p;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, pass_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, KF_SALT_LEN),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(kctx, key, KF_KEY_LEN, params) == 1)
        result = CA_OK;
out:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return result;
}

/* ---- the derived-key memo ----
 * scrypt is the cost of opening a key file (~100 ms natively, seconds under valgrind), and a
 * node opens seven. Inside a memo scope (ca_keystore_memo_begin/end: node open and init; a
 * rotation, which runs after the open, writes its files under fresh salts) a key derived for
 * (passphrase, salt, parameters) is kept and reused, and files written in the scope take
 * the salt of the scope's newest derivation, so one `init` writes every key file under one
 * salt and later opens derive once. Sharing a salt between files of one node loses nothing:
 * they share the passphrase anyway, every file has its own random GCM nonce, and a salt only
 * has to keep precomputation from spanning nodes.
 * Outside any scope nothing is kept: a serving node that decrypts its anchor key for each
 * anchoring holds no derived key in between. Closing the outermost scope wipes the memo. */
#define KF_MEMO_SLOTS 8

static struct kf_memo {
    bool used;
    uint8_t log2n, r, p;
    uint8_t salt[KF_SALT_LEN];
    ca_hash pass_hash; /* SHA-256 of the passphrase: tells passphrases apart, no more */
    uint8_t key[KF_KEY_LEN];
} kf_memo[KF_MEMO_SLOTS];
static unsigned kf_memo_depth, kf_memo_next;
static pthread_mutex_t kf_memo_lock = PTHREAD_MUTEX_INITIALIZER;

void ca_keystore_memo_begin(void)
{
    pthread_mutex_lock(&kf_memo_lock);
    kf_memo_depth++;
    pthread_mutex_unlock(&kf_memo_lock);
}

void ca_keystore_memo_end(void)
{
    pthread_mutex_lock(&kf_memo_lock);
    CA_ASSERT(kf_memo_depth > 0);
    if (--kf_memo_depth == 0) {
        ca_wipe(kf_memo, sizeof kf_memo);
        kf_memo_next = 0;
    }
    pthread_mutex_unlock(&kf_memo_lock);
}

/* Finds the memo entry for (passphrase hash, salt, parameters); salt NULL: the newest entry
 * with the default parameters (a salt for a new file). Caller holds kf_memo_lock. */
static struct kf_memo *memo_find(const ca_hash *pass_hash, const uint8_t *salt, unsigned log2n,
                                 unsigned r, unsigned p)
{
    for (unsigned k = 1; k <= KF_MEMO_SLOTS; k++) {
        struct kf_memo *m = &kf_memo[(kf_memo_next + KF_MEMO_SLOTS - k) % KF_MEMO_SLOTS];
        if (m->used && m->log2n == log2n && m->r == r && m->p == p &&
            CRYPTO_memcmp(m->pass_hash.b, pass_hash->b, sizeof m->pass_hash.b) == 0 &&
            (!salt || memcmp(m->salt, salt, KF_SALT_LEN) == 0))
            return m;
    }
    return NULL;
}

/* derive_key through the memo (when a scope is open). */
static ca_err derive_key_memo(uint8_t key[KF_KEY_LEN], const char *pass, size_t pass_len,
                              const uint8_t salt[KF_SALT_LEN], unsigned log2n, unsigned r,
                              unsigned p)
{
    ca_hash ph;
    ca_sha256(&ph, pass, pass_len);
    pthread_mutex_lock(&kf_memo_lock);
    struct kf_memo *m = kf_memo_depth ? memo_find(&ph, salt, log2n, r, p) : NULL;
    if (m)
        memcpy(key, m->key, KF_KEY_LEN);
    pthread_mutex_unlock(&kf_memo_lock);
    if (m) {
        ca_wipe(&ph, sizeof ph);
        return CA_OK;
    }
    ca_err err = derive_key(key, pass, pass_len, salt, log2n, r, p);
    pthread_mutex_lock(&kf_memo_lock);
    if (!err && kf_memo_depth) {
        m = &kf_memo[kf_memo_next];
        kf_memo_next = (kf_memo_next + 1) % KF_MEMO_SLOTS;
        *m = (struct kf_memo){.used = true, .log2n = (uint8_t)log2n, .r = (uint8_t)r,
                              .p = (uint8_t)p, .pass_hash = ph};
        memcpy(m->salt, salt, KF_SALT_LEN);
        memcpy(m->key, key, KF_KEY_LEN);
    }
    pthread_mutex_unlock(&kf_memo_lock);
    ca_wipe(&ph, sizeof ph);
    return err;
}

/* The salt for a new file: the scope's newest default-parameter salt for this passphrase,
 * else a random one. */
static ca_err new_file_salt(uint8_t salt[KF_SALT_LEN], const char *pass, size_t pass_len)
{
    ca_hash ph;
    ca_sha256(&ph, pass, pass_len);
    pthread_mutex_lock(&kf_memo_lock);
    struct kf_memo *m = kf_memo_depth ? memo_find(&ph, NULL, KF_LOG2N_DEFAULT, KF_R_DEFAULT,
                                                  KF_P_DEFAULT)
                                      : NULL;
    if (m)
        memcpy(salt, m->salt, KF_SALT_LEN);
    pthread_mutex_unlock(&kf_memo_lock);
    ca_wipe(&ph, sizeof ph);
    return m ? CA_OK : ca_random_bytes(salt, KF_SALT_LEN);
}

/* AES-256-GCM one-shot. enc: in -> out, tag written; !enc: tag checked (CA_ERR_VERIFY). */
static ca_err gcm(bool enc, uint8_t *out, const uint8_t key[KF_KEY_LEN],
                  const uint8_t nonce[KF_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, uint8_t tag[KF_TAG_LEN])
{
    ca_err result = CA_ERR_CRYPTO;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, finl = 0;
    if (!ctx)
        goto out;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, KF_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
        goto out;
    if (EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        goto out;
    if (enc) {
        if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KF_TAG_LEN, tag) != 1)
            goto out;
    } else {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KF_TAG_LEN, tag) != 1)
            goto out;
        if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1) {
            result = CA_ERR_VERIFY;
            goto out;
        }
    }
    result = CA_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return result;
}

/* Moves tmp to path without ever replacing path: renameat2(RENAME_NOREPLACE), or link() and
 * unlink() on filesystems without it. Returns 0, or -1 with errno (EEXIST when path exists). */
static int rename_noreplace(const char *tmp, const char *path)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    if (link(tmp, path) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

ca_err ca_keyfile_write(const char *path, ca_key_kind kind, const uint8_t *secret,
                        size_t secret_len, const char *pass, size_t pass_len, ca_errbuf *eb)
{
    CA_ASSERT(path != NULL && secret != NULL && pass != NULL);
    CA_ASSERT(kind_known((unsigned)kind));
    CA_ASSERT(secret_len_ok((unsigned)kind, secret_len));
    uint8_t file[KF_FILE_MAX];
    size_t file_len = KF_HEADER_LEN + secret_len + KF_TAG_LEN;
    uint8_t key[KF_KEY_LEN];
    char tmp[PATH_MAX];
    bool tmp_made = false;
    int fd = -1;
    ca_err result;

    if (pass_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "key file %s: the passphrase is empty", path);
    /* Cheap early answer; rename_noreplace is what actually guarantees no replacement. */
    if (access(path, F_OK) == 0)
        return ca_fail(eb, CA_ERR_EXISTS, "key file %s already exists; not replacing it",
                       path);

    memcpy(file, KF_MAGIC, KF_MAGIC_LEN);
    file[4] = KF_VERSION;
    file[5] = (uint8_t)kind;
    file[6] = KF_LOG2N_DEFAULT;
    file[7] = KF_R_DEFAULT;
    file[8] = KF_P_DEFAULT;
    uint8_t suffix[8];
    if (new_file_salt(file + KF_OFF_SALT, pass, pass_len) != CA_OK ||
        ca_random_bytes(file + KF_OFF_NONCE, KF_NONCE_LEN) != CA_OK ||
        ca_random_bytes(suffix, sizeof suffix) != CA_OK) {
        result = ca_fail(eb, CA_ERR_CRYPTO, "key file %s: the random generator failed", path);
        goto out;
    }
    result = derive_key_memo(key, pass, pass_len, file + KF_OFF_SALT, KF_LOG2N_DEFAULT,
                             KF_R_DEFAULT, KF_P_DEFAULT);
    if (result != CA_OK) {
        result = ca_fail(eb, result, "key file %s: scrypt key derivation failed", path);
        goto out;
    }
    result = gcm(true, file + KF_HEADER_LEN, key, file + KF_OFF_NONCE, file, KF_HEADER_LEN,
                 secret, secret_len, file + KF_HEADER_LEN + secret_len);
    if (result != CA_OK) {
        result = ca_fail(eb, result, "key file %s: encryption failed", path);
        goto out;
    }

    char sfx[2 * sizeof suffix + 1];
    ca_hex_encode(sfx, suffix, sizeof suffix);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, sfx) >= sizeof tmp) {
        result = ca_fail(eb, CA_ERR_INVALID, "key file %s: path too long", path);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0) {
        int err = errno;
        result = ca_fail(eb, err == EACCES ? CA_ERR_PERMISSION : CA_ERR_IO,
                         "key file %s: cannot create temporary file %s: %s", path, tmp,
                         strerror(err));
        goto out;
    }
    tmp_made = true;
    if (write_all(fd, file, file_len) != 0 || fsync(fd) != 0) {
        result = ca_fail(eb, errno == ENOSPC ? CA_ERR_FULL : CA_ERR_IO,
                         "key file %s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        result = ca_fail(eb, CA_ERR_IO, "key file %s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    if (rename_noreplace(tmp, path) != 0) {
        int err = errno;
        if (err == EEXIST)
            result = ca_fail(eb, CA_ERR_EXISTS, "key file %s already exists; not replacing it",
                             path);
        else
            result = ca_fail(eb, CA_ERR_IO, "key file %s: cannot move %s into place: %s", path,
                             tmp, strerror(err));
        goto out;
    }
    tmp_made = false;
    result = fsync_parent(path, eb);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    ca_wipe(key, sizeof key);
    ca_wipe(file, sizeof file);
    return result;
}

ca_err ca_keyfile_read(uint8_t *secret, size_t *secret_len, ca_key_kind *kind, const char *path,
                       const char *pass, size_t pass_len, ca_errbuf *eb)
{
    CA_ASSERT(secret != NULL && secret_len != NULL && kind != NULL);
    CA_ASSERT(path != NULL && pass != NULL);
    uint8_t file[KF_FILE_MAX];
    uint8_t plain[KF_FILE_MAX];
    uint8_t key[KF_KEY_LEN];
    size_t n = 0;
    bool more = false;
    int fd;
    ca_err result = open_private(&fd, path, "key file", eb);
    if (result != CA_OK)
        return result;
    int rc = read_capped(fd, file, sizeof file, &n, &more);
    int err = errno;
    close(fd);
    if (rc != 0) {
        result = ca_fail(eb, CA_ERR_IO, "key file %s: cannot read: %s", path, strerror(err));
        goto out;
    }
    if (more) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE, "key file %s is larger than %d bytes", path,
                         KF_FILE_MAX);
        goto out;
    }
    if (n < KF_MAGIC_LEN || memcmp(file, KF_MAGIC, KF_MAGIC_LEN) != 0) {
        result = ca_fail(eb, CA_ERR_INVALID, "%s is not a credanchor key file", path);
        goto out;
    }
    if (n < KF_HEADER_LEN + KF_TAG_LEN) {
        result = ca_fail(eb, CA_ERR_INVALID, "key file %s is truncated", path);
        goto out;
    }
    if (file[4] != KF_VERSION) {
        result = ca_fail(eb, CA_ERR_INVALID, "key file %s has unsupported version %u", path,
                         file[4]);
        goto out;
    }
    if (!kind_known(file[5])) {
        result = ca_fail(eb, CA_ERR_INVALID, "key file %s has unknown key kind %u", path,
                         file[5]);
        goto out;
    }
    size_t ct_len = n - KF_HEADER_LEN - KF_TAG_LEN;
    if (!secret_len_ok(file[5], ct_len)) {
        if (file[5] == CA_KEY_RSA)
            result = ca_fail(eb, CA_ERR_INVALID,
                             "key file %s holds a %zu-byte secret, expected 1..%d (truncated?)",
                             path, ct_len, KF_SECRET_MAX);
        else
            result = ca_fail(eb, CA_ERR_INVALID,
                             "key file %s holds a %zu-byte secret, expected %d (truncated?)",
                             path, ct_len, KF_SECRET_LEN);
        goto out;
    }
    if (!scrypt_params_ok(file[6], file[7], file[8])) {
        result = ca_fail(eb, CA_ERR_INVALID,
                         "key file %s has out-of-range scrypt parameters (log2 N=%u r=%u p=%u)",
                         path, file[6], file[7], file[8]);
        goto out;
    }
    if (*secret_len < ct_len) {
        result = ca_fail(eb, CA_ERR_TOO_LARGE,
                         "key file %s: its %zu-byte secret does not fit in %zu bytes", path,
                         ct_len, *secret_len);
        goto out;
    }
    result = derive_key_memo(key, pass, pass_len, file + KF_OFF_SALT, file[6], file[7],
                             file[8]);
    if (result != CA_OK) {
        result = ca_fail(eb, result, "key file %s: scrypt key derivation failed", path);
        goto out;
    }
    result = gcm(false, plain, key, file + KF_OFF_NONCE, file, KF_HEADER_LEN,
                 file + KF_HEADER_LEN, ct_len, file + KF_HEADER_LEN + ct_len);
    if (result == CA_ERR_VERIFY) {
        result = ca_fail(eb, CA_ERR_VERIFY,
                         "key file %s: wrong passphrase, or the file has been altered", path);
        goto out;
    }
    if (result != CA_OK) {
        result = ca_fail(eb, result, "key file %s: decryption failed", path);
        goto out;
    }
    memcpy(secret, plain, ct_len);
    *secret_len = ct_len;
    *kind = (ca_key_kind)file[5];
out:
    ca_wipe(key, sizeof key);
    ca_wipe(plain, sizeof plain);
    ca_wipe(file, sizeof file);
    return result;
}
