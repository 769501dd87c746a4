/*
 * node/backup.c — `credanchor backup DIR` and `credanchor restore DIR` (SPEC §1, §6; issue 7).
 * Layout of a backup and the guarantees: node/backup.h.
 *
 * Why the manifest's figures come from the copy: the node keeps appending while the copy is
 * taken, so the live size is already stale when the copy finishes. The copy is opened
 * read-only afterwards and its own size, root, signed_max and newest anchor are recorded.
 *
 * Why restore carries signed_max: a backup is older than the store it replaces, which may have
 * signed larger checkpoints since. Installing the backup as it is would let the node sign a
 * second, different checkpoint for a size it already signed (a fork, C2SP tlog-checkpoint).
 * Writing the larger signed_max into the restored store makes ca_log_open refuse appends
 * (check_signed_max in node/log.c) until the log is consistent with it again. The newest
 * anchor on chain is checked by the anchoring engine when the node starts (SPEC §1).
 */
#include "node/backup.h"

#include "node/anchor_engine.h"
#include "credanchor/encoding.h"
#include "node/keystore.h"
#include "node/log.h"
#include "node/node.h"
#include "node/store.h"
#include "credanchor/json_fields.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_CAP 4200
#define MANIFEST_MAX (1u << 20)
#define KEY_NAME_MAX 128
#define COPY_CHUNK (1u << 20)

/* ---- files ------------------------------------------------------------------------------- */

static ca_err join(char *out, const char *dir, const char *name, ca_errbuf *eb)
{
    if ((size_t)snprintf(out, PATH_CAP, "%s/%s", dir, name) >= PATH_CAP)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "path %s/%s is too long", dir, name);
    return CA_OK;
}

static ca_err io_fail(ca_errbuf *eb, const char *what, const char *path)
{
    int e = errno;
    return ca_fail(eb, e == ENOSPC ? CA_ERR_FULL : e == ENOENT ? CA_ERR_NOT_FOUND : CA_ERR_IO,
                   "%s %s: %s", what, path, strerror(e));
}

/* fsync a file or a directory by path. */
static ca_err sync_path(const char *path, ca_errbuf *eb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(eb, "cannot open", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc ? io_fail(eb, "cannot sync", path) : CA_OK;
}

/* The directory holding path (for syncing a new entry in it). */
static void parent_of(char *out, const char *path)
{
    snprintf(out, PATH_CAP, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, PATH_CAP, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* Copies src to a new file dst (mode `mode`, O_EXCL), hashing the bytes, and syncs dst. The
 * hash may be NULL. */
static ca_err copy_file(const char *src, const char *dst, mode_t mode, ca_hash *digest,
                        ca_errbuf *eb)
{
    ca_err err = CA_OK;
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *buf = malloc(COPY_CHUNK);
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory copying %s", src);
        goto out;
    }
    if (in < 0) {
        err = io_fail(eb, "cannot read", src);
        goto out;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
        err = io_fail(eb, "cannot create", dst);
        goto out;
    }
    if (fchmod(out, mode) != 0) {
        err = io_fail(eb, "cannot chmod", dst);
        goto out;
    }
    for (;;) {
        ssize_t got = read(in, buf, COPY_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = io_fail(eb, "cannot read", src);
            goto out;
        }
        if (got == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)got);
        for (ssize_t off = 0; off < got;) {
            ssize_t w = write(out, buf + off, (size_t)(got - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                err = io_fail(eb, "cannot write", dst);
                goto out;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        err = io_fail(eb, "cannot sync", dst);
        goto out;
    }
    if (digest) {
        unsigned len = 0;
        EVP_DigestFinal_ex(md, digest->b, &len);
    }
out:
    if (out >= 0 && close(out) != 0 && !err)
        err = io_fail(eb, "cannot close", dst);
    if (in >= 0)
        close(in);
    free(buf);
    EVP_MD_CTX_free(md);
    return err;
}

static ca_err sha256_file(ca_hash *digest, const char *path, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *buf = malloc(COPY_CHUNK);
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory hashing %s", path);
        goto out;
    }
    if (fd < 0) {
        err = io_fail(eb, "cannot read", path);
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, buf, COPY_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = io_fail(eb, "cannot read", path);
            goto out;
        }
        if (got == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)got);
    }
    unsigned len = 0;
    EVP_DigestFinal_ex(md, digest->b, &len);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    EVP_MD_CTX_free(md);
    return err;
}

/* Writes text to path atomically (temp file, fsync, rename, fsync of the directory), 0600. */
static ca_err write_file_atomic(const char *path, const char *text, ca_errbuf *eb)
{
    char tmp[PATH_CAP + 8], dir[PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_fail(eb, "cannot create", tmp);
    size_t len = strlen(text);
    ca_err err = CA_OK;
    for (size_t off = 0; off < len && !err;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno != EINTR)
            err = io_fail(eb, "cannot write", tmp);
        else if (w > 0)
            off += (size_t)w;
    }
    if (!err && fsync(fd) != 0)
        err = io_fail(eb, "cannot sync", tmp);
    if (close(fd) != 0 && !err)
        err = io_fail(eb, "cannot close", tmp);
    if (!err && rename(tmp, path) != 0)
        err = io_fail(eb, "cannot rename to", path);
    if (err) {
        unlink(tmp);
        return err;
    }
    parent_of(dir, path);
    return sync_path(dir, eb);
}

/* A key file name as backups carry it: "<name>.key", no path, no leading dot. */
static bool key_file_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && n < KEY_NAME_MAX && name[0] != '.' && !strchr(name, '/') &&
           strcmp(name + n - 4, ".key") == 0;
}

