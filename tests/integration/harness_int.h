/* harness_int.h — what the harness*.c files share with each other (not for tests). */
#ifndef S2L_HARNESS_INT_H
#define S2L_HARNESS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <ldap.h>

#include "harness.h"

/* Growable byte buffer, always NUL-terminated; past H_BUF_MAX appends fail
 * so a runaway response or dump cannot eat the machine. */
#define H_BUF_MAX ((size_t)1 << 30)
typedef struct h_buf {
    char *p;
    size_t len, cap;
    bool oom; /* an append failed: the content is incomplete */
} h_buf;
int h_buf_add_(h_buf *b, const void *data, size_t n);
int h_buf_str_(h_buf *b, const char *s);
int h_buf_printf_(h_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void h_buf_fini_(h_buf *b);

struct h_slapd {
    h_dir_kind kind;  /* slapd, or a Samba AD DC / 389-DS (harness_ad.c, harness_389.c) */
    char *bind_dn;    /* administrator the harness and the gateway bind as; NULL: H_ROOTDN */
    char *bind_pw;    /* NULL: H_ROOTPW */
    char *ca_file;    /* trust anchor for ldaps:// (the instance's own certificate), or NULL */
    char *suffix;     /* naming context; NULL: H_SUFFIX */
    char *mapping;    /* the gateway's default mapping, relative to the source folder; NULL: openldap.json */
    char *name;       /* 389-DS: instance name */
    char *dir;        /* temporary folder, owned */
    char *conf_path;
    char *log_path;
    char uri[64];
    int port;
    pid_t pid;        /* 0 when not running */
    h_slapd_opts opts;
    LDAP *ld;         /* the harness's rootdn connection, opened on first use */
    h_op_counts own;  /* operations the harness itself sent since the last start */
    unsigned gw_seq;  /* numbers the gateway configs/logs written into dir */
};

struct h_gw {
    h_slapd *s;        /* borrowed; NULL for attached handles */
    pid_t pid;         /* 0 for attached handles */
    char host[64];     /* IPv4 literal the client connects to */
    int port;
    char *base_path;   /* "/scim/v2" */
    char *base_url;    /* "http://127.0.0.1:PORT/scim/v2" */
    char *token;
    char *config_path; /* NULL for attached handles */
    char *log_path;
    int workers;       /* event loops of the gateway ("workers"; each binds its own pool) */
};

/* Processes: children run in their own process group, get SIGKILL when the
 * test process dies, and are remembered so exit/signal handlers can kill them. */
void h_init_(void);
pid_t h_spawn_(char *const argv[], const char *log_path, bool production_env);
/* Waits up to timeout_ms; 0 with *status set, 1 on timeout, -1 on error. */
int h_wait_(pid_t pid, int timeout_ms, int *status);
void h_forget_(pid_t pid);
/* Prints the last lines of a log file to stderr, framed by a title. */
void h_log_tail_(const char *title, const char *path, int lines);
/* Reads a whole file (malloc'd, NUL-terminated); NULL on error. */
char *h_slurp_(const char *path, size_t *len);
int h_write_file_(const char *path, const char *data, int mode);
char *h_strdup_(const char *s);
/* strcasestr without _GNU_SOURCE. */
const char *h_strcasestr_(const char *hay, const char *needle);
char *h_asprintf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A loopback TCP port that nobody listens on right now, below the ephemeral range. */
int h_free_port_(void);
double h_deadline_scale_(void);

/* Shared with harness_ad.c / harness_389.c. */
char *h_make_tmpdir_(const char *prefix);
/* Runs a command to completion (bounded); its exit status, or -1. */
int h_run_(char *const argv[], const char *log_path, int timeout_ms);
void h_register_live_(h_slapd *s, bool add);
bool h_keep_tmp_(void);
void h_rm_rf_(const char *dir);
void h_sleep_ms_(int ms);
/* One anonymous root DSE search on a fresh connection: the server answers. */
bool h_probe_(h_slapd *s);
/* TLS settings for a fresh handle to s (its CA for ldaps://). */
void h_ldap_tls_(const h_slapd *s, LDAP *ld);
/* Polls h_probe_ until it answers, the process exits or timeout_ms pass. */
bool h_wait_ready_(h_slapd *s, int timeout_ms);

/* The harness's LDAP connection to s (bound as rootdn), reconnecting if needed. */
LDAP *h_ldap_conn_(h_slapd *s);
void h_ldap_drop_(h_slapd *s);

#endif
