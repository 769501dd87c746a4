/*
 * node/routes_templates.c — the achievement templates and certificate layouts over HTTP
 * (node/routes_templates.h; issue #17 "Templates").
 *
 * Edits are serialised by one mutex (the check of If-Match and the write are one step, so two
 * admins saving from the same version get one 200 and one 412). Files are never half
 * written: each goes through a temp file in its own directory, fsync, rename (link for a new
 * template, so an existing one is never replaced: 409) and an fsync of the directory. The
 * bytes a write replaces are copied to .history first, so an auditor can read what any
 * credential issued earlier was made from (its validFrom against the history's times).
 */
#include "node/routes_templates.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "node/auth.h"
#include "node/bulk.h"
#include "node/certificate.h"
#include "node/http.h"
#include "node/keystore.h"
#include "node/node.h"
#include "node/node_log.h"
#include "node/template_edit.h"
#include "node/web_assets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMPLATES_MAX 1000 /* templates listed: a directory of course files, not a store */
#define LAYOUT_FILE_MAX (64u << 10) /* what node/certificate.c reads of a layout */
#define PATH_CAP (CA_CONFIG_STR_MAX + 400)
#define SHA_HEX (2 * CA_HASH_SIZE + 1)

static pthread_mutex_t edit_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- files -------------------------------------------------------------------------------- */

/* Reads up to max bytes of path into *out (malloc'd, NUL-terminated). CA_ERR_NOT_FOUND when
 * missing, CA_ERR_TOO_LARGE past max. */
static ca_err read_capped(const char *path, size_t max, char **out, size_t *len, ca_errbuf *eb)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ca_fail(eb, errno == ENOENT ? CA_ERR_NOT_FOUND : CA_ERR_IO, "%s: %s", path,
                       strerror(errno));
    char *buf = malloc(max + 2);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = buf && ferror(f);
    fclose(f);
    if (!buf)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (bad || n > max) {
        free(buf);
        return bad ? ca_fail(eb, CA_ERR_IO, "%s: cannot read", path)
                   : ca_fail(eb, CA_ERR_TOO_LARGE, "%s: over %zu bytes", path, max);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return CA_OK;
}

static void sha_hex(char out[SHA_HEX], const void *p, size_t n)
{
    ca_hash h;
    ca_sha256(&h, p, n);
    ca_hash_to_hex(out, &h);
}

/* Writes len bytes as <dir>/<file> atomically: a temp file in dir, fsync, then rename (or,
 * with no_replace, link: CA_ERR_EXISTS when the file is there), then an fsync of dir. */
