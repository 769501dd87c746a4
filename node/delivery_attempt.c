/* node/delivery_attempt.c — one attempt of a delivery, for every channel (delivery_attempt.h). */
#include "node/delivery_attempt.h"

#include <openssl/rand.h>

#define RETRY_MAX_DELAY 3600 /* seconds: the backoff's ceiling */

int64_t ca_delivery_retry_delay(const ca_config *cfg, int64_t attempts)
{
    int64_t d = (int64_t)cfg->delivery_retry_base;
    for (int64_t i = 1; i < attempts && d < RETRY_MAX_DELAY; i++)
        d *= 2;
    if (d > RETRY_MAX_DELAY)
        d = RETRY_MAX_DELAY;
    uint8_t j = 128;
    RAND_bytes(&j, 1); /* jitter: +-20%, so retries of one outage do not arrive together */
    d += d * ((int64_t)j - 128) / 640;
    return d < 1 ? 1 : d;
}

static void log_attempt(json_t *rec, int64_t now, const ca_delivery_attempt *a,
                        const char *outcome)
{
    json_t *log = json_object_get(rec, "log");
    if (!json_is_array(log))
        json_object_set_new(rec, "log", log = json_array());
    json_array_append_new(log, json_pack("{s:I, s:s, s:I, s:s}", "at", (json_int_t)now,
                                         "outcome", outcome, "code", (json_int_t)a->code,
                                         "detail", a->detail ? a->detail : ""));
    while (json_array_size(log) > CA_DELIVERY_LOG_MAX)
        json_array_remove(log, 0);
}

int64_t ca_delivery_record_attempt(json_t *rec, const ca_config *cfg, int64_t now,
                                   const ca_delivery_attempt *a, const char *done_state,
                                   const char *done_at_key)
{
    json_int_t attempts = json_integer_value(json_object_get(rec, "attempts")) + 1;
    json_object_set_new(rec, "attempts", json_integer(attempts));
    if (a->ok) {
        json_object_set_new(rec, "state", json_string(done_state));
        json_object_set_new(rec, done_at_key, json_integer(now));
        log_attempt(rec, now, a, done_state);
        return 0;
    }
    json_object_set_new(rec, "lastError", json_string(a->detail ? a->detail : ""));
    json_int_t queued = json_integer_value(json_object_get(rec, "queuedAt"));
    int64_t at = now + ca_delivery_retry_delay(cfg, attempts);
    if (a->permanent || at > queued + (json_int_t)cfg->delivery_deadline) {
        const char *st = a->permanent ? "failed" : "gave_up";
        json_object_set_new(rec, "state", json_string(st));
        log_attempt(rec, now, a, st);
        return 0;
    }
    json_object_set_new(rec, "nextAt", json_integer(at));
    log_attempt(rec, now, a, "retry");
    return at;
}
