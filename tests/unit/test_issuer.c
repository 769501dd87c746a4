/* Unit tests for the issuer's post-commit hooks (ca_issuer_on_committed, contract in
 * include/credanchor/issuer.h), over a real node in a temp data dir: a hook sees each
 * committed credential and status change exactly once, with the outcome the caller gets;
 * never an item that failed, an idempotent repeat, an unchanged status, or anything of a batch
 * that failed or was rolled back; and it runs with no issuer lock held (it issues and revokes
 * from inside the hook without deadlock), also when concurrent callers share one commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/auth.h"
#include "node/config.h"
#include "node/issuer.h"
#include "node/node.h"
#include "node/resolver.h"

#define SEEN_MAX 512

/* Everything the hook was told, for the checks (the hook may run on several threads). */
typedef struct seen {
    pthread_mutex_t lock;
    size_t n, calls;
    ca_issuer_event_kind kind[SEEN_MAX];
    char id[SEEN_MAX][CA_CREDENTIAL_ID_MAX];
    char number[SEEN_MAX][CA_ISSUE_NUMBER_MAX];
    uint64_t leaf[SEEN_MAX];
    char status[SEEN_MAX][16];
    /* Re-entrancy: the hook issues (and revokes) once from inside itself. */
    ca_issuer *is;
    bool reenter;
    ca_err nested_issue, nested_revoke;
    char nested_id[CA_CREDENTIAL_ID_MAX];
} seen;

typedef struct fixture {
    char dir[256];
    ca_node *node;
    ca_resolver *resolver;
    ca_issuer *is;
    seen s;
} fixture;

static const char cred_text[] =
    "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\","
    "\"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\"],"
    "\"type\":[\"VerifiableCredential\",\"AchievementCredential\"],\"name\":\"N\","
    "\"credentialSubject\":{\"type\":[\"AchievementSubject\"],\"id\":\"did:example:a\","
    "\"achievement\":{\"id\":\"urn:a\",\"type\":[\"Achievement\"],\"name\":\"A\","
    "\"description\":\"D\",\"criteria\":{\"narrative\":\"C\"}}}}";

static json_t *credential(void)
{
    json_t *c = json_loads(cred_text, 0, NULL);
    assert_non_null(c);
    return c;
}

static void item_init(ca_issue_item *it, json_t *cred)
{
    memset(it, 0, sizeof *it);
    it->credential = cred;
    it->format = CA_FORMAT_VC_JWT;
    it->alg = CA_ALG_EDDSA;
}

static ca_err issue_one(ca_issuer *is, ca_issue_item *it, json_t *cred)
{
    ca_errbuf eb = {{0}};
    item_init(it, cred);
    ca_err err = ca_issuer_issue(is, it, 1, &eb);
    if (err)
        print_error("issue: %s\n", eb.msg);
    return err;
}