static ca_err write_atomic(const char *dir, const char *file, const char *bytes, size_t len,
                           bool no_replace, ca_errbuf *eb)
{
    char tmp[PATH_CAP], path[PATH_CAP];
    uint8_t rnd[8];
    char rhex[17];
    if (ca_random_bytes(rnd, sizeof rnd))
        return ca_fail(eb, CA_ERR_CRYPTO, "no randomness for a temp file name");
    ca_hex_encode(rhex, rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", dir, file, rhex);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ca_fail(eb, CA_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    ca_err err = CA_OK;
    for (size_t off = 0; off < len && !err;) {
        ssize_t w = write(fd, bytes + off, len - off);
        if (w < 0 && errno != EINTR)
            err = ca_fail(eb, CA_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        else if (w > 0)
            off += (size_t)w;
    }
    if (!err && fsync(fd) != 0)
        err = ca_fail(eb, CA_ERR_IO, "%s: cannot sync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !err)
        err = ca_fail(eb, CA_ERR_IO, "%s: cannot close: %s", tmp, strerror(errno));
    if (!err && no_replace && link(tmp, path) != 0)
        err = errno == EEXIST ? ca_fail(eb, CA_ERR_EXISTS, "%s exists", path)
                              : ca_fail(eb, CA_ERR_IO, "%s: cannot link: %s", path, strerror(errno));
    if (!err && !no_replace && rename(tmp, path) != 0)
        err = ca_fail(eb, CA_ERR_IO, "%s: cannot rename: %s", path, strerror(errno));
    if (err || no_replace)
        unlink(tmp);
    return err ? err : ca_fsync_dir(dir, eb);
}

/* mkdir that syncs the parent when it made the directory. */
static ca_err make_dir(const char *parent, const char *path, ca_errbuf *eb)
{
    if (mkdir(path, 0755) == 0)
        return ca_fsync_dir(parent, eb);
    if (errno == EEXIST)
        return CA_OK;
    return ca_fail(eb, CA_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
}

/* Keeps bytes (what a write replaces) as <dir>/.history/<stem>/<UTC time, ms>-<sha256>.json. */
static ca_err keep_history(const char *dir, const char *stem, const char *bytes, size_t len,
                           ca_errbuf *eb)
{
    char hist[PATH_CAP], sub[PATH_CAP + 160], file[160], sha[SHA_HEX], when[32];
    snprintf(hist, sizeof hist, "%s/.history", dir);
    snprintf(sub, sizeof sub, "%s/%s", hist, stem);
    ca_err err = make_dir(dir, hist, eb);
    if (!err)
        err = make_dir(hist, sub, eb);
    if (err)
        return err;
    /* In ms, as certificates compare it with the UUIDv7 time of their credential's id
     * (node/certificate.c layout_as_of). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char secs[24];
    strftime(secs, sizeof secs, "%Y%m%dT%H%M%S", &tm);
    snprintf(when, sizeof when, "%.15s.%03dZ", secs, (int)(now.tv_nsec / 1000000) % 1000);
    sha_hex(sha, bytes, len);
    snprintf(file, sizeof file, "%s-%s.json", when, sha);
    err = write_atomic(sub, file, bytes, len, true, eb);
    return err == CA_ERR_EXISTS ? CA_OK : err; /* the same bytes in the same millisecond */
}

/* ---- a template's state on disk ----------------------------------------------------------- */

typedef struct tstate {
    char name[132];
    char *bytes;                 /* the template file */
    size_t len;
    char sha[SHA_HEX];
    json_t *tmpl;                /* NULL when the file does not load (error says why) */
    char error[512];
    char key[128];               /* the achievement's layout stem */
    char *lbytes;                /* <certificates_dir>/<key>.json, NULL when none */
    size_t llen;
    char lsha[SHA_HEX];
    char version[SHA_HEX];
} tstate;

static void tstate_free(tstate *s)
{
    free(s->bytes);
    free(s->lbytes);
    json_decref(s->tmpl);
    memset(s, 0, sizeof *s);
}

static const char *achievement_id(const json_t *tmpl)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(tmpl, "credentialSubject"), "achievement"), "id"));
}

/* The version (routes_templates.h) of template bytes and an own layout (NULL: none). */
static void version_of(char out[SHA_HEX], const char *tsha, const char *lsha)
{
    if (!lsha) {
        memcpy(out, tsha, SHA_HEX);
        return;
    }
    char both[2 * SHA_HEX];
    snprintf(both, sizeof both, "%s:%s", tsha, lsha);
    sha_hex(out, both, strlen(both));
}

/* Reads <templates_dir>/<name>.json and its own layout. CA_ERR_NOT_FOUND when no such
 * template; a file that does not load is still read (s->tmpl NULL, s->error set). */
static ca_err tstate_load(tstate *s, const ca_config *cfg, const char *name, ca_errbuf *eb)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s.json", cfg->credentials_templates_dir, name);
    ca_err err = read_capped(path, CA_TEMPLATE_MAX, &s->bytes, &s->len, eb);
    if (err)
        return err;
    sha_hex(s->sha, s->bytes, s->len);
    ca_errbuf lb = {{0}};
    if (ca_template_load(&s->tmpl, path, &lb) != CA_OK)
        snprintf(s->error, sizeof s->error, "%s", lb.msg);
    const char *id = achievement_id(s->tmpl);
    if (id)
        ca_certificate_layout_key(s->key, sizeof s->key, id);
    if (s->key[0] && cfg->credentials_certificates_dir[0]) {
        snprintf(path, sizeof path, "%s/%s.json", cfg->credentials_certificates_dir, s->key);
        err = read_capped(path, LAYOUT_FILE_MAX, &s->lbytes, &s->llen, eb);
        if (err && err != CA_ERR_NOT_FOUND) {
            tstate_free(s);
            return err;
        }
        if (s->lbytes)
            sha_hex(s->lsha, s->lbytes, s->llen);
    }
    version_of(s->version, s->sha, s->lbytes ? s->lsha : NULL);
    return CA_OK;
}