static void utc_time(char *out, size_t cap, const char *fmt)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, fmt, &tm);
}

/* ---- reading a store's figures ------------------------------------------------------------ */

typedef struct store_figures {
    uint64_t size;
    ca_hash root;
    char origin[CA_ORIGIN_MAX + 1];
    char log_key[CA_VERIFIER_KEY_MAX];
    bool have_signed_max;
    uint64_t signed_max_size;
    ca_hash signed_max_root;
    json_t *latest_anchor; /* new reference, or json null */
    char blocked[1024];    /* why the log refuses appends; empty when it does not */
} store_figures;

/* Opens the environment in db_dir read-only and reads its log's figures. The read-only open
 * creates LMDB's lock.mdb when missing; it is removed again so a backup holds only
 * data.mdb. */
static ca_err read_figures(store_figures *f, const char *db_dir, const ca_config *cfg,
                           ca_errbuf *eb)
{
    memset(f, 0, sizeof *f);
    char lock[PATH_CAP];
    ca_err err = join(lock, db_dir, "lock.mdb", eb);
    if (err)
        return err;
    struct stat st;
    bool had_lock = stat(lock, &st) == 0;
    ca_store *store = NULL;
    ca_log *log = NULL;
    ca_store_options so = {.dir = db_dir, .max_map_size = cfg->store_max_map_size,
                           .read_only = true};
    ca_log_options lo = {.index_batch = cfg->store_index_batch,
                         .index_flush_pages = cfg->store_index_flush_pages};
    if ((err = ca_store_open(&store, &so, eb)))
        goto out;
    lo.store = store;
    if ((err = ca_log_open(&log, &lo, eb)))
        goto out;
    f->size = ca_log_size(log);
    snprintf(f->origin, sizeof f->origin, "%s", ca_log_origin(log));
    const char *blocked = ca_log_append_blocked(log);
    if (blocked)
        snprintf(f->blocked, sizeof f->blocked, "%s", blocked);
    if ((err = ca_log_root(log, &f->root, f->size, eb)) ||
        (err = ca_log_verifier_key(log, f->log_key, eb)))
        goto out;
    err = ca_log_signed_max(store, &f->signed_max_size, &f->signed_max_root, NULL);
    f->have_signed_max = err == CA_OK;
    if (err && err != CA_ERR_NOT_FOUND) {
        err = ca_fail(eb, err, "the signed_max record is unreadable");
        goto out;
    }
    ca_anchor_record rec;
    err = ca_anchor_latest(store, &rec, eb);
    if (err == CA_ERR_NOT_FOUND)
        f->latest_anchor = json_null();
    else if (err)
        goto out;
    else
        f->latest_anchor = ca_anchor_record_json(&rec);
    err = CA_OK;
out:
    ca_log_close(log);
    ca_store_close(store);
    if (!had_lock)
        unlink(lock);
    if (err) {
        json_decref(f->latest_anchor);
        f->latest_anchor = NULL;
    }
    return err;
}

