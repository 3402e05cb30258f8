#!/usr/bin/env bash
# callgrind_get_filter.sh — instructions per IdP look-up (GET /Users?filter=userName eq "...")
# of one or more builds of the gateway, under callgrind, against one private slapd (200 users).
# Counting instructions, not time, makes two builds comparable on a busy machine: the
# per-request cost is (Ir after N2 requests - Ir after N1) / (N2 - N1), so start-up cancels.
#
#   bash tests/bench/callgrind_get_filter.sh BUILD_DIR [BUILD_DIR ...]
#
# Each BUILD_DIR needs scim2ldap and tests/bench/s2l_loadgen (Release builds compare best),
# e.g. a build of main next to a build of a branch. Needs valgrind. Prints one line per build.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -ge 1 ] || { sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind_get_filter.sh: valgrind is not installed" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/s2l-cg-XXXXXX"); mkdir -p $W/db
trap '[ -f $W/slapd.pid ] && kill $(cat $W/slapd.pid) 2>/dev/null; rm -rf $W' EXIT
PORT=$((20000 + RANDOM % 20000)); GPORT=$((PORT + 1))
cat > $W/slapd.conf <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $SRC/schemas/ldap/scim2ldap.schema
pidfile $W/slapd.pid
argsfile $W/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
database mdb
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw secret
directory $W/db
maxsize 1073741824
dbnosync
index objectClass eq
index entryUUID eq
index uid,cn,mail eq
overlay memberof
CONF
/usr/sbin/slapd -f $W/slapd.conf -h "ldap://127.0.0.1:$PORT/"
sleep 1
{ printf 'dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\ndn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n'
  for i in $(seq 0 199); do printf 'dn: uid=u%03d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: u%03d\ncn: U %d\nsn: S%d\nmail: u%03d@example.org\n\n' $i $i $i $i $i; done; } |
  ldapadd -x -H ldap://127.0.0.1:$PORT/ -D cn=admin,dc=example,dc=org -w secret >/dev/null
for i in $(seq 0 199); do printf 'u%03d\tx\n' $i; done > $W/ids
run() { # run BUILD N
    local b=$1 n=$2 out=$W/cg.$(basename $1).$2
    cat > $W/gw.json <<J
{"listen":"127.0.0.1:$GPORT","base_path":"/scim/v2","auth":{"bearer_tokens":["tok-0123456789abcdef"]},
 "ldap":{"uri":"ldap://127.0.0.1:$PORT/","bind_dn":"cn=admin,dc=example,dc=org","bind_password":"secret","connections":4},
 "mapping":"$SRC/mappings/openldap.json","schemas":"$SRC/schemas/scim","log_level":"warn"}
J
    valgrind --tool=callgrind --callgrind-out-file=$out.out $b/scim2ldap --config $W/gw.json 2>$out.log &
    local pid=$!
    for t in $(seq 1 100); do sleep 0.3; (echo >/dev/tcp/127.0.0.1/$GPORT) 2>/dev/null && break; done
    sleep 3
    $b/tests/bench/s2l_loadgen --port $GPORT --token tok-0123456789abcdef --ids $W/ids --count $n --duration 600 --verify get-filter >$out.lg 2>&1 || true
    kill -TERM $pid; wait $pid || true
    grep -q "ok=$n err=0" $out.lg || { echo "callgrind_get_filter.sh: $b: not every answer was right:" >&2; cat $out.lg >&2; exit 1; }
    grep -h "summary:" $out.out | awk '{print $2}'
}
for b in "$@"; do
    a=$(run $b 200); c=$(run $b 1200)
    echo "$(basename $b) Ir@200=$a Ir@1200=$c per_request=$(( (c - a) / 1000 ))"
done
