/* Members of parsed JSON (json_fields.h). The hash readers measure the string with strlen, as
 * the copies they replace did: a string with an embedded NUL is judged by its first part. */
#include "credanchor/json_fields.h"
#include "credanchor/encoding.h"

#include <string.h>

const char *ca_json_str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

const char *ca_json_str_or(const json_t *o, const char *name, const char *def)
{
    const char *s = ca_json_str(o, name);
    return s ? s : def;
}

bool ca_json_u64_value(uint64_t *v, const json_t *x)
{
    CA_ASSERT(v != NULL);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return false;
    *v = (uint64_t)json_integer_value(x);
    return true;
}

bool ca_json_u64(uint64_t *v, const json_t *o, const char *name)
{
    return ca_json_u64_value(v, json_object_get(o, name));
}

bool ca_json_hash_value(ca_hash *h, const json_t *x)
{
    CA_ASSERT(h != NULL);
    const char *s = json_string_value(x);
    return s && strlen(s) == 2 * CA_HASH_SIZE && ca_hash_from_hex(h, s, strlen(s)) == CA_OK;
}

bool ca_json_hash(ca_hash *h, const json_t *o, const char *name)
{
    return ca_json_hash_value(h, json_object_get(o, name));
}