/* Re-words eb's message with a prefix (the message is copied first: ca_fail writes eb). */
static ca_err wrap(ca_errbuf *eb, ca_err code, const char *prefix, ca_err inner)
{
    char msg[sizeof eb->msg];
    snprintf(msg, sizeof msg, "%s", ca_errmsg(eb, inner));
    return ca_fail(eb, code, "%s: %s", prefix, msg);
}

static json_t *hash_json(const ca_hash *h)
{
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, h);
    return json_string(hex);
}

/* ---- backup -------------------------------------------------------------------------------- */

/* Creates the missing folders above dir, each 0700 like the backup itself (a backup holds
 * the encrypted keys and the whole log: nobody else needs to list its path). Existing folders
 * are left as they are. */
static ca_err make_parents(const char *dir, ca_errbuf *eb)
{
    char path[PATH_CAP];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return ca_fail(eb, CA_ERR_INVALID, "the backup path is too long");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            ca_err err = io_fail(eb, "cannot create", path);
            *p = '/';
            return err;
        }
        *p = '/';
    }
    return CA_OK;
}

/* DIR must not exist (created 0700, with any missing parents) or be an empty directory (then
 * set to 0700). */
static ca_err prepare_backup_dir(const char *dir, ca_errbuf *eb)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return io_fail(eb, "cannot use", dir);
        ca_err err = make_parents(dir, eb);
        if (err)
            return err;
        if (mkdir(dir, 0700) != 0)
            return io_fail(eb, "cannot create", dir);
        return CA_OK;
    }
    if (!S_ISDIR(st.st_mode))
        return ca_fail(eb, CA_ERR_EXISTS, "%s exists and is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d)
        return io_fail(eb, "cannot list", dir);
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(d);
    if (!empty)
        return ca_fail(eb, CA_ERR_EXISTS, "%s is not empty (give a new or empty directory)",
                       dir);
    if (chmod(dir, 0700) != 0)
        return io_fail(eb, "cannot chmod", dir);
    return CA_OK;
}

/* Copies every regular keys/ *.key file of the data dir (still encrypted) into out_keys. */
static ca_err copy_key_files(json_t *key_files, const char *data_keys, const char *out_keys,
                             ca_errbuf *eb)
{
    DIR *d = opendir(data_keys);
    if (!d)
        return io_fail(eb, "cannot list", data_keys);
    ca_err err = CA_OK;
    struct dirent *e;
    while (!err && (e = readdir(d))) {
        char src[PATH_CAP], dst[PATH_CAP];
        struct stat st;
        if (!key_file_name(e->d_name))
            continue;
        if ((err = join(src, data_keys, e->d_name, eb)) ||
            (err = join(dst, out_keys, e->d_name, eb)))
            break;
        if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        ca_hash h;
        if ((err = copy_file(src, dst, 0600, &h, eb)))
            break;
        json_object_set_new(key_files, e->d_name, hash_json(&h));
    }
    closedir(d);
    if (!err && json_object_size(key_files) == 0)
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "%s holds no key files", data_keys);
    return err;
}

