/* Unit tests for did/did_methods.c: the table of DID methods (credanchor/did.h) that replaced
 * the "did:key:" / "did:web:" prefix checks, with the answers those checks gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "credanchor/did.h"

static ca_did_method of(const char *did)
{
    return ca_did_method_of(did, strlen(did));
}

static void test_known_methods(void **state)
{
    (void)state;
    assert_int_equal(of("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
                     CA_DID_METHOD_KEY);
    assert_int_equal(of("did:web:example.org"), CA_DID_METHOD_WEB);
    assert_int_equal(of("did:web:localhost%3A8443:users:alice"), CA_DID_METHOD_WEB);
    /* the prefix alone: the callers' strncmp(did, "did:web:", 8) said yes too */
    assert_int_equal(of("did:web:"), CA_DID_METHOD_WEB);
    assert_int_equal(of("did:key:"), CA_DID_METHOD_KEY);
}

/* What the old prefix checks refused stays refused: other methods, other cases, a missing
 * colon, percent-encoded forms (callers decode first: the resolver route decides offload on
 * the decoded DID, issue #13), and text cut short by len. */
static void test_others(void **state)
{
    (void)state;
    const char *other[] = {"",          "did:",          "did:ethr:0xabc",  "did:webs:x",
                           "did:keys:z", "DID:web:example.org", "did:Web:example.org",
                           "did:web",   "did:key",       "did%3Aweb%3Aexample.org",
                           "did%3Aweb:example.org", "did%3akey%3az6Mk", "web:example.org",
                           " did:web:example.org"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_int_equal(of(other[i]), CA_DID_METHOD_OTHER);
    assert_int_equal(ca_did_method_of("did:web:example.org", 7), CA_DID_METHOD_OTHER);
    assert_int_equal(ca_did_method_of("did:web:example.org", 8), CA_DID_METHOD_WEB);
    assert_int_equal(ca_did_method_of(NULL, 0), CA_DID_METHOD_OTHER);
}

/* Only did:web may fetch over the network (the HTTP route offloads those lookups). */
static void test_fetches(void **state)
{
    (void)state;
    assert_true(ca_did_method_fetches(CA_DID_METHOD_WEB));
    assert_false(ca_did_method_fetches(CA_DID_METHOD_KEY));
    assert_false(ca_did_method_fetches(CA_DID_METHOD_OTHER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_methods),
        cmocka_unit_test(test_others),
        cmocka_unit_test(test_fetches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
