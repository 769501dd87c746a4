/* node/cli_anchor.c — `credanchor anchor` (SPEC §6): anchors the latest checkpoint now when no
 * node serves the data dir, by running the anchoring engine's state machine
 * (node/anchor_engine.c) in this process: one request, then passes until the record is final or
 * the timeout passes. The record stays in the store either way, so `serve` resumes it. While
 * a node serves the data dir (its writer lock is held) the node owns anchoring: the user is
 * told to POST /v1/anchors. */
#include "node/cli.h"

#include "node/anchor_engine.h"
#include "node/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ANCHOR_POLL_MS 500

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int ca_cli_anchor(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false}, {"data-dir", true, NULL, false},
                         {"timeout", true, NULL, false}, {"json", false, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    unsigned long long timeout = 120;
    const char *t = ca_cli_value(opts, "timeout");
    if (t) {
        char *end;
        errno = 0;
        timeout = strtoull(t, &end, 10);
        if (!*t || *end || errno || t[0] == '-')
            return ca_cli_usage_error("anchor", "--timeout \"%s\" is not a number of seconds", t);
    }
    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, "anchor", opts)))
        return rc;
    if (!cfg.anchor_rpc_url[0])
        return ca_cli_usage_error("anchor", "anchoring is disabled: set anchor.rpc_url and "
                                            "anchor.chain_id");
    ca_errbuf eb = {{0}};
    ca_node *node = NULL;
    ca_err err = ca_node_open(&node, &cfg, CA_NODE_WRITE | CA_NODE_ANCHOR_ADDRESS, &eb);
    if (err == CA_ERR_LOCKED)
        return ca_cli_usage_error("anchor", "a node is serving this data dir and anchors it: "
                                            "POST /v1/anchors with an admin token instead");
    if (err)
        return ca_cli_error("anchor", err, &eb);
    ca_anchor_engine *e = NULL;
    ca_anchor_record *rec = malloc(sizeof *rec);
    ca_anchor_engine_options ao = {.node = node};
    if (!rec)
        err = ca_fail(&eb, CA_ERR_NOMEM, "out of memory");
    if (!err)
        err = ca_anchor_engine_create(&e, &ao, &eb);
    bool accepted = false;
    if (!err)
        err = ca_anchor_engine_request(e, rec, &accepted, &eb);
    ca_anchor_status st = rec ? rec->status : CA_ANCHOR_PENDING;
    time_t deadline = time(NULL) + (time_t)timeout;
    if (!err && accepted) {
        for (;;) {
            ca_errbuf seb = {{0}};
            ca_err serr = ca_anchor_engine_step(e, &st, &seb);
            if (serr)
                fprintf(stderr, "credanchor anchor: %s\n", ca_errmsg(&seb, serr));
            if (st == CA_ANCHOR_FINAL || time(NULL) >= deadline)
                break;
            sleep_ms(ANCHOR_POLL_MS);
        }
    }
    if (!err)
        err = ca_anchor_latest(node->store, rec, &eb);
    if (!err) {
        json_t *o = ca_anchor_record_json(rec);
        char *text = json_dumps(o, ca_cli_flag(opts, "json") ? JSON_COMPACT | JSON_PRESERVE_ORDER
                                                             : JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (text)
            puts(text);
        free(text);
        st = rec->status;
        if (st != CA_ANCHOR_FINAL)
            fprintf(stderr, "credanchor anchor: tree size %llu is %s, not final yet; `serve` "
                            "resumes it\n", (unsigned long long)rec->tree_size,
                    ca_anchor_status_name(st));
    }
    free(rec);
    ca_anchor_engine_free(e);
    ca_node_close(node);
    if (err)
        return ca_cli_error("anchor", err, &eb);
    return st == CA_ANCHOR_FINAL ? CA_EXIT_OK : CA_EXIT_CHECK_FAILED;
}
