/* Tests for node/node_log.c, the node's one diagnostic line: the prefix with and without a
 * speaker, the level words, and that a message can never break out of its line (control
 * characters and invalid UTF-8 become '?'). stderr is pointed at a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_log.h"

/* Runs the lines written by fn with stderr redirected; returns what they wrote (malloc'd). */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(fileno(stderr));
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fileno(stderr)) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, fileno(stderr)) >= 0);
    close(saved);
    long n = ftell(tmp);
    assert_true(n >= 0);
    char *out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    rewind(tmp);
    assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

static void write_levels(void)
{
    ca_node_log(CA_NODE_LOG_INFO, "anchor", "tree size %d final", 42);
    ca_node_log(CA_NODE_LOG_WARNING, "serve", "appends are refused: %s", "held");
    ca_node_log(CA_NODE_LOG_ERROR, NULL, "audit: cannot append: %s", "storage error");
    ca_node_log(CA_NODE_LOG_INFO, NULL, "store: freed %d reader slot(s)", 1);
}

static void test_levels(void **state)
{
    (void)state;
    char *out = capture(write_levels);
    assert_string_equal(out, "credanchor anchor: tree size 42 final\n"
                             "credanchor serve: warning: appends are refused: held\n"
                             "credanchor: error: audit: cannot append: storage error\n"
                             "credanchor: store: freed 1 reader slot(s)\n");
    free(out);
}

static void write_hostile(void)
{
    ca_node_log(CA_NODE_LOG_WARNING, NULL, "http: %s", "a\nb\r\x1b[31m\x7f\xff\xc3 \xc3\xa9");
}

static void test_one_line(void **state)
{
    (void)state;
    char *out = capture(write_hostile);
    /* Valid UTF-8 (é) passes; the lone 0xff and the cut 0xc3 become '?'. */
    assert_string_equal(out, "credanchor: warning: http: a?b??[31m??? \xc3\xa9\n");
    free(out);
}

static void write_long(void)
{
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ca_node_log(CA_NODE_LOG_INFO, NULL, "%s", big);
}

static void test_long_message_cut(void **state)
{
    (void)state;
    char *out = capture(write_long);
    size_t n = strlen(out);
    assert_true(n > 2000 && n < 2100);
    assert_int_equal(out[n - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + n - 1); /* one line */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_long_message_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
