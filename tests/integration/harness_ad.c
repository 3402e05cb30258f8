/* harness_ad.c — a throwaway Samba AD DC for integration tests (see
 * harness.h, "other directories", and ../shared/docs/DIRECTORY-SERVERS.md).
 *
 * samba-tool provisions a domain into a temporary folder with only the LDAP
 * server enabled; every path goes into smb.conf, because samba's children read
 * nothing else. Samba's ports are fixed (389, 636), so each instance gets its
 * own loopback address 127.0.0.N, picked among those where both ports are
 * free. LDAPS uses a certificate for that address from a throwaway CA, so the
 * gateway verifies the server as it would in production. */
#include "harness_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/evp.h>

#include "s2l/mapping.h"

static bool tcp_free_(const char *ip, int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A 127.0.0.N on which nobody serves LDAP yet (another test's Samba, a
 * colleague's). Random, so that parallel runs rarely pick the same one. */
static bool pick_address_(char *out, size_t len)
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)h_now_ms();

    for (int i = 0; i < 200; i++) {
        snprintf(out, len, "127.0.0.%u", 2 + rand_r(&seed) % 252);
        if (tcp_free_(out, 389) && tcp_free_(out, 636) && tcp_free_(out, 3268) && tcp_free_(out, 3269))
            return true;
    }
    return false;
}

const char *h_ad_unavailable(void)
{
    if (geteuid() != 0)
        return "the Samba AD DC test server needs root";
    if (access("/usr/sbin/samba", X_OK) != 0 || access("/usr/bin/samba-tool", X_OK) != 0)
        return "samba is not installed (apt-get install samba-ad-dc samba-ad-provision ldb-tools)";
    if (access("/usr/share/samba/setup", R_OK) != 0)
        return "samba-ad-provision is not installed (samba-tool cannot provision without it)";
    if (access("/usr/bin/openssl", X_OK) != 0)
        return "openssl (the command) is not installed";
    return NULL;
}

bool h_require_directories(void)
{
    const char *r = getenv("S2L_REQUIRE_DIRECTORIES");
    return r && *r && strcmp(r, "0") != 0;
}

h_dir_kind h_dir_kind_of(const h_slapd *s)
{
    return s->kind;
}

const char *h_dir_suffix(const h_slapd *s)
{
    return s->suffix ? s->suffix : H_SUFFIX;
}

const char *h_dir_ca_file(const h_slapd *s)
{
    return s->ca_file;
}

char *h_ldap_guid(const json_t *entry)
{
    const char *v = h_ldap_attr(entry, "objectguid");
    unsigned char raw[40];
    char *out;

    if (v == NULL)
        return NULL;
    if (strncmp(v, "base64:", 7) == 0) {
        size_t n = strlen(v + 7);
        if (n != 24 || EVP_DecodeBlock(raw, (const unsigned char *)v + 7, (int)n) != 18)
            return NULL;
    } else if (strlen(v) == 16) { /* 16 bytes that happen to be UTF-8 text */
        memcpy(raw, v, 16);
    } else {
        return NULL;
    }
    out = malloc(37);
    if (out)
        s2l_guid_format(raw, out);
    return out;
}

/* Puts our TLS settings at the top of [global] (provision drops unknown --option values). */
static int configure_tls_(const char *conf, const char *cert, const char *key)
{
    char *text = h_slurp_(conf, NULL);
    const char *g = text ? strstr(text, "[global]\n") : NULL;
    char *out;
    int rc;

    if (!g) {
        fprintf(stderr, "harness: %s has no [global] section\n", conf);
        free(text);
        return -1;
    }
    g += strlen("[global]\n");
    /* The old password stays valid for 60 minutes after a change by default
     * (for NTLM, and Samba applies it to simple binds too): off, so that a
     * test sees a change at once. */
    out = h_asprintf_("%.*s\ttls enabled = yes\n\ttls certfile = %s\n\ttls keyfile = %s\n\ttls cafile = \n"
                      "\told password allowed period = 0\n%s",
                      (int)(g - text), text, cert, key, g);
    rc = h_write_file_(conf, out, 0644);
    free(out);
    free(text);
    return rc;
}