/* The layout that applies to key and where it comes from: "own", "default", "built-in". */
static json_t *layout_for(const ca_config *cfg, const char *key, const char **source)
{
    const char *dir = cfg->credentials_certificates_dir;
    const char *names[] = {key, "default"}, *sources[] = {"own", "default"};
    for (size_t i = 0; i < 2 && dir[0]; i++) {
        if (!names[i][0])
            continue;
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s/%s.json", dir, names[i]);
        char *b;
        size_t n;
        ca_errbuf eb;
        if (read_capped(path, LAYOUT_FILE_MAX, &b, &n, &eb) == CA_OK) {
            json_t *j = json_loadb(b, n, JSON_REJECT_DUPLICATES, NULL);
            free(b);
            *source = sources[i];
            return j ? j : json_null();
        }
    }
    *source = "built-in";
    for (size_t i = 0; i < ca_web_assets_count; i++)
        if (strcmp(ca_web_assets[i].path, "certificate/default.json") == 0)
            return json_loadb((const char *)ca_web_assets[i].data, ca_web_assets[i].len, 0, NULL);
    return json_null();
}

/* The answer of GET /v1/templates/{name} (and of a write). */
static json_t *tstate_json(const tstate *s, const ca_config *cfg)
{
    const char *source = "built-in";
    json_t *layout = layout_for(cfg, s->key, &source);
    json_t *o = json_pack("{s:s, s:s, s:s, s:O?, s:o?, s:s, s:s?, s:s}", "name", s->name,
                          "version", s->version, "templateSha256", s->sha, "template", s->tmpl,
                          "certificate", layout, "certificateSource", source,
                          "certificateSha256", s->lbytes ? s->lsha : NULL, "issuerName",
                          cfg->credentials_issuer_name);
    if (o && s->error[0])
        json_object_set_new(o, "error", json_string(s->error));
    return o;
}

static void set_etag(ca_http_response *resp, const char *version)
{
    snprintf(resp->etag, sizeof resp->etag, "\"%s\"", version);
}

/* ---- reading ------------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* One row of the list. */
static json_t *list_item(const ca_config *cfg, const char *name)
{
    tstate s;
    ca_errbuf eb = {{0}};
    if (tstate_load(&s, cfg, name, &eb) != CA_OK)
        return json_pack("{s:s, s:s}", "name", name, "error", eb.msg);
    const json_t *ach = json_object_get(json_object_get(s.tmpl, "credentialSubject"),
                                        "achievement");
    const char *given = json_string_value(json_object_get(json_object_get(s.tmpl, "issuer"),
                                                          "name"));
    const char *source = "built-in";
    json_decref(layout_for(cfg, s.key, &source));
    json_t *item = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:s, s:s}", "name", name, "version",
                             s.version, "achievementId", json_object_get(ach, "id"),
                             "achievementName", json_object_get(ach, "name"), "achievementType",
                             json_object_get(ach, "achievementType"), "issuerName",
                             given && given[0] ? given : cfg->credentials_issuer_name,
                             "certificateSource", source);
    if (item && s.error[0])
        json_object_set_new(item, "error", json_string(s.error));
    tstate_free(&s);
    return item;
}

/* GET /v1/templates: {"templates":[{name, version, achievementId, achievementName,
 * achievementType, issuerName, certificateSource, error?}]} by name (the roster upload's
 * course picker too; a file that does not load is listed with its error). */
static void h_list(ca_http_request *req, ca_http_response *resp)
{
    const ca_config *cfg = &req->node->cfg;
    DIR *d = opendir(cfg->credentials_templates_dir);
    if (!d) {
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "templates: %s: %s", cfg->credentials_templates_dir,
                    strerror(errno));
        ca_http_problem(resp, 500, "the templates directory cannot be read");
        return;
    }
    json_t *items[TEMPLATES_MAX];
    size_t n = 0;
    for (struct dirent *e; n < TEMPLATES_MAX && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char name[256];
        if (len < 6 || len - 5 >= sizeof name || strcmp(e->d_name + len - 5, ".json"))
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        if (!ca_template_name_ok(name, false)) /* dot files, temp files, <x>.mail.json */
            continue;
        json_t *item = list_item(cfg, name);
        if (item)
            items[n++] = item;
    }
    closedir(d);
    qsort(items, n, sizeof items[0], by_name);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "templates", arr));
}

/* The {name} of a route: false after answering 404. */
static bool route_name(ca_http_request *req, ca_http_response *resp)
{
    if (ca_template_name_ok(req->params[0], false))
        return true;
    ca_http_problem(resp, 404, "no template has this name");
    return false;
}