static void hook(void *user, const ca_issuer_event *ev, size_t n)
{
    seen *s = user;
    assert_true(n >= 1);
    pthread_mutex_lock(&s->lock);
    s->calls++;
    for (size_t i = 0; i < n; i++) {
        assert_true(s->n < SEEN_MAX);
        size_t k = s->n++;
        s->kind[k] = ev[i].kind;
        snprintf(s->id[k], sizeof s->id[k], "%s", ev[i].id);
        snprintf(s->number[k], sizeof s->number[k], "%s", ev[i].issue_number);
        s->leaf[k] = ev[i].leaf_index;
        if (ev[i].kind == CA_ISSUER_ISSUED) {
            assert_non_null(ev[i].item);
            assert_null(ev[i].change);
            assert_int_equal(ev[i].item->err, CA_OK);
            assert_non_null(ev[i].item->signed_text);
        } else {
            assert_int_equal(ev[i].kind, CA_ISSUER_STATUS_CHANGED);
            assert_non_null(ev[i].change);
            assert_null(ev[i].item);
            snprintf(s->status[k], sizeof s->status[k], "%s", ev[i].change->status);
        }
    }
    bool reenter = s->reenter;
    s->reenter = false;
    pthread_mutex_unlock(&s->lock);
    if (!reenter)
        return;
    /* Issue and revoke from inside the hook: with the writer lock or the commit still held
     * by this thread, each would wait for itself forever. */
    json_t *cred = credential();
    ca_issue_item it;
    s->nested_issue = issue_one(s->is, &it, cred);
    snprintf(s->nested_id, sizeof s->nested_id, "%s", it.id);
    ca_issue_item_clear(&it);
    json_decref(cred);
    ca_status_change ch = {.ref = s->nested_id, .action = CA_STATUS_REVOKE};
    ca_errbuf eb = {{0}};
    s->nested_revoke = ca_issuer_change_status(s->is, &ch, 1, &eb);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/ca_test_issuer_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    ca_config cfg;
    ca_config_defaults(&cfg);
    snprintf(cfg.node_data_dir, sizeof cfg.node_data_dir, "%s/data", f->dir);
    cfg.store_max_map_size = 1ull << 30;
    snprintf(cfg.credentials_issue_prefix, sizeof cfg.credentials_issue_prefix, "T");
    ca_errbuf eb = {{0}};
    ca_init_report rep;
    if (ca_node_init(&rep, &cfg, &eb) ||
        ca_node_open(&f->node, &cfg, CA_NODE_WRITE | CA_NODE_ISSUER_KEY, &eb))
        fail_msg("node: %s", eb.msg);
    ca_resolver_options ro = {.cfg = &f->node->cfg, .node = f->node};
    if (ca_resolver_create(&f->resolver, &ro, &eb) ||
        ca_issuer_open(&f->is, f->node, f->resolver, &eb))
        fail_msg("issuer: %s", eb.msg);
    pthread_mutex_init(&f->s.lock, NULL);
    f->s.is = f->is;
    assert_int_equal(ca_issuer_on_committed(f->is, hook, &f->s, &eb), CA_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ca_issuer_close(f->is);
    ca_resolver_free(f->resolver);
    ca_node_close(f->node);
    pthread_mutex_destroy(&f->s.lock);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* How many events of kind name credential id. */
static size_t count_of(const seen *s, ca_issuer_event_kind kind, const char *id)
{
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        c += s->kind[i] == kind && strcmp(s->id[i], id) == 0;
    return c;
}

/* A batch with good items, a bad one and a repeated bulk row: the hook sees exactly the
 * committed credentials, with the ids, numbers and leaves the caller got; a re-run of the
 * same rows (idempotent) tells it nothing. */
static void test_issued_once(void **state)
{
    fixture *f = *state;
    json_t *cred = credential(), *other = credential();
    json_object_set_new(json_object_get(json_object_get(other, "credentialSubject"),
                                        "achievement"),
                        "id", json_string("urn:b"));
    ca_participant pa = {"e1", "Ann", "", "", "c", 0}, pb = {"e2", "Bo", "", "", "c", 0};
    ca_issue_item items[5];
    for (int i = 0; i < 5; i++)
        item_init(&items[i], cred);
    items[1].participant = &pa;
    items[2].alg = CA_ALG_ES256K;
    items[2].format = CA_FORMAT_DI_EDDSA_JCS; /* eddsa-jcs-2022 signs with EdDSA only */
    items[3].participant = &pa;  /* the same (achievement, person) again: refused */
    items[4].credential = other;
    items[4].participant = &pb;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_issuer_issue(f->is, items, 5, &eb), CA_OK);
    assert_int_equal(items[0].err, CA_OK);
    assert_int_equal(items[1].err, CA_OK);
    assert_int_equal(items[2].err, CA_ERR_INVALID);
    assert_int_equal(items[3].err, CA_ERR_INVALID);
    assert_int_equal(items[4].err, CA_OK);
    assert_int_equal(f->s.n, 3);
    static const int good[] = {0, 1, 4};
    for (size_t g = 0; g < 3; g++) {
        const ca_issue_item *it = &items[good[g]];
        assert_int_equal(count_of(&f->s, CA_ISSUER_ISSUED, it->id), 1);
        assert_string_equal(f->s.id[g], it->id); /* item order */
        assert_string_equal(f->s.number[g], it->issue_number);
        assert_int_equal(f->s.leaf[g], it->leaf_index);
    }
    for (int i = 0; i < 5; i++)
        ca_issue_item_clear(&items[i]);

    /* The same bulk rows again: their earlier credentials come back, nothing is committed. */
    size_t before = f->s.n;
    ca_issue_item again[2];
    item_init(&again[0], cred);
    again[0].participant = &pa;
    item_init(&again[1], other);
    again[1].participant = &pb;
    assert_int_equal(ca_issuer_issue(f->is, again, 2, &eb), CA_OK);
    assert_true(again[0].existing && again[1].existing);
    assert_int_equal(f->s.n, before);
    ca_issue_item_clear(&again[0]);
    ca_issue_item_clear(&again[1]);
    json_decref(cred);
    json_decref(other);
}

/* A batch whose commit fails as a whole (it spans more issue-number months than the issuer
 * keeps counters for, so planning rolls everything back): the hook hears nothing, and the
 * next batch is told about normally. */
static void test_rolled_back_batch_unseen(void **state)
{
    fixture *f = *state;
    enum { N = 257 }; /* one more month than the counters (MAX_COUNTERS in node/issuer.c) */
    json_t *cred = credential();
    ca_participant *rows = calloc(N, sizeof *rows);
    ca_issue_item *items = calloc(N, sizeof *items);
    char (*ext)[16] = calloc(N, sizeof *ext);
    assert_true(rows && items && ext);
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < N; i++) {
        snprintf(ext[i], sizeof ext[i], "r%d", i);
        rows[i] = (ca_participant){ext[i], "X", "", "", "c", now - (int64_t)i * 32 * 86400};
        item_init(&items[i], cred);
        items[i].participant = &rows[i];
    }
    ca_errbuf eb = {{0}};
    assert_int_not_equal(ca_issuer_issue(f->is, items, N, &eb), CA_OK);
    assert_int_equal(f->s.n, 0);
    assert_int_equal(f->s.calls, 0);
    for (int i = 0; i < N; i++)
        ca_issue_item_clear(&items[i]);

    ca_issue_item it;
    assert_int_equal(issue_one(f->is, &it, cred), CA_OK);
    assert_int_equal(f->s.n, 1);
    assert_string_equal(f->s.id[0], it.id);
    assert_int_equal(f->s.leaf[0], it.leaf_index);
    ca_issue_item_clear(&it);
    free(ext);
    free(items);
    free(rows);
    json_decref(cred);
}

