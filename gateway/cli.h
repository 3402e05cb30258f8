/* cli.h — subcommands of the scim2ldap binary other than running the gateway.
 * main.c dispatches on argv[1]; each subcommand lives in its own
 * gateway/cli_<name>.c and gets argv from its name on (argv[0] = "preview").
 * Each returns the process exit status: 0 success, 1 the input is refused or
 * an error occurred, 2 bad usage. */
#ifndef S2L_CLI_H
#define S2L_CLI_H

/* scim2ldap preview: the LDIF (or LDAP filter) a SCIM request turns into, offline. */
int s2l_cli_preview(int argc, char **argv);

#endif
