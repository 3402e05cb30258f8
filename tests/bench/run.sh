#!/usr/bin/env bash
# run.sh — the scim2ldap benchmark: the gateway next to raw libldap, same slapd, same run.
#
#   bash tests/bench/run.sh            full run (~10-15 min on 2 cores), writes BENCHMARKS.md
#   bash tests/bench/run.sh --smoke    tiny sizes (well under a minute): checks that every
#                                      scenario still works on both sides; no timing assertions
#
# Last, a page of a list at the start and near the end of a directory of 200,000 users
# (2,000 with --smoke) on its own slapd ("list" rows).
#
# For each slapd mode (durable: every write fsynced; nosync: `dbnosync`) it starts a private
# slapd on a free loopback port and the gateway against it, then for every concurrency level
# runs each SCIM scenario through the gateway (s2l_loadgen) and its raw-libldap equivalent
# (s2l_rawldap: same entry shape, same concurrency, async over the same number of LDAP
# connections as the gateway's pool). Rows go to results.tsv; the report is rendered from it
# (report.awk) into the section of BENCHMARKS.md between the bench:results markers, and the
# rows are copied to <build dir>/bench-results.tsv.
#
# Options for a shorter, targeted run: --levels, --modes, --no-lists (skip the list pages),
# --big-members N (the big group's size), --refint directory (slapd's memberof overlay with
# memberof-refint, and the default mapping with "referential_integrity": "directory": the
# directory drops a deleted user from its groups within the delete; needs jq).
#
# Environment: S2L_BENCH_BUILD_DIR (default <repo>/build-bench), S2L_BENCH_KEEP=1 keeps the
# work directory (slapd and gateway logs, results.tsv).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${S2L_BENCH_BUILD_DIR:-$ROOT/build-bench}
SMOKE=0
USERS_ONLY=0
LEVELS_OVERRIDE=""
MODES="durable nosync"
OUT_MD="$ROOT/BENCHMARKS.md"
NO_LISTS=0
BIG_OVERRIDE=""
REFINT=gateway
GW_WORKERS=1         # the gateway's event loops ("workers"; tests/bench/workers.sh compares 1 and 2)
DIRECT_PUT=true      # behaviour.direct_put (--reading-put: false, the PUT that reads the entry first)
RESULTS_COPY=""

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "options: --smoke | --levels \"1 16\" | --modes \"durable nosync\" | --out FILE (default BENCHMARKS.md)"
    echo "         --users-only: the user scenarios only (no groups, no repeat, no list pages)"
    echo "         --no-lists | --big-members N | --refint gateway|directory"
    echo "         --workers N: the gateway's event loops (default 1) | --results FILE: copy the rows there"
    echo "         --reading-put: \"behaviour\": {\"direct_put\": false} (every PUT reads the entry first)"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --users-only) USERS_ONLY=1 ;;
        --levels) LEVELS_OVERRIDE=$2; shift ;;
        --modes) MODES=$2; shift ;;
        --out) OUT_MD=$2; shift ;;
        --no-lists) NO_LISTS=1 ;;
        --big-members) BIG_OVERRIDE=$2; shift ;;
        --refint) REFINT=$2; shift ;;
        --workers) GW_WORKERS=$2; shift ;;
        --reading-put) DIRECT_PUT=false ;;
        --results) RESULTS_COPY=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

# ---------- sizes: every load is bounded by a count AND a duration ----------
if [ "$SMOKE" = 1 ]; then
    LEVELS="1 16"
    N_POST=40 N_READ=200 N_PATCH=100 N_GROUP=20 N_BIG=20
    BIG_MEMBERS=1000
    DUR_WRITE=3 DUR_READ=2 DUR_BIG=3
    REPEAT_LEVEL="" REPEAT_RUNS=0
    N_LIST=2000 LIST_LEVELS="1" N_LIST_REQ=5 DUR_LIST=5
else
    LEVELS="1 16 64 256"
    N_POST=10000 N_READ=100000 N_PATCH=20000 N_GROUP=2000 N_BIG=400
    BIG_MEMBERS=100000
    DUR_WRITE=5 DUR_READ=4 DUR_BIG=6
    REPEAT_LEVEL=256 REPEAT_RUNS=2
    N_LIST=200000 LIST_LEVELS="1 4" N_LIST_REQ=40 DUR_LIST=20
