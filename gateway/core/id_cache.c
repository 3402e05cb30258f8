/* id_cache.c — bounded id → DN map (s2l/id_cache.h): a chained hash table
 * whose nodes also sit on a least-recently-used list; a put past capacity
 * evicts the list's tail. Keys are "type\0id" in the node's one allocation.
 */
#include "s2l/id_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
    struct node *chain;          /* next in the bucket */
    struct node *prev, *next;    /* LRU list: head = most recent */
    uint64_t hash;
    size_t type_len, id_len;
    char *dn;                    /* own allocation (refreshed in place) */
    char key[];                  /* type '\0' id '\0' */
} node;

struct s2l_id_cache {
    /* The event-loop workers of one configuration share one cache: a write
     * by id may arrive on any of them (workers.h). Every public call holds
     * the lock for a hash look-up and a list relink. */
    pthread_mutex_t lock;
    atomic_uint refs;
    node **buckets;
    size_t n_buckets;            /* a power of two, >= 2 x capacity */
    node *head, *tail;
    s2l_id_cache_stats stats;
};

/* FNV-1a over type, a separator, id. */
static uint64_t hash_key(const char *type, size_t tl, const char *id, size_t il)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < tl; i++)
        h = (h ^ (unsigned char)type[i]) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
    for (size_t i = 0; i < il; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return h;
}

s2l_id_cache *s2l_id_cache_create(size_t capacity)
{
    s2l_id_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    size_t n = 16;
    while (n < 2 * capacity && n < ((size_t)1 << 30))
        n <<= 1;
    if ((c->buckets = calloc(n, sizeof *c->buckets)) == NULL) {
        free(c);
        return NULL;
    }
    c->n_buckets = n;
    c->stats.capacity = capacity;
    pthread_mutex_init(&c->lock, NULL);
    atomic_init(&c->refs, 1);
    return c;
}

s2l_id_cache *s2l_id_cache_hold(s2l_id_cache *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void s2l_id_cache_destroy(s2l_id_cache *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&c->lock);
    for (node *n = c->head, *next; n; n = next) {
        next = n->next;
        free(n->dn);
        free(n);
    }
    free(c->buckets);
    free(c);
}

static node **find(s2l_id_cache *c, const char *type, const char *id, uint64_t *hash_out)
{
    size_t tl = strlen(type), il = strlen(id);
    uint64_t h = hash_key(type, tl, id, il);
    *hash_out = h;
    node **pp = &c->buckets[h & (c->n_buckets - 1)];
    for (; *pp; pp = &(*pp)->chain) {
        node *n = *pp;
        if (n->hash == h && n->type_len == tl && n->id_len == il && memcmp(n->key, type, tl) == 0 &&
            memcmp(n->key + tl + 1, id, il) == 0)
            return pp;
    }
    return pp;
}

static void lru_unlink(s2l_id_cache *c, node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        c->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        c->tail = n->prev;
    n->prev = n->next = NULL;
}

static void lru_push_front(s2l_id_cache *c, node *n)
{
    n->prev = NULL;
    n->next = c->head;
    if (c->head)
        c->head->prev = n;
    c->head = n;
    if (c->tail == NULL)
        c->tail = n;
}

/* Unlinks *pp from its bucket and the list and frees it. */
static void remove_at(s2l_id_cache *c, node **pp)
{
    node *n = *pp;
    *pp = n->chain;
    lru_unlink(c, n);
    free(n->dn);
    free(n);
    c->stats.size--;
}

static const char *get_locked(s2l_id_cache *c, const char *type, const char *id)
{
    uint64_t h;
    node **pp = find(c, type, id, &h);
    if (*pp == NULL) {
        c->stats.misses++;
        return NULL;
    }
    c->stats.hits++;
    if (c->head != *pp) {
        node *n = *pp;
        lru_unlink(c, n);
        lru_push_front(c, n);
    }
    return (*pp)->dn;
}

const char *s2l_id_cache_get(s2l_id_cache *c, const char *type, const char *id)
{
    if (c == NULL || type == NULL || id == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    const char *dn = get_locked(c, type, id);
    pthread_mutex_unlock(&c->lock);
    return dn;
}

char *s2l_id_cache_copy(s2l_id_cache *c, const char *type, const char *id)
{
    if (c == NULL || type == NULL || id == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    const char *dn = get_locked(c, type, id);
    char *copy = dn ? strdup(dn) : NULL;
    pthread_mutex_unlock(&c->lock);
    return copy;
}

static int put_locked(s2l_id_cache *c, const char *type, const char *id, const char *dn)
{
    uint64_t h;
    node **pp = find(c, type, id, &h);
    char *copy = strdup(dn);
    if (copy == NULL)
        return -1;
    if (*pp) {
        node *n = *pp;
        free(n->dn);
        n->dn = copy;
        lru_unlink(c, n);
        lru_push_front(c, n);
        return 0;
    }
    size_t tl = strlen(type), il = strlen(id);
    node *n = malloc(sizeof *n + tl + il + 2);
    if (n == NULL) {
        free(copy);
        return -1;
    }
    *n = (node){.hash = h, .type_len = tl, .id_len = il, .dn = copy};
    memcpy(n->key, type, tl + 1);
    memcpy(n->key + tl + 1, id, il + 1);
    n->chain = *pp;
    *pp = n;
    lru_push_front(c, n);
    c->stats.size++;
    if (c->stats.size > c->stats.capacity) {
        node *old = c->tail;
        uint64_t oh;
        node **op = find(c, old->key, old->key + old->type_len + 1, &oh);
        remove_at(c, op);
        c->stats.evictions++;
    }
    return 0;
}

int s2l_id_cache_put(s2l_id_cache *c, const char *type, const char *id, const char *dn)
{
    if (c == NULL || type == NULL || id == NULL || dn == NULL || c->stats.capacity == 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    int rc = put_locked(c, type, id, dn);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void s2l_id_cache_drop(s2l_id_cache *c, const char *type, const char *id)
{
    if (c == NULL || type == NULL || id == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    uint64_t h;
    node **pp = find(c, type, id, &h);
    if (*pp)
        remove_at(c, pp);
    pthread_mutex_unlock(&c->lock);
}

void s2l_id_cache_get_stats(s2l_id_cache *c, s2l_id_cache_stats *out)
{
    if (c == NULL) {
        *out = (s2l_id_cache_stats){0};
        return;
    }
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}
