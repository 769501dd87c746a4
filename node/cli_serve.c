/* node/cli_serve.c — `credanchor serve` (SPEC §6): opens the node for writing, serves the HTTP
 * API (node/http.c) until SIGTERM or SIGINT, then stops gracefully: no new connections,
 * requests in progress finish, the node closes (the digest index is flushed), exit 0.
 *
 * Signals are blocked in every thread (the mask is set before any thread starts, and MHD's
 * workers inherit it) and read synchronously from a signalfd in the main thread, so no work
 * happens in a signal handler. */
#include "node/cli.h"

#include "node/anchor_engine.h"
#include "credanchor/anchor_check.h"
#include "node/http.h"
#include "node/pages.h"
#include "node/issuer.h"
#include "node/outbox.h"
#include "node/routes_delivery.h"
#include "node/routes_webhooks.h"
#include "node/webhooks.h"
#include "node/node.h"
#include "node/resolver.h"
#include "node/routes_admin.h"
#include "node/routes_templates.h"
#include "node/routes_auth.h"
#include "credanchor/rpc.h"
#include "node/node_log.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000
#define STDERR_FLUSH_MS 100
#define AUTH_UPKEEP_S 60 /* inactive people disabled, dead sessions pruned (issue #16) */
#define SERVE_MMAP_THRESHOLD (256 * 1024)
#define SERVE_TRIM_THRESHOLD (2 * 1024 * 1024)

/* Blocks SIGTERM and SIGINT in this thread and every thread it starts, ignores SIGPIPE, and
 * opens the signalfd the main loop reads them from. An exit code on failure. */
static int block_signals(int *sfd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return ca_cli_usage_error("serve", "cannot block signals");
    signal(SIGPIPE, SIG_IGN);
    *sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (*sfd < 0)
        return ca_cli_usage_error("serve", "signalfd: %s", strerror(errno));
    return CA_EXIT_OK;
}

/* What `serve` runs beside the open node; NULL members were not created. */
typedef struct serve_parts {
    ca_http_server *srv;
    ca_resolver *resolver;
    ca_anchor_engine *anchor;
    ca_issuer *issuer;
    ca_outbox *outbox;
    ca_webhooks *webhooks;
    ca_anchor_check_cache *anchor_checks;
} serve_parts;

/* A post-commit hook (ca_issuer_on_committed): what was just committed may owe webhooks. */
static void wake_webhooks(void *w, const ca_issuer_event *events, size_t n)
{
    (void)events;
    (void)n;
    ca_webhooks_wake(w);
}

/* Creates the server and every subsystem with its routes, then starts listening (url). */
static ca_err serve_start(serve_parts *p, ca_node *node, char *url, size_t cap, ca_errbuf *eb)
{
    ca_err err = ca_http_create(&p->srv, node, eb);
    /* The memo of passed final-anchor checks that /verification reads and the engine
     * invalidates on a reorg (anchor_check.h). */
    if (!err && !(err = ca_anchor_check_cache_create(&p->anchor_checks, eb)))
        node->anchor_checks = p->anchor_checks;
    /* DID resolution and the own did:web document (node/routes_did.c); the resolver caches
     * did:web documents in the store this process writes. */
    if (!err) {
        ca_resolver_options ro = {.cfg = &node->cfg, .node = node, .cache_writes = true};
        err = ca_resolver_create(&p->resolver, &ro, eb);
    }
    if (!err)
        err = ca_did_routes_register(p->srv, p->resolver, eb);
    /* The anchoring engine (node/anchor_engine.c) when anchor.rpc_url is set, and the anchor
     * routes (node/routes_anchor.c), which read records without it. */
    if (!err && node->cfg.anchor_rpc_url[0]) {
        ca_anchor_engine_options ao = {.node = node};
        err = ca_anchor_engine_create(&p->anchor, &ao, eb);
    }
    if (!err)
        err = ca_anchor_routes_register(p->srv, p->anchor, eb);
    if (!err && p->anchor)
        err = ca_anchor_engine_start(p->anchor, eb);
    /* Credentials, status lists, verification and reports (SPEC §5). */
    if (!err)
        err = ca_issuer_open(&p->issuer, node, p->resolver, eb);
    if (!err)
        err = ca_credential_routes_register(p->srv, &node->cfg, p->issuer, p->resolver, eb);
    /* Recipients' email (node/outbox.c, issue #18) when mail.smtp_url is set: the issuer
     * queues in its commits, the post-commit hook wakes the senders. */
    if (!err)
        err = ca_outbox_start(&p->outbox, node, eb);
    if (!err && p->outbox)
        err = ca_issuer_on_committed(p->issuer, ca_outbox_committed, p->outbox, eb);
    if (!err)
        err = ca_delivery_routes_register(p->srv, eb);
    /* Webhooks (node/webhooks.c, issue #18): queued in the issuer's and the anchoring
     * engine's commits; the senders wake after each issuer commit and poll for the rest. */
    if (!err)
        err = ca_webhooks_start(&p->webhooks, node, eb);
    if (!err)
        err = ca_issuer_on_committed(p->issuer, wake_webhooks, p->webhooks, eb);
    if (!err)
        err = ca_webhook_routes_register(p->srv, eb);
    /* The credential's public page and its assets (node/routes_pages.c, issue #15). */
    if (!err)
        err = ca_page_routes_register(p->srv, &node->cfg, eb);
    /* People's sign-in, sessions and users (node/routes_auth.c, issue #16). */
    if (!err)
        err = ca_auth_routes_register(p->srv, node, eb);
    /* The admin console's own API: tokens, the audit chain's check (issue #17). */
    if (!err)
        err = ca_admin_routes_register(p->srv, eb);
    /* Achievement templates and certificate layouts, read and edited (issue #17). */
    if (!err)
        err = ca_template_routes_register(p->srv, eb);
    /* Routes of later subsystems register here, before the server starts. */
    if (!err)
        err = ca_http_start(p->srv, url, cap, eb);
    return err;
}