fi
[ -n "$BIG_OVERRIDE" ] && BIG_MEMBERS=$BIG_OVERRIDE
case "$REFINT" in gateway|directory) ;; *) echo "run.sh: --refint gateway|directory" >&2; exit 2 ;; esac
if [ -n "$LEVELS_OVERRIDE" ]; then
    LEVELS=$LEVELS_OVERRIDE
    [ -n "$REPEAT_LEVEL" ] && REPEAT_LEVEL=${LEVELS##* }
fi
# Per-request timeout and drain limit, seconds. Member adds into the big group are
# serialised by slapd (~20-40 ms each), so 256 of them queued take ~10 s.
TIMEOUT=60
LDAP_CONNS=4         # the gateway's pool size; the raw side uses the same
SUFFIX="dc=example,dc=org"
PEOPLE="ou=people,$SUFFIX"
GROUPS_BASE="ou=groups,$SUFFIX"
ADMIN_DN="cn=admin,$SUFFIX"
ADMIN_PW="secret"
TOKEN="bench-token-$$-$RANDOM"

WORK=$(mktemp -d /tmp/s2l-bench.XXXXXX)
RESULTS="$WORK/results.tsv"
NOTES="$WORK/notes.txt"
: >"$RESULTS"
: >"$NOTES"
SLAPD_PID="" GW_PID="" LPORT="" HPORT="" PUT_LDAP_OPS=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; log "$*"; }

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL. Only processes we started.
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_gateway() { stop_pid "$GW_PID"; wait "$GW_PID" 2>/dev/null || true; GW_PID=""; }
stop_slapd() { stop_pid "$SLAPD_PID"; SLAPD_PID=""; }

