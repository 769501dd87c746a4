/*
 * Keys at rest (SPEC §7 node.key_passphrase_file): every key file is encrypted with
 * AES-256-GCM under a key derived by scrypt (explicit maxmem) from the node's passphrase.
 * Key files and the passphrase file are mode 0600; a file that group or others can read is
 * refused (CA_ERR_PERMISSION). Decrypted secrets are wiped by the caller after use.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_KEYSTORE_H
#define CREDANCHOR_KEYSTORE_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_PASSPHRASE_MAX 1024

/* The secret's kind, stored (authenticated) in the key file header. */
typedef enum ca_key_kind {
    CA_KEY_ED25519 = 1,   /* 32-byte RFC 8032 seed */
    CA_KEY_SECP256K1 = 2, /* 32-byte scalar */
    CA_KEY_RSA = 3,       /* PKCS#8 DER private key, up to CA_SIGNER_SECRET_MAX (4096) bytes */
    CA_KEY_P256 = 4,      /* 32-byte P-256 scalar */
    CA_KEY_DATA = 5,      /* 32-byte data-encryption secret (node/data_key.h) */
} ca_key_kind;

/* Creates path with a random passphrase (32 bytes from the CSPRNG, hex), mode 0600.
 * CA_ERR_EXISTS if the file is already there (it is never overwritten). */
ca_err ca_passphrase_create(const char *path, ca_errbuf *eb);

/* Reads the passphrase (one line; a trailing newline is dropped) into pass, which must hold
 * CA_PASSPHRASE_MAX bytes. CA_ERR_PERMISSION when group/others may read the file,
 * CA_ERR_INVALID when it is empty, CA_ERR_TOO_LARGE over the cap. Caller wipes pass. */
ca_err ca_passphrase_load(char *pass, size_t *pass_len, const char *path, ca_errbuf *eb);

/* fsyncs directory dir, so that a file created, renamed or removed in it stays so after a
 * crash (every durable file the node writes: key files here, key rotation's archive in
 * node/keys.c, edited templates in node/routes_templates.c). */
ca_err ca_fsync_dir(const char *dir, ca_errbuf *eb);

/* Encrypts secret under the passphrase and writes path atomically (temp file, fsync, rename,
 * fsync of the directory), mode 0600. Fails with CA_ERR_EXISTS rather than replace a file. */
ca_err ca_keyfile_write(const char *path, ca_key_kind kind, const uint8_t *secret,
                        size_t secret_len, const char *pass, size_t pass_len, ca_errbuf *eb);

/* Decrypts a key file. secret must hold *secret_len bytes (in: capacity; out: length).
 * CA_ERR_PERMISSION for a file others can read, CA_ERR_VERIFY for a wrong passphrase or a
 * tampered file, CA_ERR_INVALID for a file that is not a credanchor key file. */
ca_err ca_keyfile_read(uint8_t *secret, size_t *secret_len, ca_key_kind *kind, const char *path,
                       const char *pass, size_t pass_len, ca_errbuf *eb);

/* A memo scope: between begin and the matching end, each key derived by scrypt for a
 * (passphrase, salt, parameters) is kept in memory and reused, and new key files take the
 * salt of the scope's newest derivation, so opening or creating a node's key files costs one
 * scrypt instead of one per file. Scopes nest; the outermost end wipes the memo. Outside a
 * scope nothing is kept. Thread-safe. */
void ca_keystore_memo_begin(void);
void ca_keystore_memo_end(void);

#ifdef __cplusplus
}
#endif
#endif
