/* SHA-256, the CSPRNG and Ed25519 over OpenSSL 3; secp256k1 over libsecp256k1 (crypto.h).
 * Keccak-256 lives in common/keccak.c. Every OpenSSL failure becomes CA_ERR_CRYPTO (or
 * CA_ERR_VERIFY where the contract says a check failed); secrets are wiped on every path. */
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

void ca_sha256(ca_hash *out, const void *data, size_t len)
{
    CA_ASSERT(out != NULL);
    CA_ASSERT(data != NULL || len == 0);
    static const uint8_t empty = 0;
    unsigned int n = 0;
    /* EVP_Digest with the default provider cannot fail short of memory exhaustion; treat a
     * failure as fatal rather than return an undefined hash to a caller that cannot check. */
    if (!EVP_Digest(len ? data : &empty, len, out->b, &n, EVP_sha256(), NULL) ||
        n != CA_HASH_SIZE)
        ca_abort_bug(__FILE__, __LINE__, "EVP_Digest(SHA-256) failed");
}

ca_err ca_random_bytes(void *buf, size_t len)
{
    CA_ASSERT(buf != NULL || len == 0);
    uint8_t *p = buf;
    while (len) {
        /* RAND_bytes takes an int length. */
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return CA_ERR_CRYPTO;
        p += chunk;
        len -= (size_t)chunk;
    }
    return CA_OK;
}

/* ---- Ed25519 ---- */

struct ca_ed25519_key {
    EVP_PKEY *pkey; /* holds the private key; OpenSSL clears it when freed */
    uint8_t pub[CA_ED25519_PUB_SIZE];
};

ca_err ca_ed25519_key_from_seed(ca_ed25519_key **key, const uint8_t seed[CA_ED25519_SEED_SIZE])
{
    CA_ASSERT(key != NULL && seed != NULL);
    *key = NULL;
    ca_ed25519_key *k = calloc(1, sizeof *k);
    if (!k)
        return CA_ERR_NOMEM;
    k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, CA_ED25519_SEED_SIZE);
    size_t pub_len = sizeof k->pub;
    if (!k->pkey || EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &pub_len) != 1 ||
        pub_len != CA_ED25519_PUB_SIZE) {
        ca_ed25519_key_free(k);
        return CA_ERR_CRYPTO;
    }
    *key = k;
    return CA_OK;
}

ca_err ca_ed25519_generate_seed(uint8_t seed[CA_ED25519_SEED_SIZE])
{
    CA_ASSERT(seed != NULL);
    /* Any 32 bytes are a valid RFC 8032 private key (it is hashed before use). */
    return ca_random_bytes(seed, CA_ED25519_SEED_SIZE);
}

void ca_ed25519_key_public(const ca_ed25519_key *key, uint8_t pub[CA_ED25519_PUB_SIZE])
{
    CA_ASSERT(key != NULL && pub != NULL);
    memcpy(pub, key->pub, CA_ED25519_PUB_SIZE);
}

ca_err ca_ed25519_sign(const ca_ed25519_key *key, uint8_t sig[CA_ED25519_SIG_SIZE],
                       const void *msg, size_t len)
{
    CA_ASSERT(key != NULL && sig != NULL);
    CA_ASSERT(msg != NULL || len == 0);
    static const uint8_t empty = 0;
    ca_err result = CA_ERR_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = CA_ED25519_SIG_SIZE;
    /* Pure Ed25519: no digest name, one-shot EVP_DigestSign over the whole message. */
    if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1)
        goto out;
    if (EVP_DigestSign(ctx, sig, &sig_len, len ? msg : &empty, len) != 1 ||
        sig_len != CA_ED25519_SIG_SIZE)
        goto out;
    result = CA_OK;
out:
    EVP_MD_CTX_free(ctx);
    return result;
}

void ca_ed25519_key_free(ca_ed25519_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    ca_wipe(key, sizeof *key);
    free(key);
}

ca_err ca_ed25519_verify(const uint8_t pub[CA_ED25519_PUB_SIZE],
                         const uint8_t sig[CA_ED25519_SIG_SIZE], const void *msg, size_t len)
{
    CA_ASSERT(pub != NULL && sig != NULL);
    CA_ASSERT(msg != NULL || len == 0);
    static const uint8_t empty = 0;
    ca_err result = CA_ERR_VERIFY;
    EVP_MD_CTX *ctx = NULL;
    /* A public key that is not a valid point fails here or in verification: either way the
     * signature does not verify, which is all the caller asked. */
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
                                                 CA_ED25519_PUB_SIZE);
    if (!pkey)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        result = CA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
        goto out;
    if (EVP_DigestVerify(ctx, sig, CA_ED25519_SIG_SIZE, len ? msg : &empty, len) == 1)
        result = CA_OK;
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return result;
}

