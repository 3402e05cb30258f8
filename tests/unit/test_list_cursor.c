/* test_list_cursor.c — the table of paged-listing cursors
 * (gateway/core/list_cursor.c): one walk per connection, a sequential pager
 * resumes exactly where the previous page ended, everything else takes the
 * least recently used free cursor, cursors of connections that are down are
 * not taken. */
#include "s2l/list_cursor.h"
#include "unit.h"

#define MIN_US 60000000ULL

static bool down_conn; /* conn 2 is down when set */

static bool conn_ok(void *arg, unsigned conn)
{
    (void)arg;
    return !(down_conn && conn == 2);
}

static void test_take_resume(void)
{
    s2l_cursors *t = s2l_cursors_create(3);
    CHECK(t != NULL);
    bool resumed = true;
    uint64_t now = 1000;

    /* A first page: a fresh cursor, walked to 100 and parked there. */
    s2l_cursor *a = s2l_cursors_take(t, "Users\n(f)\n", 0, now, 10 * MIN_US, conn_ok, NULL, &resumed);
    CHECK(a != NULL && !resumed && a->key == NULL && a->busy);
    CHECK_INT(s2l_cursor_begin(a, "Users\n(f)\n", 7), 0);
    a->count = 250;
    const unsigned char ck1[] = {1, 2, 3};
    CHECK_INT(s2l_cursor_advance(a, 100, ck1, sizeof ck1), 0);
    CHECK(a->pos == 100 && !a->ended && a->cookie_len == 3 && a->cookie[2] == 3 && a->gen == 7);
    s2l_cursors_release(t, a, now += 10);
    CHECK(!a->busy);

    /* The next page of the same listing resumes it; its cookie and count stay. */
    s2l_cursor *b = s2l_cursors_take(t, "Users\n(f)\n", 100, now += 10, 10 * MIN_US, conn_ok, NULL, &resumed);
    CHECK(b == a && resumed && b->count == 250 && b->cookie_len == 3);
    /* While taken, nobody else gets it. */
    s2l_cursor *c = s2l_cursors_take(t, "Users\n(f)\n", 100, now, 10 * MIN_US, conn_ok, NULL, &resumed);
    CHECK(c != NULL && c != a && !resumed);
    s2l_cursors_release(t, c, now);
    /* The last page: an empty cookie ends the walk. */
    CHECK_INT(s2l_cursor_advance(b, 150, NULL, 0), 0);
    CHECK(b->ended && b->pos == 250 && b->cookie == NULL);
    s2l_cursors_release(t, b, now += 10);

    /* Another position, another key, or too old: no resume. */
    c = s2l_cursors_take(t, "Users\n(f)\n", 200, now, 10 * MIN_US, conn_ok, NULL, &resumed);
    CHECK(c != NULL && !resumed);
    s2l_cursors_release(t, c, now);
    c = s2l_cursors_take(t, "Groups\n(f)\n", 250, now, 10 * MIN_US, conn_ok, NULL, &resumed);
    CHECK(c != NULL && !resumed && c->key == NULL);
    s2l_cursors_release(t, c, now);
    s2l_cursors_destroy(t);
}

static void test_lru_and_conns(void)
{
    s2l_cursors *t = s2l_cursors_create(3);
    bool resumed;
    uint64_t now = 5000;
    s2l_cursor *c[3];
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        c[i] = s2l_cursors_take(t, key, 0, now, MIN_US, conn_ok, NULL, &resumed);
        CHECK(c[i] != NULL && !resumed);
        CHECK_INT(s2l_cursor_begin(c[i], key, 1), 0);
        CHECK_INT(s2l_cursor_advance(c[i], 10, (const unsigned char *)"x", 1), 0);
    }
    CHECK(c[0]->conn != c[1]->conn && c[1]->conn != c[2]->conn && c[0]->conn != c[2]->conn);
    /* All taken: none left. */
    CHECK(s2l_cursors_take(t, "k9", 0, now, MIN_US, conn_ok, NULL, &resumed) == NULL);
    s2l_cursors_release(t, c[1], now + 3);
    s2l_cursors_release(t, c[0], now + 1);
    s2l_cursors_release(t, c[2], now + 2);
    /* A new listing gives up the least recently used walk (k0). */
    s2l_cursor *n = s2l_cursors_take(t, "k9", 0, now + 4, MIN_US, conn_ok, NULL, &resumed);
    CHECK(n == c[0] && !resumed && n->key == NULL && n->pos == 0);
    /* k1 and k2 can still be resumed; past the idle limit they cannot. */
    s2l_cursor *r = s2l_cursors_take(t, "k1", 10, now + 5, MIN_US, conn_ok, NULL, &resumed);
    CHECK(r == c[1] && resumed);
    s2l_cursors_release(t, r, now + 5);
    r = s2l_cursors_take(t, "k2", 10, now + 2 + MIN_US, MIN_US, conn_ok, NULL, &resumed);
    CHECK(r != NULL && !resumed);
    s2l_cursors_release(t, r, now + 6);
    s2l_cursors_release(t, n, now + 6);
    /* Connection 2 is down: its cursor is neither resumed nor taken. */
    down_conn = true;
    for (int i = 0; i < 3; i++) {
        s2l_cursor *x = s2l_cursors_take(t, "k1", 10, now + 7, MIN_US, conn_ok, NULL, &resumed);
        if (i < 2)
            CHECK(x != NULL && x->conn != 2);
        else
            CHECK(x == NULL);
    }
    down_conn = false;
    s2l_cursors_destroy(t);
}

int main(void)
{
    test_take_resume();
    test_lru_and_conns();
    return UNIT_DONE();
}
