#!/usr/bin/env bash
# Entrypoint of the scim2ldap OpenLDAP image: renders slapd.conf from the
# repository's templates on every start (so a changed LDAP_ADMIN_PASSWORD takes
# effect), loads the base entries into an empty database, then runs slapd in the
# foreground as the openldap user.
#
#   LDAP_ADMIN_PASSWORD  password of cn=admin,dc=example,dc=org (required)
#   SLAPD_OVERLAYS       default "ppolicy memberof refint sssvlv"
#   SLAPD_DEBUG          slapd -d level, default "none" (errors only); "stats" logs operations
#
# One of a pair of writable providers replicating each other (docker/pair):
#   SLAPD_SERVER_ID      this provider's serverID (1-4095); enables multi-provider replication
#   SLAPD_PEER_ID        the other provider's serverID
#   SLAPD_PEER_URI       where to reach it, e.g. ldap://ldap2:389/
# Only the provider with serverID 1 loads the base entries into its empty database;
# the other gets them (and everything else) by replication. syncrepl binds to the
# peer as cn=admin with LDAP_ADMIN_PASSWORD, so with replication slapd.conf (mode
# 600, in the data volume) holds that password in clear text.
#
#   entrypoint.sh --setup-only   render and check the configuration, then exit
#                                (tests/cli/docker_pair_check.sh; with S2L_ROOT=<repository>
#                                and SLAPD_DATA_DIR=<folder> outside the image)
set -euo pipefail

if [[ -z ${S2L_ROOT:-} ]]; then
# shellcheck source=tests/lib/slapd.sh
source /usr/share/scim2ldap/tests/lib/slapd.sh
else
  # Outside the image (tests/cli/docker_pair_check.sh): the repository's copy.
  # shellcheck source=tests/lib/slapd.sh
  source "$S2L_ROOT/tests/lib/slapd.sh"
fi

data=/var/lib/scim2ldap-ldap
[[ -n ${SLAPD_DATA_DIR:-} ]] && data=$SLAPD_DATA_DIR
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD}"
overlays=${SLAPD_OVERLAYS:-ppolicy memberof refint sssvlv}
server_id=${SLAPD_SERVER_ID:-}
repl=()
if [[ -n $server_id ]]; then
  : "${SLAPD_PEER_ID:?set SLAPD_PEER_ID with SLAPD_SERVER_ID}" "${SLAPD_PEER_URI:?set SLAPD_PEER_URI with SLAPD_SERVER_ID}"
  if [[ $LDAP_ADMIN_PASSWORD == *[\"\\]* ]]; then
    echo "scim2ldap-slapd: with replication, LDAP_ADMIN_PASSWORD must not contain '\"' or '\\'" >&2
    exit 1
  fi
  overlays="$overlays multiprovider"
  repl=(SERVER_ID="$server_id" PEER_ID="$SLAPD_PEER_ID" PEER_URI="$SLAPD_PEER_URI" REPL_PW="$LDAP_ADMIN_PASSWORD")
fi

# Only a hash of the password is written to slapd.conf as rootpw.
hash=$(slappasswd -h '{SSHA}' -s "$LDAP_ADMIN_PASSWORD")
s2l_slapd_setup "$data" "$overlays" "$hash" "${repl[@]}"
[[ ${1:-} == --setup-only ]] && exit 0

if [[ ! -s $data/db/data.mdb ]]; then
  if [[ -z $server_id || $server_id == 1 ]]; then
    echo "scim2ldap-slapd: empty database, loading the base entries"
    # -w writes the contextCSN syncprov starts from.
    slapadd -q -w ${server_id:+-S "$server_id"} -f "$data/slapd.conf" -l "$data/base.ldif"
  else
    echo "scim2ldap-slapd: empty database, the base entries come from the peer ($SLAPD_PEER_URI)"
  fi
fi
chown -R openldap:openldap "$data"
exec /usr/sbin/slapd -f "$data/slapd.conf" -h "ldap:///" -u openldap -g openldap -d "${SLAPD_DEBUG:-none}"