/* A commit that fails inside its transaction (an audit entry that cannot be written: a token
 * id that is not UTF-8) rolls back the whole batch, the good item with it: the hook hears
 * nothing of it, for issuance and for status changes; the same work without the bad audit
 * entry then commits and is told about. */
static void test_failed_commit_unseen(void **state)
{
    fixture *f = *state;
    ca_token_info tok = {.role = CA_ROLE_ADMIN};
    snprintf(tok.id, sizeof tok.id, "\xff\xfe");
    ca_audit_event bad = {.token = &tok, .method = "POST", .route = "/v1/credentials",
                          .status = 201};
    json_t *cred = credential();
    ca_issue_item items[2];
    item_init(&items[0], cred);
    item_init(&items[1], cred);
    items[1].audit = &bad;
    ca_errbuf eb = {{0}};
    assert_int_not_equal(ca_issuer_issue(f->is, items, 2, &eb), CA_OK);
    assert_non_null(strstr(eb.msg, "cannot store the credentials"));
    assert_int_equal(f->s.calls, 0);
    ca_issue_item_clear(&items[0]);
    ca_issue_item_clear(&items[1]);

    ca_issue_item it;
    assert_int_equal(issue_one(f->is, &it, cred), CA_OK);
    assert_int_equal(f->s.n, 1);
    ca_status_change ch = {.ref = it.id, .action = CA_STATUS_REVOKE, .audit = &bad};
    assert_int_not_equal(ca_issuer_change_status(f->is, &ch, 1, &eb), CA_OK);
    assert_int_equal(f->s.n, 1);
    ch.audit = NULL;
    assert_int_equal(ca_issuer_change_status(f->is, &ch, 1, &eb), CA_OK);
    assert_int_equal(f->s.n, 2);
    assert_int_equal(count_of(&f->s, CA_ISSUER_STATUS_CHANGED, it.id), 1);
    ca_issue_item_clear(&it);
    json_decref(cred);
}

/* Status changes: one event per change made, none for an unchanged (idempotent) one, an
 * unknown credential or a refused change (revocation is final). */