cleanup() {
    stop_gateway
    stop_slapd
    if [ "${S2L_BENCH_KEEP:-0}" = 1 ]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local p i
    for i in $(seq 1 100); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# ---------- build ----------
log "building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target s2l_loadgen s2l_rawldap >>"$WORK/cmake.log" 2>&1 ||
    { tail -40 "$WORK/cmake.log" >&2; exit 1; }
LOADGEN="$BUILD/tests/bench/s2l_loadgen"
RAWLDAP="$BUILD/tests/bench/s2l_rawldap"
GATEWAY=""
if cmake --build "$BUILD" -j2 --target scim2ldap >>"$WORK/cmake.log" 2>&1 && [ -x "$BUILD/scim2ldap" ]; then
    GATEWAY="$BUILD/scim2ldap"
else
    tail -20 "$WORK/cmake.log" >&2
    if [ "$SMOKE" = 1 ]; then
        echo "run.sh: the gateway does not build" >&2
        exit 1
    fi
    note "gateway: n/a (does not build) — raw libldap side only"
fi
MAPPING="$ROOT/mappings/openldap.json"
if [ "$REFINT" = directory ]; then
    command -v jq >/dev/null || { echo "run.sh: --refint directory needs jq" >&2; exit 2; }
    jq '. + {"referential_integrity": "directory"}' "$MAPPING" >"$WORK/mapping-directory.json"
    MAPPING="$WORK/mapping-directory.json"
    note "references kept by the directory: slapd's memberof overlay with memberof-refint, mapping \"referential_integrity\": \"directory\""
fi

# ---------- slapd ----------
write_slapd_conf() {  # write_slapd_conf DIR MODE
    local dir=$1 mode=$2 schema
    {
        echo "# generated by tests/bench/run.sh ($mode)"
        for schema in core cosine inetorgperson nis; do
            echo "include /etc/ldap/schema/$schema.schema"
        done
        [ -f "$ROOT/schemas/ldap/scim2ldap.schema" ] && echo "include $ROOT/schemas/ldap/scim2ldap.schema"
        cat <<EOF
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload sssvlv
$([ "$REFINT" = directory ] && echo "moduleload memberof")
loglevel none
sizelimit unlimited
# A 100,000-member group is ~4.5 MB of BER, above the 4 MB slapd accepts by default.
sockbuf_max_incoming_auth 67108864
# 100,000 values in one attribute: kept sorted, the duplicate check of a member add
# is a binary search instead of a scan (slapd.conf(5) sortvals). Without it, building
# the big group takes ~40 s instead of ~2 s; a member add costs about the same.
sortvals member uniqueMember

database mdb
suffix "$SUFFIX"
rootdn "$ADMIN_DN"
rootpw $ADMIN_PW
directory $dir/db
maxsize 4294967296
# Member values stored one by one instead of as one blob once a list passes 100
# values (slapd-mdb(5) multival): an add into a 100,000-member group writes one
# value instead of rewriting the 4.5 MB entry. Same as tests/slapd/slapd.conf.in.
multival member,uniqueMember 100,10
index objectClass eq
index entryUUID eq
index uid,cn,mail eq
index member,memberUid eq
# The gateway keeps references intact itself: deleting or renaming a user searches
# (member=<dn>) and (manager=<dn>). Unindexed, each DELETE scans ou=people
# (measured: ~60-100 DELETE/s with 10-40k users, 15-35 ms of slapd CPU each).
index manager eq
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by users read
    by * none
EOF
        [ "$mode" != durable ] && echo "dbnosync"
        # Overlays as in tests/slapd/slapd.conf.in (the tests' and quick start's layout).
        cat <<EOF
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$SUFFIX"
ppolicy_hash_cleartext
overlay sssvlv
sssvlv-max 64
sssvlv-maxperconn 64
EOF
        if [ "$REFINT" = directory ]; then
            cat <<EOF
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
EOF
        fi
    } >"$dir/slapd.conf"
}

base_ldif() {
    cat <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: $PEOPLE
objectClass: organizationalUnit
ou: people

dn: $GROUPS_BASE
objectClass: organizationalUnit
ou: groups

dn: ou=policies,$SUFFIX
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$SUFFIX
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
EOF
}

start_slapd() {  # start_slapd MODE
    local mode=$1 dir="$WORK/slapd-$1" attempt i
    mkdir -p "$dir/db"
    write_slapd_conf "$dir" "$mode"
    slaptest -Q -u -f "$dir/slapd.conf" || { echo "run.sh: slaptest failed" >&2; return 1; }
    for attempt in 1 2 3; do
        LPORT=$(free_port)
        /usr/sbin/slapd -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$LPORT/" || continue
        for i in $(seq 1 100); do
            if timeout 10 ldapsearch -x -o nettimeout=2 -H "ldap://127.0.0.1:$LPORT/" -s base -b "" >/dev/null 2>&1; then
                SLAPD_PID=$(cat "$dir/slapd.pid")
                base_ldif | timeout 30 ldapadd -x -H "ldap://127.0.0.1:$LPORT/" -D "$ADMIN_DN" -w "$ADMIN_PW" >/dev/null
                return 0
            fi
            sleep 0.1
        done
        [ -f "$dir/slapd.pid" ] && stop_pid "$(cat "$dir/slapd.pid")"
    done
    echo "run.sh: slapd did not start" >&2
    return 1
}

lsearch() {  # lsearch BASE FILTER ATTRS...: LDIF, unwrapped
    timeout 60 ldapsearch -x -LLL -o ldif-wrap=no -o nettimeout=10 -H "ldap://127.0.0.1:$LPORT/" -D "$ADMIN_DN" -w "$ADMIN_PW" -b "$@"
}

# ---------- gateway ----------
start_gateway() {  # start_gateway MODE
    local mode=$1 cfg="$WORK/gateway-$1.json" attempt deadline
    for attempt in 1 2 3; do
        HPORT=$(free_port)
        cat >"$cfg" <<EOF
{
  "listen": "127.0.0.1:$HPORT",
  "workers": $GW_WORKERS,
  "base_path": "/scim/v2",
  "auth": {"bearer_tokens": ["$TOKEN"]},
  "ldap": {"uri": "ldap://127.0.0.1:$LPORT", "bind_dn": "$ADMIN_DN", "bind_password": "$ADMIN_PW",
           "connections": $LDAP_CONNS, "timeout_ms": 60000},
  "mapping": "$MAPPING",
  "schemas": "$ROOT/schemas/scim",
  "limits": {"request_timeout_ms": 90000},
  "behaviour": {"direct_put": $DIRECT_PUT},
  "log_level": "info"
}
EOF
        "$GATEWAY" --config "$cfg" 2>>"$WORK/gateway-$mode.log" &
        GW_PID=$!
        deadline=$((SECONDS + 20))
        while [ $SECONDS -lt $deadline ] && kill -0 "$GW_PID" 2>/dev/null; do
            if "$LOADGEN" --port "$HPORT" --token "$TOKEN" --timeout 2 --quiet \
                   --method GET --path /scim/v2/ServiceProviderConfig request; then
                return 0
            fi
            sleep 0.1
        done
        stop_gateway
    done
    echo "run.sh: the gateway did not start; its log:" >&2
    tail -20 "$WORK/gateway-$mode.log" >&2
    return 1
}

gw_request() {  # gw_request METHOD PATH [BODY]: prints status line then body
    "$LOADGEN" --port "$HPORT" --token "$TOKEN" --timeout 10 --method "$1" --path "$2" ${3:+--body "$3"} request ||
        true
}

json_field() {  # json_field KEY < body: the first string value of KEY
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -1
}

# ---------- one scenario on each side ----------
gw() {  # gw MODE LEVEL SCENARIO LABEL ARGS...
    local mode=$1 c=$2 sc=$3 label=$4
    shift 4
    [ -n "$GATEWAY" ] || return 0
    "$LOADGEN" --port "$HPORT" --token "$TOKEN" --concurrency "$c" --timeout "$TIMEOUT" \
        --pid "$GW_PID" --slapd-pid "$SLAPD_PID" --tag "$mode" --label "$label" --out "$RESULTS" \
        "$@" "$sc" || log "gateway $label c=$c reported errors"
}

raw() {  # raw MODE LEVEL SCENARIO LABEL ARGS...
    local mode=$1 c=$2 sc=$3 label=$4
    shift 4
    "$RAWLDAP" --uri "ldap://127.0.0.1:$LPORT" --bind-dn "$ADMIN_DN" --password "$ADMIN_PW" \
        --connections "$LDAP_CONNS" --concurrency "$c" --timeout "$TIMEOUT" --base "$PEOPLE" \
        --slapd-pid "$SLAPD_PID" --tag "$mode" --label "$label" --out "$RESULTS" \
        "$@" "$sc" || log "raw $label c=$c reported errors"
}

last_ok() {  # last_ok MODE SIDE LABEL LEVEL: the ok count of that row
    awk -F'\t' -v m="$1" -v s="$2" -v l="$3" -v c="$4" \
        '$1==m && $2==s && $3==l && $4==c {ok=$6} END {print ok+0}' "$RESULTS"
}

# The gateway's LDAP operations so far, by operation, from its /metrics
# (scim2ldap_ldap_operations_total, all results): "search=N add=N modify=N modrdn=N delete=N",
# or nothing when it has no such counters (metrics.enabled false).
gw_ldap_ops() {
    gw_request GET /metrics | awk '
        /^scim2ldap_ldap_operations_total\{/ {
            if (match($0, /operation="[a-z]+"/)) { n[substr($0, RSTART + 11, RLENGTH - 12)] += $NF; seen = 1 }
        }
        END { if (seen) printf "search=%d add=%d modify=%d modrdn=%d delete=%d\n", n["search"], n["add"], n["modify"], n["modrdn"], n["delete"] }'
}

# LDAP operations per request of the gateway row MODE/LABEL/LEVEL, from two gw_ldap_ops
# readings around it: "search 1.00 + modify 1.00 = 2.00" (operations that occurred only).
ldap_ops_per_request() {  # ldap_ops_per_request MODE LABEL LEVEL BEFORE AFTER
    local done
    done=$(awk -F'\t' -v m="$1" -v l="$2" -v c="$3" \
        '$1==m && $2=="gw" && $3==l && $4==c {d=$6+$7} END {print d+0}' "$RESULTS")
    awk -v before="$4" -v after="$5" -v done="$done" 'BEGIN {
        if (done <= 0 || before == "" || after == "") { print "n/a"; exit }
        split(before, b, " "); split(after, a, " ")
        for (i = 1; i <= 5; i++) {
            split(b[i], kb, "="); split(a[i], ka, "=")
            d = ka[2] - kb[2]
            if (d > 0) { line = line sep sprintf("%s %.2f", ka[1], d / done); sep = " + "; sum += d }
        }
        printf "%s = %.2f\n", (line == "" ? "none" : line), sum / done
    }'
}

# A raw add writes what the gateway wrote for the same body: the template is read back
# from the first entry the gateway created (user attributes only, {name} for the userName).
capture_template() {  # capture_template IDS_FILE
    local first name
    [ -s "$WORK/template.ldif" ] && return 0
    first=$(head -1 "$1" 2>/dev/null) || return 0
    name=${first%%$'\t'*}
    [ -n "$name" ] || return 0
    lsearch "$PEOPLE" "(uid=$name)" >"$WORK/template.raw" 2>/dev/null || return 0
    if [ ! -s "$WORK/template.raw" ] || grep -q '^[^:]*::' "$WORK/template.raw"; then
        note "raw template: the gateway's entry could not be read as plain LDIF; using the built-in inetOrgPerson template"
        return 0
    fi
    grep -v '^dn:' "$WORK/template.raw" | grep -v '^$' | sed "s/$name/{name}/g" >"$WORK/template.ldif"
    note "raw template (from the gateway's entry $name): $(cut -d: -f1 "$WORK/template.ldif" | sort | uniq -c |
        awk '{printf "%s%s", sep, ($1>1 ? $2"×"$1 : $2); sep=", "}')"
}

