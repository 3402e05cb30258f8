/* main.c — command line, start-up and orderly shutdown of the gateway. */
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/commands.h"
#include "gateway.h"
#include "generation.h"
#include "http/server.h"
#include "ops/audit_log.h"
#include "ops/ops.h"
#include "http/tls.h"
#include "workers.h"
#include "s2l/auth.h"
#include "s2l/config.h"
#include "s2l/ldap_pool.h"
#include "s2l/log.h"
#include "s2l/mapping.h"

static void usage(FILE *out)
{
    fputs("usage: scim2ldap --config FILE        run the gateway in the foreground\n"
          "       scim2ldap --check-config FILE  validate the configuration and mapping, then exit\n"
          "       scim2ldap preview ...          the LDIF a SCIM request becomes (preview --help)\n"
          "       scim2ldap check --live --config FILE  the mapping against the directory's schema\n"
          "       scim2ldap hash-secret [--scrypt] print a password hash for auth.credentials\n"
          "       scim2ldap --version | --help\n"
          "\n"
          "Logs go to stderr. SIGTERM or SIGINT stops accepting requests, lets in-flight\n"
          "requests finish (limits.shutdown_grace_ms) and exits. SIGHUP reloads the\n"
          "configuration, mapping, credentials and TLS certificate (requests in flight\n"
          "finish on the old ones; a configuration that does not load is refused and\n"
          "logged); --check-config checks exactly what a reload loads.\n"
          "Environment: SCIM2LDAP_BIND_PASSWORD, SCIM2LDAP_BEARER_TOKENS (comma-separated),\n"
          "SCIM2LDAP_MALLOC_TRIM=0 (no idle memory trim).\n",
          out);
}

typedef struct app {
    struct event_base *base;     /* worker 0's: signals and timers */
    s2l_gen_slot *slot;          /* worker 0's generations (the metrics listener reads them) */
    s2l_ops *ops;                /* metrics, across generations and workers */
    s2l_workers *workers;
    bool stopping;
    const char *config_path;
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
    if (a->stopping || s2l_workers_in_flight(a->workers) != 0)
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

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    app *a = arg;
    if (a->stopping) {
        s2l_log(S2L_LOG_WARN, "event=second_signal action=exit_now");
        s2l_workers_break(a->workers);
        return;
    }
    a->stopping = true;
    s2l_log(S2L_LOG_INFO, "event=stopping signal=%d in_flight=%u", (int)sig, s2l_workers_in_flight(a->workers));
    s2l_workers_stop(a->workers);
}

