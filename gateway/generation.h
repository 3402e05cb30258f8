/* generation.h — configuration generations: start, SIGHUP reload, and which
 * generation a request runs on (shell).
 *
 * A generation is one s2l_gateway built from one reading of the files: the
 * configuration, the mapping, the credentials (auth), the HTTPS certificate,
 * the route table, and a pool (its own, or the previous generation's when the
 * ldap section did not change). The slot holds the current one. A request
 * takes a reference to the current generation when it arrives
 * (s2l_gen_acquire, in the HTTP server) and keeps that generation, its
 * mapping and its credentials until it ends; a reload publishes a new one for
 * the requests after it. The old one is freed when its last request ends —
 * from the slot's own event, never inside an LDAP callback.
 *
 * Reload = s2l_gen_parts_load (exactly what --check-config checks), then
 * checks that nothing which needs a restart changed (listen, HTTPS on/off,
 * metrics.listen), then builds and publishes. Any failure leaves the current
 * generation serving and says why (errbuf, and the log line
 * event=reload_failed reason="...").
 *
 * Threads: every event-loop worker (workers.h) has its own slot, and its
 * generations are only acquired and released on that worker's loop. The
 * reference counts are atomic and the current pointer is swapped under a
 * mutex all the same (the flush event is activated with libevent's thread
 * support on when there are several workers).
 *
 * Ownership: the slot owns the current generation (one reference) and every
 * generation's config, mapping, auth and TLS context; s2l_gen_parts_load's
 * parts are the caller's until given to s2l_gen_start/publish.
 */
#ifndef S2L_GENERATION_H
#define S2L_GENERATION_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "gateway.h"

struct event_base;
struct s2l_ops;
typedef struct s2l_gen_slot s2l_gen_slot;

/* Everything a generation reads from files. */
typedef struct s2l_gen_parts {
    s2l_config *cfg;
    s2l_mapping *mapping;
    s2l_auth *auth;
    SSL_CTX *tls;                /* NULL without tls.cert_file */
    /* The id -> DN cache the generation uses (one reference), shared by the
     * workers' generations of one reading (workers.c); NULL: its own. */
    struct s2l_id_cache *id_cache;
} s2l_gen_parts;

/* Loads and checks the configuration file, its mapping, credentials (secret
 * files, JWKS/PEM keys) and TLS certificate. 0, or -1 with errbuf set and
 * nothing left allocated. */
int s2l_gen_parts_load(const char *config_path, s2l_gen_parts *out, char *errbuf, size_t errlen);
void s2l_gen_parts_free(s2l_gen_parts *p);

/* One slot per event-loop worker (workers.h), on that worker's base. */
s2l_gen_slot *s2l_gen_slot_new(struct event_base *base, struct s2l_ops *ops, const char *config_path,
                               unsigned worker);
/* Frees the current generation and every retired one (after the loop has stopped). */
void s2l_gen_slot_free(s2l_gen_slot *slot);

/* The first generation from parts (taken, also on failure). 0, or -1 with errbuf. */
int s2l_gen_start(s2l_gen_slot *slot, s2l_gen_parts *parts, char *errbuf, size_t errlen);
/* A reload of the slot with parts loaded by s2l_gen_parts_load (taken, also
 * on failure): workers.h reads the files for every worker at once, then each
 * worker calls this on its own loop. 0 when the new generation serves, -1
 * (errbuf says why) when the old one still does. Logs and counts either way. */
int s2l_gen_reload_parts(s2l_gen_slot *slot, s2l_gen_parts *parts, char *errbuf, size_t errlen);
/* The configuration file the slot reloads. */
const char *s2l_gen_slot_path(const s2l_gen_slot *slot);
/* Logs and counts a reload that failed before it reached the slot. */
void s2l_gen_reload_failed(s2l_gen_slot *slot, const char *why);

/* The current generation, held (release it with s2l_gateway_release); NULL
 * before s2l_gen_start. */
s2l_gateway *s2l_gen_acquire(s2l_gen_slot *slot);
/* One more / one less reference; no-ops for a gateway without a slot. */
void s2l_gateway_hold(s2l_gateway *gw);
void s2l_gateway_release(s2l_gateway *gw);
/* A request id unique across generations. */
uint64_t s2l_gateway_next_req_id(s2l_gateway *gw);

#endif