# ---------- groups ----------
GROUPS_OK=0 G10_ID="" G10_DN="" GBIG_ID="" GBIG_DN=""

group_dn_of() {  # group_dn_of ID NAME
    lsearch "$SUFFIX" "(|(entryUUID=$1)(&(objectClass=groupOfNames)(cn=$2)))" dn 2>/dev/null |
        sed -n 's/^dn: //p' | head -1
}

setup_groups() {  # setup_groups MODE
    local mode=$1 out status members="" id i first
    GROUPS_OK=0
    [ -n "$GATEWAY" ] || return 0
    out=$(gw_request POST /scim/v2/Groups \
        '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"bench-probe","members":[]}')
    status=$(printf '%s\n' "$out" | head -1)
    if [ "$status" != 201 ]; then
        note "groups ($mode): n/a (no /Groups yet: POST /Groups answered ${status:-nothing})"
        return 0
    fi
    id=$(printf '%s\n' "$out" | tail -n +2 | json_field id)
    [ -n "$id" ] && gw_request DELETE "/scim/v2/Groups/$id" >/dev/null
    # Ten real members for the small group, one for the big one (the rest are added raw).
    "$LOADGEN" --port "$HPORT" --token "$TOKEN" --concurrency 1 --count 10 --prefix "seed-$mode" \
        --ids "$WORK/seed-$mode.ids" post-users 2>/dev/null || true
    first=$(head -1 "$WORK/seed-$mode.ids" | cut -f2)
    for i in $(cut -f2 "$WORK/seed-$mode.ids"); do
        members="$members${members:+,}{\"value\":\"$i\"}"
    done
    out=$(gw_request POST /scim/v2/Groups \
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"bench-g10\",\"members\":[$members]}")
    G10_ID=$(printf '%s\n' "$out" | tail -n +2 | json_field id)
    out=$(gw_request POST /scim/v2/Groups \
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"bench-g100k\",\"members\":[{\"value\":\"$first\"}]}")
    GBIG_ID=$(printf '%s\n' "$out" | tail -n +2 | json_field id)
    G10_DN=$(group_dn_of "$G10_ID" bench-g10)
    GBIG_DN=$(group_dn_of "$GBIG_ID" bench-g100k)
    if [ -z "$G10_ID" ] || [ -z "$GBIG_ID" ] || [ -z "$G10_DN" ] || [ -z "$GBIG_DN" ]; then
        note "groups ($mode): n/a (could not create the benchmark groups: ${out%%$'\n'*})"
        return 0
    fi
    GROUPS_OK=1
}

