/*
 * One attempt of a delivery (issue #18: an email in the outbox, a POST to a webhook endpoint),
 * recorded the same way for every channel on the delivery's JSON record: "attempts" + 1, the
 * error, a log of the last CA_DELIVERY_LOG_MAX attempts ({"at","outcome","code","detail"}),
 * and the next state: done (the channel's word, e.g. "sent" or "delivered", with its time),
 * "failed" (the destination refused for good), "gave_up" (the next try would come after
 * queuedAt + delivery.deadline), or still queued with "nextAt" after a backoff of
 * delivery.retry_base x 2^(attempts-1), at most an hour, +-20% (docs/delivery.md).
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_DELIVERY_ATTEMPT_H
#define CREDANCHOR_DELIVERY_ATTEMPT_H

#include "credanchor/common.h"
#include "node/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DELIVERY_LOG_MAX 20 /* attempts kept per delivery (the count is kept whole) */

typedef struct ca_delivery_attempt {
    bool ok;           /* delivered */
    bool permanent;    /* refused for good (an SMTP 5xx for the recipient or message) */
    long code;         /* the destination's answer code, 0 when none */
    const char *detail;
} ca_delivery_attempt;

/* Seconds until the next try after `attempts` attempts (>= 1; jittered, so the retries of
 * one outage do not all arrive together). */
int64_t ca_delivery_retry_delay(const ca_config *cfg, int64_t attempts);

/* Records attempt a, made at now, on rec; done_state and done_at_key name the channel's
 * success ("sent", "sentAt"). Returns the time of the next try (rec keeps its state and gets
 * "nextAt"), or 0 when the delivery ended (rec's "state" says how). */
int64_t ca_delivery_record_attempt(json_t *rec, const ca_config *cfg, int64_t now,
                                   const ca_delivery_attempt *a, const char *done_state,
                                   const char *done_at_key);

#ifdef __cplusplus
}
#endif

#endif
