/* bench_hist.c — see bench_hist.h. */
#include "bench_hist.h"

#include <math.h>
#include <string.h>

/* Values below 2*SUB have one bucket each; from there on, octave k (values in
 * [2^(k+6), 2^(k+7)) for SUB = 32) is split into SUB equal sub-buckets. */
#define LINEAR_LIMIT (2u * S2L_BENCH_HIST_SUB)
#define SUB_BITS 5u

static unsigned msb64(uint64_t v)
{
    unsigned n = 0;
    while (v >>= 1)
        n++;
    return n;
}

unsigned s2l_bench_hist_bucket(uint64_t v)
{
    if (v < LINEAR_LIMIT)
        return (unsigned)v;
    unsigned shift = msb64(v) - SUB_BITS;        /* >= 1 because v >= 64 */
    if (shift > S2L_BENCH_HIST_MAX_SHIFT)
        return S2L_BENCH_HIST_BUCKETS - 1;
    unsigned mantissa = (unsigned)(v >> shift);  /* in [SUB, 2*SUB) */
    return LINEAR_LIMIT + (shift - 1) * S2L_BENCH_HIST_SUB + (mantissa - S2L_BENCH_HIST_SUB);
}

void s2l_bench_hist_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
    if (b < LINEAR_LIMIT) {
        *lo = *hi = b;
        return;
    }
    unsigned shift = (b - LINEAR_LIMIT) / S2L_BENCH_HIST_SUB + 1;
    uint64_t mantissa = (b - LINEAR_LIMIT) % S2L_BENCH_HIST_SUB + S2L_BENCH_HIST_SUB;
    *lo = mantissa << shift;
    *hi = ((mantissa + 1) << shift) - 1;
}

void s2l_bench_hist_reset(s2l_bench_hist *h)
{
    memset(h, 0, sizeof *h);
}

void s2l_bench_hist_record(s2l_bench_hist *h, uint64_t v)
{
    unsigned b = s2l_bench_hist_bucket(v);
    if (v >> (S2L_BENCH_HIST_MAX_SHIFT + SUB_BITS + 1))
        h->clamped++;
    h->counts[b]++;
    if (h->total == 0 || v < h->min_us)
        h->min_us = v;
    if (v > h->max_us)
        h->max_us = v;
    h->total++;
    h->sum_us += (long double)v;
}

void s2l_bench_hist_merge(s2l_bench_hist *dst, const s2l_bench_hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < S2L_BENCH_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum_us += src->sum_us;
}

uint64_t s2l_bench_hist_percentile(const s2l_bench_hist *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q > 100.0)
        q = 100.0;
    uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)h->total);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < S2L_BENCH_HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen < rank)
            continue;
        uint64_t lo, hi;
        s2l_bench_hist_bucket_range(b, &lo, &hi);
        uint64_t mid = lo + (hi - lo) / 2;
        /* The exact extremes are known: never report outside them. */
        if (mid < h->min_us)
            mid = h->min_us;
        if (mid > h->max_us)
            mid = h->max_us;
        return mid;
    }
    return h->max_us;
}

double s2l_bench_hist_mean(const s2l_bench_hist *h)
{
    return h->total ? (double)(h->sum_us / (long double)h->total) : 0.0;
}