/* GET /v1/templates/{name}. */
static void h_get(ca_http_request *req, ca_http_response *resp)
{
    if (!route_name(req, resp))
        return;
    tstate s;
    ca_errbuf eb = {{0}};
    ca_err err = tstate_load(&s, &req->node->cfg, req->params[0], &eb);
    if (err == CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 404, "no template has this name");
        return;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    set_etag(resp, s.version);
    ca_http_reply_json(resp, 200, tstate_json(&s, &req->node->cfg));
    tstate_free(&s);
}

/* ---- checking an edit ---------------------------------------------------------------------- */

/* An edit as checked: the files' new bytes (layout NULL: unchanged). */
typedef struct edit {
    json_t *tmpl;     /* borrowed from the body */
    json_t *layout;   /* borrowed; NULL: unchanged */
    char *tbytes, *lbytes;
    size_t tlen, llen;
    char key[128];
} edit;

static void edit_free(edit *e)
{
    free(e->tbytes);
    free(e->lbytes);
}

/* Renders the sample certificate of tmpl with layout into *pdf (may be NULL: only checked). */
static ca_err render_sample(const ca_config *cfg, const json_t *tmpl, const json_t *layout,
                            char **pdf, size_t *len, ca_errbuf *eb)
{
    ca_credential_view v;
    ca_template_sample_view(&v, tmpl, cfg->credentials_issuer_name, cfg->node_public_url,
                            (int64_t)time(NULL));
    char *out = NULL;
    size_t n = 0;
    ca_err err = ca_certificate_pdf_layout(&out, &n, &v, layout, eb);
    if (err == CA_ERR_INVALID)
        return err;
    if (err)
        return ca_fail(eb, CA_ERR_INVALID, "certificate: does not render: %s", eb->msg);
    if (pdf) {
        *pdf = out;
        *len = n;
    } else {
        free(out);
    }
    return CA_OK;
}

