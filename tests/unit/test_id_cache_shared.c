/* test_id_cache_shared.c — the id -> DN cache shared by event-loop workers
 * (gateway/core/id_cache.c): references, copies, and two threads putting,
 * reading and dropping at once (bounded: a fixed number of operations). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2l/id_cache.h"
#include "unit.h"

#define OPS 20000
#define CAPACITY 64

static s2l_id_cache *shared;

static void *hammer(void *arg)
{
    int t = *(int *)arg;
    char id[32], dn[64];
    long bad = 0;
    for (int i = 0; i < OPS; i++) {
        snprintf(id, sizeof id, "id-%d", i % 200);
        snprintf(dn, sizeof dn, "uid=u%d,ou=people,dc=example,dc=org", i % 200);
        switch ((i + t) % 3) {
        case 0: s2l_id_cache_put(shared, "User", id, dn); break;
        case 1: {
            char *got = s2l_id_cache_copy(shared, "User", id);
            /* whatever a thread finds for an id is that id's DN, never another's */
            if (got && strcmp(got, dn) != 0)
                bad++;
            free(got);
            break;
        }
        default: s2l_id_cache_drop(shared, "User", id); break;
        }
    }
    return (void *)bad;
}

int main(void)
{
    /* references: the last destroy frees (ASan reports a leak or a double free otherwise) */
    s2l_id_cache *c = s2l_id_cache_create(CAPACITY);
    CHECK(c != NULL);
    CHECK(s2l_id_cache_hold(c) == c);
    CHECK_INT(s2l_id_cache_put(c, "User", "a", "uid=a,dc=x"), 0);
    s2l_id_cache_destroy(c); /* one reference left */
    char *dn = s2l_id_cache_copy(c, "User", "a");
    CHECK_STR(dn, "uid=a,dc=x");
    free(dn);
    CHECK(s2l_id_cache_copy(c, "User", "b") == NULL);
    CHECK(s2l_id_cache_copy(c, "Group", "a") == NULL);
    /* a copy outlives a refresh of the pair */
    dn = s2l_id_cache_copy(c, "User", "a");
    CHECK_INT(s2l_id_cache_put(c, "User", "a", "uid=a2,dc=x"), 0);
    CHECK_STR(dn, "uid=a,dc=x");
    free(dn);
    s2l_id_cache_destroy(c);

    /* two threads at once */
    shared = s2l_id_cache_create(CAPACITY);
    pthread_t th[2];
    int ids[2] = {0, 1};
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&th[t], NULL, hammer, &ids[t]) == 0);
    long bad = 0;
    for (int t = 0; t < 2; t++) {
        void *r;
        pthread_join(th[t], &r);
        bad += (long)r;
    }
    CHECK_INT(bad, 0);
    s2l_id_cache_stats st;
    s2l_id_cache_get_stats(shared, &st);
    CHECK(st.size <= CAPACITY);
    CHECK(st.hits + st.misses > 0);
    s2l_id_cache_destroy(shared);
    return UNIT_DONE();
}