h_slapd *h_ad_start(void)
{
    const char *why = h_ad_unavailable();
    h_slapd *s = NULL;
    char ip[32], *opt[8] = {0}, *prov_log = NULL, *ssl_log = NULL, *cert = NULL, *key = NULL, *san = NULL;
    char *realm_dir = NULL;
    bool ok = false;
    int rc;

    h_init_();
    if (why) {
        fprintf(stderr, "harness: %s\n", why);
        return NULL;
    }
    if (!pick_address_(ip, sizeof ip)) {
        fprintf(stderr, "harness: no 127.0.0.N address with LDAP ports free\n");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->kind = H_DIR_SAMBA;
    s->dir = h_make_tmpdir_("s2l-ad");
    if (!s->dir) {
        free(s);
        return NULL;
    }
    h_register_live_(s, true);
    s->bind_dn = h_strdup_(H_AD_ADMIN);
    s->bind_pw = h_strdup_(H_AD_ADMINPW);
    s->suffix = h_strdup_(H_AD_SUFFIX);
    s->mapping = h_strdup_("mappings/active-directory.json");
    s->conf_path = h_asprintf_("%s/etc/smb.conf", s->dir);
    s->log_path = h_asprintf_("%s/log/samba.out", s->dir);
    snprintf(s->uri, sizeof s->uri, "ldaps://%s", ip);
    s->port = 636;
    {
        char *run = h_asprintf_("%s/run", s->dir), *log = h_asprintf_("%s/log", s->dir);
        bool made = mkdir(run, 0700) == 0 && mkdir(log, 0700) == 0;
        free(run);
        free(log);
        if (!made) {
            fprintf(stderr, "harness: mkdir in %s: %s\n", s->dir, strerror(errno));
            goto out;
        }
    }
    opt[0] = h_asprintf_("--option=interfaces=%s/8", ip);
    opt[1] = h_asprintf_("--option=pid directory=%s/run", s->dir);
    opt[2] = h_asprintf_("--option=ncalrpc dir=%s/run/ncalrpc", s->dir);
    opt[3] = h_asprintf_("--option=winbindd socket directory=%s/run/winbindd", s->dir);
    opt[4] = h_asprintf_("--option=ntp signd socket directory=%s/run/ntp_signd", s->dir);
    opt[5] = h_asprintf_("--option=log file=%s/log/log.%%m", s->dir);
    opt[6] = h_asprintf_("--adminpass=%s", H_AD_ADMINPW);
    opt[7] = h_asprintf_("--targetdir=%s", s->dir);
    prov_log = h_asprintf_("%s/provision.log", s->dir);
    {
        char *argv[] = {"samba-tool", "domain", "provision", "--realm=EXAMPLE.TEST", "--domain=EXAMPLE",
                        "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--host-name=dc1", opt[6],
                        opt[7], opt[0], "--option=bind interfaces only=yes", "--option=server services=ldap",
                        opt[1], opt[2], opt[3], opt[4], opt[5], NULL};
        rc = h_run_(argv, prov_log, 180000);
    }
    if (rc != 0) {
        fprintf(stderr, "harness: samba-tool domain provision failed (exit %d)\n", rc);
        h_log_tail_("samba-tool", prov_log, 30);
        goto out;
    }
    /* A certificate for the address, from a CA of its own (self-signed: the
     * certificate is its own trust anchor). */
    cert = h_asprintf_("%s/private/tls-cert.pem", s->dir);
    key = h_asprintf_("%s/private/tls-key.pem", s->dir);
    san = h_asprintf_("subjectAltName=IP:%s,DNS:dc1.example.test", ip);
    ssl_log = h_asprintf_("%s/openssl.log", s->dir);
    {
        char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-subj", "/CN=dc1.example.test", "-addext", san, "-days", "2", "-keyout", key,
                        "-out", cert, NULL};
        rc = h_run_(argv, ssl_log, 60000);
    }
    if (rc != 0 || chmod(key, 0600) != 0) {
        fprintf(stderr, "harness: making the LDAPS certificate failed (exit %d)\n", rc);
        h_log_tail_("openssl", ssl_log, 20);
        goto out;
    }
    s->ca_file = h_strdup_(cert);
    if (configure_tls_(s->conf_path, cert, key))
        goto out;
    {
        char *argv[] = {"samba", "-F", "-s", s->conf_path, NULL};
        s->pid = h_spawn_(argv, s->log_path, false);
    }
    if (s->pid <= 0) {
        s->pid = 0;
        goto out;
    }
    if (!h_wait_ready_(s, (int)(60000 * h_deadline_scale_()))) {
        h_log_tail_("samba", s->log_path, 30);
        realm_dir = h_asprintf_("%s/log/log.samba", s->dir);
        h_log_tail_("samba log.samba", realm_dir, 30);
        goto out;
    }
    if (h_ldap_ldif(s, "dn: " H_AD_PEOPLE "\nobjectClass: organizationalUnit\nou: People\n\n"
                       "dn: " H_AD_GROUPS "\nobjectClass: organizationalUnit\nou: Groups\n") < 0) {
        fprintf(stderr, "harness: creating the OUs in the AD DC failed\n");
        goto out;
    }
    ok = true;
out:
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        free(opt[i]);
    free(prov_log);
    free(ssl_log);
    free(cert);
    free(key);
    free(san);
    free(realm_dir);
    if (!ok) {
        h_slapd_destroy(s);
        return NULL;
    }
    return s;
}