/* Serialises j as a file's bytes (two-space indent, a final newline). */
static char *file_bytes(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = realloc(s, n + 2);
    if (!out) {
        free(s);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = 0;
    *len = n + 1;
    return out;
}

/* Reads {"template", "certificate"?} (plus "name" when with_name) from body into e and checks
 * both (template_edit.h), the layout by rendering it. A 400 is answered into resp. */
static bool edit_check(ca_http_request *req, ca_http_response *resp, const json_t *body,
                       bool with_name, edit *e)
{
    const ca_config *cfg = &req->node->cfg;
    memset(e, 0, sizeof *e);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        if (strcmp(k, "template") && strcmp(k, "certificate") && !(with_name && !strcmp(k, "name"))) {
            ca_http_problem(resp, 400, "%s: not a member of a template edit (template, "
                            "certificate%s)", k, with_name ? ", name" : "");
            return false;
        }
    }
    ca_errbuf eb = {{0}};
    e->tmpl = json_object_get(body, "template");
    if (!e->tmpl) {
        ca_http_problem(resp, 400, "template: required, the unsigned OpenBadgeCredential");
        return false;
    }
    if (ca_template_check(e->tmpl, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
        return false;
    }
    ca_certificate_layout_key(e->key, sizeof e->key, achievement_id(e->tmpl));
    const json_t *layout = json_object_get(body, "certificate");
    if (layout && !json_is_null(layout)) {
        if (!cfg->credentials_certificates_dir[0]) {
            ca_http_problem(resp, 400, "certificate: credentials.certificates_dir is not set, so "
                            "a layout has nowhere to go");
            return false;
        }
        if (!e->key[0] || strcmp(e->key, "default") == 0) {
            ca_http_problem(resp, 400, "certificate: the achievement id's last segment names "
                            "the layout file; \"%s\" cannot have a layout of its own", e->key);
            return false;
        }
        if (ca_layout_check(layout, &eb) ||
            render_sample(cfg, e->tmpl, layout, NULL, NULL, &eb)) {
            ca_http_problem(resp, 400, "%s", eb.msg);
            return false;
        }
        e->layout = (json_t *)layout;
        if (!(e->lbytes = file_bytes(layout, &e->llen))) {
            ca_http_problem(resp, 500, "out of memory");
            return false;
        }
        if (e->llen > LAYOUT_FILE_MAX) {
            ca_http_problem(resp, 400, "certificate: the layout would be %zu bytes; a layout "
                            "file may be %u KiB", e->llen, LAYOUT_FILE_MAX >> 10);
            return false;
        }
    }
    if (!(e->tbytes = file_bytes(e->tmpl, &e->tlen))) {
        ca_http_problem(resp, 500, "out of memory");
        return false;
    }
    if (e->tlen > CA_TEMPLATE_MAX) {
        ca_http_problem(resp, 400, "template: it would be %zu bytes; a template file may be "
                        "%u KiB (make its images smaller or link them by https URL)", e->tlen,
                        CA_TEMPLATE_MAX >> 10);
        return false;
    }
    return true;
}

/* ---- writing ------------------------------------------------------------------------------- */

/* The strong entity tags of an If-Match list: true when one is "version" (or bare). */
static bool if_match(const char *header, const char *version)
{
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == 66 && p[0] == '"' && p[65] == '"' && strncmp(p + 1, version, 64) == 0)
            return true;
        if (m == 64 && strncmp(p, version, 64) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Writes the edit of template name (old: the state it replaces, NULL for a new one). */
static ca_err write_edit(const ca_config *cfg, const char *name, const tstate *old,
                         const edit *e, ca_errbuf *eb)
{
    const char *tdir = cfg->credentials_templates_dir, *cdir = cfg->credentials_certificates_dir;
    char file[160], tmp[200];
    snprintf(file, sizeof file, "%s.json", name);
    ca_err err = CA_OK;
    if (old)
        err = keep_history(tdir, name, old->bytes, old->len, eb);
    /* The temp file is loaded as bulk issuance will load it, before it takes the name. */
    if (!err) {
        snprintf(tmp, sizeof tmp, ".check-%s", file);
        err = write_atomic(tdir, tmp, e->tbytes, e->tlen, false, eb);
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s/%s", tdir, tmp);
        json_t *t = NULL;
        if (!err)
            err = ca_template_load(&t, path, eb);
        json_decref(t);
        unlink(path);
    }
    if (!err)
        err = write_atomic(tdir, file, e->tbytes, e->tlen, !old, eb);
    if (err || !e->layout)
        return err;
    char lfile[160];
    snprintf(lfile, sizeof lfile, "%s.json", e->key);
    if (old && old->lbytes && !strcmp(old->key, e->key)) {
        err = keep_history(cdir, e->key, old->lbytes, old->llen, eb);
    } else {
        /* The achievement's first layout of its own: keep the default or built-in one that
         * applied until now, so earlier credentials are still drawn with it (certificate.h). */
        const char *source;
        json_t *before = layout_for(cfg, e->key, &source);
        size_t blen = 0;
        char *bbytes = json_is_object(before) ? file_bytes(before, &blen) : NULL;
        if (bbytes)
            err = keep_history(cdir, e->key, bbytes, blen, eb);
        free(bbytes);
        json_decref(before);
    }
    if (!err)
        err = write_atomic(cdir, lfile, e->lbytes, e->llen, false, eb);
    return err;
}

/* Puts the files of old back after a failed audit (best effort, logged). */
static void undo_edit(const ca_config *cfg, const tstate *old, const edit *e)
{
    ca_errbuf eb = {{0}};
    char file[160];
    snprintf(file, sizeof file, "%s.json", old->name);
    if (write_atomic(cfg->credentials_templates_dir, file, old->bytes, old->len, false, &eb))
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "templates: cannot undo %s: %s", file, eb.msg);
    if (!e->layout)
        return;
    snprintf(file, sizeof file, "%s.json", e->key);
    if (old->lbytes && !strcmp(old->key, e->key)) {
        if (write_atomic(cfg->credentials_certificates_dir, file, old->lbytes, old->llen, false,
                         &eb))
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "templates: cannot undo %s: %s", file, eb.msg);
    } else {
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s/%s", cfg->credentials_certificates_dir, file);
        unlink(path);
    }
}

/* The audit entry of a write (who, the template, both versions; never image bytes). */
static ca_err audit_edit(ca_http_request *req, int status, const char *name, const tstate *old,
                         const tstate *now, ca_errbuf *eb)
{
    char detail[1000], client[64];
    snprintf(detail, sizeof detail,
             "template %s: version %s -> %s (template file %s -> %s; certificate %s.json %s -> "
             "%s)", name, old ? old->version : "none", now->version, old ? old->sha : "none",
             now->sha, now->key, old && old->lbytes ? old->lsha : "none",
             now->lbytes ? now->lsha : "none");
    ca_audit_event ev = {.token = req->token, .method = req->method, .route = req->route,
                         .status = status, .detail = detail,
                         .client = ca_http_client_text(req, client, sizeof client)};
    return ca_audit_append(req->node->store, &ev, eb);
}

