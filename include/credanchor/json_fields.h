/* Reading members of parsed JSON (jansson): the field idioms every module used to write out
 * by hand. Each takes the object (or value) as read-only and never fails loudly: a missing
 * member, a member of the wrong type, or an object that is NULL or not an object all give
 * NULL / the default / false, so callers write one check and their own error message.
 * Returned strings are owned by the JSON value and live as long as it does.
 * Conventions: common.h. */
#ifndef CREDANCHOR_JSON_FIELDS_H
#define CREDANCHOR_JSON_FIELDS_H

#include "credanchor/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The string member name of o, or NULL. */
const char *ca_json_str(const json_t *o, const char *name);
/* The string member name of o, or def when there is none. */
const char *ca_json_str_or(const json_t *o, const char *name, const char *def);

/* A non-negative integer value (x) or member (name of o) into *v. False, *v untouched, for
 * anything else (absent, not an integer, negative). */
bool ca_json_u64_value(uint64_t *v, const json_t *x);
bool ca_json_u64(uint64_t *v, const json_t *o, const char *name);

/* A 32-byte hash written as exactly 64 hex characters (SPEC §0), as a value (x) or a member
 * (name of o), into *h. False for anything else; *h may then be partly written. */
bool ca_json_hash_value(ca_hash *h, const json_t *x);
bool ca_json_hash(ca_hash *h, const json_t *o, const char *name);

#ifdef __cplusplus
}
#endif
#endif
