/* harness_gw.c — the gateway under test as a child process: config, start,
 * readiness, stop with exit-status and sanitizer checks. See harness.h. */
#include "harness_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define H_GW_MAX_WRAPPER_ARGS 32

/* Nested objects merge key by key; anything else in src replaces dst's value. */
static int merge_(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)src, key, v) {
        json_t *cur = json_object_get(dst, key);

        if (json_is_object(cur) && json_is_object(v)) {
            if (merge_(cur, v))
                return -1;
        } else if (json_object_set(dst, key, v)) {
            return -1;
        }
    }
    return 0;
}

static json_t *config_(h_slapd *s, int port, const char *extra, char *err, size_t errlen)
{
    char listen[32];
    json_t *cfg, *more = NULL;
    json_error_t jerr;

    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    cfg = json_pack("{s:s,s:s,s:{s:[s]},s:{s:s,s:s,s:s,s:i,s:i},s:s+,s:s+}", "listen", listen, "base_path",
                    "/scim/v2", "auth", "bearer_tokens", H_TOKEN, "ldap", "uri", h_slapd_uri(s), "bind_dn",
                    s->bind_dn ? s->bind_dn : H_ROOTDN, "bind_password", s->bind_pw ? s->bind_pw : H_ROOTPW,
                    "connections", 4, "timeout_ms", 5000, "mapping", S2L_SOURCE_DIR "/",
                    s->mapping ? s->mapping : "mappings/openldap.json", "schemas", S2L_SOURCE_DIR, "/schemas/scim");
    if (!cfg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* One event loop unless the test asks for more (extra) or the whole
     * suite runs with more (S2L_TEST_WORKERS, tests/run.sh --workers N):
     * tests that count a pool's connections or resume a list cursor across
     * connections assume one. */
    const char *workers_env = getenv("S2L_TEST_WORKERS");
    int workers = workers_env && *workers_env ? atoi(workers_env) : 1;
    if (json_object_set_new(cfg, "workers", json_integer(workers > 0 ? workers : 1))) {
        snprintf(err, errlen, "out of memory");
        json_decref(cfg);
        return NULL;
    }
    /* the instance's own certificate (Samba AD DC: LDAPS with a test CA) */
    if (s->ca_file && json_object_set_new(json_object_get(cfg, "ldap"), "tls_ca_file", json_string(s->ca_file))) {
        snprintf(err, errlen, "out of memory");
        json_decref(cfg);
        return NULL;
    }
    if (extra && *extra) {
        more = json_loads(extra, 0, &jerr);
        if (!json_is_object(more)) {
            snprintf(err, errlen, "extra config is not a JSON object: %s", more ? "" : jerr.text);
            goto fail;
        }
        if (merge_(cfg, more)) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        json_decref(more);
    }
    return cfg;
fail:
    json_decref(more);
    json_decref(cfg);
    return NULL;
}

static int write_config_(const char *path, const json_t *cfg)
{
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc;

    if (!text)
        return -1;
    rc = h_write_file_(path, text, 0600);
    free(text);
    return rc;
}

static void gw_free_(h_gw *g)
{
    if (!g)
        return;
    free(g->base_path);
    free(g->base_url);
    free(g->token);
    free(g->config_path);
    free(g->log_path);
    free(g);
}

/* Reads where the client must go (listen, base_path, a plain token) from the
 * final configuration, so extra JSON overriding them keeps the client in step. */
static int adopt_config_(h_gw *g, const json_t *cfg)
{
    const char *listen = json_string_value(json_object_get(cfg, "listen"));
    const char *base = json_string_value(json_object_get(cfg, "base_path"));
    const json_t *tokens = json_object_get(json_object_get(cfg, "auth"), "bearer_tokens");
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    const char *token = H_TOKEN;
    size_t i;
    json_t *t;

    if (!colon || (size_t)(colon - listen) >= sizeof g->host) {
        fprintf(stderr, "harness: cannot use listen address %s\n", listen ? listen : "(none)");
        return -1;
    }
    snprintf(g->host, sizeof g->host, "%.*s", (int)(colon - listen), listen);
    if (strcmp(g->host, "0.0.0.0") == 0 || g->host[0] == '\0')
        snprintf(g->host, sizeof g->host, "127.0.0.1");
    g->port = atoi(colon + 1);
    json_array_foreach(tokens, i, t) {
        const char *v = json_string_value(t);

        if (v && strncasecmp(v, "sha256:", 7) != 0) {
            token = v;
            break;
        }
    }
    free(g->base_path);
    free(g->base_url);
    free(g->token);
    g->base_path = h_strdup_(base ? base : "/scim/v2");
    g->base_url = h_asprintf_("http://%s:%d%s", g->host, g->port, g->base_path);
    g->token = h_strdup_(token);
    return 0;
}

static bool accepts_(const h_gw *g)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g->port);
    inet_pton(AF_INET, g->host, &a.sin_addr);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static bool log_mentions_(const char *path, const char *const *needles)
{
    char *text = h_slurp_(path, NULL);
    bool found = false;

    for (size_t i = 0; text && needles[i] && !found; i++)
        found = h_strcasestr_(text, needles[i]) != NULL;
    free(text);
    return found;
}