/* ---- secp256k1 ----
 * One context for the process (ca_secp256k1_context, shared by credential/signer.c and
 * anchor/eth_tx.c), created on first use under pthread_once and randomized (side-channel
 * blinding) once. After that it is only read, which libsecp256k1 documents as safe from many
 * threads at once. */

static secp256k1_context *secp_ctx;
static pthread_once_t secp_once = PTHREAD_ONCE_INIT;

static void secp_init(void)
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx)
        return;
    uint8_t seed[32];
    if (ca_random_bytes(seed, sizeof seed) != CA_OK ||
        !secp256k1_context_randomize(ctx, seed)) {
        ca_wipe(seed, sizeof seed);
        secp256k1_context_destroy(ctx);
        return;
    }
    ca_wipe(seed, sizeof seed);
    secp_ctx = ctx;
}

const secp256k1_context *ca_secp256k1_context(void)
{
    pthread_once(&secp_once, secp_init);
    return secp_ctx;
}

ca_err ca_secp256k1_generate(uint8_t secret[CA_SECP256K1_SECRET_SIZE])
{
    CA_ASSERT(secret != NULL);
    const secp256k1_context *ctx = ca_secp256k1_context();
    if (!ctx)
        return CA_ERR_CRYPTO;
    /* An out-of-range draw (zero or >= the group order) has probability about 2^-128. */
    for (int tries = 0; tries < 64; tries++) {
        if (ca_random_bytes(secret, CA_SECP256K1_SECRET_SIZE) != CA_OK)
            break;
        if (secp256k1_ec_seckey_verify(ctx, secret))
            return CA_OK;
    }
    ca_wipe(secret, CA_SECP256K1_SECRET_SIZE);
    return CA_ERR_CRYPTO;
}

/* *len >= 65 selects the uncompressed form, 33..64 the compressed one; less is a caller bug. */
ca_err ca_secp256k1_public(uint8_t *pub, size_t *len, const uint8_t secret[CA_SECP256K1_SECRET_SIZE])
{
    CA_ASSERT(pub != NULL && len != NULL && secret != NULL);
    CA_ASSERT(*len >= CA_SECP256K1_PUB_COMPRESSED);
    const secp256k1_context *ctx = ca_secp256k1_context();
    if (!ctx)
        return CA_ERR_CRYPTO;
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, secret))
        return CA_ERR_INVALID;
    bool uncompressed = *len >= CA_SECP256K1_PUB_UNCOMPRESSED;
    size_t out_len = uncompressed ? CA_SECP256K1_PUB_UNCOMPRESSED : CA_SECP256K1_PUB_COMPRESSED;
    if (!secp256k1_ec_pubkey_serialize(ctx, pub, &out_len, &pk,
                                       uncompressed ? SECP256K1_EC_UNCOMPRESSED
                                                    : SECP256K1_EC_COMPRESSED))
        return CA_ERR_CRYPTO;
    *len = out_len;
    return CA_OK;
}

ca_err ca_eth_address(uint8_t addr[CA_ETH_ADDRESS_SIZE],
                      const uint8_t secret[CA_SECP256K1_SECRET_SIZE])
{
    CA_ASSERT(addr != NULL && secret != NULL);
    uint8_t pub[CA_SECP256K1_PUB_UNCOMPRESSED];
    size_t len = sizeof pub;
    ca_err rc = ca_secp256k1_public(pub, &len, secret);
    if (rc != CA_OK)
        return rc;
    /* Skip the 0x04 prefix: Ethereum hashes the bare 64-byte X || Y. */
    ca_hash h;
    ca_keccak256(&h, pub + 1, len - 1);
    memcpy(addr, h.b + CA_HASH_SIZE - CA_ETH_ADDRESS_SIZE, CA_ETH_ADDRESS_SIZE);
    return CA_OK;
}

void ca_eth_address_hex(char out[43], const uint8_t addr[CA_ETH_ADDRESS_SIZE])
{
    CA_ASSERT(out != NULL && addr != NULL);
    out[0] = '0';
    out[1] = 'x';
    ca_hex_encode(out + 2, addr, CA_ETH_ADDRESS_SIZE);
}
