/* main.c — command line, start-up and orderly shutdown of the gateway. */
#include <event2/event.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/server.h"
#include "s2l/config.h"
#include "s2l/ldap_pool.h"
#include "s2l/log.h"
#include "s2l/mapping.h"

static void usage(FILE *out)
{
    fputs("usage: scim2ldap --config FILE        run the gateway in the foreground\n"
          "       scim2ldap --check-config FILE  validate the configuration and mapping, then exit\n"
          "       scim2ldap --version | --help\n"
          "\n"
          "Logs go to stderr. SIGTERM or SIGINT stops accepting requests, lets in-flight\n"
          "requests finish (limits.shutdown_grace_ms) and exits.\n"
          "Environment: SCIM2LDAP_BIND_PASSWORD, SCIM2LDAP_BEARER_TOKENS (comma-separated),\n"
          "SCIM2LDAP_MALLOC_TRIM=0 (no idle memory trim).\n",
          out);
}

/* Splits a DN into RDN strings at unescaped commas (no allocation: offsets). */
static size_t dn_parts(const char *dn, const char **starts, size_t max)
{
    size_t n = 0;
    if (dn[0] && n < max)
        starts[n++] = dn;
    for (const char *p = dn; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',' && n < max)
            starts[n++] = p + 1;
    }
    return n;
}

/* The longest common suffix of all base DNs: where id and DN look-ups search. */
static char *common_suffix(const s2l_mapping *m)
{
    const char *first = s2l_rmap_info_of(s2l_mapping_at(m, 0))->base_dn;
    const char *fp[64];
    size_t fn = dn_parts(first, fp, 64);
    size_t keep = fn; /* number of trailing RDNs of `first` shared by all */
    for (size_t i = 1; i < s2l_mapping_count(m); i++) {
        const char *other = s2l_rmap_info_of(s2l_mapping_at(m, i))->base_dn;
        const char *op[64];
        size_t on = dn_parts(other, op, 64);
        size_t k = 0;
        while (k < keep && k < on) {
            const char *a = fp[fn - 1 - k], *b = op[on - 1 - k];
            size_t al = strcspn(a, ","), bl = strcspn(b, ",");
            if (al != bl || strncasecmp(a, b, al) != 0)
                break;
            k++;
        }
        keep = k;
    }
    return strdup(keep ? fp[fn - keep] : "");
}

typedef struct app {
    struct event_base *base;
    s2l_gateway gw;
    s2l_server *srv;
    bool stopping;
    struct event *trim_timer;
} app;

/* ---- memory back to the system after bursts ----
 *
 * A burst of large requests leaves glibc's heap full of free chunks between
 * live ones; glibc returns only the free top of the heap, so the process kept
 * most of its peak resident (measured: 600+ MB after 64 parallel 1 MB bodies,
 * BENCHMARKS.md). Once a second, when no request is in flight and the heap
 * holds more than TRIM_MIN_FREE free bytes, malloc_trim(0) gives the free
 * pages back (madvise on whole pages inside the heap, not only its top). Never
 * during a request, at most once a second, and only when there is something to
 * give back, so a busy gateway pays nothing. SCIM2LDAP_MALLOC_TRIM=0 turns it
 * off (for comparison in tests/bench/memory.sh). */
#define TRIM_MIN_FREE (4u << 20)

static void on_trim_timer(evutil_socket_t fd, short what, void *arg)
{
    app *a = arg;
    if (a->stopping || s2l_server_in_flight(a->srv) != 0)
        return;
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks < TRIM_MIN_FREE)
        return;
    malloc_trim(0);
    if (s2l_log_enabled(S2L_LOG_DEBUG)) {
        struct mallinfo2 after = mallinfo2();
        s2l_log(S2L_LOG_DEBUG, "event=malloc_trim free_before=%zu free_after=%zu heap=%zu", mi.fordblks,
                after.fordblks, after.arena + after.hblkhd);
    }
}

static int start_trimming(app *a)
{
    const char *env = getenv("SCIM2LDAP_MALLOC_TRIM");
    if (env != NULL && strcmp(env, "0") == 0)
        return 0;
    a->trim_timer = event_new(a->base, -1, EV_PERSIST, on_trim_timer, a);
    struct timeval every = {1, 0};
    return a->trim_timer && event_add(a->trim_timer, &every) == 0 ? 0 : -1;
}

