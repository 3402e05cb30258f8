/* unit.h — a tiny test harness for pure modules.
 * Each test_*.c has main() calling its cases; the last line printed is
 * "N passed, N failed" and the exit status is non-zero if anything failed. */
#ifndef S2L_UNIT_H
#define S2L_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed_, unit_failed_;

#define CHECK(cond) do { \
    if (cond) unit_passed_++; \
    else { unit_failed_++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    if (g_ && w_ && strcmp(g_, w_) == 0) unit_passed_++; \
    else { unit_failed_++; fprintf(stderr, "%s:%d: CHECK_STR failed: got \"%s\", want \"%s\"\n", \
                                   __FILE__, __LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
    long long g_ = (long long)(got), w_ = (long long)(want); \
    if (g_ == w_) unit_passed_++; \
    else { unit_failed_++; fprintf(stderr, "%s:%d: CHECK_INT failed: %s = %lld, want %lld\n", \
                                   __FILE__, __LINE__, #got, g_, w_); } \
} while (0)

#define UNIT_DONE() (printf("%d passed, %d failed\n", unit_passed_, unit_failed_), unit_failed_ ? 1 : 0)

#endif