/* argv = wrapper words + binary + args; the words live in *words (one buffer). */
static char **gw_argv_(const char *config_path, const char *flag, char **words)
{
    const char *wrapper = getenv("S2L_GATEWAY_WRAPPER");
    char **argv = calloc(H_GW_MAX_WRAPPER_ARGS + 4, sizeof *argv);
    size_t n = 0;

    *words = NULL;
    if (!argv)
        return NULL;
    if (wrapper && *wrapper) {
        char *save = NULL;

        *words = h_strdup_(wrapper);
        for (char *w = strtok_r(*words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (n == H_GW_MAX_WRAPPER_ARGS) {
                fprintf(stderr, "harness: S2L_GATEWAY_WRAPPER has more than %d words\n", H_GW_MAX_WRAPPER_ARGS);
                free(argv);
                free(*words);
                *words = NULL;
                return NULL;
            }
            argv[n++] = w;
        }
    }
    argv[n++] = S2L_BINARY;
    argv[n++] = (char *)flag;
    argv[n++] = (char *)config_path;
    argv[n] = NULL;
    return argv;
}

bool h_gw_can_run(h_slapd *s, char *why, size_t whylen)
{
    char *path = NULL, *log = NULL, *out = NULL;
    json_t *cfg = NULL;
    bool ok = false;
    int status = 0;
    pid_t pid;

    why[0] = '\0';
    if (access(S2L_BINARY, X_OK) != 0) {
        snprintf(why, whylen, "%s is not built", S2L_BINARY);
        goto out;
    }
    cfg = config_(s, 8080, NULL, why, whylen);
    if (!cfg)
        goto out;
    path = h_asprintf_("%s/gw-check.json", h_slapd_dir(s));
    log = h_asprintf_("%s/gw-check.log", h_slapd_dir(s));
    if (write_config_(path, cfg)) {
        snprintf(why, whylen, "cannot write %s", path);
        goto out;
    }
    /* No wrapper here: this only asks whether the binary works at all. */
    {
        char *plain[] = {S2L_BINARY, "--check-config", path, NULL};

        pid = h_spawn_(plain, log, true);
    }
    if (pid < 0 || h_wait_(pid, 30000, &status) != 0) {
        if (pid > 0) {
            kill(-pid, SIGKILL);
            h_wait_(pid, 5000, &status);
        }
        snprintf(why, whylen, "%s --check-config did not finish", S2L_BINARY);
        goto out;
    }
    ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        out = h_slurp_(log, NULL);
        snprintf(why, whylen, "%s --check-config failed (status 0x%x): %.300s", S2L_BINARY, (unsigned)status,
                 out ? out : "");
    }
out:
    free(out);
    free(path);
    free(log);
    json_decref(cfg);
    return ok;
}

/* The pool logs "ldap_conn conn=N event=up ..." at info when a connection
 * has bound and read the root DSE: from then on directory requests are served. */
#define POOL_UP_NEEDLE "event=up controls="
/* ...and, once bound, reads the directory's subschema (two searches, then
 * "event=subschema source=..."): waited for too, so that tests counting the
 * directory's operations do not count these. */
#define SUBSCHEMA_NEEDLE "event=subschema"