/* Frees what serve_start created, the server first (its requests use the rest), then the
 * node; the check memo last, since the node points at it until it closes. */
static void serve_free(serve_parts *p, ca_node *node)
{
    ca_http_destroy(p->srv);
    ca_auth_routes_free();
    ca_outbox_stop(p->outbox);
    ca_webhooks_stop(p->webhooks);
    ca_anchor_engine_free(p->anchor);
    ca_issuer_close(p->issuer);
    ca_resolver_free(p->resolver);
    if (node)
        ca_node_close(node);
    ca_anchor_check_cache_free(p->anchor_checks);
}

/* Waits for SIGTERM or SIGINT on sfd, flushing stderr every STDERR_FLUSH_MS and running the
 * people's upkeep every AUTH_UPKEEP_S; the signal. */
static uint32_t wait_for_signal(int sfd, ca_node *node)
{
    struct signalfd_siginfo si = {0};
    time_t upkeep = 0;
    for (;;) {
        if (time(NULL) - upkeep >= AUTH_UPKEEP_S) {
            upkeep = time(NULL);
            ca_auth_upkeep(node);
        }
        struct pollfd pfd = {.fd = sfd, .events = POLLIN};
        int ready = poll(&pfd, 1, STDERR_FLUSH_MS);
        fflush(stderr);
        if (ready == 0 || (ready < 0 && errno == EINTR))
            continue;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n == (ssize_t)sizeof si)
            break;
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            ca_node_log(CA_NODE_LOG_ERROR, "serve", "signalfd read: %s", strerror(errno));
            break;
        }
    }
    return si.ssi_signo;
}

int ca_cli_serve(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false}, {"data-dir", true, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    /* The request log is one line per request on stderr. Unbuffered, each line is a write(2)
     * contending on the file's lock and halves the proof rate (bench/http_proofs.sh): buffer
     * stderr instead and flush it from the main loop every STDERR_FLUSH_MS, on errors and at
     * exit. Concurrent lines stay whole (stdio's stream lock). */
    static char stderr_buf[1 << 16];
    setvbuf(stderr, stderr_buf, _IOFBF, sizeof stderr_buf);
    /* glibc raises its mmap threshold to the size of every large block freed (up to 32 MiB),
     * after which large transient buffers (a digest-index flush's sorted tail, big bodies)
     * come from the per-thread arenas and their pages stay resident once freed. A fixed
     * threshold keeps such buffers mmapped, so freeing them returns the memory: in the soak
     * benchmark (issue #13) the heap's plateau fell from 46.5 to 40.5 MiB. */
    mallopt(M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD);
    /* Fixing the mmap threshold also freezes the trim threshold at 128 KiB, so every free
     * that leaves more than that at an arena's top gives it back with madvise. A certificate
     * (cairo's PDF streams: a ~260 KiB zlib state per stream, several per PDF) then
     * page-faults its buffers in again and again: a third of its time. Each arena keeps up
     * to SERVE_TRIM_THRESHOLD free at its top instead (bench/certificates.sh). */
    mallopt(M_TRIM_THRESHOLD, SERVE_TRIM_THRESHOLD);
    int sfd = -1;
    if ((rc = block_signals(&sfd)))
        return rc;
    if (geteuid() == 0)
        ca_node_log(CA_NODE_LOG_WARNING, "serve",
                    "running as root; run the node as an unprivileged user (see "
                    "config/credanchor.service)");

    ca_node *node = NULL;
    serve_parts parts = {0};
    if ((rc = ca_cli_open_node(&node, "serve", opts,
                               CA_NODE_WRITE | CA_NODE_ISSUER_KEY | CA_NODE_ANCHOR_ADDRESS |
                                   CA_NODE_DATA_KEY))) {
        close(sfd);
        return rc;
    }
    ca_errbuf eb = {{0}};
    char url[400];
    ca_err err = serve_start(&parts, node, url, sizeof url, &eb);
    if (err) {
        rc = ca_cli_error("serve", err, &eb);
        serve_free(&parts, node);
        close(sfd);
        return rc;
    }
    const char *blocked = ca_log_append_blocked(node->log);
    ca_config_print(&node->cfg, stderr);
    if (blocked)
        ca_node_log(CA_NODE_LOG_WARNING, "serve", "appends are refused: %s", blocked);
    ca_node_log(CA_NODE_LOG_INFO, "serve", "listening on %s", url);
    fflush(stderr);

    uint32_t signo = wait_for_signal(sfd, node);
    ca_node_log(CA_NODE_LOG_INFO, "serve", "%s received, stopping",
                signo == SIGINT ? "SIGINT" : "SIGTERM");
    /* A stalled chain endpoint must not hold the stop (issue #13 item 5: under 5 s, within
     * systemd's TimeoutStopSec): requests waiting on JSON-RPC (verification) end now. */
    ca_rpc_cancel_all();
    ca_http_stop(parts.srv, SHUTDOWN_GRACE_MS);
    serve_free(&parts, node);
    close(sfd);
    ca_node_log(CA_NODE_LOG_INFO, "serve", "stopped");
    fflush(stderr);
    return CA_EXIT_OK;
}