# The big group is filled only once the other scenarios are done: rewriting a 4.5 MB entry
# leaves back_mdb with a large free-page list, after which every write and search in the
# database is slower (adds ~13k/s -> ~4.5k/s here): the scenarios that do not involve the
# group are measured against slapd at its best.
populate_big() {  # populate_big MODE
    local mode=$1 t0=$SECONDS
    "$RAWLDAP" --uri "ldap://127.0.0.1:$LPORT" --bind-dn "$ADMIN_DN" --password "$ADMIN_PW" \
        --base "$PEOPLE" --group-dn "$GBIG_DN" --members $((BIG_MEMBERS - 1)) --timeout "$TIMEOUT" \
        --member-prefix "bench-member" populate-group || { note "groups ($mode): n/a (populating failed)"; GROUPS_OK=0; return 0; }
    note "groups ($mode): bench-g10 = $G10_DN (10 members), bench-g100k = $GBIG_DN ($BIG_MEMBERS members, filled by raw LDAP in $((SECONDS - t0))s)"
}

# ---------- one concurrency level ----------
# Each scenario runs on the gateway and then raw, back to back, so that whatever else the
# machine is doing at that moment weighs on both sides alike.
run_level() {  # run_level MODE LEVEL [REPEAT_NUMBER]: the user scenarios
    local mode=$1 c=$2 rep=${3:-} gp="gw-$1-c$2${3:+-repeat$3}" rp="raw-$1-c$2" n=0
    local ids="$WORK/$gp.ids" sfx=${3:+ (repeat $3)} g=0 r=1 tmpl=()
    [ -n "$GATEWAY" ] && g=1
    [ -n "$rep" ] && r=0
    log "$mode c=$c${sfx}"

    if [ $g = 1 ]; then
        gw "$mode" "$c" post-users "POST /Users$sfx" --count "$N_POST" --duration "$DUR_WRITE" --prefix "$gp" --ids "$ids"
        capture_template "$ids"
        [ -s "$ids" ] || g=0
    fi
    if [ $r = 1 ]; then
        [ -s "$WORK/template.ldif" ] && tmpl=(--template "$WORK/template.ldif")
        raw "$mode" "$c" add "POST /Users" --count "$N_POST" --duration "$DUR_WRITE" --prefix "$rp" "${tmpl[@]}"
        n=$(last_ok "$mode" raw "POST /Users" "$c")
        [ "$n" -gt 0 ] || r=0
    fi

    if [ $g = 1 ]; then
        gw "$mode" "$c" get-filter "GET filter$sfx" --count "$N_READ" --duration "$DUR_READ" --ids "$ids"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" search-filter "GET filter" --count "$N_READ" --duration "$DUR_READ" --prefix "$rp" --items "$n"
    fi

    if [ $g = 1 ]; then
        gw "$mode" "$c" get-id "GET by id$sfx" --count "$N_READ" --duration "$DUR_READ" --ids "$ids"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" search-id "GET by id" --count "$N_READ" --duration "$DUR_READ" --prefix "$rp"
    fi

    if [ $g = 1 ]; then
        gw "$mode" "$c" patch-user "PATCH user$sfx" --count "$N_PATCH" --duration "$DUR_WRITE" --ids "$ids"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" modify "PATCH user" --count "$N_PATCH" --duration "$DUR_WRITE" --prefix "$rp" --items "$n"
    fi

    # A PATCH whose values do not depend on the entry: one modify on the cached DN (update.c);
    # raw: the same modify (one replace per request).
    if [ $g = 1 ]; then
        gw "$mode" "$c" patch-title "PATCH title$sfx" --count "$N_PATCH" --duration "$DUR_WRITE" --ids "$ids"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" modify "PATCH title" --count "$N_PATCH" --duration "$DUR_WRITE" --prefix "$rp" --items "$n"
    fi

    # PUT: the whole profile again, as Okta and OneLogin update a user (put-user: as created
    # but displayName and title; no rename). Raw: one modify replacing every attribute the
    # default mapping writes for that body (modify-profile). The gateway's LDAP operations
    # per PUT, from its /metrics, go to the notes (PUT_LDAP_OPS, per mode). --smoke also
    # checks each answer (the id, userName, displayName and title just sent).
    if [ $g = 1 ]; then
        local ops0 ops1 verify=()
        [ "$SMOKE" = 1 ] && verify=(--verify)
        ops0=$(gw_ldap_ops)
        gw "$mode" "$c" put-user "PUT user$sfx" --count "$N_PATCH" --duration "$DUR_WRITE" --ids "$ids" "${verify[@]}"
        ops1=$(gw_ldap_ops)
        [ -n "$rep" ] || PUT_LDAP_OPS="$PUT_LDAP_OPS c=$c: $(ldap_ops_per_request "$mode" "PUT user" "$c" "$ops0" "$ops1");"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" modify-profile "PUT user" --count "$N_PATCH" --duration "$DUR_WRITE" --prefix "$rp" --items "$n"
    fi

    if [ $g = 1 ]; then
        gw "$mode" "$c" delete-user "DELETE user$sfx" --count "$N_POST" --duration "$DUR_WRITE" --ids "$ids"
    fi
    if [ $r = 1 ]; then
        raw "$mode" "$c" delete "DELETE user" --count "$N_POST" --duration "$DUR_WRITE" --prefix "$rp" --items "$n"
    fi
    return 0
}

