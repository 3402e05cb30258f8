/* harness_proxy.c — a loopback TCP forwarder that understands just enough of
 * LDAP to count requests by type and hold one back (see harness.h).
 *
 * One thread polls the listening socket and every connection pair. Bytes from
 * the server go back unchanged; bytes from the client are cut into LDAP
 * messages (SEQUENCE, messageID, then the protocolOp's application tag) and
 * forwarded whole, unless the pair is holding: then they wait until release.
 */
#include "harness_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_PAIRS 64

typedef struct pair {
    int cfd, sfd;                /* client side, server side; -1 when closed */
    h_buf in;                    /* client bytes not forwarded yet (an incomplete message, or held ones) */
    bool holding;
} pair;

struct h_proxy {
    int lfd;
    int port;
    int target_port;
    char uri[64];
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;
    bool release;                /* forward what is held and stop holding */
    int counts[256];             /* requests seen, by application tag */
    int hold_tag, hold_at;       /* hold from the request that makes counts[hold_tag] == hold_at */
    int next_tag, next_nth;      /* a hold armed by the release itself (h_proxy_release_then_hold) */
    bool held;                   /* some pair is holding */
    pair pairs[MAX_PAIRS];
};

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void close_pair(pair *pr)
{
    if (pr->cfd >= 0)
        close(pr->cfd);
    if (pr->sfd >= 0)
        close(pr->sfd);
    pr->cfd = pr->sfd = -1;
    h_buf_fini_(&pr->in);
    pr->holding = false;
}

/* Length of the complete BER message at the start of p (0: incomplete, -1:
 * not a message we understand) and its protocolOp tag. */
static long message_(const unsigned char *p, size_t n, int *tag)
{
    if (n < 2)
        return 0;
    if (p[0] != 0x30)
        return -1;
    size_t hdr = 2, len = p[1];
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4)
            return -1;
        if (n < 2 + k)
            return 0;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | p[2 + i];
        hdr += k;
    }
    if (n < hdr + len)
        return 0;
    /* messageID INTEGER (short form), then the protocolOp */
    size_t off = hdr;
    if (len < 3 || p[off] != 0x02 || p[off + 1] > 4 || off + 2 + p[off + 1] >= hdr + len)
        return -1;
    off += 2 + p[off + 1];
    *tag = p[off];
    return (long)(hdr + len);
}

/* Forwards the complete messages at the front of pr->in, counting them,
 * unless the pair holds. Called with the mutex held. */
static int pump_client_(h_proxy *px, pair *pr)
{
    size_t done = 0;
    while (!pr->holding && done < pr->in.len) {
        int tag = 0;
        long m = message_((const unsigned char *)pr->in.p + done, pr->in.len - done, &tag);
        if (m == 0)
            break;
        if (m < 0) { /* not LDAP as we know it: pass everything through */
            if (send_all(pr->sfd, pr->in.p + done, pr->in.len - done) < 0)
                return -1;
            done = pr->in.len;
            break;
        }
        px->counts[tag & 0xff]++;
        if (px->hold_at > 0 && (tag & 0xff) == px->hold_tag && px->counts[tag & 0xff] == px->hold_at) {
            pr->holding = true; /* this message and everything after it wait */
            px->held = true;
            break;
        }
        if (send_all(pr->sfd, pr->in.p + done, (size_t)m) < 0)
            return -1;
        done += (size_t)m;
    }
    memmove(pr->in.p, pr->in.p + done, pr->in.len - done);
    pr->in.len -= done;
    return 0;
}