static int count_(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static bool logs_info_(const json_t *cfg)
{
    const char *level = json_string_value(json_object_get(cfg, "log_level"));

    return level == NULL || strcmp(level, "info") == 0 || strcmp(level, "debug") == 0;
}

/* Waits (bounded) until the pool has a bound connection; false when the
 * gateway exited or the time ran out. */
static bool pool_bound_(h_gw *g, int timeout_ms)
{
    double t0 = h_now_ms(), deadline = t0 + timeout_ms;
    int status = 0;

    for (;;) {
        char *text = h_slurp_(g->log_path, NULL);
        /* every worker's pool (each reads the subschema once bound) */
        bool up = text && strstr(text, POOL_UP_NEEDLE) != NULL && count_(text, SUBSCHEMA_NEEDLE) >= g->workers;

        free(text);
        if (up)
            return true;
        if (h_wait_(g->pid, 20, &status) == 0) {
            g->pid = 0;
            fprintf(stderr, "harness: the gateway exited before its LDAP pool bound (status 0x%x)\n",
                    (unsigned)status);
            return false;
        }
        if (h_now_ms() > deadline) {
            fprintf(stderr, "harness: the gateway's LDAP pool did not bind to %s within %d ms\n", h_slapd_uri(g->s),
                    timeout_ms);
            return false;
        }
    }
}

static h_gw *start_(h_slapd *s, const char *extra_config_json, bool wait_bound)
{
    const int attempts = 5;
    const int ready_ms = (int)(20000 * h_deadline_scale_());
    static const char *const in_use[] = {"address already in use", "EADDRINUSE", NULL};
    h_gw *g = calloc(1, sizeof *g);
    json_t *cfg = NULL;
    char **argv = NULL, *words = NULL;
    char err[256] = "";
    bool ok = false;

    if (!g) {
        fprintf(stderr, "harness: out of memory\n");
        return NULL;
    }
    h_init_();
    g->s = s;
    if (access(S2L_BINARY, X_OK) != 0) {
        fprintf(stderr, "harness: gateway binary %s is missing\n", S2L_BINARY);
        goto out;
    }
    for (int attempt = 0; attempt < attempts && !ok; attempt++) {
        double deadline;
        int status = 0;
        unsigned seq = ++s->gw_seq;

        json_decref(cfg);
        cfg = config_(s, h_free_port_(), extra_config_json, err, sizeof err);
        if (!cfg) {
            fprintf(stderr, "harness: gateway config: %s\n", err);
            goto out;
        }
        if (adopt_config_(g, cfg))
            goto out;
        g->workers = (int)json_integer_value(json_object_get(cfg, "workers"));
        if (g->workers <= 0) /* "workers": 0 = one per CPU */
            g->workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (g->workers <= 0)
            g->workers = 1;
        free(g->config_path);
        free(g->log_path);
        g->config_path = h_asprintf_("%s/gw%u.json", h_slapd_dir(s), seq);
        g->log_path = h_asprintf_("%s/gw%u.log", h_slapd_dir(s), seq);
        if (write_config_(g->config_path, cfg))
            goto out;
        free(argv);
        free(words);
        argv = gw_argv_(g->config_path, "--config", &words);
        if (!argv)
            goto out;
        g->pid = h_spawn_(argv, g->log_path, true);
        if (g->pid < 0) {
            g->pid = 0;
            goto out;
        }
        deadline = h_now_ms() + ready_ms;
        while (h_now_ms() < deadline) {
            /* Exit first: a gateway that lost the port to someone else must not
             * pass for ready because that someone accepts. */
            if (h_wait_(g->pid, 20, &status) == 0) {
                g->pid = 0;
                break;
            }
            if (accepts_(g)) {
                ok = true;
                break;
            }
        }
        if (ok)
            break;
        if (g->pid) {
            fprintf(stderr, "harness: the gateway did not accept connections on %s:%d within %d ms\n", g->host,
                    g->port, ready_ms);
            kill(-g->pid, SIGKILL);
            h_wait_(g->pid, 5000, &status);
            g->pid = 0;
            h_log_tail_("gateway log", g->log_path, 40);
            goto out;
        }
        if (!log_mentions_(g->log_path, in_use) || (extra_config_json && strstr(extra_config_json, "\"listen\""))) {
            fprintf(stderr, "harness: the gateway exited during start (status 0x%x)\n", (unsigned)status);
            h_log_tail_("gateway log", g->log_path, 40);
            goto out;
        }
        fprintf(stderr, "harness: gateway port %d taken, retrying\n", g->port);
    }
    if (ok && wait_bound && h_slapd_running(s) && logs_info_(cfg) &&
        !pool_bound_(g, (int)(20000 * h_deadline_scale_()))) {
        ok = false;
        if (g->pid) {
            int status;

            kill(-g->pid, SIGKILL);
            h_wait_(g->pid, 5000, &status);
            g->pid = 0;
        }
        h_log_tail_("gateway log", g->log_path, 40);
    }
out:
    free(argv);
    free(words);
    json_decref(cfg);
    if (!ok) {
        gw_free_(g);
        g = NULL;
    }
    return g;
}

h_gw *h_gw_start(h_slapd *s, const char *extra_config_json)
{
    return start_(s, extra_config_json, true);
}

h_gw *h_gw_start_unbound(h_slapd *s, const char *extra_config_json)
{
    return start_(s, extra_config_json, false);
}

/* What sanitizers and valgrind print when they found something. */
static bool log_has_report_(const char *path)
{
    static const char *const reports[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer",
        "ERROR: MemorySanitizer", NULL,
    };
    char *text;
    const char *p;
    bool found = log_mentions_(path, reports);

    if (found)
        return true;
    text = h_slurp_(path, NULL);
    /* valgrind: "ERROR SUMMARY: 0 errors" is the only clean summary. */
    for (p = text; p && (p = strstr(p, "ERROR SUMMARY: ")) != NULL; p += 15) {
        if (strncmp(p + 15, "0 errors", 8) != 0) {
            found = true;
            break;
        }
    }
    free(text);
    return found;
}

bool h_gw_stop(h_gw *g)
{
    const int stop_ms = (int)(20000 * h_deadline_scale_());
    int status = 0, rc;
    bool ok = true;
    char what[160] = "";

    if (!g) {
        h_check_(false, __FILE__, __LINE__, "h_gw_stop: no gateway (did h_gw_start fail?)");
        return false;
    }
    if (g->pid) {
        kill(g->pid, SIGTERM);
        rc = h_wait_(g->pid, stop_ms, &status);
        if (rc != 0) {
            snprintf(what, sizeof what, "did not exit within %d ms of SIGTERM", stop_ms);
            kill(-g->pid, SIGKILL);
            h_wait_(g->pid, 5000, &status);
            ok = false;
        } else if (WIFSIGNALED(status)) {
            snprintf(what, sizeof what, "died of signal %d", WTERMSIG(status));
            ok = false;
        } else if (WEXITSTATUS(status) != 0) {
            snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(status));
            ok = false;
        }
        g->pid = 0;
        if (ok && log_has_report_(g->log_path)) {
            snprintf(what, sizeof what, "logged a sanitizer/valgrind report");
            ok = false;
        }
        h_check_(ok, __FILE__, __LINE__, "gateway on port %d %s", g->port, what);
        if (!ok)
            h_log_tail_("gateway log", g->log_path, 60);
    }
    gw_free_(g);
    return ok;
}