# Member adds, once the big group is full: both groups at each level, so that the two are
# compared in the same state of the database. The members are users created for this
# (by the gateway on its side, by raw adds on the other), not measured.
run_group_level() {  # run_group_level MODE LEVEL
    local mode=$1 c=$2 gp="gw-$1-c$2-members" rp="raw-$1-c$2-members" n=0 tmpl=()
    local ids="$WORK/$gp.ids"
    log "$mode c=$c: member adds"
    if [ -n "$GATEWAY" ]; then
        "$LOADGEN" --port "$HPORT" --token "$TOKEN" --concurrency 16 --count "$N_GROUP" --duration 60 \
            --timeout "$TIMEOUT" --prefix "$gp" --ids "$ids" post-users 2>/dev/null || true
    fi
    [ -s "$WORK/template.ldif" ] && tmpl=(--template "$WORK/template.ldif")
    "$RAWLDAP" --uri "ldap://127.0.0.1:$LPORT" --bind-dn "$ADMIN_DN" --password "$ADMIN_PW" --base "$PEOPLE" \
        --concurrency 16 --count "$N_GROUP" --duration 60 --timeout "$TIMEOUT" --prefix "$rp" "${tmpl[@]}" \
        add 2>/dev/null || true
    n=$(lsearch "$PEOPLE" "(uid=$rp-*)" 1.1 | grep -c '^dn:' || true)

    if [ -s "$ids" ]; then
        gw "$mode" "$c" patch-group "member add g10" --count "$N_GROUP" --duration "$DUR_WRITE" \
            --ids "$ids" --group-id "$G10_ID"
    fi
    if [ "$n" -gt 0 ]; then
        raw "$mode" "$c" group-add "member add g10" --count "$N_GROUP" --duration "$DUR_WRITE" --prefix "$rp" \
            --items "$n" --group-dn "$G10_DN"
    fi
    if [ -s "$ids" ]; then
        gw "$mode" "$c" patch-group "member add g100k" --count "$N_BIG" --duration "$DUR_BIG" \
            --ids "$ids" --group-id "$GBIG_ID"
    fi
    if [ "$n" -gt 0 ]; then
        raw "$mode" "$c" group-add "member add g100k" --count "$N_BIG" --duration "$DUR_BIG" --prefix "$rp" \
            --items "$n" --group-dn "$GBIG_DN"
    fi
    return 0
}