/* Writes, audits and answers one checked edit (old NULL: a new template). Under edit_lock. */
static void commit_edit(ca_http_request *req, ca_http_response *resp, const char *name,
                        const tstate *old, const edit *e)
{
    const ca_config *cfg = &req->node->cfg;
    ca_errbuf eb = {{0}};
    ca_err err = write_edit(cfg, name, old, e, &eb);
    if (err == CA_ERR_EXISTS) {
        ca_http_problem(resp, 409, "a template named %s exists", name);
        return;
    }
    if (err) {
        /* The template may be written and the layout not: put the template back too, so a
         * failed save changes nothing (each file was replaced atomically or not at all). */
        if (old) {
            undo_edit(cfg, old, e);
        } else {
            char path[PATH_CAP];
            snprintf(path, sizeof path, "%s/%s.json", cfg->credentials_templates_dir, name);
            unlink(path);
        }
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "templates: %s", eb.msg);
        ca_http_problem(resp, 500, "the template could not be written (the node's log says "
                        "why); nothing changed");
        return;
    }
    tstate now;
    if ((err = tstate_load(&now, cfg, name, &eb))) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    int status = old ? 200 : 201;
    if ((err = audit_edit(req, status, name, old, &now, &eb))) {
        if (old)
            undo_edit(cfg, old, e);
        else {
            char path[PATH_CAP];
            snprintf(path, sizeof path, "%s/%s.json", cfg->credentials_templates_dir, name);
            unlink(path);
        }
        tstate_free(&now);
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    resp->audited = true;
    set_etag(resp, now.version);
    ca_http_reply_json(resp, status, tstate_json(&now, cfg));
    tstate_free(&now);
}

/* PUT /v1/templates/{name} (admin). */
static void h_put(ca_http_request *req, ca_http_response *resp)
{
    if (!route_name(req, resp))
        return;
    const ca_config *cfg = &req->node->cfg;
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    edit e = {0};
    tstate old = {.len = 0};
    ca_errbuf eb = {{0}};
    const char *match = ca_http_header(req, "If-Match");
    pthread_mutex_lock(&edit_lock);
    ca_err err = tstate_load(&old, cfg, req->params[0], &eb);
    if (err == CA_ERR_NOT_FOUND)
        ca_http_problem(resp, 404, "no template has this name (POST /v1/templates makes one)");
    else if (err)
        ca_http_problem_err(resp, err, &eb);
    else if (!match)
        ca_http_problem(resp, 428, "If-Match is required: the version you edited (GET gives it "
                        "as ETag), so a save never overwrites someone else's");
    else if (!if_match(match, old.version)) {
        set_etag(resp, old.version);
        ca_http_problem(resp, 412, "the template changed since you read it (now version %s); "
                        "reload it and make your change again", old.version);
    } else if (edit_check(req, resp, body, false, &e)) {
        const char *was = achievement_id(old.tmpl);
        if (was && strcmp(was, achievement_id(e.tmpl)))
            ca_http_problem(resp, 400, "credentialSubject.achievement.id cannot change (it "
                            "names the certificate layout and keys the credentials' "
                            "idempotency): make a new template with POST /v1/templates");
        else
            commit_edit(req, resp, req->params[0], &old, &e);
    }
    edit_free(&e);
    pthread_mutex_unlock(&edit_lock);
    tstate_free(&old);
    json_decref(body);
}

