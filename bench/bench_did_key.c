/*
 * bench_did_key: in-process did:key resolutions per second, and the tool the did:key interop
 * test drives (tests/interop/did_key.sh).
 *
 *   bench_did_key [--seconds S] [--keys N] [--dids FILE]
 *       Resolves a mixed set of did:key DIDs (N random keys of each type, or the DIDs in FILE,
 *       one per line) round-robin for S seconds (default 3; best of 3 runs) as Multikey
 *       documents, and prints "key: value" lines: resolutions_per_s, dids.
 *   bench_did_key --gen N [--types ed25519,x25519,secp256k1,p256,p384]
 *       Prints N DIDs of random keys of each listed type (default: all five), one per line.
 *   bench_did_key --resolve [--format Multikey|JsonWebKey] [--derive] DID|@FILE...
 *       Resolves each DID (or each line of FILE) and prints one line of JSON per DID:
 *       {"did":..., "didDocument":... , "error":..., "detail":...}.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credanchor/crypto.h"
#include "credanchor/did_resolve.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
    fprintf(stderr, "bench_did_key: %s\n", msg);
    exit(1);
}

/* A fresh public key of the type, in its did:key (compressed) form. */
static size_t random_public_key(uint8_t *pub, ca_key_type type)
{
    switch (type) {
    case CA_KEYTYPE_ED25519: {
        uint8_t seed[CA_ED25519_SEED_SIZE];
        ca_ed25519_key *k = NULL;
        if (ca_ed25519_generate_seed(seed) || ca_ed25519_key_from_seed(&k, seed))
            die("ed25519 keygen failed");
        ca_ed25519_key_public(k, pub);
        ca_ed25519_key_free(k);
        ca_wipe(seed, sizeof seed);
        return 32;
    }
    case CA_KEYTYPE_SECP256K1: {
        uint8_t sk[CA_SECP256K1_SECRET_SIZE];
        size_t len = CA_SECP256K1_PUB_COMPRESSED;
        if (ca_secp256k1_generate(sk) || ca_secp256k1_public(pub, &len, sk))
            die("secp256k1 keygen failed");
        ca_wipe(sk, sizeof sk);
        return len;
    }
    case CA_KEYTYPE_X25519: {
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
        size_t len = 32;
        if (!pk || !EVP_PKEY_get_raw_public_key(pk, pub, &len) || len != 32)
            die("x25519 keygen failed");
        EVP_PKEY_free(pk);
        return 32;
    }
    case CA_KEYTYPE_P256:
    case CA_KEYTYPE_P384: {
        /* OpenSSL hands out the uncompressed point 04 || x || y; compress it by hand. */
        EVP_PKEY *pk =
            EVP_PKEY_Q_keygen(NULL, NULL, "EC", type == CA_KEYTYPE_P256 ? "P-256" : "P-384");
        uint8_t full[97];
        size_t len = 0, coord = type == CA_KEYTYPE_P256 ? 32 : 48;
        if (!pk ||
            !EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, full,
                                             sizeof full, &len) ||
            len != 1 + 2 * coord || full[0] != 0x04)
            die("EC keygen failed");
        EVP_PKEY_free(pk);
        pub[0] = (uint8_t)(0x02 | (full[2 * coord] & 1));
        memcpy(pub + 1, full + 1, coord);
        return 1 + coord;
    }
    }
    die("unknown key type");
    return 0;
}

static const struct {
    const char *name;
    ca_key_type type;
} type_names[] = {
    {"ed25519", CA_KEYTYPE_ED25519}, {"x25519", CA_KEYTYPE_X25519},
    {"secp256k1", CA_KEYTYPE_SECP256K1}, {"p256", CA_KEYTYPE_P256}, {"p384", CA_KEYTYPE_P384},
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

typedef struct did_list {
    char **v;
    size_t n, cap;
} did_list;

static void list_add(did_list *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            die("out of memory");
    }
    l->v[l->n] = strdup(s);
    if (!l->v[l->n])
        die("out of memory");
    l->n++;
}

static void list_free(did_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (did_list){0};
}

static void list_read(did_list *l, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_did_key: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    char line[CA_DID_TEXT_MAX + 64];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            list_add(l, line);
    }
    if (f != stdin)
        fclose(f);
}

/* Whether name is one of the comma-separated words of list. */
static bool type_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, ",");
        if (w == n && memcmp(p, name, n) == 0)
            return true;
        p += w + (p[w] == ',');
    }
    return false;
}

