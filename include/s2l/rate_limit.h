/* rate_limit.h — token buckets, and a bounded table of buckets per source
 * address (failed authentication attempts).
 *
 * Pure: the clock is passed in (milliseconds, any epoch; a clock that goes
 * backwards refills nothing). A bucket starts full with `burst` tokens and
 * refills at `per_second`; a request takes one token.
 *
 * Ownership: s2l_bucket is a plain value. A source limiter is created with
 * s2l_source_limiter_create and freed with s2l_source_limiter_destroy; it is
 * not thread-safe (one event loop uses it).
 */
#ifndef S2L_RATE_LIMIT_H
#define S2L_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2l/cidr.h"

typedef struct s2l_rate {
    double per_second;  /* refill rate; > 0 */
    double burst;       /* capacity; >= 1 */
} s2l_rate;

typedef struct s2l_bucket {
    double tokens;
    int64_t last_ms;
} s2l_bucket;

void s2l_bucket_init(s2l_bucket *b, const s2l_rate *r, int64_t now_ms);
/* Takes one token: 0. When none is left: -1 and *retry_after_s, the whole
 * seconds until one will be there (at least 1). */
int s2l_bucket_take(s2l_bucket *b, const s2l_rate *r, int64_t now_ms, int *retry_after_s);
/* Whether one token is there now (takes nothing); *retry_after_s as above when not. */
bool s2l_bucket_ready(s2l_bucket *b, const s2l_rate *r, int64_t now_ms, int *retry_after_s);

typedef struct s2l_source_limiter s2l_source_limiter;

/* At most `capacity` sources are remembered (rounded up to a power of two);
 * when the table is full, the source closest to a full bucket is forgotten,
 * which is the one that lost least. NULL when out of memory. */
s2l_source_limiter *s2l_source_limiter_create(const s2l_rate *r, size_t capacity);
void s2l_source_limiter_destroy(s2l_source_limiter *l);
/* 0 when src may try again; -1 and *retry_after_s when it has used up its attempts. */
int s2l_source_limiter_check(s2l_source_limiter *l, const s2l_ip *src, int64_t now_ms, int *retry_after_s);
/* Counts one failed attempt by src. */
void s2l_source_limiter_fail(s2l_source_limiter *l, const s2l_ip *src, int64_t now_ms);

#endif