/* POST /v1/templates (admin): {"name","template","certificate"?} -> 201. */
static void h_create(ca_http_request *req, ca_http_response *resp)
{
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    edit e = {0};
    if (!name || !ca_template_name_ok(name, true)) {
        ca_http_problem(resp, 400, "name: required, the file name: 1 to %d of a-z, 0-9 and -",
                        CA_TEMPLATE_NAME_MAX);
        json_decref(body);
        return;
    }
    if (!edit_check(req, resp, body, true, &e)) {
        edit_free(&e);
        json_decref(body);
        return;
    }
    pthread_mutex_lock(&edit_lock);
    /* One achievement, one template: the id keys idempotency and names the layout. */
    DIR *d = opendir(req->node->cfg.credentials_templates_dir);
    char taken[256] = "";
    for (struct dirent *de; d && !taken[0] && (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        char stem[256];
        if (len < 6 || len - 5 >= sizeof stem || strcmp(de->d_name + len - 5, ".json"))
            continue;
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), de->d_name);
        tstate s;
        ca_errbuf eb = {{0}};
        if (ca_template_name_ok(stem, false) && !tstate_load(&s, &req->node->cfg, stem, &eb)) {
            const char *id = achievement_id(s.tmpl);
            if (id && !strcmp(id, achievement_id(e.tmpl)))
                snprintf(taken, sizeof taken, "%s", stem);
            tstate_free(&s);
        }
    }
    if (d)
        closedir(d);
    if (!d)
        ca_http_problem(resp, 500, "the templates directory cannot be read");
    else if (taken[0])
        ca_http_problem(resp, 409, "template %s already has this achievement id; each "
                        "achievement has one template", taken);
    else
        commit_edit(req, resp, name, NULL, &e);
    pthread_mutex_unlock(&edit_lock);
    edit_free(&e);
    json_decref(body);
}

/* POST /v1/templates/{name}/preview.pdf (admin): {"template"?, "certificate"?}, each unsaved
 * (absent: the saved one) -> the sample certificate as application/pdf. Writes nothing. */
static void h_preview(ca_http_request *req, ca_http_response *resp)
{
    if (!route_name(req, resp))
        return;
    const ca_config *cfg = &req->node->cfg;
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    tstate s = {.len = 0};
    ca_errbuf eb = {{0}};
    json_t *tmpl = json_object_get(body, "template"), *layout = json_object_get(body, "certificate");
    const char *source = "";
    json_t *own_layout = NULL;
    ca_err err = CA_OK;
    snprintf(resp->detail, sizeof resp->detail, "certificate preview of template %.64s",
             req->params[0]);
    if (!tmpl) {
        if ((err = tstate_load(&s, cfg, req->params[0], &eb)) == CA_ERR_NOT_FOUND)
            ca_http_problem(resp, 404, "no template has this name");
        else if (!err && !s.tmpl)
            ca_http_problem(resp, 400, "the saved template does not load: %s", s.error);
        tmpl = s.tmpl;
    } else if (ca_template_check(tmpl, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
    }
    if (!resp->status && err)
        ca_http_problem_err(resp, err, &eb);
    if (!resp->status && (!layout || json_is_null(layout))) {
        char key[128];
        ca_certificate_layout_key(key, sizeof key, achievement_id(tmpl));
        layout = own_layout = layout_for(cfg, key, &source);
    } else if (!resp->status && ca_layout_check(layout, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
    }
    char *pdf = NULL;
    size_t len = 0;
    if (!resp->status && (err = render_sample(cfg, tmpl, layout, &pdf, &len, &eb)))
        ca_http_problem(resp, 400, "%s", eb.msg);
    else if (!resp->status) {
        snprintf(resp->content_disposition, sizeof resp->content_disposition,
                 "inline; filename=\"preview.pdf\"");
        ca_http_reply_owned(resp, 200, "application/pdf", pdf, len);
    }
    json_decref(own_layout);
    tstate_free(&s);
    json_decref(body);
}

static const ca_http_route template_routes[] = {
    {"GET", "/v1/templates", CA_ROLE_ISSUER, NULL, h_list, NULL},
    {"GET", "/v1/templates/{name}", CA_ROLE_ISSUER, NULL, h_get, NULL},
    {"PUT", "/v1/templates/{name}", CA_ROLE_ADMIN, "application/json", h_put, NULL},
    {"POST", "/v1/templates", CA_ROLE_ADMIN, "application/json", h_create, NULL},
    {"POST", "/v1/templates/{name}/preview.pdf", CA_ROLE_ADMIN, "application/json", h_preview,
     NULL},
};

ca_err ca_template_routes_register(struct ca_http_server *srv, ca_errbuf *eb)
{
    size_t n = sizeof template_routes / sizeof template_routes[0];
    ca_err err = ca_http_add_routes(srv, template_routes, n, NULL, eb);
    for (size_t i = 0; i < n && !err; i++)
        if (strcmp(template_routes[i].method, "GET"))
            err = ca_http_set_body_max(srv, template_routes[i].method, template_routes[i].pattern,
                                       CA_TEMPLATE_BODY_MAX, eb);
    return err;
}