void h_gw_kill(h_gw *g)
{
    int status;

    if (!g)
        return;
    if (g->pid) {
        kill(-g->pid, SIGKILL);
        kill(g->pid, SIGKILL);
        h_wait_(g->pid, 5000, &status);
    }
    gw_free_(g);
}

h_gw *h_gw_attach(const char *host_port, const char *base_path, const char *token)
{
    h_gw *g = calloc(1, sizeof *g);
    json_t *cfg;

    if (!g)
        return NULL;
    cfg = json_pack("{s:s,s:s,s:{s:[s]}}", "listen", host_port, "base_path", base_path ? base_path : "/scim/v2",
                    "auth", "bearer_tokens", token ? token : H_TOKEN);
    if (!cfg || adopt_config_(g, cfg)) {
        json_decref(cfg);
        gw_free_(g);
        return NULL;
    }
    json_decref(cfg);
    return g;
}

const char *h_gw_base_url(const h_gw *g)
{
    return g->base_url;
}

const char *h_gw_base_path(const h_gw *g)
{
    return g->base_path;
}

const char *h_gw_token(const h_gw *g)
{
    return g->token;
}

int h_gw_port(const h_gw *g)
{
    return g->port;
}

int h_gw_pid(const h_gw *g)
{
    return g ? (int)g->pid : 0;
}

const char *h_gw_config_path(const h_gw *g)
{
    return g->config_path;
}

const char *h_gw_log_path(const h_gw *g)
{
    return g->log_path;
}

int h_gw_signal(h_gw *g, int sig)
{
    return g && g->pid ? kill(g->pid, sig) : -1;
}

bool h_gw_log_wait(h_gw *g, const char *needle, int count, int timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms * h_deadline_scale_();

    for (;;) {
        char *text = g && g->log_path ? h_slurp_(g->log_path, NULL) : NULL;
        int seen = 0;

        for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
            seen++;
        free(text);
        if (seen >= count)
            return true;
        if (h_now_ms() > deadline)
            return false;
        usleep(20000);
    }
}
