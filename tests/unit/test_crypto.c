/* Tests for common/crypto.c and common/keccak.c: Keccak-256 and SHA-256 vectors, the
 * Ethereum address of a known key, RFC 8032 Ed25519 test vector 1, and bit-flip negatives.
 * Multi-block Keccak values were cross-checked with js-sha3 (keccak256). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <string.h>

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

static void hex_to(uint8_t *out, size_t len, const char *hex)
{
    assert_int_equal(ca_hex_decode(out, len, hex, strlen(hex)), CA_OK);
}

static void assert_hash_hex(const ca_hash *h, const char *hex)
{
    char got[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(got, h);
    assert_string_equal(got, hex);
}

static void keccak_of_a(ca_hash *h, size_t n)
{
    char buf[300];
    assert_true(n <= sizeof buf);
    memset(buf, 'a', n);
    ca_keccak256(h, buf, n);
}

static void test_keccak256_vectors(void **state)
{
    (void)state;
    ca_hash h;
    ca_keccak256(&h, "", 0);
    assert_hash_hex(&h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    ca_keccak256(&h, NULL, 0);
    assert_hash_hex(&h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    ca_keccak256(&h, "abc", 3);
    assert_hash_hex(&h, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    /* Around the 136-byte rate: padding in one byte (135), a full extra padding block (136),
     * two full blocks (272), and a multi-block message (200). */
    keccak_of_a(&h, 135);
    assert_hash_hex(&h, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446");
    keccak_of_a(&h, 136);
    assert_hash_hex(&h, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e");
    keccak_of_a(&h, 200);
    assert_hash_hex(&h, "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d");
    keccak_of_a(&h, 272);
    assert_hash_hex(&h, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8");
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    ca_hash h;
    ca_sha256(&h, "", 0);
    assert_hash_hex(&h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ca_sha256(&h, "abc", 3);
    assert_hash_hex(&h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(ca_random_bytes(a, sizeof a), CA_OK);
    assert_int_equal(ca_random_bytes(b, sizeof b), CA_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(ca_random_bytes(NULL, 0), CA_OK);
}

static const char *eth_secret_hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

static void test_eth_address(void **state)
{
    (void)state;
    uint8_t secret[32], addr[CA_ETH_ADDRESS_SIZE];
    char hex[43];
    hex_to(secret, sizeof secret, eth_secret_hex);
    assert_int_equal(ca_eth_address(addr, secret), CA_OK);
    ca_eth_address_hex(hex, addr);
    assert_string_equal(hex, "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23");
}

static void test_secp256k1_public(void **state)
{
    (void)state;
    uint8_t secret[32], pub[65], want[65];
    char hex[131];
    hex_to(secret, sizeof secret, eth_secret_hex);

    size_t len = sizeof pub;
    assert_int_equal(ca_secp256k1_public(pub, &len, secret), CA_OK);
    assert_int_equal(len, 65);
    hex_to(want, 65, "044e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e"
                     "47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de");
    assert_memory_equal(pub, want, 65);

    len = CA_SECP256K1_PUB_COMPRESSED;
    assert_int_equal(ca_secp256k1_public(pub, &len, secret), CA_OK);
    assert_int_equal(len, 33);
    ca_hex_encode(hex, pub, len);
    assert_string_equal(hex, "024e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e");

    /* Zero and the group order are not valid secrets. */
    uint8_t bad[32] = {0};
    len = sizeof pub;
    assert_int_equal(ca_secp256k1_public(pub, &len, bad), CA_ERR_INVALID);
    hex_to(bad, 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    assert_int_equal(ca_secp256k1_public(pub, &len, bad), CA_ERR_INVALID);
    uint8_t addr[20];
    assert_int_equal(ca_eth_address(addr, bad), CA_ERR_INVALID);
}

static void test_secp256k1_generate(void **state)
{
    (void)state;
    uint8_t s1[32], s2[32], pub[33];
    assert_int_equal(ca_secp256k1_generate(s1), CA_OK);
    assert_int_equal(ca_secp256k1_generate(s2), CA_OK);
    assert_memory_not_equal(s1, s2, 32);
    size_t len = sizeof pub;
    assert_int_equal(ca_secp256k1_public(pub, &len, s1), CA_OK);
}

/* RFC 8032 §7.1, TEST 1. */
static const char *rfc_seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *rfc_pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *rfc_sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
                             "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static void test_ed25519_rfc8032_vector1(void **state)
{
    (void)state;
    uint8_t seed[32], pub[32], want_pub[32], sig[64], want_sig[64];
    hex_to(seed, 32, rfc_seed);
    hex_to(want_pub, 32, rfc_pub);
    hex_to(want_sig, 64, rfc_sig);

    ca_ed25519_key *key = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&key, seed), CA_OK);
    ca_ed25519_key_public(key, pub);
    assert_memory_equal(pub, want_pub, 32);
    assert_int_equal(ca_ed25519_sign(key, sig, "", 0), CA_OK);
    assert_memory_equal(sig, want_sig, 64);
    assert_int_equal(ca_ed25519_sign(key, sig, NULL, 0), CA_OK);
    assert_memory_equal(sig, want_sig, 64);
    ca_ed25519_key_free(key);

    assert_int_equal(ca_ed25519_verify(want_pub, want_sig, "", 0), CA_OK);
    assert_int_equal(ca_ed25519_verify(want_pub, want_sig, NULL, 0), CA_OK);
    /* The same signature over a non-empty message fails. */
    assert_int_equal(ca_ed25519_verify(want_pub, want_sig, "x", 1), CA_ERR_VERIFY);
}

static void test_ed25519_bit_flips(void **state)
{
    (void)state;
    uint8_t seed[32], pub[32], sig[64];
    uint8_t msg[] = "checkpoint body\n";
    size_t mlen = sizeof msg - 1;
    assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
    ca_ed25519_key *key = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&key, seed), CA_OK);
    ca_wipe(seed, sizeof seed);
    ca_ed25519_key_public(key, pub);
    assert_int_equal(ca_ed25519_sign(key, sig, msg, mlen), CA_OK);
    ca_ed25519_key_free(key);
    ca_ed25519_key_free(NULL);
    assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen), CA_OK);

    for (size_t bit = 0; bit < 64 * 8; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen), CA_ERR_VERIFY);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 32 * 8; bit++) {
        pub[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen), CA_ERR_VERIFY);
        pub[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < mlen * 8; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen), CA_ERR_VERIFY);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen - 1), CA_ERR_VERIFY);
    assert_int_equal(ca_ed25519_verify(pub, sig, msg, mlen), CA_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak256_vectors),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_eth_address),
        cmocka_unit_test(test_secp256k1_public),
        cmocka_unit_test(test_secp256k1_generate),
        cmocka_unit_test(test_ed25519_rfc8032_vector1),
        cmocka_unit_test(test_ed25519_bit_flips),
    };
    return ca_run_tests("crypto", tests, NULL, NULL);
}
