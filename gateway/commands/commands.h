/* commands.h — subcommands of the scim2ldap binary besides running the gateway. */
#ifndef S2L_COMMANDS_H
#define S2L_COMMANDS_H

/* scim2ldap hash-secret [--scrypt] [--iterations N] [--generate]: prints a
 * password hash for basic / oauth_client credentials. argv[0] is "hash-secret".
 * Exit status. */
int s2l_cmd_hash_secret(int argc, char **argv);

#endif
