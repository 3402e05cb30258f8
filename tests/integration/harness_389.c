/* harness_389.c — a throwaway 389 Directory Server for integration tests
 * (see harness.h, "other directories", and ../shared/docs/DIRECTORY-SERVERS.md).
 *
 * dscreate writes to /etc, /var and /run and starts systemd units unless lib389
 * reads its defaults from a private prefix: PREFIX=<dir> makes it read
 * <dir>/share/dirsrv/inf/defaults.inf, which we rewrite so every path is in
 * the temporary folder and systemd is off. The instance template gets a
 * loopback-only listener and the MemberOf and USN plugins switched on, so no
 * restart is needed after dscreate. dscreate leaves the instance stopped; we
 * run ns-slapd in the foreground as our own child ("-d 0"), so it dies with
 * the test. */
#include "harness_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *h_389ds_unavailable(void)
{
    if (geteuid() != 0)
        return "the 389-DS test server needs root";
    if (access("/usr/sbin/dscreate", X_OK) != 0 || access("/usr/sbin/ns-slapd", X_OK) != 0 ||
        access("/usr/share/dirsrv/inf/defaults.inf", R_OK) != 0)
        return "389-ds-base is not installed (apt-get install 389-ds-base)";
    return NULL;
}

/* Replaces the first occurrence of from in *line (like sed's s/// without g). */
static void replace_first_(char **line, const char *from, const char *to)
{
    char *at = strstr(*line, from);
    char *out;

    if (!at)
        return;
    out = h_asprintf_("%.*s%s%s", (int)(at - *line), *line, to, at + strlen(from));
    free(*line);
    *line = out;
}

/* The recipe's sed over defaults.inf, line by line. */
static char *private_defaults_(const char *text, const char *r)
{
    h_buf out = {0};
    char *copy = h_strdup_(text), *save = NULL;
    char *etc_dirsrv = h_asprintf_("%s/etc/dirsrv/", r), *var_lib = h_asprintf_("%s/var/lib/dirsrv/", r),
         *var_log = h_asprintf_("%s/var/log/dirsrv/", r), *run_lock = h_asprintf_("%s/run/lock/dirsrv/", r),
         *run_dirsrv = h_asprintf_("%s/run/dirsrv", r), *run_slapd = h_asprintf_("= %s/run/slapd-", r),
         *shm = h_asprintf_("%s/dev/shm/", r);

    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *line;
        if (strncmp(l, "with_systemd = ", 15) == 0)
            line = h_strdup_("with_systemd = 0");
        else if (strncmp(l, "data_dir = ", 11) == 0)
            line = h_asprintf_("data_dir = %s/share", r);
        else if (strncmp(l, "sysconf_dir = ", 14) == 0)
            line = h_asprintf_("sysconf_dir = %s/etc", r);
        else if (strncmp(l, "initconfig_dir = ", 17) == 0)
            line = h_asprintf_("initconfig_dir = %s/etc/default", r);
        else if (strncmp(l, "tmpfiles_d = ", 13) == 0)
            line = h_asprintf_("tmpfiles_d = %s/etc/tmpfiles.d", r);
        else
            line = h_strdup_(l);
        replace_first_(&line, "/etc/dirsrv/", etc_dirsrv);
        replace_first_(&line, "/var/lib/dirsrv/", var_lib);
        replace_first_(&line, "/var/log/dirsrv/", var_log);
        replace_first_(&line, "/run/lock/dirsrv/", run_lock);
        if (!strstr(line, run_lock))
            replace_first_(&line, "/run/dirsrv", run_dirsrv);
        replace_first_(&line, "= /run/slapd-", run_slapd);
        replace_first_(&line, "/dev/shm/", shm);
        h_buf_printf_(&out, "%s\n", line);
        free(line);
    }
    free(copy);
    free(etc_dirsrv);
    free(var_lib);
    free(var_log);
    free(run_lock);
    free(run_dirsrv);
    free(run_slapd);
    free(shm);
    if (out.oom) {
        h_buf_fini_(&out);
        return NULL;
    }
    return out.p;
}

