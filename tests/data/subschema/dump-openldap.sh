#!/usr/bin/env bash
# Regenerates openldap-2.5.ldif: starts a private slapd exactly as the tests do
# (tests/lib/slapd.sh, every overlay), dumps its subschema subentry, stops it.
#   bash tests/data/subschema/dump-openldap.sh > tests/data/subschema/openldap-2.5.ldif
# (then put the three comment lines back on top).
set -eu -o pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=tests/lib/slapd.sh
source "$root/tests/lib/slapd.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/s2l-subschema-XXXXXX")
trap 's2l_stop_pid "${S2L_SLAPD_PID:-}" 5; rm -rf "$dir"' EXIT
pw=$(s2l_random_hex 12)
s2l_slapd_setup "$dir" "all dbnosync" "$pw" >&2
port=$(s2l_free_port)
s2l_slapd_start "$dir" "$port" >&2
ldapsearch -x -LLL -o ldif-wrap=no -H "ldap://127.0.0.1:$port/" -D "$S2L_ROOTDN" -w "$pw" \
  -b cn=Subschema -s base '(objectClass=*)' attributeTypes objectClasses matchingRules matchingRuleUse ldapSyntaxes |
  grep -v '^$'