static void gen(did_list *l, size_t n, const char *types)
{
    for (size_t t = 0; t < NTYPES; t++) {
        if (types && !type_listed(types, type_names[t].name))
            continue;
        for (size_t i = 0; i < n; i++) {
            uint8_t pub[64];
            char did[CA_DID_TEXT_MAX];
            size_t len = random_public_key(pub, type_names[t].type);
            ca_errbuf eb;
            if (ca_did_key_encode(did, type_names[t].type, pub, len, &eb))
                die(eb.msg);
            list_add(l, did);
        }
    }
}

static int resolve_mode(did_list *l, const ca_did_options *opts)
{
    int failures = 0;
    for (size_t i = 0; i < l->n; i++) {
        ca_did_result r;
        ca_did_result_init(&r);
        json_t *line = json_object();
        json_object_set_new(line, "did", json_string(l->v[i]));
        if (ca_did_key_resolve(&r, l->v[i], opts) == CA_DID_OK) {
            json_object_set(line, "didDocument", r.document);
        } else {
            failures++;
            json_object_set_new(line, "didDocument", json_null());
            json_object_set_new(line, "error", json_string(ca_did_error_code(r.error)));
            json_object_set_new(line, "detail", json_string(r.detail));
        }
        char *s = json_dumps(line, JSON_COMPACT);
        if (!s)
            die("out of memory");
        puts(s);
        free(s);
        json_decref(line);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
    return failures ? 2 : 0;
}

static double bench_once(did_list *l, double seconds)
{
    ca_did_options opts = {0};
    ca_did_result r;
    ca_did_result_init(&r);
    size_t done = 0;
    double t0 = now_s(), t;
    do {
        for (size_t k = 0; k < 1000; k++) {
            if (ca_did_key_resolve(&r, l->v[done % l->n], &opts) != CA_DID_OK) {
                fprintf(stderr, "bench_did_key: %s: %s\n", l->v[done % l->n], r.detail);
                exit(1);
            }
            done++;
        }
        t = now_s() - t0;
    } while (t < seconds);
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
    return (double)done / t;
}

int main(int argc, char **argv)
{
    double seconds = 3;
    size_t keys = 20, gen_n = 0;
    const char *dids_file = NULL, *types = NULL;
    bool resolve = false;
    ca_did_options opts = {0};
    did_list l = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--seconds") == 0 && more)
            seconds = atof(argv[++i]);
        else if (strcmp(a, "--keys") == 0 && more)
            keys = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--dids") == 0 && more)
            dids_file = argv[++i];
        else if (strcmp(a, "--gen") == 0 && more)
            gen_n = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--types") == 0 && more)
            types = argv[++i];
        else if (strcmp(a, "--resolve") == 0)
            resolve = true;
        else if (strcmp(a, "--derive") == 0)
            opts.enable_encryption_key_derivation = true;
        else if (strcmp(a, "--format") == 0 && more) {
            const char *f = argv[++i];
            if (strcmp(f, "JsonWebKey") == 0)
                opts.format = CA_DID_FORMAT_JSON_WEB_KEY;
            else if (strcmp(f, "Multikey") == 0)
                opts.format = CA_DID_FORMAT_MULTIKEY;
            else
                die("--format is Multikey or JsonWebKey");
        } else if (resolve && a[0] == '@')
            list_read(&l, a + 1);
        else if (resolve && a[0] != '-')
            list_add(&l, a);
        else {
            fprintf(stderr, "usage: bench_did_key [--seconds S] [--keys N] [--dids FILE]\n"
                            "       bench_did_key --gen N [--types LIST]\n"
                            "       bench_did_key --resolve [--format F] [--derive] DID|@FILE...\n");
            return 2;
        }
    }
    if (gen_n) {
        gen(&l, gen_n, types);
        for (size_t i = 0; i < l.n; i++)
            puts(l.v[i]);
        list_free(&l);
        return 0;
    }
    if (resolve) {
        int rc = resolve_mode(&l, &opts);
        list_free(&l);
        return rc;
    }

    if (dids_file)
        list_read(&l, dids_file);
    else
        gen(&l, keys, types);
    if (l.n == 0)
        die("no DIDs");
    bench_once(&l, 0.3); /* warm up */
    double best = 0;
    for (int run = 0; run < 3; run++) {
        double rate = bench_once(&l, seconds);
        if (rate > best)
            best = rate;
    }
    printf("dids: %zu\n", l.n);
    printf("resolutions_per_s: %.0f\n", best);
    list_free(&l);
    return 0;
}
