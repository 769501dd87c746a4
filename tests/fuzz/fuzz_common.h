/*
 * Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c). Each target is one
 * LLVMFuzzerTestOneInput over one parser; see tests/fuzz/CMakeLists.txt and scripts/fuzz-smoke.
 * A target never calls exit, frees everything it allocates, and hands C-string APIs a
 * NUL-terminated heap copy of the input (so ASan sees reads past the end of the text).
 */
#ifndef CREDANCHOR_FUZZ_COMMON_H
#define CREDANCHOR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* A malloc'd NUL-terminated copy of data[0..size); aborts on allocation failure (the fuzzer
 * reports it) rather than returning NULL. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A malloc'd exact-size copy (no NUL): reads one past the end are caught. malloc(0) is
 * avoided so the pointer is always valid. */
static inline uint8_t *fuzz_memdup(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* Fails loudly (a crash the fuzzer records) when an invariant of the code under test breaks. */
#define FUZZ_CHECK(cond) \
    do { if (!(cond)) { fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, \
                                __FILE__, __LINE__); abort(); } } while (0)

#endif
