/* harness.c — assertions, child processes, files and the private slapd.
 * See harness.h for the contract. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "harness_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

int h_passed_, h_failed_;

/* ------------------------------------------------------------------ assertions */

void h_check_(bool ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        h_passed_++;
        return;
    }
    h_failed_++;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void h_check_int_(long long got, long long want, const char *expr, const char *file, int line)
{
    h_check_(got == want, file, line, "CHECK_INT failed: %s = %lld, want %lld", expr, got, want);
}

void h_check_str_(const char *got, const char *want, const char *expr, const char *file, int line)
{
    bool ok = got && want && strcmp(got, want) == 0;

    h_check_(ok, file, line, "CHECK_STR failed: %s = \"%s\", want \"%s\"", expr, got ? got : "(null)",
             want ? want : "(null)");
}

void h_check_status_(const h_resp *r, int want, const char *file, int line)
{
    /* Enough of the body to see a SCIM error's detail, not a 100k-member group. */
    const size_t max_body = 2000;

    if (r->status == want) {
        h_passed_++;
        return;
    }
    h_failed_++;
    fprintf(stderr, "%s:%d: CHECK_STATUS failed: %s %s -> %d, want %d%s%s\n", file, line,
            r->method ? r->method : "?", r->target ? r->target : "?", r->status, want,
            r->err[0] ? ": " : "", r->err);
    if (r->body && r->body_len)
        fprintf(stderr, "  body: %.*s%s\n", (int)(r->body_len > max_body ? max_body : r->body_len), r->body,
                r->body_len > max_body ? " [...]" : "");
}

void h_require_(bool ok, const char *expr, const char *file, int line)
{
    if (ok) {
        h_passed_++;
        return;
    }
    h_failed_++;
    fprintf(stderr, "%s:%d: REQUIRE failed: %s (stopping this test)\n", file, line, expr);
    exit(h_done_());
}

int h_done_(void)
{
    printf("%d passed, %d failed\n", h_passed_, h_failed_);
    fflush(stdout);
    return h_failed_ ? 1 : 0;
}