ca_err ca_backup_create(json_t **manifest, const ca_config *cfg, const char *dir,
                        ca_errbuf *eb)
{
    CA_ASSERT(manifest && cfg && dir);
    *manifest = NULL;
    char db_dir[PATH_CAP], keys_dir[PATH_CAP], data_keys[PATH_CAP], data_mdb[PATH_CAP];
    char path[PATH_CAP], parent[PATH_CAP], created[32];
    ca_node *node = NULL;
    json_t *m = NULL, *key_files = json_object();
    store_figures f = {0};
    char *text = NULL;
    ca_err err;
    if (!key_files)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if ((err = join(db_dir, dir, "db", eb)) || (err = join(keys_dir, dir, "keys", eb)) ||
        (err = join(data_mdb, db_dir, "data.mdb", eb)) ||
        (err = join(data_keys, cfg->node_data_dir, "keys", eb)) ||
        (err = join(path, dir, "manifest.json", eb)))
        goto out;
    /* Open the live node first: a data dir that is not initialised leaves nothing behind. */
    if ((err = ca_node_open(&node, cfg, CA_NODE_READ_ONLY, eb)) ||
        (err = prepare_backup_dir(dir, eb)))
        goto out;
    utc_time(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ");
    if ((err = ca_store_copy(node->store, db_dir, eb)))
        goto out;
    ca_node_close(node);
    node = NULL;
    if (chmod(data_mdb, 0600) != 0) {
        err = io_fail(eb, "cannot chmod", data_mdb);
        goto out;
    }
    if (mkdir(keys_dir, 0700) != 0) {
        err = io_fail(eb, "cannot create", keys_dir);
        goto out;
    }
    if ((err = copy_key_files(key_files, data_keys, keys_dir, eb)) ||
        (err = read_figures(&f, db_dir, cfg, eb)))
        goto out;
    ca_hash db_hash;
    if ((err = sha256_file(&db_hash, data_mdb, eb)) || (err = sync_path(data_mdb, eb)) ||
        (err = sync_path(db_dir, eb)) || (err = sync_path(keys_dir, eb)))
        goto out;

    json_t *signed_max = json_null();
    if (f.have_signed_max)
        signed_max = json_pack("{s:I, s:o}", "treeSize", (json_int_t)f.signed_max_size,
                               "rootHash", hash_json(&f.signed_max_root));
    m = json_pack("{s:i, s:s, s:I, s:o, s:o, s:s, s:s, s:O, s:{s:o}, s:O}", "format",
                  CA_BACKUP_FORMAT, "createdAt", created, "treeSize", (json_int_t)f.size,
                  "rootHash", hash_json(&f.root), "signedMax", signed_max, "origin", f.origin,
                  "logKey", f.log_key, "keyFiles", key_files, "db", "sha256",
                  hash_json(&db_hash), "latestAnchor", f.latest_anchor);
    if (!m || !(text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory building the manifest");
        goto out;
    }
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    text = with_nl;
    memcpy(text + len, "\n", 2);
    if ((err = write_file_atomic(path, text, eb)) || (err = sync_path(dir, eb)))
        goto out;
    parent_of(parent, dir);
    if ((err = sync_path(parent, eb)))
        goto out;
    *manifest = m;
    m = NULL;
out:
    ca_node_close(node);
    free(text);
    json_decref(m);
    json_decref(key_files);
    json_decref(f.latest_anchor);
    return err;
}

/* ---- restore ------------------------------------------------------------------------------- */

/* The fields of a manifest that restore checks. */
typedef struct manifest {
    json_t *root; /* owns the rest */
    uint64_t size;
    ca_hash root_hash;
    bool have_signed_max;
    uint64_t signed_max_size;
    ca_hash signed_max_root;
    const char *origin, *log_key;
    json_t *key_files;
    ca_hash db_hash;
} manifest;

static ca_err load_manifest(manifest *m, const char *dir, ca_errbuf *eb)
{
    memset(m, 0, sizeof *m);
    char path[PATH_CAP];
    struct stat st;
    ca_err err = join(path, dir, "manifest.json", eb);
    if (err)
        return err;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "backup %s does not exist or is not a directory",
                       dir);
    if (stat(path, &st) != 0)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "%s holds no manifest.json: not a backup", dir);
    if (st.st_size > (off_t)MANIFEST_MAX)
        return ca_fail(eb, CA_ERR_VERIFY, "%s is larger than %u bytes", path, MANIFEST_MAX);
    json_error_t je;
    m->root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!m->root)
        return ca_fail(eb, CA_ERR_VERIFY, "%s is not valid JSON (line %d: %s)", path, je.line,
                       je.text);
    const json_t *r = m->root, *sm = json_object_get(r, "signedMax");
    uint64_t format;
    if (!ca_json_u64(&format, r, "format") || format != CA_BACKUP_FORMAT)
        return ca_fail(eb, CA_ERR_VERIFY, "%s: format is not %d", path, CA_BACKUP_FORMAT);
    m->origin = json_string_value(json_object_get(r, "origin"));
    m->log_key = json_string_value(json_object_get(r, "logKey"));
    m->key_files = json_object_get(r, "keyFiles");
    if (!ca_json_u64(&m->size, r, "treeSize") || !ca_json_hash(&m->root_hash, r, "rootHash") ||
        !m->origin || !m->log_key || !json_is_object(m->key_files) ||
        json_object_size(m->key_files) == 0 ||
        !ca_json_hash(&m->db_hash, json_object_get(r, "db"), "sha256") ||
        !(json_is_null(sm) || json_is_object(sm)))
        return ca_fail(eb, CA_ERR_VERIFY,
                       "%s lacks a valid treeSize, rootHash, origin, logKey, keyFiles, "
                       "db.sha256 or signedMax", path);
    if (json_is_object(sm)) {
        if (!ca_json_u64(&m->signed_max_size, sm, "treeSize") ||
            !ca_json_hash(&m->signed_max_root, sm, "rootHash"))
            return ca_fail(eb, CA_ERR_VERIFY, "%s: signedMax is malformed", path);
        m->have_signed_max = true;
    }
    return CA_OK;
}

