/* Shared helpers for the cmocka unit tests (tests/unit/test_*.c).
 *
 * - ca_test_tmpdir / ca_test_rmtree: a fresh temporary directory under $TMPDIR (or /tmp when
 *   TMPDIR is unset or empty), made with mkdtemp, and its recursive removal. Honouring TMPDIR
 *   lets a run put the LMDB files of the tests on a tmpfs, or keep parallel runs apart.
 * - ca_run_tests: cmocka_run_group_tests_name, but first reads two environment variables so one
 *   case can be run alone (globs as cmocka's own matcher understands them: `*` and `?`):
 *     CA_TEST_FILTER=<glob>  run only the cases whose name matches (cmocka_set_test_filter);
 *     CA_TEST_SKIP=<glob>    skip the cases whose name matches (cmocka_set_skip_filter).
 *   e.g. CA_TEST_FILTER='test_rollback*' build/test/test_log
 *
 * Include after <cmocka.h> (which needs <setjmp.h>, <stdarg.h> and <stddef.h> before it).
 * Everything here is static inline, so a test that uses only part of it builds without
 * unused-function warnings. */
#ifndef CA_TESTS_UNIT_TESTUTIL_H
#define CA_TESTS_UNIT_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Room for any directory ca_test_tmpdir makes: a TMPDIR longer than this leaves fails the
 * test rather than truncating the path. */
#define CA_TEST_DIR_MAX 160

/* Makes "<TMPDIR or /tmp>/<prefix>XXXXXX" with mkdtemp into out (cap bytes, at most
 * CA_TEST_DIR_MAX is enough). Returns out, or NULL when the path does not fit or mkdtemp
 * fails (errno set by mkdtemp). */
static inline char *ca_test_tmpdir(char *out, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t blen = strlen(base);
    while (blen > 1 && base[blen - 1] == '/')
        blen--;
    int n = snprintf(out, cap, "%.*s/%sXXXXXX", (int)blen, base, prefix);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "testutil: temp dir path under %s too long\n", base);
        return NULL;
    }
    if (!mkdtemp(out)) {
        perror(out);
        return NULL;
    }
    return out;
}

static inline int ca_test_rm_entry(const char *path, const struct stat *st, int flag,
                                   struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        perror(path);
    return 0; /* keep going: remove as much as possible */
}

/* Removes dir and everything under it, not following symlinks. A dir that is already gone
 * is not an error. */
static inline void ca_test_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, ca_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Applies CA_TEST_FILTER and CA_TEST_SKIP (see the top of this file). */
static inline void ca_test_apply_filters(void)
{
    const char *only = getenv("CA_TEST_FILTER");
    if (only && *only)
        cmocka_set_test_filter(only);
    const char *skip = getenv("CA_TEST_SKIP");
    if (skip && *skip)
        cmocka_set_skip_filter(skip);
}

/* Runs a group of cases (an array, as for cmocka_run_group_tests) under the filters above;
 * returns the number of failed cases. */
#define ca_run_tests(name, tests, group_setup, group_teardown)                                 \
    (ca_test_apply_filters(),                                                                  \
     cmocka_run_group_tests_name(name, tests, group_setup, group_teardown))

#endif