double h_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void h_sleep_ms_(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ buffers, strings, files */

int h_buf_add_(h_buf *b, const void *data, size_t n)
{
    if (b->oom)
        return -1;
    if (n > H_BUF_MAX - b->len - 1) {
        b->oom = true;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;

        while (cap < b->len + n + 1)
            cap = cap > H_BUF_MAX / 2 ? H_BUF_MAX : cap * 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int h_buf_str_(h_buf *b, const char *s)
{
    return h_buf_add_(b, s, strlen(s));
}

int h_buf_printf_(h_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n, rc = -1;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    s = malloc((size_t)n + 1);
    if (!s) {
        b->oom = true;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = h_buf_add_(b, s, (size_t)n);
    free(s);
    return rc;
}

void h_buf_fini_(h_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *h_strdup_(const char *s)
{
    char *p = s ? strdup(s) : NULL;

    if (s && !p) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    return p;
}

/* Tests cannot do anything useful after an allocation failure, so the small
 * string helpers abort instead of making every caller check. */
char *h_asprintf_(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1))) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *h_strcasestr_(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    }
    return n ? NULL : hay;
}

char *h_slurp_(const char *path, size_t *len)
{
    h_buf b = {0};
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (h_buf_add_(&b, chunk, n))
            break;
    if (ferror(f) || b.oom || h_buf_add_(&b, "", 0)) {
        fclose(f);
        h_buf_fini_(&b);
        return NULL;
    }
    fclose(f);
    if (len)
        *len = b.len;
    return b.p;
}

int h_write_file_(const char *path, const char *data, int mode)
{
    size_t len = strlen(data), off = 0;
    int rc = -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0) {
        fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

void h_log_tail_(const char *title, const char *path, int lines)
{
    size_t len = 0;
    char *text = path ? h_slurp_(path, &len) : NULL;
    size_t start = len;
    int seen = 0;

    if (!text) {
        fprintf(stderr, "---- %s: (no log at %s)\n", title, path ? path : "?");
        return;
    }
    /* Walk back over `lines` newlines (a trailing newline does not count). */
    if (start && text[start - 1] == '\n')
        start--;
    while (start > 0 && seen < lines) {
        start--;
        if (text[start] == '\n')
            seen++;
    }
    if (text[start] == '\n')
        start++;
    fprintf(stderr, "---- %s (%s, last %d lines)\n%s%s---- end of %s\n", title, path, lines, text + start,
            len && text[len - 1] != '\n' ? "\n" : "", title);
    free(text);
}

static int rm_entry_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "harness: cannot remove %s: %s (flag %d)\n", path, strerror(errno), flag);
    return 0;
}

void h_rm_rf_(const char *dir)
{
    nftw(dir, rm_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

bool h_keep_tmp_(void)
{
    const char *k = getenv("S2L_KEEP_TMP");

    return k && *k && strcmp(k, "0") != 0;
}

char *h_make_tmpdir_(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char *tmpl;

    if (!base || !*base)
        base = "/tmp";
    tmpl = h_asprintf_("%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "harness: mkdtemp %s: %s\n", tmpl, strerror(errno));
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

double h_deadline_scale_(void)
{
    const char *w = getenv("S2L_GATEWAY_WRAPPER");

    return w && *w ? 10.0 : 1.0;
}

/* ------------------------------------------------------------------ child processes */

/* Fixed tables, checked on insert: a test runs a handful of processes. */
#define H_MAX_CHILDREN 64
#define H_MAX_SLAPD 32

static volatile pid_t h_children_[H_MAX_CHILDREN];
static h_slapd *h_live_[H_MAX_SLAPD];
static bool h_inited_;

static void kill_children_(void)
{
    for (int i = 0; i < H_MAX_CHILDREN; i++) {
        pid_t p = h_children_[i];

        if (p > 0) {
            kill(-p, SIGKILL);
            kill(p, SIGKILL);
        }
    }
}

/* Only async-signal-safe calls: kill the children, then die of the signal. */
static void on_signal_(int sig)
{
    kill_children_();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void at_exit_(void)
{
    kill_children_();
    for (int i = 0; i < H_MAX_CHILDREN; i++) {
        if (h_children_[i] > 0) {
            waitpid(h_children_[i], NULL, 0);
            h_children_[i] = 0;
        }
    }
    /* Their processes are reaped above: only folders and memory are left. */
    for (int i = 0; i < H_MAX_SLAPD; i++) {
        if (h_live_[i]) {
            h_live_[i]->pid = 0;
            h_slapd_destroy(h_live_[i]);
        }
    }
}

void h_init_(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

    if (h_inited_)
        return;
    h_inited_ = true;
    atexit(at_exit_);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_signal_);
    /* Writes to a server that went away must be errors, not a dead test. */
    signal(SIGPIPE, SIG_IGN);
    /* The harness's own libldap must not pick up ~/.ldaprc or /etc/ldap/ldap.conf. */
    setenv("LDAPNOINIT", "1", 1);
}

pid_t h_spawn_(char *const argv[], const char *log_path, bool production_env)
{
    pid_t parent = getpid(), pid;
    int slot = -1;

    h_init_();
    for (int i = 0; i < H_MAX_CHILDREN; i++) {
        if (h_children_[i] == 0) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        fprintf(stderr, "harness: more than %d child processes\n", H_MAX_CHILDREN);
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "harness: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd;
        sigset_t none;

        /* Own process group, so a wrapper (valgrind, sh) dies with its child. */
        setpgid(0, 0);
        /* Dies with the test even if the test is SIGKILLed (ctest timeout). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (production_env)
            unsetenv("LDAPNOINIT");
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
            close(fd);
        }
        fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        dprintf(2, "harness: cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    h_children_[slot] = pid;
    return pid;
}

void h_forget_(pid_t pid)
{
    for (int i = 0; i < H_MAX_CHILDREN; i++) {
        if (h_children_[i] == pid)
            h_children_[i] = 0;
    }
}

int h_wait_(pid_t pid, int timeout_ms, int *status)
{
    double deadline = h_now_ms() + timeout_ms;

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);

        if (r == pid) {
            h_forget_(pid);
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            h_forget_(pid);
            return -1;
        }
        if (h_now_ms() >= deadline)
            return 1;
        h_sleep_ms_(10);
    }
}

int h_run_(char *const argv[], const char *log_path, int timeout_ms)
{
    int status = 0;
    pid_t pid = h_spawn_(argv, log_path, false);

    if (pid < 0)
        return -1;
    if (h_wait_(pid, timeout_ms, &status) != 0) {
        kill(-pid, SIGKILL);
        h_wait_(pid, 5000, &status);
        fprintf(stderr, "harness: %s did not finish within %d ms\n", argv[0], timeout_ms);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ------------------------------------------------------------------ ports */

static bool port_free_(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Binding without SO_REUSEADDR also fails while old connections linger in
     * TIME_WAIT, which is what a server restarted on this port would trip over. */
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

int h_free_port_(void)
{
    int low = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    static unsigned seed;

    if (f) {
        if (fscanf(f, "%d", &low) != 1)
            low = 32768;
        fclose(f);
    }
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)h_now_ms();
    /* Below the ephemeral range, no outgoing connection is handed our port
     * between this check and the server's bind. */
    if (low > 21000) {
        for (int i = 0; i < 500; i++) {
            int port = 20000 + (int)(rand_r(&seed) % (unsigned)(low - 20000));

            if (port_free_(port))
                return port;
        }
    }
    /* Fall back to whatever the kernel picks. */
    {
        struct sockaddr_in a = {0};
        socklen_t alen = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

        if (fd < 0)
            return -1;
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
            port = ntohs(a.sin_port);
        close(fd);
        return port;
    }
}

/* ------------------------------------------------------------------ templates */

typedef struct tvar {
    const char *name, *value;
} tvar;

static bool option_on_(const h_slapd_opts *o, bool s2lschema, const char *name, size_t n)
{
    const struct {
        const char *name;
        bool on;
    } t[] = {
        {"s2lschema", s2lschema}, {"ppolicy", o->ppolicy}, {"memberof", o->memberof},
        {"refint", o->refint},    {"sssvlv", o->sssvlv},   {"monitor", o->monitor},
        {"dbnosync", o->dbnosync}, {"multiprovider", o->server_id > 0},
    };

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strlen(t[i].name) == n && strncmp(t[i].name, name, n) == 0)
            return t[i].on;
    }
    return false;
}

/* Same rules as s2l_slapd_render in tests/lib/slapd.sh: "##" lines dropped,
 * "?opt " lines kept only for enabled options, "@NAME@" replaced. */
static char *render_(const char *rel, const h_slapd_opts *o, bool s2lschema, const tvar *vars)
{
    char *path = h_asprintf_("%s/%s", S2L_SOURCE_DIR, rel);
    char *text = h_slurp_(path, NULL);
    h_buf out = {0};
    char *line, *save = NULL, *result = NULL;

    if (!text) {
        fprintf(stderr, "harness: cannot read %s: %s\n", path, strerror(errno));
        goto out;
    }
    h_buf_printf_(&out, "# Generated from %s; do not edit.\n", rel);
    /* Line by line by hand: empty lines separate LDIF records and must survive. */
    for (line = text; line && *line != '\0'; line = save) {
        char *nl = strchr(line, '\n');
        const char *p = line;

        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (strncmp(p, "##", 2) == 0)
            continue;
        if (*p == '?') {
            const char *sp = strchr(p, ' ');

            if (!sp || !option_on_(o, s2lschema, p + 1, (size_t)(sp - p - 1)))
                continue;
            p = sp + 1;
        }
        while (*p) {
            const char *at = strchr(p, '@'), *end;
            const tvar *v = NULL;

            if (!at) {
                h_buf_str_(&out, p);
                break;
            }
            h_buf_add_(&out, p, (size_t)(at - p));
            end = strchr(at + 1, '@');
            if (end) {
                for (const tvar *t = vars; t->name; t++) {
                    if (strlen(t->name) == (size_t)(end - at - 1) && strncmp(t->name, at + 1, (size_t)(end - at - 1)) == 0)
                        v = t;
                }
            }
            if (!v) {
                if (end && end > at + 1 && strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                                               (size_t)(end - at - 1)) {
                    fprintf(stderr, "harness: %s: unknown placeholder %.*s\n", rel, (int)(end - at + 1), at);
                    goto out;
                }
                h_buf_add_(&out, "@", 1);
                p = at + 1;
                continue;
            }
            h_buf_str_(&out, v->value);
            p = end + 1;
        }
        h_buf_add_(&out, "\n", 1);
    }
    if (out.oom) {
        fprintf(stderr, "harness: out of memory rendering %s\n", rel);
        goto out;
    }
    result = out.p;
    out.p = NULL;
out:
    h_buf_fini_(&out);
    free(text);
    free(path);
    return result;
}

/* ------------------------------------------------------------------ slapd */

h_slapd_opts h_slapd_defaults(void)
{
    h_slapd_opts o = {0};

    o.ppolicy = o.memberof = o.sssvlv = o.monitor = o.dbnosync = true;
    return o;
}

h_slapd_opts h_slapd_all(void)
{
    h_slapd_opts o = h_slapd_defaults();

    o.refint = true;
    return o;
}

static const char *env_or_(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

static bool log_has_(const char *path, const char *needle)
{
    char *text = h_slurp_(path, NULL);
    bool found = text && strstr(text, needle);

    free(text);
    return found;
}

void h_ldap_tls_(const h_slapd *s, LDAP *ld)
{
    int demand = LDAP_OPT_X_TLS_DEMAND, is_server = 0;

    if (!s->ca_file)
        return;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s->ca_file);
    /* per-handle TLS options take effect in a fresh context */
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
}

/* One probe of the root DSE on a fresh connection: the server answers operations. */
bool h_probe_(h_slapd *s)
{
    LDAP *ld = NULL;
    LDAPMessage *res = NULL;
    struct timeval tv = {1, 0};
    char *attrs[] = {"namingContexts", NULL};
    int version = LDAP_VERSION3, rc;

    if (ldap_initialize(&ld, s->uri) != LDAP_SUCCESS)
        return false;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    h_ldap_tls_(s, ld);
    rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &res);
    if (rc == LDAP_SUCCESS)
        s->own.search++;
    ldap_msgfree(res);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc == LDAP_SUCCESS;
}

/* Starts the slapd process and waits until it answers. A port lost to someone
 * else is retried: with a new port on first start, with the same port (after a
 * pause) on restart, where the port is part of the contract. */
static int launch_(h_slapd *s, bool pick_port)
{
    const int attempts = 10;
    const int ready_ms = (int)(20000 * h_deadline_scale_());

    for (int attempt = 0; attempt < attempts; attempt++) {
        double deadline;
        int status = 0;
        char *argv[8];

        if (pick_port || s->port <= 0) {
            s->port = h_free_port_();
            if (s->port < 0) {
                fprintf(stderr, "harness: no free port\n");
                return -1;
            }
        }
        snprintf(s->uri, sizeof s->uri, "ldap://127.0.0.1:%d/", s->port);
        memset(&s->own, 0, sizeof s->own);
        argv[0] = (char *)env_or_("S2L_SLAPD_BIN", "/usr/sbin/slapd");
        argv[1] = "-f";
        argv[2] = s->conf_path;
        argv[3] = "-h";
        argv[4] = s->uri;
        /* -d keeps slapd in the foreground, so it is our child and dies with us;
         * "none" still logs errors such as a port already in use. */
        argv[5] = "-d";
        /* S2L_SLAPD_DEBUG (e.g. "sync" or "stats,sync") overrides the level
         * for diagnosis; the log is kept with S2L_KEEP_TMP=1. */
        argv[6] = (char *)env_or_("S2L_SLAPD_DEBUG", s->opts.stats_log ? "stats" : "none");
        argv[7] = NULL;
        s->pid = h_spawn_(argv, s->log_path, false);
        if (s->pid < 0) {
            s->pid = 0;
            return -1;
        }
        deadline = h_now_ms() + ready_ms;
        while (h_now_ms() < deadline) {
            if (h_wait_(s->pid, 0, &status) == 0) {
                s->pid = 0;
                break;
            }
            if (h_probe_(s))
                return 0;
            h_sleep_ms_(30);
        }
        if (s->pid) {
            fprintf(stderr, "harness: slapd did not answer on %s within %d ms\n", s->uri, ready_ms);
            kill(s->pid, SIGKILL);
            h_wait_(s->pid, 5000, &status);
            s->pid = 0;
            h_log_tail_("slapd log", s->log_path, 30);
            return -1;
        }
        if (!log_has_(s->log_path, "Address already in use")) {
            fprintf(stderr, "harness: slapd exited during start (status 0x%x)\n", (unsigned)status);
            h_log_tail_("slapd log", s->log_path, 30);
            return -1;
        }
        fprintf(stderr, "harness: port %d taken, retrying (%d/%d)\n", s->port, attempt + 1, attempts);
        /* Later checks must not see this attempt's message again. */
        if (truncate(s->log_path, 0) != 0)
            fprintf(stderr, "harness: truncate %s: %s\n", s->log_path, strerror(errno));
        if (!pick_port)
            h_sleep_ms_(500);
    }
    fprintf(stderr, "harness: slapd could not bind a port after %d attempts\n", attempts);
    return -1;
}

void h_register_live_(h_slapd *s, bool add)
{
    for (int i = 0; i < H_MAX_SLAPD; i++) {
        if (add ? h_live_[i] == NULL : h_live_[i] == s) {
            h_live_[i] = add ? s : NULL;
            return;
        }
    }
}

h_slapd *h_slapd_start(const h_slapd_opts *o)
{
    h_slapd *s = NULL;
    char *db = NULL, *conf = NULL, *base = NULL, *schema = NULL, *slaptest_log = NULL;
    bool have_schema, ok = false, slot = false;
    struct stat st;
    int rc;

    h_init_();
    for (int i = 0; i < H_MAX_SLAPD; i++)
        slot = slot || h_live_[i] == NULL;
    if (!slot) {
        fprintf(stderr, "harness: more than %d slapd instances\n", H_MAX_SLAPD);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "harness: out of memory\n");
        return NULL;
    }
    s->opts = o ? *o : h_slapd_defaults();
    s->dir = h_make_tmpdir_("s2l-it");
    if (!s->dir)
        goto out;
    h_register_live_(s, true);
    s->conf_path = h_asprintf_("%s/slapd.conf", s->dir);
    s->log_path = h_asprintf_("%s/slapd.log", s->dir);
    db = h_asprintf_("%s/db", s->dir);
    if (mkdir(db, 0700) != 0) {
        fprintf(stderr, "harness: mkdir %s: %s\n", db, strerror(errno));
        goto out;
    }
    schema = h_asprintf_("%s/schemas/ldap/scim2ldap.schema", S2L_SOURCE_DIR);
    have_schema = stat(schema, &st) == 0;
    if (s->opts.server_id > 0 && (s->opts.peer_id <= 0 || !s->opts.peer_uri)) {
        fprintf(stderr, "harness: a replicating provider needs peer_id and peer_uri\n");
        goto out;
    }
    {
        char server_id[16], peer_id[16];

        snprintf(server_id, sizeof server_id, "%d", s->opts.server_id);
        snprintf(peer_id, sizeof peer_id, "%d", s->opts.peer_id);
        const tvar vars[] = {
            {"DIR", s->dir},
            {"SCHEMA_DIR", env_or_("S2L_SCHEMA_DIR", "/etc/ldap/schema")},
            {"MODULE_DIR", env_or_("S2L_MODULE_DIR", "/usr/lib/ldap")},
            {"S2L_SCHEMA", schema},
            {"ROOTPW", H_ROOTPW},
            {"SERVER_ID", server_id},
            {"PEER_ID", peer_id},
            {"PEER_URI", s->opts.peer_uri ? s->opts.peer_uri : ""},
            {"REPL_PW", H_ROOTPW},
            {NULL, NULL},
        };

        conf = render_("tests/slapd/slapd.conf.in", &s->opts, have_schema, vars);
        if (!conf || h_write_file_(s->conf_path, conf, 0600))
            goto out;
        if (!s->opts.no_base && !(base = render_("tests/slapd/base.ldif.in", &s->opts, have_schema, vars)))
            goto out;
    }
    slaptest_log = h_asprintf_("%s/slaptest.log", s->dir);
    {
        char *argv[] = {"slaptest", "-Q", "-u", "-f", s->conf_path, NULL};

        rc = h_run_(argv, slaptest_log, 60000);
    }
    if (rc != 0) {
        fprintf(stderr, "harness: slaptest rejected %s (exit %d)\n", s->conf_path, rc);
        h_log_tail_("slaptest", slaptest_log, 20);
        goto out;
    }
    s->port = s->opts.port;
    if (launch_(s, s->opts.port <= 0))
        goto out;
    if (base && h_ldap_ldif(s, base) < 0) {
        fprintf(stderr, "harness: loading the base entries failed\n");
        goto out;
    }
    ok = true;
out:
    free(db);
    free(conf);
    free(base);
    free(schema);
    free(slaptest_log);
    if (!ok) {
        h_slapd_destroy(s);
        s = NULL;
    }
    return s;
}

bool h_wait_ready_(h_slapd *s, int timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    int status = 0;

    while (h_now_ms() < deadline) {
        if (h_wait_(s->pid, 0, &status) == 0) {
            s->pid = 0;
            fprintf(stderr, "harness: the server exited during start (status 0x%x)\n", (unsigned)status);
            return false;
        }
        if (h_probe_(s))
            return true;
        h_sleep_ms_(100);
    }
    fprintf(stderr, "harness: the server did not answer on %s within %d ms\n", s->uri, timeout_ms);
    return false;
}

static int halt_(h_slapd *s, int sig)
{
    int status = 0, rc;
    pid_t pid = s->pid;

    h_ldap_drop_(s);
    if (!pid)
        return 0;
    if (s->kind == H_DIR_389DS && sig == SIGTERM)
        sig = SIGKILL; /* a throwaway instance: SIGTERM takes 3-4 s to flush what we drop anyway */
    if (s->kind != H_DIR_SLAPD)
        kill(-s->pid, sig); /* samba's children share its process group */
    kill(s->pid, sig);
    rc = h_wait_(s->pid, 15000, &status);
    if (rc == 1) {
        fprintf(stderr, "harness: slapd did not stop within 15 s; killing it\n");
        kill(s->pid, SIGKILL);
        h_wait_(s->pid, 5000, &status);
    }
    s->pid = 0;
    if (s->kind != H_DIR_SLAPD)
        kill(-pid, SIGKILL); /* whatever the leader left behind (never kill(0): our own group) */
    if (sig == SIGKILL)
        return 0;
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int h_slapd_stop(h_slapd *s)
{
    return s ? halt_(s, SIGTERM) : -1;
}

int h_slapd_kill(h_slapd *s)
{
    return s ? halt_(s, SIGKILL) : -1;
}

int h_slapd_signal(h_slapd *s, int sig)
{
    if (!s || !s->pid)
        return -1;
    return kill(s->pid, sig);
}

int h_slapd_restart(h_slapd *s)
{
    if (!s)
        return -1;
    if (s->kind != H_DIR_SLAPD) {
        fprintf(stderr, "harness: h_slapd_restart is for slapd only\n");
        return -1;
    }
    if (s->pid && halt_(s, SIGTERM))
        fprintf(stderr, "harness: slapd did not stop cleanly before the restart\n");
    return launch_(s, false);
}

bool h_slapd_running(const h_slapd *s)
{
    return s && s->pid > 0;
}

void h_slapd_destroy(h_slapd *s)
{
    if (!s)
        return;
    halt_(s, SIGTERM);
    h_register_live_(s, false);
    if (s->kind == H_DIR_389DS && s->name) {
        char *sem = h_asprintf_("/dev/shm/sem.slapd-%s.stats", s->name);
        unlink(sem); /* a killed ns-slapd leaves its statistics semaphore */
        free(sem);
    }
    if (s->dir) {
        if (h_keep_tmp_())
            fprintf(stderr, "harness: kept %s\n", s->dir);
        else
            h_rm_rf_(s->dir);
    }
    free(s->dir);
    free(s->conf_path);
    free(s->log_path);
    free(s->bind_dn);
    free(s->bind_pw);
    free(s->ca_file);
    free(s->suffix);
    free(s->mapping);
    free(s->name);
    free(s);
}

int h_free_port(void)
{
    return h_free_port_();
}

const char *h_slapd_uri(const h_slapd *s)
{
    return s->uri;
}

int h_slapd_port(const h_slapd *s)
{
    return s->port;
}

const char *h_slapd_dir(const h_slapd *s)
{
    return s->dir;
}

const char *h_slapd_log_path(const h_slapd *s)
{
    return s->log_path;
}