/* The instance template: listen on 127.0.0.1 only; MemberOf (member and
 * uniqueMember) and USN (entryusn, the ETag) on from the first start. */
static char *template_dse_(const char *text)
{
    h_buf out = {0};
    char *copy = h_strdup_(text), *p = copy;
    const char *entry = "";

    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = h_asprintf_("%.*s", (int)n, p);

        if (strncasecmp(line, "dn: ", 4) == 0)
            entry = strcasecmp(line, "dn: cn=MemberOf Plugin,cn=plugins,cn=config") == 0 ? "memberof"
                    : strcasecmp(line, "dn: cn=USN,cn=plugins,cn=config") == 0     ? "usn"
                                                                                   : "";
        if (*entry && strcasecmp(line, "nsslapd-pluginenabled: off") == 0) {
            h_buf_str_(&out, "nsslapd-pluginenabled: on\n");
        } else {
            h_buf_printf_(&out, "%s\n", line);
            if (strcmp(line, "nsslapd-port: %ds_port%") == 0)
                h_buf_str_(&out, "nsslapd-listenhost: 127.0.0.1\nnsslapd-securelistenhost: 127.0.0.1\n");
            if (strcmp(entry, "memberof") == 0 && strcasecmp(line, "memberOfGroupAttr: member") == 0)
                h_buf_str_(&out, "memberOfGroupAttr: uniqueMember\n");
        }
        free(line);
        p += n + (nl ? 1 : 0);
    }
    free(copy);
    if (out.oom) {
        h_buf_fini_(&out);
        return NULL;
    }
    return out.p;
}

static int rewrite_(const char *src, const char *dst, char *(*fn)(const char *), const char *r)
{
    char *text = h_slurp_(src, NULL), *out;
    int rc;

    if (!text) {
        fprintf(stderr, "harness: cannot read %s: %s\n", src, strerror(errno));
        return -1;
    }
    out = fn ? fn(text) : private_defaults_(text, r);
    free(text);
    if (!out)
        return -1;
    rc = h_write_file_(dst, out, 0644);
    free(out);
    return rc;
}