static void test_status_changes_once(void **state)
{
    fixture *f = *state;
    json_t *cred = credential();
    ca_issue_item a, b;
    assert_int_equal(issue_one(f->is, &a, cred), CA_OK);
    assert_int_equal(issue_one(f->is, &b, cred), CA_OK);
    size_t before = f->s.n;
    ca_status_change ch[4] = {
        {.ref = a.id, .action = CA_STATUS_REVOKE, .reason = "r"},
        {.ref = b.issue_number, .action = CA_STATUS_REVOKE},
        {.ref = "urn:uuid:00000000-0000-4000-8000-000000000000", .action = CA_STATUS_REVOKE},
        {.ref = b.id, .action = CA_STATUS_REVOKE}, /* again in the same round: unchanged */
    };
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_issuer_change_status(f->is, ch, 4, &eb), CA_OK);
    assert_true(ch[0].changed && ch[1].changed && !ch[3].changed);
    assert_int_equal(ch[2].err, CA_ERR_NOT_FOUND);
    assert_int_equal(f->s.n, before + 2);
    assert_int_equal(count_of(&f->s, CA_ISSUER_STATUS_CHANGED, a.id), 1);
    assert_int_equal(count_of(&f->s, CA_ISSUER_STATUS_CHANGED, b.id), 1);
    assert_string_equal(f->s.status[before], "revoked");
    assert_string_equal(f->s.number[before + 1], b.issue_number);
    assert_string_equal(f->s.status[before + 1], "revoked");
    assert_int_equal(f->s.leaf[before], 0);

    /* Refused and unchanged changes tell nothing. */
    ca_status_change more[2] = {
        {.ref = a.id, .action = CA_STATUS_SUSPEND}, /* revoked: refused */
        {.ref = a.id, .action = CA_STATUS_REVOKE},  /* revoked already: unchanged */
    };
    assert_int_equal(ca_issuer_change_status(f->is, more, 2, &eb), CA_OK);
    assert_int_equal(more[0].err, CA_ERR_CONFLICT);
    assert_int_equal(more[1].err, CA_OK);
    assert_false(more[1].changed);
    assert_int_equal(f->s.n, before + 2);
    ca_issue_item_clear(&a);
    ca_issue_item_clear(&b);
    json_decref(cred);
}

/* The hook runs with no issuer lock held and outside the commit: it issues and revokes from
 * inside itself (each a new group commit), and those are told about once too. */
static void test_hook_may_reenter(void **state)
{
    fixture *f = *state;
    json_t *cred = credential();
    f->s.reenter = true;
    ca_issue_item it;
    assert_int_equal(issue_one(f->is, &it, cred), CA_OK);
    assert_int_equal(f->s.nested_issue, CA_OK);
    assert_int_equal(f->s.nested_revoke, CA_OK);
    assert_int_equal(count_of(&f->s, CA_ISSUER_ISSUED, it.id), 1);
    assert_int_equal(count_of(&f->s, CA_ISSUER_ISSUED, f->s.nested_id), 1);
    assert_int_equal(count_of(&f->s, CA_ISSUER_STATUS_CHANGED, f->s.nested_id), 1);
    assert_int_equal(f->s.n, 3);
    ca_issue_item_clear(&it);
    json_decref(cred);
}

/* Concurrent single issuances (which the issuance group commit takes into shared commits):
 * every credential is told about exactly once, to the thread that issued it. */
#define THREADS 8
#define PER_THREAD 12

typedef struct worker {
    ca_issuer *is;
    json_t *cred;
    char ids[PER_THREAD][CA_CREDENTIAL_ID_MAX];
    uint64_t leaves[PER_THREAD];
    ca_err err;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD && !w->err; i++) {
        ca_issue_item it;
        item_init(&it, w->cred);
        ca_errbuf eb = {{0}};
        w->err = ca_issuer_issue(w->is, &it, 1, &eb);
        snprintf(w->ids[i], sizeof w->ids[i], "%s", it.id);
        w->leaves[i] = it.leaf_index;
        ca_issue_item_clear(&it);
    }
    return NULL;
}

static void test_concurrent_issues_once(void **state)
{
    fixture *f = *state;
    json_t *cred = credential();
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.is = f->is, .cred = cred};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(f->s.n, THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].err, CA_OK);
        for (int k = 0; k < PER_THREAD; k++) {
            assert_int_equal(count_of(&f->s, CA_ISSUER_ISSUED, w[i].ids[k]), 1);
            for (size_t j = 0; j < f->s.n; j++)
                if (strcmp(f->s.id[j], w[i].ids[k]) == 0)
                    assert_int_equal(f->s.leaf[j], w[i].leaves[k]);
        }
    }
    json_decref(cred);
}

static void test_hooks_capped(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    for (int i = 1; i < CA_ISSUER_HOOKS_MAX; i++) /* setup registered one */
        assert_int_equal(ca_issuer_on_committed(f->is, hook, &f->s, &eb), CA_OK);
    assert_int_equal(ca_issuer_on_committed(f->is, hook, &f->s, &eb), CA_ERR_FULL);
    json_t *cred = credential();
    ca_issue_item it;
    assert_int_equal(issue_one(f->is, &it, cred), CA_OK);
    assert_int_equal(count_of(&f->s, CA_ISSUER_ISSUED, it.id), CA_ISSUER_HOOKS_MAX);
    ca_issue_item_clear(&it);
    json_decref(cred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issued_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_batch_unseen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_unseen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_changes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_may_reenter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_issues_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks_capped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
