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
#include "node/issuer.h"
#include "node/node.h"
#include "node/resolver.h"
#include "credanchor/rpc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000
#define STDERR_FLUSH_MS 100

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

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return ca_cli_usage_error("serve", "cannot block signals");
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0)
        return ca_cli_usage_error("serve", "signalfd: %s", strerror(errno));

    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, "serve", opts))) {
        close(sfd);
        return rc;
    }
    if (geteuid() == 0)
        fputs("credanchor serve: warning: running as root; run the node as an unprivileged "
              "user (see config/credanchor.service)\n", stderr);

    ca_errbuf eb = {{0}};
    ca_node *node = NULL;
    ca_http_server *srv = NULL;
    ca_resolver *resolver = NULL;
    ca_anchor_engine *anchor = NULL;
    ca_issuer *issuer = NULL;
    ca_err err = ca_node_open(&node, &cfg,
                              CA_NODE_WRITE | CA_NODE_ISSUER_KEY | CA_NODE_ANCHOR_ADDRESS, &eb);
    if (!err)
        err = ca_http_create(&srv, node, &eb);
    /* The memo of passed final-anchor checks that /verification reads and the engine
     * invalidates on a reorg (anchor_check.h). */
    ca_anchor_check_cache *anchor_checks = NULL;
    if (!err && !(err = ca_anchor_check_cache_create(&anchor_checks, &eb)))
        node->anchor_checks = anchor_checks;
    /* DID resolution and the own did:web document (node/routes_did.c); the resolver caches
     * did:web documents in the store this process writes. */
    if (!err) {
        ca_resolver_options ro = {.cfg = &node->cfg, .node = node, .cache_writes = true};
        err = ca_resolver_create(&resolver, &ro, &eb);
    }
    if (!err)
        err = ca_did_routes_register(srv, resolver, &eb);
    /* The anchoring engine (node/anchor_engine.c) when anchor.rpc_url is set, and the anchor
     * routes (node/routes_anchor.c), which read records without it. */
    if (!err && node->cfg.anchor_rpc_url[0]) {
        ca_anchor_engine_options ao = {.node = node};
        err = ca_anchor_engine_create(&anchor, &ao, &eb);
    }
    if (!err)
        err = ca_anchor_routes_register(srv, anchor, &eb);
    if (!err && anchor)
        err = ca_anchor_engine_start(anchor, &eb);
    /* Credentials, status lists, verification and reports (SPEC §5). */
    if (!err)
        err = ca_issuer_open(&issuer, node, resolver, &eb);
    if (!err)
        err = ca_credential_routes_register(srv, &node->cfg, issuer, resolver, &eb);
    /* Routes of later subsystems register here, before the server starts. */
    char url[400];
    if (!err)
        err = ca_http_start(srv, url, sizeof url, &eb);
    if (err) {
        rc = ca_cli_error("serve", err, &eb);
        ca_http_destroy(srv);
        ca_anchor_engine_free(anchor);
        ca_issuer_close(issuer);
        ca_resolver_free(resolver);
        if (node)
            ca_node_close(node);
        ca_anchor_check_cache_free(anchor_checks);
        close(sfd);
        return rc;
    }
    const char *blocked = ca_log_append_blocked(node->log);
    ca_config_print(&node->cfg, stderr);
    if (blocked)
        fprintf(stderr, "credanchor serve: warning: appends are refused: %s\n", blocked);
    fprintf(stderr, "credanchor serve: listening on %s\n", url);
    fflush(stderr);

    struct signalfd_siginfo si = {0};
    for (;;) {
        struct pollfd pfd = {.fd = sfd, .events = POLLIN};
        int ready = poll(&pfd, 1, STDERR_FLUSH_MS);
        fflush(stderr);
        if (ready == 0 || (ready < 0 && errno == EINTR))
            continue;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n == (ssize_t)sizeof si)
            break;
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            fprintf(stderr, "credanchor serve: signalfd read: %s\n", strerror(errno));
            break;
        }
    }
    fprintf(stderr, "credanchor serve: %s received, stopping\n",
            si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    /* A stalled chain endpoint must not hold the stop (issue #13 item 5: under 5 s, within
     * systemd's TimeoutStopSec): requests waiting on JSON-RPC (verification) end now. */
    ca_rpc_cancel_all();
    ca_http_stop(srv, SHUTDOWN_GRACE_MS);
    ca_http_destroy(srv);
    ca_anchor_engine_free(anchor);
    ca_issuer_close(issuer);
    ca_resolver_free(resolver);
    ca_node_close(node);
    ca_anchor_check_cache_free(anchor_checks);
    close(sfd);
    fputs("credanchor serve: stopped\n", stderr);
    fflush(stderr);
    return CA_EXIT_OK;
}