h_slapd *h_389ds_start(void)
{
    const char *why = h_389ds_unavailable();
    static unsigned seq;
    h_slapd *s = NULL;
    char *inf = NULL, *log = NULL, *cfgdir = NULL, *pidfile = NULL, *errors = NULL, *schema = NULL, *text = NULL;
    bool ok = false;
    int rc, sport;

    h_init_();
    if (why) {
        fprintf(stderr, "harness: %s\n", why);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->kind = H_DIR_389DS;
    s->dir = h_make_tmpdir_("s2l-389");
    if (!s->dir) {
        free(s);
        return NULL;
    }
    h_register_live_(s, true);
    /* instance names are global on the machine (a semaphore in /dev/shm) */
    s->name = h_asprintf_("s2l%ld%u", (long)getpid(), seq++);
    s->bind_dn = h_strdup_(H_389_ADMIN);
    s->bind_pw = h_strdup_(H_389_ADMINPW);
    s->suffix = h_strdup_(H_SUFFIX);
    s->mapping = h_strdup_("mappings/389ds.json");
    s->log_path = h_asprintf_("%s/ns-slapd.out", s->dir);
    s->port = h_free_port_();
    sport = h_free_port_();
    /* Each probe closes its socket, so the kernel may hand the same port out
     * twice: ask again until the two differ. */
    for (int tries = 0; tries < 50 && s->port >= 0 && sport == s->port; tries++)
        sport = h_free_port_();
    if (s->port < 0 || sport < 0 || sport == s->port) {
        fprintf(stderr, "harness: no free ports for 389-DS\n");
        goto out;
    }
    snprintf(s->uri, sizeof s->uri, "ldap://127.0.0.1:%d", s->port);
    {
        char *inf_dir = h_asprintf_("%s/share/dirsrv/inf", s->dir), *etc = h_asprintf_("%s/etc/dirsrv", s->dir);
        char *share = h_asprintf_("%s/share/dirsrv/", s->dir);
        char *mk[] = {"mkdir", "-p", inf_dir, etc, NULL};
        char *cp1[] = {"cp", "-a", "/usr/share/dirsrv/data", share, NULL};
        char *cp2[] = {"cp", "-a", "/etc/dirsrv/config", "/etc/dirsrv/schema", etc, NULL};
        rc = h_run_(mk, NULL, 30000) || h_run_(cp1, NULL, 30000) || h_run_(cp2, NULL, 30000);
        free(inf_dir);
        free(etc);
        free(share);
    }
    if (rc != 0) {
        fprintf(stderr, "harness: copying 389-DS's templates failed\n");
        goto out;
    }
    {
        char *dst = h_asprintf_("%s/share/dirsrv/inf/defaults.inf", s->dir);
        char *tpl = h_asprintf_("%s/share/dirsrv/data/template-dse.ldif", s->dir);
        rc = rewrite_("/usr/share/dirsrv/inf/defaults.inf", dst, NULL, s->dir) || rewrite_(tpl, tpl, template_dse_, NULL);
        free(dst);
        free(tpl);
    }
    if (rc != 0)
        goto out;
    inf = h_asprintf_("%s/%s.inf", s->dir, s->name);
    text = h_asprintf_("[general]\nfull_machine_name = localhost\nstart = False\nstrict_host_checking = False\n"
                       "selinux = False\n[slapd]\ninstance_name = %s\nuser = root\ngroup = root\nport = %d\n"
                       "secure_port = %d\nroot_dn = %s\nroot_password = %s\nself_sign_cert = False\n"
                       "[backend-userroot]\nsuffix = %s\ncreate_suffix_entry = True\n",
                       s->name, s->port, sport, H_389_ADMIN, H_389_ADMINPW, H_SUFFIX);
    if (h_write_file_(inf, text, 0600))
        goto out;
    log = h_asprintf_("%s/dscreate.log", s->dir);
    {
        char *prefix = h_asprintf_("PREFIX=%s", s->dir);
        char *argv[] = {"env", prefix, "dscreate", "from-file", inf, NULL};
        rc = h_run_(argv, log, 180000);
        free(prefix);
    }
    if (rc != 0) {
        fprintf(stderr, "harness: dscreate failed (exit %d)\n", rc);
        h_log_tail_("dscreate", log, 30);
        goto out;
    }
    cfgdir = h_asprintf_("%s/etc/dirsrv/slapd-%s", s->dir, s->name);
    pidfile = h_asprintf_("%s/run/dirsrv/slapd-%s.pid", s->dir, s->name);
    errors = h_asprintf_("%s/var/log/dirsrv/slapd-%s/errors", s->dir, s->name);
    s->conf_path = h_asprintf_("%s/dse.ldif", cfgdir);
    {
        char *argv[] = {"/usr/sbin/ns-slapd", "-D", cfgdir, "-i", pidfile, "-d", "0", NULL};
        s->pid = h_spawn_(argv, s->log_path, false);
    }
    if (s->pid <= 0) {
        s->pid = 0;
        goto out;
    }
    if (!h_wait_ready_(s, (int)(60000 * h_deadline_scale_()))) {
        h_log_tail_("389-DS errors", errors, 30);
        goto out;
    }
    schema = h_asprintf_("%s/schemas/ldap/scim2ldap-389ds.ldif", S2L_SOURCE_DIR);
    free(text);
    text = h_slurp_(schema, NULL);
    if (!text || h_ldap_ldif(s, text) < 0) {
        fprintf(stderr, "harness: loading %s into 389-DS failed\n", schema);
        goto out;
    }
    if (h_ldap_ldif(s, "dn: " H_PEOPLE "\nobjectClass: organizationalUnit\nou: people\n\n"
                       "dn: " H_GROUPS "\nobjectClass: organizationalUnit\nou: groups\n") < 0) {
        fprintf(stderr, "harness: creating the base entries in 389-DS failed\n");
        goto out;
    }
    ok = true;
out:
    free(inf);
    free(log);
    free(cfgdir);
    free(pidfile);
    free(errors);
    free(schema);
    free(text);
    if (!ok) {
        h_slapd_destroy(s);
        return NULL;
    }
    return s;
}
