/* rate_limit.c — token buckets and the per-source table (see include/s2l/rate_limit.h). */
#include "s2l/rate_limit.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static void refill(s2l_bucket *b, const s2l_rate *r, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * r->per_second / 1000.0;
        if (b->tokens > r->burst)
            b->tokens = r->burst;
    }
    /* A clock that went backwards restarts the interval without refilling. */
    b->last_ms = now_ms;
}

static int seconds_until_one(const s2l_bucket *b, const s2l_rate *r)
{
    double s = (1.0 - b->tokens) / r->per_second;
    if (s > 86400)
        return 86400;
    int whole = (int)s;
    if ((double)whole < s)
        whole++; /* round up: coming back earlier would be refused again */
    return whole < 1 ? 1 : whole;
}

void s2l_bucket_init(s2l_bucket *b, const s2l_rate *r, int64_t now_ms)
{
    b->tokens = r->burst;
    b->last_ms = now_ms;
}

bool s2l_bucket_ready(s2l_bucket *b, const s2l_rate *r, int64_t now_ms, int *retry_after_s)
{
    refill(b, r, now_ms);
    if (b->tokens >= 1.0)
        return true;
    *retry_after_s = seconds_until_one(b, r);
    return false;
}

int s2l_bucket_take(s2l_bucket *b, const s2l_rate *r, int64_t now_ms, int *retry_after_s)
{
    if (!s2l_bucket_ready(b, r, now_ms, retry_after_s))
        return -1;
    b->tokens -= 1.0;
    return 0;
}

/* ---- per-source table: open addressing, a short probe window, no deletion
 * (a source whose bucket is full again is as good as absent and its slot is reused) ---- */

#define PROBES 16

typedef struct slot {
    bool used;
    s2l_ip ip;
    s2l_bucket bucket;
} slot;

struct s2l_source_limiter {
    s2l_rate rate;
    size_t mask;
    uint64_t seed; /* random, so that nobody can pick addresses that collide */
    slot *slots;
};

s2l_source_limiter *s2l_source_limiter_create(const s2l_rate *r, size_t capacity)
{
    size_t n = PROBES;
    while (n < capacity && n < ((size_t)1 << 24))
        n <<= 1;
    s2l_source_limiter *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->slots = calloc(n, sizeof *l->slots);
    if (l->slots == NULL) {
        free(l);
        return NULL;
    }
    l->rate = *r;
    l->mask = n - 1;
    if (RAND_bytes((unsigned char *)&l->seed, sizeof l->seed) != 1)
        l->seed = (uint64_t)(uintptr_t)l ^ 0x9e3779b97f4a7c15u;
    return l;
}

void s2l_source_limiter_destroy(s2l_source_limiter *l)
{
    if (l == NULL)
        return;
    free(l->slots);
    free(l);
}

static size_t hash_ip(const s2l_source_limiter *l, const s2l_ip *ip)
{
    uint64_t h = l->seed ^ 0xcbf29ce484222325u;
    size_t n = ip->family == 4 ? 4 : 16;
    h ^= ip->family;
    h *= 0x100000001b3u;
    for (size_t i = 0; i < n; i++) {
        h ^= ip->addr[i];
        h *= 0x100000001b3u;
    }
    return (size_t)(h ^ h >> 29);
}

static bool same_ip(const s2l_ip *a, const s2l_ip *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static slot *find(s2l_source_limiter *l, const s2l_ip *ip)
{
    size_t h = hash_ip(l, ip);
    for (size_t i = 0; i < PROBES; i++) {
        slot *s = &l->slots[(h + i) & l->mask];
        if (s->used && same_ip(&s->ip, ip))
            return s;
    }
    return NULL;
}

int s2l_source_limiter_check(s2l_source_limiter *l, const s2l_ip *src, int64_t now_ms, int *retry_after_s)
{
    slot *s = find(l, src);
    if (s == NULL || s2l_bucket_ready(&s->bucket, &l->rate, now_ms, retry_after_s))
        return 0;
    return -1;
}

void s2l_source_limiter_fail(s2l_source_limiter *l, const s2l_ip *src, int64_t now_ms)
{
    int ignored;
    slot *s = find(l, src);
    if (s == NULL) {
        /* A free slot, or else the one that has recovered most. */
        size_t h = hash_ip(l, src);
        for (size_t i = 0; i < PROBES; i++) {
            slot *c = &l->slots[(h + i) & l->mask];
            if (!c->used) {
                s = c;
                break;
            }
            refill(&c->bucket, &l->rate, now_ms);
            if (s == NULL || c->bucket.tokens > s->bucket.tokens)
                s = c;
        }
        s->used = true;
        s->ip = *src;
        s2l_bucket_init(&s->bucket, &l->rate, now_ms);
    }
    if (s2l_bucket_take(&s->bucket, &l->rate, now_ms, &ignored) < 0)
        s->bucket.tokens = 0; /* already empty: stays empty from now on */
}