static void on_drained(void *arg)
{
    app *a = arg;
    s2l_log(S2L_LOG_INFO, "event=stopped");
    event_base_loopexit(a->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    app *a = arg;
    if (a->stopping) {
        s2l_log(S2L_LOG_WARN, "event=second_signal action=exit_now");
        event_base_loopbreak(a->base);
        return;
    }
    a->stopping = true;
    s2l_log(S2L_LOG_INFO, "event=stopping signal=%d in_flight=%u", (int)sig, s2l_server_in_flight(a->srv));
    s2l_server_shutdown(a->srv, on_drained, a);
}

static int load(const char *path, s2l_config **cfg, s2l_mapping **mapping)
{
    char err[1024] = "";
    *cfg = s2l_config_load(path, err, sizeof err);
    if (*cfg == NULL) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        return -1;
    }
    *mapping = s2l_mapping_load((*cfg)->mapping_path, (*cfg)->schemas_dir, err, sizeof err);
    if (*mapping == NULL) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        return -1;
    }
    if (s2l_mapping_count(*mapping) == 0) {
        fprintf(stderr, "scim2ldap: %s: the mapping defines no resource type\n", (*cfg)->mapping_path);
        return -1;
    }
    const s2l_config *c = *cfg;
    s2l_mapping_set_limits(*mapping, &(s2l_mapping_limits){
                                         .max_rdn_bytes = c->limits.max_rdn_bytes,
                                         .json = {.max_depth = c->limits.max_json_depth,
                                                  .max_nodes = c->limits.max_json_nodes,
                                                  .max_values = c->limits.max_values_per_attribute},
                                     });
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", required_argument, NULL, 'k'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL;
    bool check_only = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:k:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k': config = optarg; check_only = true; break;
        case 'V': printf("scim2ldap %s\n", S2L_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (config == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }

    s2l_config *cfg = NULL;
    s2l_mapping *mapping = NULL;
    int rc = 1;
    app a = {0};
    struct event *sigterm = NULL, *sigint = NULL;
    if (load(config, &cfg, &mapping) < 0)
        goto out;
    if (check_only) {
        printf("%s: OK (%zu resource types, mapping %s)\n", config, s2l_mapping_count(mapping),
               cfg->mapping_path);
        rc = 0;
        goto out;
    }
    s2l_log_set_level_name(cfg->log_level);
    signal(SIGPIPE, SIG_IGN);

    /* Timers are armed against the real time, not the time cached when the
     * loop woke up: a callback that parses and maps a 1 MB body takes long
     * enough that an LDAP deadline armed after it would otherwise fire early. */
    struct event_config *ecfg = event_config_new();
    if (ecfg == NULL || event_config_set_flag(ecfg, EVENT_BASE_FLAG_NO_CACHE_TIME) != 0) {
        event_config_free(ecfg);
        goto out;
    }
    a.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    if (a.base == NULL)
        goto out;
    a.gw.cfg = cfg;
    a.gw.mapping = mapping;
    a.gw.base = a.base;
    a.gw.suffix = common_suffix(mapping);
    if (a.gw.suffix == NULL)
        goto out;

    s2l_pool_config pc = {.uri = cfg->ldap.uri,
                          .bind_dn = cfg->ldap.bind_dn,
                          .bind_password = cfg->ldap.bind_password,
                          .connections = cfg->ldap.connections,
                          .timeout_ms = cfg->ldap.timeout_ms,
                          .connect_timeout_ms = cfg->ldap.connect_timeout_ms,
                          .backoff_min_ms = 100,
                          .backoff_max_ms = cfg->ldap.backoff_max_ms,
                          .starttls = cfg->ldap.starttls,
                          .tls_ca_file = cfg->ldap.tls_ca_file,
                          .tls_verify = cfg->ldap.tls_verify};
    char err[1024] = "";
    a.gw.pool = s2l_pool_create(a.base, &pc, err, sizeof err);
    if (a.gw.pool == NULL) {
        fprintf(stderr, "scim2ldap: LDAP: %s\n", err);
        goto out;
    }
    a.srv = s2l_server_create(&a.gw, err, sizeof err);
    if (a.srv == NULL) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        goto out;
    }
    if (start_trimming(&a) < 0)
        goto out;
    sigterm = evsignal_new(a.base, SIGTERM, on_signal, &a);
    sigint = evsignal_new(a.base, SIGINT, on_signal, &a);
    if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0)
        goto out;
    s2l_log(S2L_LOG_INFO, "event=started version=%s listen=%s%s base_path=%s ldap=%s connections=%u types=%zu",
            S2L_VERSION, cfg->tls_cert_file ? "https://" : "http://", cfg->listen, cfg->base_path,
            cfg->ldap.uri, cfg->ldap.connections, s2l_mapping_count(mapping));
    event_base_dispatch(a.base);
    rc = 0;
out:
    if (a.trim_timer)
        event_free(a.trim_timer);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    s2l_server_destroy(a.srv);
    s2l_pool_destroy(a.gw.pool);
    free(a.gw.suffix);
    if (a.base)
        event_base_free(a.base);
    s2l_mapping_destroy(mapping);
    s2l_config_destroy(cfg);
    return rc;
}
