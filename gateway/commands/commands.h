/* commands.h — subcommands of the scim2ldap binary besides running the gateway.
 * main.c dispatches on argv[1]; each subcommand lives in its own
 * gateway/commands/<name>.c and gets argv from its name on (argv[0] = "preview").
 * Each returns the process exit status: 0 success, 1 the input is refused or
 * an error occurred, 2 bad usage. */
#ifndef S2L_COMMANDS_H
#define S2L_COMMANDS_H

/* scim2ldap hash-secret [--scrypt] [--iterations N] [--generate]: prints a
 * password hash for basic / oauth_client credentials. argv[0] is "hash-secret".
 * Exit status. */
int s2l_cmd_hash_secret(int argc, char **argv);

/* scim2ldap preview: the LDIF (or LDAP filter) a SCIM request turns into, offline. */
int s2l_cmd_preview(int argc, char **argv);

/* scim2ldap check [--live] --config FILE: the configuration as a reload loads
 * it and, with --live, the mapping against the directory's schema. Exit 0 no
 * errors, 1 errors found, 2 could not check. */
int s2l_cmd_check(int argc, char **argv);

#endif
