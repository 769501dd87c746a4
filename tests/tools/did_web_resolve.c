/*
 * Test driver (not installed): resolves one did:web DID with ca_did_web_resolve over the real
 * libcurl transport and prints the W3C resolution result as JSON on stdout.
 *
 *   did_web_resolve [--ca-file F] [--allow-hosts H] [--timeout S] [--max-body N]
 *                   [--no-cache] DID
 *
 * Exit 0 when resolved, 1 on a resolution error, 2 on bad usage.
 */
#include "credanchor/did_resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: did_web_resolve [--ca-file F] [--allow-hosts H] [--timeout S] "
                    "[--max-body N] [--no-cache] DID\n");
    return 2;
}

int main(int argc, char **argv)
{
    ca_did_web_curl cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout_seconds = 10;
    cfg.max_body = 1024 * 1024;
    ca_did_options opts;
    memset(&opts, 0, sizeof opts);
    const char *did = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-cache") == 0) {
            opts.no_cache = true;
        } else if (i + 1 < argc && strcmp(a, "--ca-file") == 0) {
            snprintf(cfg.ca_file, sizeof cfg.ca_file, "%s", argv[++i]);
        } else if (i + 1 < argc && strcmp(a, "--allow-hosts") == 0) {
            snprintf(cfg.allow_hosts, sizeof cfg.allow_hosts, "%s", argv[++i]);
        } else if (i + 1 < argc && strcmp(a, "--timeout") == 0) {
            cfg.timeout_seconds = strtol(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "--max-body") == 0) {
            cfg.max_body = (size_t)strtoull(argv[++i], NULL, 10);
        } else if (a[0] == '-' || did) {
            return usage();
        } else {
            did = a;
        }
    }
    if (!did)
        return usage();

    ca_did_web_transport t = {ca_did_web_curl_fetch, &cfg};
    ca_did_result r;
    ca_did_result_init(&r);
    ca_did_web_resolve(&r, did, &opts, &t, NULL);

    json_t *meta = json_object();
    if (r.error == CA_DID_OK) {
        json_object_set_new(meta, "contentType", json_string(r.content_type));
    } else {
        char type[128];
        snprintf(type, sizeof type, "https://www.w3.org/ns/did#%s", ca_did_error_code(r.error));
        json_object_set_new(meta, "error",
                            json_pack("{s:s, s:s}", "type", type, "detail", r.detail));
    }
    json_t *out = json_pack("{s:O?, s:o, s:O}", "didDocument", r.document,
                            "didResolutionMetadata", meta, "didDocumentMetadata",
                            r.document_metadata);
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text ? text : "null");
    free(text);
    json_decref(out);
    int rc = r.error == CA_DID_OK ? 0 : 1;
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
    return rc;
}