static void accept_(h_proxy *px)
{
    int cfd = accept(px->lfd, NULL, NULL);
    if (cfd < 0)
        return;
    int sfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->target_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pair *pr = NULL;
    for (size_t i = 0; i < MAX_PAIRS && pr == NULL; i++)
        if (px->pairs[i].cfd < 0)
            pr = &px->pairs[i];
    if (sfd < 0 || pr == NULL || connect(sfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(cfd);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    *pr = (pair){.cfd = cfd, .sfd = sfd};
}

static void *run_(void *arg)
{
    h_proxy *px = arg;
    struct pollfd fds[1 + 2 * MAX_PAIRS];
    pair *owner[1 + 2 * MAX_PAIRS];
    char buf[65536];
    for (;;) {
        pthread_mutex_lock(&px->mu);
        if (px->stop) {
            pthread_mutex_unlock(&px->mu);
            return NULL;
        }
        if (px->release) {
            px->release = false;
            px->held = false;
            px->hold_at = 0;
            if (px->next_nth > 0) { /* armed before anything released can be answered */
                px->hold_tag = px->next_tag;
                px->hold_at = px->counts[px->next_tag] + px->next_nth;
                px->next_nth = 0;
            }
            for (size_t i = 0; i < MAX_PAIRS; i++) {
                pair *pr = &px->pairs[i];
                if (pr->cfd >= 0 && pr->holding) {
                    pr->holding = false;
                    if (send_all(pr->sfd, pr->in.p, pr->in.len) < 0)
                        close_pair(pr);
                    else
                        pr->in.len = 0;
                }
            }
        }
        size_t n = 0;
        fds[n] = (struct pollfd){.fd = px->lfd, .events = POLLIN};
        owner[n++] = NULL;
        for (size_t i = 0; i < MAX_PAIRS; i++) {
            pair *pr = &px->pairs[i];
            if (pr->cfd < 0)
                continue;
            fds[n] = (struct pollfd){.fd = pr->cfd, .events = POLLIN};
            owner[n++] = pr;
            fds[n] = (struct pollfd){.fd = pr->sfd, .events = POLLIN};
            owner[n++] = pr;
        }
        pthread_mutex_unlock(&px->mu);

        int rc = poll(fds, (nfds_t)n, 20);
        if (rc <= 0)
            continue;
        pthread_mutex_lock(&px->mu);
        if (fds[0].revents & POLLIN)
            accept_(px);
        for (size_t i = 1; i < n; i++) {
            pair *pr = owner[i];
            if (pr->cfd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            bool from_client = fds[i].fd == pr->cfd;
            ssize_t r = recv(fds[i].fd, buf, sizeof buf, 0);
            if (r <= 0) {
                close_pair(pr);
                continue;
            }
            if (from_client) {
                if (h_buf_add_(&pr->in, buf, (size_t)r) < 0 || pump_client_(px, pr) < 0)
                    close_pair(pr);
            } else if (send_all(pr->cfd, buf, (size_t)r) < 0) {
                close_pair(pr);
            }
        }
        pthread_mutex_unlock(&px->mu);
    }
}

h_proxy *h_proxy_start(int target_port)
{
    h_proxy *px = calloc(1, sizeof *px);
    if (px == NULL)
        return NULL;
    px->target_port = target_port;
    for (size_t i = 0; i < MAX_PAIRS; i++)
        px->pairs[i].cfd = px->pairs[i].sfd = -1;
    pthread_mutex_init(&px->mu, NULL);
    px->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (px->lfd < 0 || bind(px->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(px->lfd, 64) < 0 ||
        getsockname(px->lfd, (struct sockaddr *)&sa, &sl) < 0) {
        fprintf(stderr, "harness: proxy: %s\n", strerror(errno));
        goto fail;
    }
    px->port = ntohs(sa.sin_port);
    snprintf(px->uri, sizeof px->uri, "ldap://127.0.0.1:%d/", px->port);
    if (pthread_create(&px->thread, NULL, run_, px) != 0) {
        fprintf(stderr, "harness: proxy: no thread\n");
        goto fail;
    }
    return px;
fail:
    if (px->lfd >= 0)
        close(px->lfd);
    pthread_mutex_destroy(&px->mu);
    free(px);
    return NULL;
}

const char *h_proxy_uri(const h_proxy *px)
{
    return px->uri;
}

void h_proxy_hold_at(h_proxy *px, int tag, int nth)
{
    pthread_mutex_lock(&px->mu);
    px->hold_tag = tag & 0xff;
    px->hold_at = px->counts[tag & 0xff] + nth;
    pthread_mutex_unlock(&px->mu);
}

int h_proxy_count(h_proxy *px, int tag)
{
    pthread_mutex_lock(&px->mu);
    int n = px->counts[tag & 0xff];
    pthread_mutex_unlock(&px->mu);
    return n;
}

bool h_proxy_holding(h_proxy *px)
{
    pthread_mutex_lock(&px->mu);
    bool held = px->held;
    pthread_mutex_unlock(&px->mu);
    return held;
}

void h_proxy_release(h_proxy *px)
{
    pthread_mutex_lock(&px->mu);
    px->release = true;
    pthread_mutex_unlock(&px->mu);
    /* Done once the thread has forwarded what was held. */
    for (int i = 0; i < 500 && h_proxy_holding(px); i++)
        usleep(10000);
}

void h_proxy_release_then_hold(h_proxy *px, int tag, int nth)
{
    pthread_mutex_lock(&px->mu);
    px->next_tag = tag & 0xff;
    px->next_nth = nth;
    px->release = true;
    pthread_mutex_unlock(&px->mu);
    /* Done once the thread has taken the release (holding may be true again at
     * once: the new hold). */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&px->mu);
        bool pending = px->release;
        pthread_mutex_unlock(&px->mu);
        if (!pending)
            break;
        usleep(10000);
    }
}

void h_proxy_stop(h_proxy *px)
{
    if (px == NULL)
        return;
    pthread_mutex_lock(&px->mu);
    px->stop = true;
    pthread_mutex_unlock(&px->mu);
    pthread_join(px->thread, NULL);
    for (size_t i = 0; i < MAX_PAIRS; i++)
        if (px->pairs[i].cfd >= 0)
            close_pair(&px->pairs[i]);
    close(px->lfd);
    pthread_mutex_destroy(&px->mu);
    free(px);
}
