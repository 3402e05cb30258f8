/* bench_hist.h — latency histogram with logarithmic buckets (HDR-like).
 *
 * Fixed memory whatever the number of samples: values below 64 us have exact
 * buckets; above, every power of two is split into 32 sub-buckets, so a
 * reported percentile is within ~3% of the true sample. Values past ~19 hours
 * are clamped into the last bucket (and counted in `clamped`).
 *
 * Ownership: a histogram is a plain embedded struct; _init/_fini are not
 * needed (no heap), zero-initialise or call s2l_bench_hist_reset.
 */
#ifndef S2L_BENCH_HIST_H
#define S2L_BENCH_HIST_H

#include <stdint.h>

#define S2L_BENCH_HIST_SUB 32u                       /* sub-buckets per octave */
#define S2L_BENCH_HIST_MAX_SHIFT 31u                 /* largest value ~ 2^(31+6) us */
#define S2L_BENCH_HIST_BUCKETS (2u * S2L_BENCH_HIST_SUB + S2L_BENCH_HIST_MAX_SHIFT * S2L_BENCH_HIST_SUB)

typedef struct s2l_bench_hist {
    uint64_t counts[S2L_BENCH_HIST_BUCKETS];
    uint64_t total;
    uint64_t clamped;
    uint64_t min_us, max_us;
    long double sum_us;
} s2l_bench_hist;

void s2l_bench_hist_reset(s2l_bench_hist *h);
void s2l_bench_hist_record(s2l_bench_hist *h, uint64_t value_us);
/* Adds every sample of src into dst. */
void s2l_bench_hist_merge(s2l_bench_hist *dst, const s2l_bench_hist *src);
/* The value at percentile q (0 < q <= 100): the midpoint of the bucket holding
 * the ceil(q% * total)-th smallest sample, bounded by the exact min and max.
 * 0 when empty. */
uint64_t s2l_bench_hist_percentile(const s2l_bench_hist *h, double q);
double s2l_bench_hist_mean(const s2l_bench_hist *h);

/* Exposed for the unit test: bucket index of a value and the value range of a bucket. */
unsigned s2l_bench_hist_bucket(uint64_t value_us);
void s2l_bench_hist_bucket_range(unsigned bucket, uint64_t *lo, uint64_t *hi);

#endif
