/* Tests for the parts of credential/ob3.c that issue #12 items 3 and 8 rely on: which
 * credentials are Open Badges (one credentialStatus object, never the suspension entry, SPEC
 * §5; a plain VC keeps both entries), completion dates (a date or a dateTime with a zone,
 * after 1970), a bad awardedDate refused naming the member, and the month an issue number
 * takes from the time it is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <jansson.h>
#include <string.h>

#include "credanchor/credential.h"

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_is_open_badge(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        bool open_badge;
    } cases[] = {
        {"{\"type\":[\"VerifiableCredential\",\"OpenBadgeCredential\"]}", true},
        {"{\"type\":[\"VerifiableCredential\",\"AchievementCredential\"]}", true}, /* alias */
        {"{\"type\":\"OpenBadgeCredential\"}", true}, /* JSON-LD compacted single value */
        {"{\"type\":[\"VerifiableCredential\"]}", false}, /* a plain VC: both entries */
        {"{\"type\":[\"VerifiableCredential\",\"ExampleDegreeCredential\"]}", false},
        {"{\"type\":[\"VerifiableCredential\",\"openbadgecredential\"]}", false},
        {"{\"type\":42}", false},
        {"{}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *c = parse(cases[i].json);
        if (ca_credential_is_open_badge(c) != cases[i].open_badge)
            fail_msg("%s: want %d", cases[i].json, cases[i].open_badge);
        json_decref(c);
    }
    assert_false(ca_credential_is_open_badge(NULL));
}

static void test_completion_date_parse(void **state)
{
    (void)state;
    int64_t t = -1;
    assert_int_equal(ca_completion_date_parse(&t, "2026-06-15"), CA_OK);
    assert_int_equal(t, 1781481600); /* 2026-06-15T00:00:00Z */
    assert_int_equal(ca_completion_date_parse(&t, "2026-06-15T09:30:00Z"), CA_OK);
    assert_int_equal(t, 1781481600 + 9 * 3600 + 30 * 60);
    assert_int_equal(ca_completion_date_parse(&t, "2026-06-15T01:00:00+02:00"), CA_OK);
    assert_int_equal(t, 1781481600 - 3600);
    static const char *const bad[] = {
        "", "2026-6-15", "2026-13-01", "2026-02-30", "2026-06-15T09:30:00", /* no zone */
        "15.06.2026", "2026-06-15 ", "1970-01-01", /* not after 1970 */ "1969-12-31",
        "June 2026", "2026-06-15T25:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 7;
        if (ca_completion_date_parse(&t, bad[i]) != CA_ERR_INVALID)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(t, 7); /* untouched on error */
    }
    assert_int_equal(ca_completion_date_parse(&t, NULL), CA_ERR_INVALID);
}

static void test_awarded_date_checked(void **state)
{
    (void)state;
    static const char base[] =
        "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\","
        "\"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\"],"
        "\"type\":[\"VerifiableCredential\",\"OpenBadgeCredential\"],\"name\":\"N\","
        "\"credentialSubject\":{\"type\":[\"AchievementSubject\"],\"id\":\"did:example:a\","
        "\"achievement\":{\"id\":\"urn:a\",\"type\":[\"Achievement\"],\"name\":\"A\","
        "\"description\":\"D\",\"criteria\":{\"narrative\":\"C\"}}}}";
    json_t *c = parse(base);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_ob3_check(c, NULL, &eb), CA_OK);
    json_object_set_new(c, "awardedDate", json_string("2026-06-03T08:00:00Z"));
    assert_int_equal(ca_ob3_check(c, NULL, &eb), CA_OK);
    json_object_set_new(c, "awardedDate", json_string("June 2026"));
    assert_int_equal(ca_ob3_check(c, NULL, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "awardedDate"));
    json_object_set_new(c, "awardedDate", json_integer(20260603));
    assert_int_equal(ca_ob3_check(c, NULL, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "awardedDate"));
    json_decref(c);
}

static void test_issue_number_month(void **state)
{
    (void)state;
    char out[CA_ISSUE_NUMBER_MAX];
    ca_issue_number_format(out, "BIZM", 1781481600, 7); /* June 2026 */
    assert_string_equal(out, "BIZM-202606-0007");
    ca_issue_number_format(out, "BIZM", 1781481600 - 15 * 86400 - 1, 12345); /* 31 May */
    assert_string_equal(out, "BIZM-202605-12345");
    assert_true(ca_issue_number_syntax_ok(out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_open_badge),
        cmocka_unit_test(test_completion_date_parse),
        cmocka_unit_test(test_awarded_date_checked),
        cmocka_unit_test(test_issue_number_month),
    };
    return ca_run_tests("ob3", tests, NULL, NULL);
}