# ---------- list pages in a big directory ----------
# A page of 100 at the start and near the end of N_LIST users, in the order of the mapping's
# sort_attribute (entryUUID): through the gateway (GET /Users?startIndex=…&count=100, one VLV
# search) and raw (the same sorted VLV window with the attributes the gateway reads, reopening a
# connection after 2 VLV searches as the gateway does for sssvlv), on their own nosync slapd.
run_lists() {
    local mode=list c start where tmpl=() t0=$SECONDS
    log "=== list pages: $N_LIST users ==="
    start_slapd "$mode"
    [ -n "$GATEWAY" ] && start_gateway "$mode"
    [ -s "$WORK/template.ldif" ] && tmpl=(--template "$WORK/template.ldif")
    "$RAWLDAP" --uri "ldap://127.0.0.1:$LPORT" --bind-dn "$ADMIN_DN" --password "$ADMIN_PW" --base "$PEOPLE" \
        --concurrency 64 --count "$N_LIST" --duration 3600 --timeout "$TIMEOUT" --prefix "list" "${tmpl[@]}" \
        add 2>/dev/null || true
    local n
    n=$(lsearch "$PEOPLE" "(objectClass=inetOrgPerson)" 1.1 | grep -c '^dn:' || true)
    note "list pages: $n users added by raw LDAP in $((SECONDS - t0))s"
    for c in $LIST_LEVELS; do
        for where in start end; do
            start=1
            [ "$where" = end ] && start=$((n - 99))
            gw "$mode" "$c" get-page "list page at the $where ($n users)" --count "$N_LIST_REQ" \
                --duration "$DUR_LIST" --items 100 --path "/scim/v2/Users?startIndex=$start&count=100"
            raw "$mode" "$c" vlv-page "list page at the $where ($n users)" --count "$N_LIST_REQ" \
                --duration "$DUR_LIST" --items 100 --offset "$start" --sort-key entryUUID
        done
    done
    if [ -n "$GW_PID" ]; then
        note "list pages: gateway at the end $(grep -E '^(VmHWM|VmRSS)' "/proc/$GW_PID/status" |
            awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}'); slapd $(grep -E '^(VmHWM|VmRSS)' \
            "/proc/$SLAPD_PID/status" | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}')"
    fi
    stop_gateway
    stop_slapd
}

# ---------- the run ----------
T0=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in $MODES; do
    log "=== slapd $mode ==="
    start_slapd "$mode"
    if [ -n "$GATEWAY" ]; then
        if [ ! -f "$MAPPING" ]; then
            [ "$SMOKE" = 1 ] && { echo "run.sh: $MAPPING does not exist" >&2; exit 1; }
            note "gateway: n/a ($MAPPING does not exist yet)"
            GATEWAY=""
        else
            start_gateway "$mode"
        fi
    fi
    [ "$USERS_ONLY" = 1 ] || setup_groups "$mode"
    PUT_LDAP_OPS=""
    for c in $LEVELS; do
        run_level "$mode" "$c"
    done
    [ -n "$PUT_LDAP_OPS" ] && note "PUT user ($mode): the gateway's LDAP operations per request (its /metrics) —${PUT_LDAP_OPS%;}"
    # The same load again on a warm gateway: VmRSS must not grow from run to run.
    if [ -n "$REPEAT_LEVEL" ] && [ -n "$GATEWAY" ] && [ "$USERS_ONLY" = 0 ]; then
        for i in $(seq 1 "$REPEAT_RUNS"); do
            run_level "$mode" "$REPEAT_LEVEL" "$i"
        done
    fi
    if [ "$GROUPS_OK" = 1 ]; then
        populate_big "$mode"
    fi
    if [ "$GROUPS_OK" = 1 ]; then
        for c in $LEVELS; do
            run_group_level "$mode" "$c"
        done
    fi
    if [ -n "$GW_PID" ]; then
        note "gateway ($mode) at the end, after the member adds: $(grep -E '^(VmHWM|VmRSS)' "/proc/$GW_PID/status" |
            awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}')"
    fi
    stop_gateway
    stop_slapd