/* ---- SIGHUP: reload of everything the configuration file names ----
 * generation.h: a new generation for new requests, the old one until its
 * requests end; a configuration that does not load leaves the old one. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
    app *a = arg;
    char err[1024] = "";
    s2l_workers_reload(a->workers);
    /* The audit file is reopened whether or not the reload took (logrotate
     * moved it away); a file that cannot be opened leaves the old one. */
    s2l_gateway *gw = s2l_gen_acquire(a->slot);
    if (s2l_ops_audit_open(a->ops, gw->cfg, err, sizeof err) < 0) {
        char quoted[1100];
        s2l_log_quote(quoted, sizeof quoted, err, strlen(err));
        s2l_log(S2L_LOG_ERROR, "event=audit_reopen_failed reason=%s action=kept_old", quoted);
    }
    s2l_gateway_release(gw);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "preview") == 0)
        return s2l_cmd_preview(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return s2l_cmd_check(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "hash-secret") == 0)
        return s2l_cmd_hash_secret(argc - 1, argv + 1);

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

    int rc = 1;
    app a = {0};
    struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
    char err[1024] = "";
    /* What start, --check-config and a reload load: the same function. */
    s2l_gen_parts parts;
    if (s2l_gen_parts_load(config, &parts, err, sizeof err) < 0) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        return 1;
    }
    const s2l_config *cfg = parts.cfg;
    const s2l_mapping *mapping = parts.mapping;
    a.config_path = config;
    if (check_only) {
        /* Warnings do not fail the check: the mapping works, but some values
         * would be refused (see mappings/README.md, "LDAP syntaxes"). */
        size_t wi;
        json_t *w;
        json_array_foreach(s2l_mapping_warnings(mapping), wi, w) printf("warning: %s\n", json_string_value(w));
        printf("%s: OK (%zu resource types, mapping %s, %zu warning%s)\n", config, s2l_mapping_count(mapping),
               cfg->mapping_path, json_array_size(s2l_mapping_warnings(mapping)),
               json_array_size(s2l_mapping_warnings(mapping)) == 1 ? "" : "s");
        rc = 0;
        goto out;
    }
    s2l_log_set_level_name(cfg->log_level);
    {
        size_t wi;
        json_t *w;
        json_array_foreach(s2l_mapping_warnings(mapping), wi, w)
            s2l_log(S2L_LOG_WARN, "event=mapping_warning detail=\"%s\"", json_string_value(w));
    }
    signal(SIGPIPE, SIG_IGN);

    unsigned n_workers = s2l_workers_wanted(cfg);
    /* Several loops activate each other's events (stop, reload): libevent's
     * locking, which one loop does not need and does not pay for. */
    if (n_workers > 1 && evthread_use_pthreads() != 0) {
        fprintf(stderr, "scim2ldap: libevent has no thread support\n");
        goto out;
    }
    a.ops = s2l_ops_new();
    if (a.ops == NULL)
        goto out;
    a.workers = s2l_workers_create(n_workers, config, &parts, a.ops, err, sizeof err);
    if (a.workers == NULL) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        goto out;
    }
    a.base = s2l_workers_main_base(a.workers);
    a.slot = s2l_workers_main_slot(a.workers);
    s2l_gateway *gw = s2l_gen_acquire(a.slot);
    cfg = gw->cfg;
    mapping = gw->mapping;
    if (s2l_ops_listen(a.ops, a.base, a.slot, cfg, err, sizeof err) < 0 ||
        s2l_ops_audit_open(a.ops, cfg, err, sizeof err) < 0) {
        s2l_gateway_release(gw);
        fprintf(stderr, "scim2ldap: %s\n", err);
        goto out;
    }
    s2l_gateway_release(gw); /* the slot holds it: nothing reloads before the loop runs */
    if (start_trimming(&a) < 0)
        goto out;
    sigterm = evsignal_new(a.base, SIGTERM, on_signal, &a);
    sigint = evsignal_new(a.base, SIGINT, on_signal, &a);
    sighup = evsignal_new(a.base, SIGHUP, on_sighup, &a);
    if (sigterm == NULL || sigint == NULL || sighup == NULL || evsignal_add(sigterm, NULL) < 0 ||
        evsignal_add(sigint, NULL) < 0 || evsignal_add(sighup, NULL) < 0)
        goto out;
    s2l_log(S2L_LOG_INFO,
            "event=started version=%s listen=%s%s base_path=%s workers=%u ldap=\"%s\" servers=%zu connections=%u "
            "types=%zu credentials=%zu token_endpoint=%s metrics=%s",
            S2L_VERSION, cfg->tls_cert_file ? "https://" : "http://", cfg->listen, cfg->base_path, n_workers,
            cfg->ldap.uri, cfg->ldap.n_uris, cfg->ldap.connections, s2l_mapping_count(mapping), s2l_auth_count(gw->auth),
            s2l_auth_token_path(gw->auth) ? s2l_auth_token_path(gw->auth) : "off",
            !cfg->metrics.enabled ? "off" : cfg->metrics.listen ? cfg->metrics.listen : "/metrics");
    if (s2l_workers_run(a.workers) == 0)
        rc = 0;
    s2l_log(S2L_LOG_INFO, "event=stopped");
out:
    if (a.trim_timer)
        event_free(a.trim_timer);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (sighup)
        event_free(sighup);
    /* Freeing the signal events gave the signals their default action back;
     * a second SIGTERM (a supervisor repeating itself) during the teardown
     * must not turn a clean exit into a kill. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    s2l_ops_close_listener(a.ops); /* on worker 0's base */
    s2l_workers_free(a.workers);
    s2l_ops_free(a.ops);
    s2l_gen_parts_free(&parts); /* when start did not take them */
    return rc;
}
