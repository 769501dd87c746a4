/* JSON request bodies (SPEC §3, §5): the node's one body gate, ca_http_body_json (node/http.c:
 * nesting cap, duplicate keys refused, malformed JSON), then what the routes do with the
 * value: the append body's digest list, an Open Badges 3.0 credential request
 * (credential/ob3.c ca_ob3_check, and for an accepted one its VC-JWT claims) and a bulk
 * participant array (node/bulk.c). Invariants: a refused body gets a 400 whose problem+json
 * body parses as JSON (the parser's error text is quoted into it); an accepted one is a value
 * every later step handles with CA_OK or a one-line sentence; nothing leaks. */
#include "node/bulk.h"
#include "credanchor/credential.h"
#include "credanchor/encoding.h"
#include "node/http.h"
#include "fuzz_common.h"

#include <jansson.h>

static void check_sentence(const ca_errbuf *eb)
{
    if (!eb->msg[0] || strchr(eb->msg, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *body = fuzz_strndup(data, size);
    ca_http_request req = {.method = "POST", .route = "/v1/credentials", .path = "/",
                           .body = body, .body_len = size};
    ca_http_response resp;
    memset(&resp, 0, sizeof resp);
    json_t *o = ca_http_body_json(&req, &resp);
    if (!o) {
        json_t *problem = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
        if (resp.status != 400 || !json_is_object(problem) ||
            !json_is_string(json_object_get(problem, "detail")))
            abort();
        json_decref(problem);
        free(resp.body);
        free(body);
        return 0;
    }
    ca_errbuf eb = {{0}};
    if (json_is_object(o)) {
        /* POST /v1/log/entries: {"digests": [64-hex, ...]} */
        json_t *digests = json_object_get(o, "digests");
        for (size_t i = 0; i < json_array_size(digests); i++) {
            json_t *d = json_array_get(digests, i);
            ca_hash h;
            if (json_is_string(d))
                (void)ca_hash_from_hex(&h, json_string_value(d), json_string_length(d));
        }
        /* POST /v1/credentials: the credential request. */
        ca_err err = ca_ob3_check(o, "did:web:issuer.example", &eb);
        if (err) {
            if (err != CA_ERR_INVALID)
                abort();
            check_sentence(&eb);
        } else {
            char *payload = NULL;
            size_t len = 0;
            memset(&eb, 0, sizeof eb);
            err = ca_vcjwt_payload(&payload, &len, o, &eb);
            if (err)
                check_sentence(&eb);
            else if (!payload || strlen(payload) != len)
                abort();
            free(payload);
        }
    } else if (json_is_array(o)) {
        /* POST /v1/credentials/batch with a JSON participant array. */
        ca_bulk b;
        ca_err err = ca_bulk_parse_json(&b, o, 1000, &eb);
        if (err)
            check_sentence(&eb);
        else
            ca_bulk_free(&b);
    }
    json_decref(o);
    free(resp.body);
    free(body);
    return 0;
}
