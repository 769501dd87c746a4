/* Tests for common/json_fields.c: the member readers that replaced the hand-written copies in
 * proof_check.c, engine.c, cli_check.c, backup.c, reports.c and others. Every reader answers
 * NULL / the default / false for an absent member, a member of another type, a NULL object and
 * a non-object, and reads nothing into its output then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static json_t *doc(void)
{
    json_error_t je;
    json_t *o = json_loads("{\"s\": \"text\", \"e\": \"\", \"n\": 42, \"neg\": -1, \"big\": "
                           "9223372036854775807, \"f\": 1.5, \"nul\": null, \"h\": \"" HEX64
                           "\", \"arr\": [1]}",
                           0, &je);
    assert_non_null(o);
    /* h63: one character short; hx: one character not hex. */
    json_object_set_new(o, "h63", json_stringn(HEX64, 63));
    char bad[] = HEX64;
    bad[10] = 'g';
    json_object_set_new(o, "hx", json_string(bad));
    /* An embedded NUL after 64 good characters: judged by the first part (strlen). */
    char nul[66];
    memcpy(nul, HEX64, 64);
    nul[64] = '\0';
    nul[65] = 'z';
    json_object_set_new(o, "hnul", json_stringn(nul, 66));
    return o;
}

static void test_str(void **state)
{
    (void)state;
    json_t *o = doc();
    assert_string_equal(ca_json_str(o, "s"), "text");
    assert_string_equal(ca_json_str(o, "e"), "");
    assert_null(ca_json_str(o, "missing"));
    assert_null(ca_json_str(o, "n"));
    assert_null(ca_json_str(o, "nul"));
    assert_null(ca_json_str(NULL, "s"));
    assert_null(ca_json_str(json_object_get(o, "arr"), "s"));
    assert_string_equal(ca_json_str_or(o, "s", "-"), "text");
    assert_string_equal(ca_json_str_or(o, "e", "-"), "");
    assert_string_equal(ca_json_str_or(o, "missing", "-"), "-");
    assert_string_equal(ca_json_str_or(o, "n", ""), "");
    assert_null(ca_json_str_or(NULL, "s", NULL));
    json_decref(o);
}

static void test_u64(void **state)
{
    (void)state;
    json_t *o = doc();
    uint64_t v = 7;
    assert_true(ca_json_u64(&v, o, "n"));
    assert_int_equal(v, 42);
    assert_true(ca_json_u64(&v, o, "big"));
    assert_int_equal(v, 9223372036854775807ull);
    v = 7;
    assert_false(ca_json_u64(&v, o, "neg"));
    assert_false(ca_json_u64(&v, o, "f"));
    assert_false(ca_json_u64(&v, o, "s"));
    assert_false(ca_json_u64(&v, o, "nul"));
    assert_false(ca_json_u64(&v, o, "missing"));
    assert_false(ca_json_u64(&v, NULL, "n"));
    assert_int_equal(v, 7); /* untouched on every failure */
    assert_true(ca_json_u64_value(&v, json_array_get(json_object_get(o, "arr"), 0)));
    assert_int_equal(v, 1);
    assert_false(ca_json_u64_value(&v, NULL));
    json_decref(o);
}

static void test_hash(void **state)
{
    (void)state;
    json_t *o = doc();
    ca_hash h, want;
    assert_int_equal(ca_hash_from_hex(&want, HEX64, 64), CA_OK);
    assert_true(ca_json_hash(&h, o, "h"));
    assert_memory_equal(h.b, want.b, CA_HASH_SIZE);
    assert_false(ca_json_hash(&h, o, "h63"));
    assert_false(ca_json_hash(&h, o, "hx"));
    assert_false(ca_json_hash(&h, o, "n"));
    assert_false(ca_json_hash(&h, o, "missing"));
    assert_false(ca_json_hash(&h, NULL, "h"));
    memset(&h, 0, sizeof h);
    assert_true(ca_json_hash(&h, o, "hnul"));
    assert_memory_equal(h.b, want.b, CA_HASH_SIZE);
    assert_true(ca_json_hash_value(&h, json_object_get(o, "h")));
    assert_false(ca_json_hash_value(&h, json_object_get(o, "s")));
    assert_false(ca_json_hash_value(&h, NULL));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
