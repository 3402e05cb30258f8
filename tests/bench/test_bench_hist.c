/* test_bench_hist.c — the latency histogram against exact percentiles of the
 * same samples, sorted. */
#include "bench_hist.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* xorshift: deterministic samples without rand()'s implementation differences. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_buckets(void)
{
    /* Every value lands in a bucket whose range holds it, and buckets are monotonic. */
    unsigned prev = 0;
    for (uint64_t v = 0; v < 200000; v++) {
        unsigned b = s2l_bench_hist_bucket(v);
        uint64_t lo, hi;
        s2l_bench_hist_bucket_range(b, &lo, &hi);
        if (!(lo <= v && v <= hi) || b < prev) {
            CHECK(lo <= v && v <= hi);
            CHECK(b >= prev);
            return;
        }
        prev = b;
    }
    CHECK_INT(s2l_bench_hist_bucket(63), 63);
    CHECK_INT(s2l_bench_hist_bucket(64), 64);
    /* Relative width stays within 1/32 above the linear range. */
    uint64_t lo, hi;
    s2l_bench_hist_bucket_range(s2l_bench_hist_bucket(1000000), &lo, &hi);
    CHECK((double)(hi - lo + 1) / (double)lo <= 1.0 / 32.0 + 1e-9);
    /* Huge values clamp into the last bucket and are counted. */
    s2l_bench_hist h;
    s2l_bench_hist_reset(&h);
    s2l_bench_hist_record(&h, UINT64_MAX);
    CHECK_INT(s2l_bench_hist_bucket(UINT64_MAX), S2L_BENCH_HIST_BUCKETS - 1);
    CHECK_INT(h.clamped, 1);
    CHECK_INT(h.max_us, UINT64_MAX);
}

static void test_percentiles(void)
{
    enum { N = 20000 };
    static uint64_t samples[N];
    static s2l_bench_hist h, a, b;
    s2l_bench_hist_reset(&h);
    s2l_bench_hist_reset(&a);
    s2l_bench_hist_reset(&b);
    uint64_t seed = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        /* Mostly ~1 ms with a long tail to ~1 s, like real latencies. */
        uint64_t v = 200 + next_rand(&seed) % 2000;
        if (i % 50 == 0)
            v = 100000 + next_rand(&seed) % 900000;
        samples[i] = v;
        s2l_bench_hist_record(&h, v);
        s2l_bench_hist_record(i % 2 ? &a : &b, v);
    }
    qsort(samples, N, sizeof samples[0], cmp_u64);
    static const double qs[] = {1, 50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t rank = (size_t)ceil(qs[i] / 100.0 * N);
        uint64_t exact = samples[rank - 1];
        uint64_t got = s2l_bench_hist_percentile(&h, qs[i]);
        double err = fabs((double)got - (double)exact) / (double)exact;
        if (err > 0.035)
            fprintf(stderr, "q=%g exact=%llu got=%llu\n", qs[i], (unsigned long long)exact,
                    (unsigned long long)got);
        CHECK(err <= 0.035);
    }
    CHECK_INT(s2l_bench_hist_percentile(&h, 100), samples[N - 1]);
    CHECK_INT(h.min_us, samples[0]);
    CHECK_INT(h.total, N);

    /* Merging two halves gives the same distribution as one histogram. */
    s2l_bench_hist_merge(&a, &b);
    CHECK_INT(a.total, N);
    CHECK_INT(s2l_bench_hist_percentile(&a, 99), s2l_bench_hist_percentile(&h, 99));
    CHECK_INT(s2l_bench_hist_percentile(&a, 50), s2l_bench_hist_percentile(&h, 50));
    CHECK(fabs(s2l_bench_hist_mean(&a) - s2l_bench_hist_mean(&h)) < 1e-6);
}

static void test_empty_and_single(void)
{
    s2l_bench_hist h;
    s2l_bench_hist_reset(&h);
    CHECK_INT(s2l_bench_hist_percentile(&h, 50), 0);
    CHECK(s2l_bench_hist_mean(&h) == 0.0);
    s2l_bench_hist_record(&h, 12345);
    /* One sample: every percentile is that sample exactly (bounded by min/max). */
    CHECK_INT(s2l_bench_hist_percentile(&h, 1), 12345);
    CHECK_INT(s2l_bench_hist_percentile(&h, 99), 12345);
}

int main(void)
{
    test_buckets();
    test_percentiles();
    test_empty_and_single();
    return UNIT_DONE();
}
