/* hash_secret.c — `scim2ldap hash-secret`: a slow salted hash for the
 * configuration, so that the file never holds a password or client secret. */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "s2l/base64.h"
#include "s2l/secret_hash.h"

#define SECRET_MAX 4096

static void usage(FILE *out)
{
    fputs("usage: scim2ldap hash-secret [--scrypt] [--iterations N] [--generate]\n"
          "\n"
          "Reads a password or client secret (typed twice without echo on a terminal,\n"
          "otherwise the first line of stdin) and prints its hash for password_hash /\n"
          "secret_hash in auth.credentials:\n"
          "  default     $pbkdf2-sha256$i=600000$<salt>$<hash>\n"
          "  --scrypt    $scrypt$ln=15,r=8,p=3$<salt>$<hash>\n"
          "  --iterations N   PBKDF2 iterations (10000-10000000)\n"
          "  --generate  make a random secret instead of reading one: prints the secret\n"
          "              on the first line and its hash on the second\n",
          out);
}

/* One line from a terminal without echo. */
static int prompt(const char *text, char *buf, size_t cap)
{
    struct termios old, quiet;
    fputs(text, stderr);
    fflush(stderr);
    bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *ok = fgets(buf, (int)cap, stdin);
    if (restore)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    if (ok == NULL)
        return -1;
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

static int read_secret(char *buf, size_t cap)
{
    if (isatty(STDIN_FILENO)) {
        char again[SECRET_MAX];
        int rc = -1;
        if (prompt("Secret: ", buf, cap) == 0 && prompt("Again: ", again, sizeof again) == 0) {
            rc = strcmp(buf, again) == 0 ? 0 : -1;
            if (rc < 0)
                fputs("scim2ldap: the two entries differ\n", stderr);
        }
        OPENSSL_cleanse(again, sizeof again);
        return rc;
    }
    if (fgets(buf, (int)cap, stdin) == NULL) {
        fputs("scim2ldap: no secret on stdin\n", stderr);
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

int s2l_cmd_hash_secret(int argc, char **argv)
{
    static const struct option opts[] = {{"scrypt", no_argument, NULL, 's'},
                                         {"iterations", required_argument, NULL, 'i'},
                                         {"generate", no_argument, NULL, 'g'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    s2l_hash_params p = s2l_hash_defaults(S2L_HASH_PBKDF2_SHA256);
    bool generate = false, scrypt = false;
    long iterations = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "si:gh", opts, NULL)) != -1) {
        switch (c) {
        case 's': scrypt = true; break;
        case 'i': {
            char *end;
            errno = 0;
            iterations = strtol(optarg, &end, 10);
            if (errno || *end || iterations <= 0) {
                fprintf(stderr, "scim2ldap: --iterations needs a positive number\n");
                return 2;
            }
            break;
        }
        case 'g': generate = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || (scrypt && iterations)) {
        usage(stderr);
        return 2;
    }
    if (scrypt)
        p = s2l_hash_defaults(S2L_HASH_SCRYPT);
    if (iterations)
        p.iterations = (unsigned)iterations;

    char secret[SECRET_MAX], hash[S2L_SECRET_HASH_TEXT_MAX], err[256];
    int rc = 1;
    if (generate) {
        unsigned char raw[32];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            fputs("scim2ldap: no randomness\n", stderr);
            return 1;
        }
        s2l_b64url_encode(raw, sizeof raw, secret);
        OPENSSL_cleanse(raw, sizeof raw);
    } else if (read_secret(secret, sizeof secret) < 0) {
        goto out;
    }
    if (s2l_secret_hash_make(secret, strlen(secret), &p, hash, sizeof hash, err, sizeof err) < 0) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        goto out;
    }
    if (generate)
        printf("%s\n", secret);
    printf("%s\n", hash);
    rc = 0;
out:
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}
