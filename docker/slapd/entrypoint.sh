#!/usr/bin/env bash
# Entrypoint of the scim2ldap OpenLDAP image: renders slapd.conf from the
# repository's templates on every start (so a changed LDAP_ADMIN_PASSWORD takes
# effect), loads the base entries into an empty database, then runs slapd in the
# foreground as the openldap user.
#
#   LDAP_ADMIN_PASSWORD  password of cn=admin,dc=example,dc=org (required)
#   SLAPD_OVERLAYS       default "ppolicy memberof refint sssvlv"
#   SLAPD_DEBUG          slapd -d level, default "none" (errors only); "stats" logs operations
set -euo pipefail

# shellcheck source=tests/lib/slapd.sh
source /usr/share/scim2ldap/tests/lib/slapd.sh

data=/var/lib/scim2ldap-ldap
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD}"
overlays=${SLAPD_OVERLAYS:-ppolicy memberof refint sssvlv}

# Only a hash of the password is written to slapd.conf.
hash=$(slappasswd -h '{SSHA}' -s "$LDAP_ADMIN_PASSWORD")
s2l_slapd_setup "$data" "$overlays" "$hash"
if [[ ! -s $data/db/data.mdb ]]; then
  echo "scim2ldap-slapd: empty database, loading the base entries"
  slapadd -q -f "$data/slapd.conf" -l "$data/base.ldif"
fi
chown -R openldap:openldap "$data"
exec /usr/sbin/slapd -f "$data/slapd.conf" -h "ldap:///" -u openldap -g openldap -d "${SLAPD_DEBUG:-none}"