/* Everything restore checks before it touches the data dir: the manifest's hashes, and that
 * the copy opens and holds the manifest's log. */
static ca_err verify_backup(const manifest *m, const char *dir, const ca_config *cfg,
                            ca_errbuf *eb)
{
    char keys_dir[PATH_CAP], db_dir[PATH_CAP], path[PATH_CAP], want[65], got[65];
    ca_err err;
    if ((err = join(keys_dir, dir, "keys", eb)) || (err = join(db_dir, dir, "db", eb)))
        return err;
    const char *name;
    json_t *v;
    json_object_foreach(m->key_files, name, v)
    {
        ca_hash expect, h;
        if (!key_file_name(name) || !ca_json_hash(&expect, m->key_files, name))
            return ca_fail(eb, CA_ERR_VERIFY, "manifest: keyFiles entry \"%s\" is malformed",
                           name);
        if ((err = join(path, keys_dir, name, eb)))
            return err;
        if ((err = sha256_file(&h, path, eb))) {
            char what[KEY_NAME_MAX + 64];
            snprintf(what, sizeof what, "key file keys/%s is missing or unreadable", name);
            return wrap(eb, CA_ERR_VERIFY, what, err);
        }
        if (memcmp(h.b, expect.b, CA_HASH_SIZE) != 0) {
            ca_hash_to_hex(want, &expect);
            ca_hash_to_hex(got, &h);
            return ca_fail(eb, CA_ERR_VERIFY,
                           "key file keys/%s does not match the manifest (sha256 %s, manifest "
                           "%s)", name, got, want);
        }
    }
    ca_hash h;
    if ((err = join(path, db_dir, "data.mdb", eb)))
        return err;
    if ((err = sha256_file(&h, path, eb)))
        return wrap(eb, CA_ERR_VERIFY, "db/data.mdb is missing or unreadable", err);
    if (memcmp(h.b, m->db_hash.b, CA_HASH_SIZE) != 0) {
        ca_hash_to_hex(want, &m->db_hash);
        ca_hash_to_hex(got, &h);
        return ca_fail(eb, CA_ERR_VERIFY,
                       "db/data.mdb does not match the manifest (sha256 %s, manifest %s)", got,
                       want);
    }
    store_figures f;
    if ((err = read_figures(&f, db_dir, cfg, eb)))
        return wrap(eb, CA_ERR_VERIFY, "the backup's database does not open", err);
    json_decref(f.latest_anchor);
    ca_hash_to_hex(got, &f.root);
    ca_hash_to_hex(want, &m->root_hash);
    if (f.size != m->size || memcmp(f.root.b, m->root_hash.b, CA_HASH_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY,
                       "the backup's log (size %llu, root %s) is not the manifest's (size %llu, "
                       "root %s)", (unsigned long long)f.size, got, (unsigned long long)m->size,
                       want);
    if (strcmp(f.origin, m->origin) != 0 || strcmp(f.log_key, m->log_key) != 0)
        return ca_fail(eb, CA_ERR_VERIFY,
                       "the backup's log origin or log key is not the manifest's (%s, %s)",
                       f.origin, f.log_key);
    if (f.have_signed_max != m->have_signed_max ||
        (f.have_signed_max && (f.signed_max_size != m->signed_max_size ||
                               memcmp(f.signed_max_root.b, m->signed_max_root.b,
                                      CA_HASH_SIZE) != 0)))
        return ca_fail(eb, CA_ERR_VERIFY, "the backup's signed_max is not the manifest's");
    return CA_OK;
}

static void warn(ca_restore_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(ca_restore_report *r, const char *fmt, ...)
{
    if (r->n_warnings >= CA_RESTORE_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warnings[r->n_warnings++], sizeof r->warnings[0], fmt, ap);
    va_end(ap);
}

/* Whether the data dir holds a node: db/ (in any state) or any file in keys/. */
static ca_err data_dir_occupied(bool *db, bool *keys, const char *db_dir, const char *keys_dir,
                                ca_errbuf *eb)
{
    struct stat st;
    *db = lstat(db_dir, &st) == 0;
    *keys = false;
    DIR *d = opendir(keys_dir);
    if (!d) {
        if (errno == ENOENT)
            return CA_OK;
        return io_fail(eb, "cannot list", keys_dir);
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            *keys = true;
    closedir(d);
    return CA_OK;
}

/* Removes a leftover db.restoring from an interrupted restore (only LMDB's files in it). */
static void remove_partial(const char *dir)
{
    static const char *const names[] = {"data.mdb", "lock.mdb", "writer.lock"};
    char path[PATH_CAP];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) < sizeof path)
            unlink(path);
    rmdir(dir);
}

/* Checks that the restored log key decrypts under the data dir's passphrase (warnings only:
 * the operator may put the passphrase file back after the restore). */
static void check_passphrase(ca_restore_report *r, const ca_config *cfg, const char *keys_dir)
{
    char pass_path[PATH_CAP], key_path[PATH_CAP], pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0;
    uint8_t secret[64];
    size_t secret_len = sizeof secret;
    ca_key_kind kind;
    ca_errbuf eb = {{0}};
    struct stat st;
    if (!ca_config_passphrase_path(cfg, pass_path, sizeof pass_path) ||
        join(key_path, keys_dir, "log.key", NULL))
        return;
    if (stat(pass_path, &st) != 0) {
        warn(r, "the passphrase file %s is missing: put the backed-up passphrase there (mode "
                "0600) before starting the node", pass_path);
        return;
    }
    if (stat(key_path, &st) != 0)
        return;
    ca_err err = ca_passphrase_load(pass, &pass_len, pass_path, &eb);
    if (!err)
        err = ca_keyfile_read(secret, &secret_len, &kind, key_path, pass, pass_len, &eb);
    ca_wipe(pass, sizeof pass);
    ca_wipe(secret, sizeof secret);
    if (err)
        warn(r, "keys/log.key does not decrypt with %s (%s): restore the passphrase that was in "
                "use when the backup was taken", pass_path, ca_errmsg(&eb, err));
}

/* The target data dir exists (created if not) and whether it already holds a node; a node
 * there needs force. */
static ca_err prepare_data_dir(bool *have_db, bool *have_keys, const char *data,
                               const char *db_dir, const char *keys_dir, bool force,
                               ca_errbuf *eb)
{
    struct stat st;
    if (stat(data, &st) != 0) {
        if (errno != ENOENT || mkdir(data, 0700) != 0)
            return io_fail(eb, "cannot create the data dir", data);
    } else if (!S_ISDIR(st.st_mode)) {
        return ca_fail(eb, CA_ERR_INVALID, "data dir %s is not a directory", data);
    }
    ca_err err = data_dir_occupied(have_db, have_keys, db_dir, keys_dir, eb);
    if (err)
        return err;
    if ((*have_db || *have_keys) && !force)
        return ca_fail(eb, CA_ERR_EXISTS,
                       "data dir %s already holds a node (db/ or keys/); give --force to move "
                       "them aside", data);
    return CA_OK;
}

/* The largest checkpoint the replaced store signed (SPEC §1), read under its writer lock,
 * which *old keeps until the restore ends (opening fails while a node serves it). */
typedef struct old_max {
    ca_store *old;
    bool have;
    uint64_t size;
    ca_hash root;
} old_max;

static ca_err read_old_signed_max(old_max *om, const char *db_dir, const ca_config *cfg,
                                  ca_errbuf *eb)
{
    char old_mdb[PATH_CAP];
    struct stat st;
    ca_err err = join(old_mdb, db_dir, "data.mdb", eb);
    if (err || stat(old_mdb, &st) != 0)
        return err;
    ca_store_options so = {.dir = db_dir, .max_map_size = cfg->store_max_map_size};
    if ((err = ca_store_open(&om->old, &so, eb))) {
        if (err != CA_ERR_LOCKED) {
            char what[PATH_CAP + 160];
            snprintf(what, sizeof what,
                     "cannot read the current store's largest signed checkpoint (move "
                     "%s aside yourself to restore without it)", db_dir);
            wrap(eb, err, what, err);
        }
        return err;
    }
    err = ca_log_signed_max(om->old, &om->size, &om->root, eb);
    if (err && err != CA_ERR_NOT_FOUND)
        return err;
    om->have = err == CA_OK;
    return CA_OK;
}

/* Renames path to moved = "<path>.before-restore-<stamp>" (moved[0] is '\0' when the rename
 * fails). */
static ca_err move_aside(char *moved, size_t cap, const char *path, const char *stamp,
                         ca_errbuf *eb)
{
    if ((size_t)snprintf(moved, cap, "%s.before-restore-%s", path, stamp) >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "path %s is too long", path);
    if (rename(path, moved) != 0) {
        ca_err err = io_fail(eb, "cannot move aside", path);
        moved[0] = '\0';
        return err;
    }
    return CA_OK;
}

/* Installs db/ through db.restoring, so db/ appears complete or not at all. */
static ca_err install_db(const manifest *m, const char *dir, const char *tmp_db,
                         const char *db_dir, ca_errbuf *eb)
{
    char src[PATH_CAP], dst[PATH_CAP];
    ca_hash h;
    ca_err err;
    remove_partial(tmp_db);
    if (mkdir(tmp_db, 0700) != 0)
        return io_fail(eb, "cannot create", tmp_db);
    if ((err = join(src, dir, "db/data.mdb", eb)) || (err = join(dst, tmp_db, "data.mdb", eb)) ||
        (err = copy_file(src, dst, 0600, &h, eb)))
        return err;
    if (memcmp(h.b, m->db_hash.b, CA_HASH_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "db/data.mdb changed while it was restored");
    if ((err = sync_path(tmp_db, eb)))
        return err;
    if (rename(tmp_db, db_dir) != 0)
        return io_fail(eb, "cannot rename to", db_dir);
    return CA_OK;
}

/* Copies the manifest's key files into keys/, each checked against its recorded hash. */
static ca_err install_keys(ca_restore_report *r, const manifest *m, const char *dir,
                           const char *keys_dir, ca_errbuf *eb)
{
    char src[PATH_CAP], dst[PATH_CAP];
    ca_hash h;
    ca_err err;
    if (mkdir(keys_dir, 0700) != 0 && errno != EEXIST)
        return io_fail(eb, "cannot create", keys_dir);
    const char *name;
    json_t *v;
    json_object_foreach(m->key_files, name, v)
    {
        char rel[PATH_CAP];
        ca_hash expect;
        ca_json_hash(&expect, m->key_files, name);
        snprintf(rel, sizeof rel, "keys/%s", name);
        if ((err = join(src, dir, rel, eb)) || (err = join(dst, keys_dir, name, eb)))
            return err;
        if ((err = copy_file(src, dst, 0600, &h, eb)))
            return err;
        if (memcmp(h.b, expect.b, CA_HASH_SIZE) != 0)
            return ca_fail(eb, CA_ERR_VERIFY, "keys/%s changed while it was restored", name);
        r->key_files++;
    }
    return CA_OK;
}

/* Carries the replaced store's largest signed checkpoint (SPEC §1) into the new store, under
 * the new store's writer lock; then closes both. */
static ca_err carry_signed_max(ca_restore_report *r, old_max *om, const char *db_dir,
                               const ca_config *cfg, ca_errbuf *eb)
{
    ca_store *store = NULL;
    ca_store_options so = {.dir = db_dir, .max_map_size = cfg->store_max_map_size};
    ca_err err = ca_store_open(&store, &so, eb);
    if (!err && om->have)
        err = ca_log_carry_signed_max(store, om->size, &om->root, &r->carried, eb);
    ca_store_close(store);
    if (!err) {
        ca_store_close(om->old);
        om->old = NULL;
    }
    return err;
}

/* The restored store's figures, into the report. */
static ca_err report_figures(ca_restore_report *r, const char *db_dir, const ca_config *cfg,
                             ca_errbuf *eb)
{
    store_figures f;
    ca_err err = read_figures(&f, db_dir, cfg, eb);
    if (err)
        return err;
    json_decref(f.latest_anchor);
    r->tree_size = f.size;
    r->root = f.root;
    r->have_signed_max = f.have_signed_max;
    r->signed_max_size = f.signed_max_size;
    r->signed_max_root = f.signed_max_root;
    snprintf(r->blocked, sizeof r->blocked, "%s", f.blocked);
    return CA_OK;
}

ca_err ca_restore(ca_restore_report *r, const ca_config *cfg, const char *dir, bool force,
                  ca_errbuf *eb)
{
    CA_ASSERT(r && cfg && dir);
    memset(r, 0, sizeof *r);
    const char *data = cfg->node_data_dir;
    char db_dir[PATH_CAP], keys_dir[PATH_CAP], tmp_db[PATH_CAP];
    char stamp[32];
    manifest m;
    old_max om = {0};
    ca_err err = load_manifest(&m, dir, eb);
    if (err || (err = verify_backup(&m, dir, cfg, eb)))
        goto out;
    if ((err = join(db_dir, data, "db", eb)) || (err = join(keys_dir, data, "keys", eb)) ||
        (err = join(tmp_db, data, "db.restoring", eb)))
        goto out;
    bool have_db = false, have_keys = false;
    if ((err = prepare_data_dir(&have_db, &have_keys, data, db_dir, keys_dir, force, eb)))
        goto out;

    /* Replace: take the writer lock on the current store (fails while a node serves it), read
     * the largest checkpoint it signed, then move db/ and keys/ aside. */
    utc_time(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ");
    if (have_db && ((err = read_old_signed_max(&om, db_dir, cfg, eb)) ||
                    (err = move_aside(r->moved_db, sizeof r->moved_db, db_dir, stamp, eb))))
        goto out;
    if (have_keys &&
        (err = move_aside(r->moved_keys, sizeof r->moved_keys, keys_dir, stamp, eb)))
        goto out;

    if ((err = install_db(&m, dir, tmp_db, db_dir, eb)) ||
        (err = install_keys(r, &m, dir, keys_dir, eb)) || (err = sync_path(keys_dir, eb)) ||
        (err = sync_path(data, eb)))
        goto out;
    if ((err = carry_signed_max(r, &om, db_dir, cfg, eb)) ||
        (err = report_figures(r, db_dir, cfg, eb)))
        goto out;
    check_passphrase(r, cfg, keys_dir);
out:
    ca_store_close(om.old);
    json_decref(m.root);
    if (err && r->moved_db[0]) {
        char what[sizeof r->moved_db + 64];
        snprintf(what, sizeof what, "restore failed; the replaced db is at %s", r->moved_db);
        wrap(eb, err, what, err);
    }
    return err;
}