done
[ "$USERS_ONLY" = 1 ] || [ "$NO_LISTS" = 1 ] || run_lists
ELAPSED=$(( $(date +%s) - T0 ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
log "measurements done in ${ELAPSED}s"

# ---------- report ----------
machine() {
    echo "- CPU: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "- memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- kernel: $(uname -sr)"
    echo "- slapd: $(/usr/sbin/slapd -VV 2>&1 | sed -n 's/.*\(slapd [0-9][^ ]*\).*/\1/p' | head -1), back_mdb, loopback"
    echo "- libevent $(pkg-config --modversion libevent 2>/dev/null || echo '?'), $(cc --version | head -1), build RelWithDebInfo"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took ${ELAPSED}s$([ "$SMOKE" = 1 ] && echo ' (smoke sizes)')"
    echo "- load average (1/5/15 min) at the start: $LOAD_START, at the end: $LOAD_END (other work on the machine)"
}

render() {
    echo "## Results"
    echo
    machine
    echo
    echo "Sizes: concurrency levels $LEVELS. Per scenario and level at most $N_POST POST/DELETE,"
    echo "$N_READ GETs, $N_PATCH PATCHes or PUTs, $N_GROUP member adds into the 10-member group and $N_BIG into"
    echo "the $BIG_MEMBERS-member group, and at most ${DUR_READ}-${DUR_BIG} s of issuing. Gateway: $GW_WORKERS event loop(s)"
    echo "(workers) with $LDAP_CONNS LDAP connections each, log_level info; raw: $LDAP_CONNS connections, a window of c operations."
    echo
    if [ -s "$NOTES" ]; then
        sed 's/^/- /' "$NOTES"
        echo
    fi
    awk -F'\t' -f "$ROOT/tests/bench/report.awk" "$RESULTS"
}

REPORT="$WORK/report.md"
render >"$REPORT"
[ -n "$RESULTS_COPY" ] && cp "$RESULTS" "$RESULTS_COPY"
cat "$REPORT"

if [ "$SMOKE" = 1 ]; then
    # Functional check only: every scenario ran on both sides and nothing failed.
    bad=$(awk -F'\t' '$6 == 0 || $7 != 0 {print $1, $2, $3, "c=" $4, "ok=" $6, "errors=" $7}' "$RESULTS")
    expected=$(( $(echo "$MODES" | wc -w) * $(echo "$LEVELS" | wc -w) * (GROUPS_OK ? 18 : 14) +
                 (NO_LISTS ? 0 : $(echo "$LIST_LEVELS" | wc -w) * 4) ))
    rows=$(wc -l <"$RESULTS")
    if [ -n "$bad" ] || [ "$rows" -lt "$expected" ]; then
        echo "smoke: FAILED ($rows of $expected rows)" >&2
        [ -n "$bad" ] && echo "$bad" >&2
        exit 1
    fi
    echo "smoke: OK ($rows rows)"
    exit 0
fi

# BENCHMARKS.md: the prose stays, the section between the markers is replaced.
BEGIN_MARK='<!-- bench:results:begin -->'
END_MARK='<!-- bench:results:end -->'
if [ -f "$OUT_MD" ] && grep -q "$BEGIN_MARK" "$OUT_MD" && grep -q "$END_MARK" "$OUT_MD"; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v r="$REPORT" '
        $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
        $0 == e { skip = 0 }
        !skip' "$OUT_MD" >"$WORK/bench.md"
else
    { echo "# Benchmarks"; echo; echo "$BEGIN_MARK"; cat "$REPORT"; echo "$END_MARK"; } >"$WORK/bench.md"
fi
cp "$WORK/bench.md" "$OUT_MD"
cp "$RESULTS" "$BUILD/bench-results.tsv"
log "report written to $OUT_MD (rows: $BUILD/bench-results.tsv)"
