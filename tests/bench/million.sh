#!/usr/bin/env bash
# million.sh — the million-entry benchmark (not run by CI): the gateway next to raw libldap on a
# directory of 1,000,000 users and on one of 1,000, same machine, same run.
#
#   bash tests/bench/million.sh            full run (~20-40 min on 2 cores, the burst bounded at 10 min a side; ~3 GB in /tmp)
#   bash tests/bench/million.sh --smoke    20,000 users, small counts (a few minutes): checks the rig
#   bash tests/bench/million.sh --no-burst without the 100,000-POST burst (reads and list pages only, ~10 min)
#
# 1. Generates the users as LDIF (awk), with the object classes and attributes the default mapping
#    (mappings/openldap.json) gives a POSTed user and deterministic entryUUIDs (so the SCIM ids are
#    known without a search), written in a scattered order so that the users read below are spread
#    over the whole database; loads them offline with slapadd -q into two private slapds rendered
#    from tests/slapd/slapd.conf.in (ppolicy, sssvlv; every write synced — "durable").
# 2. 1,000 users, then 1,000,000 users, each with its own gateway:
#      GET filter (userName eq) at c=1 and c=16, gateway and raw libldap (the same names);
#      GET by id at c=16;
#      (on the million-user directory, here: the burst below)
#      a list page of 100 sorted by userName, the first (startIndex 1) and the last (startIndex
#      N-99: 901 / 999,901). Server-side paging (VLV) is another issue's work: until it lands the
#      gateway enumerates the matching DNs, bounded by limits.max_list_scan (200,000 by default),
#      so at 1M entries it answers 400 tooMany. The rig records what it gets (status, latency)
#      and will show the real numbers once paging is there. For comparison it also runs the two
#      pages once on a second gateway with max_list_scan raised to 10,000,000 (today's cost of a
#      page deep in a million entries, and its memory);
#    on the million-user directory only:
#      a burst of 100,000 POST /Users at c=64 (durable), then the same number of raw adds.
#    The gateway's VmRSS is sampled every second across the whole run.
# 3. Rows go to results.tsv (the columns of tests/bench/report.awk); the report (million.awk) goes
#    into BENCHMARKS.md between the bench:million markers (--out FILE elsewhere) and the rows to
#    <build dir>/million-results.tsv.
#
# Environment: S2L_BENCH_BUILD_DIR (default <repo>/build-bench), S2L_BENCH_KEEP=1 keeps the work
# directory (logs, LDIF, databases).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${S2L_BENCH_BUILD_DIR:-$ROOT/build-bench}
OUT_MD="$ROOT/BENCHMARKS.md"
SMOKE=0
BURST=1

while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --no-burst) BURST=0 ;;
        --out) OUT_MD=$2; shift ;;
        -h|--help) sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "million.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

# ---------- sizes: every load is bounded by a count AND a duration ----------
if [ "$SMOKE" = 1 ]; then
    BIG=20000 SMALL=1000 N_READ=2000 N_BURST=2000 N_LIST=5 DUR_READ=3 DUR_BURST=30
else
    BIG=1000000 SMALL=1000 N_READ=50000 N_BURST=100000 N_LIST=20 DUR_READ=15 DUR_BURST=600
fi
READ_LEVELS="1 16"
BURST_C=64
LDAP_CONNS=4
TIMEOUT=120
PREFIX=m               # users m-000000 .. m-<BIG-1>, like the load generator's names
SUFFIX="dc=example,dc=org"
PEOPLE="ou=people,$SUFFIX"
ADMIN_DN="cn=admin,$SUFFIX"
ADMIN_PW="secret"
TOKEN="bench-token-$$-$RANDOM$RANDOM"

# shellcheck source=tests/lib/slapd.sh
source "$ROOT/tests/lib/slapd.sh"

WORK=$(mktemp -d /tmp/s2l-million.XXXXXX)
RESULTS="$WORK/results.tsv"
NOTES="$WORK/notes.txt"
RSS_LOG="$WORK/rss.log"
: >"$RESULTS"
: >"$NOTES"
: >"$RSS_LOG"
SLAPD_PID="" GW_PID="" SAMPLER_PID="" LPORT="" HPORT=""

log() { printf '[million %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; log "$*"; }

stop_gateway() { [ -n "$GW_PID" ] && { s2l_stop_pid "$GW_PID" 15 || true; }; GW_PID=""; }
stop_slapd() { [ -n "$SLAPD_PID" ] && { s2l_stop_pid "$SLAPD_PID" 60 || true; }; SLAPD_PID=""; }
stop_sampler() { [ -n "$SAMPLER_PID" ] && { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true; }; SAMPLER_PID=""; }

cleanup() {
    stop_sampler
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

# ---------- build ----------
log "building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target s2l_loadgen s2l_rawldap scim2ldap >>"$WORK/cmake.log" 2>&1 ||
    { tail -40 "$WORK/cmake.log" >&2; exit 1; }
LOADGEN="$BUILD/tests/bench/s2l_loadgen"
RAWLDAP="$BUILD/tests/bench/s2l_rawldap"
GATEWAY="$BUILD/scim2ldap"

# ---------- the directories ----------
# The entry a POST of the load generator's user body creates through the default mapping
# (objectClass x5, uid, cn, sn, givenName, displayName, mail; see BENCHMARKS.md), with a
# deterministic entryUUID. Written in the order i = k * 600011 mod n (600011 is prime, so
# this visits every i once): users with neighbouring names sit far apart in the database.
users_ldif() {  # users_ldif N
    awk -v n="$1" -v p="$PREFIX" -v people="$PEOPLE" 'BEGIN {
        for (k = 0; k < n; k++) {
            i = (k * 600011) % n
            name = sprintf("%s-%06d", p, i)
            printf "dn: uid=%s,%s\n", name, people
            print "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson"
            print "objectClass: inetOrgPerson\nobjectClass: scimUser"
            printf "uid: %s\ncn: Given Family %d\nsn: Family %d\ngivenName: Given\n", name, i, i
            printf "displayName: Display %s\nmail: %s@example.org\n", name, name
            printf "entryUUID: 00000000-0000-4000-8000-%012d\n\n", i
        }
    }'
}

uuid_of() { printf '00000000-0000-4000-8000-%012d' "$1"; }

ids_file() {  # ids_file N OUT: "<name>\t<id>" for users 0 .. N-1 (the ones raw libldap reads)
    awk -v n="$1" -v p="$PREFIX" 'BEGIN { for (i = 0; i < n; i++) printf "%s-%06d\t00000000-0000-4000-8000-%012d\n", p, i, i }' >"$2"
}

make_directory() {  # make_directory NAME N: render, generate, slapadd
    local name=$1 n=$2 dir="$WORK/slapd-$1" t0
    s2l_slapd_setup "$dir" "ppolicy sssvlv" "$ADMIN_PW" >/dev/null
    # Bench tuning of the shared template: room for a million users and more, and two
    # slapadd threads (indexing) on this 2-core machine.
    sed -i 's/^maxsize .*/maxsize 34359738368/' "$dir/slapd.conf"
    sed -i '/^modulepath /i tool-threads 2' "$dir/slapd.conf"
    slaptest -Q -u -f "$dir/slapd.conf"
    t0=$(date +%s.%N)
    { cat "$dir/base.ldif"; echo; users_ldif "$n"; } >"$dir/users.ldif"
    local t_gen
    t_gen=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    t0=$(date +%s.%N)
    slapadd -q -f "$dir/slapd.conf" -l "$dir/users.ldif"
    local t_add size
    t_add=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    size=$(du -sm "$dir/db" | cut -f1)
    rm -f "$dir/users.ldif"
    note "directory $name: $n users generated in ${t_gen}s, loaded with slapadd -q in ${t_add}s ($(awk -v n="$n" -v s="$t_add" 'BEGIN { printf "%.0f", (s > 0 ? n / s : n) }') entries/s), database ${size} MB"
}

start_slapd() {  # start_slapd NAME
    local dir="$WORK/slapd-$1"
    LPORT=$(s2l_free_port)
    s2l_slapd_start "$dir" "$LPORT"
    SLAPD_PID=$S2L_SLAPD_PID
}

gateway_config() {  # gateway_config FILE [MAX_LIST_SCAN]
    cat >"$1" <<EOF
{
  "listen": "127.0.0.1:$HPORT",
  "base_path": "/scim/v2",
  "auth": {"bearer_tokens": ["$TOKEN"]},
  "ldap": {"uri": "ldap://127.0.0.1:$LPORT", "bind_dn": "$ADMIN_DN", "bind_password": "$ADMIN_PW",
           "connections": $LDAP_CONNS, "timeout_ms": 60000},
  "mapping": "$ROOT/mappings/openldap.json",
  "limits": {"request_timeout_ms": 90000${2:+, \"max_list_scan\": $2}},
  "log_level": "info"
}
EOF
}

start_gateway() {  # start_gateway NAME [MAX_LIST_SCAN]
    local cfg="$WORK/gateway-$1.json" deadline
    HPORT=$(s2l_free_port)
    gateway_config "$cfg" "${2:-}"
    "$GATEWAY" --config "$cfg" 2>>"$WORK/gateway-$1.log" &
    GW_PID=$!
    deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ] && kill -0 "$GW_PID" 2>/dev/null; do
        if "$LOADGEN" --port "$HPORT" --token "$TOKEN" --timeout 5 --quiet --method GET \
               --path "/scim/v2/Users?filter=userName%20eq%20%22$PREFIX-000000%22" request; then
            return 0
        fi
        sleep 0.2
    done
    echo "million.sh: the gateway did not start; its log:" >&2
    tail -20 "$WORK/gateway-$1.log" >&2
    return 1
}

# VmRSS of the gateway every second, with the phase written to $WORK/phase.
start_sampler() {
    (
        while kill -0 "$GW_PID" 2>/dev/null; do
            printf '%s\t%s\t%s\n' "$(date +%s)" "$(cat "$WORK/phase" 2>/dev/null)" \
                "$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status" 2>/dev/null)" >>"$RSS_LOG"
            sleep 1
        done
    ) &
    SAMPLER_PID=$!
}

phase() { echo "$1" >"$WORK/phase"; log "$1"; }

gw() {  # gw TAG LEVEL SCENARIO LABEL ARGS...
    local tag=$1 c=$2 sc=$3 label=$4
    shift 4
    "$LOADGEN" --port "$HPORT" --token "$TOKEN" --concurrency "$c" --timeout "$TIMEOUT" \
        --pid "$GW_PID" --slapd-pid "$SLAPD_PID" --tag "$tag" --label "$label" --out "$RESULTS" \
        "$@" "$sc" 2>>"$WORK/loadgen.log" || log "gateway $label c=$c reported errors"
    tail -1 "$WORK/loadgen.log" >&2
}

raw() {  # raw TAG LEVEL SCENARIO LABEL ARGS...
    local tag=$1 c=$2 sc=$3 label=$4
    shift 4
    "$RAWLDAP" --uri "ldap://127.0.0.1:$LPORT" --bind-dn "$ADMIN_DN" --password "$ADMIN_PW" \
        --connections "$LDAP_CONNS" --concurrency "$c" --timeout "$TIMEOUT" --base "$PEOPLE" \
        --slapd-pid "$SLAPD_PID" --tag "$tag" --label "$label" --out "$RESULTS" \
        "$@" "$sc" 2>>"$WORK/rawldap.log" || log "raw $label c=$c reported errors"
    tail -1 "$WORK/rawldap.log" >&2
}

# One request: "<status> <scimType or ->" for the notes.
probe() {  # probe PATH
    local out status type
    out=$("$LOADGEN" --port "$HPORT" --token "$TOKEN" --timeout "$TIMEOUT" --method GET --path "$1" request 2>/dev/null || true)
    status=$(printf '%s\n' "$out" | head -1)
    type=$(printf '%s\n' "$out" | sed -n 's/.*"scimType" *: *"\([^"]*\)".*/\1/p' | head -1)
    printf '%s %s' "${status:-none}" "${type:--}"
}

list_path() {  # list_path START
    printf '/scim/v2/Users?sortBy=userName&startIndex=%s&count=100' "$1"
}

# The reads of one directory: GET filter, GET by id.
reads() {  # reads TAG N
    local tag=$1 n=$2 c reads ids="$WORK/ids-$1.txt"
    reads=$((n < N_READ ? n : N_READ))
    ids_file "$reads" "$ids"
    for c in $READ_LEVELS; do
        phase "$tag: GET filter c=$c"
        gw "$tag" "$c" get-filter "GET filter" --count "$N_READ" --duration "$DUR_READ" --ids "$ids" --verify
        raw "$tag" "$c" search-filter "GET filter" --count "$N_READ" --duration "$DUR_READ" --prefix "$PREFIX" \
            --items "$reads"
    done
    phase "$tag: GET by id c=16"
    gw "$tag" 16 get-id "GET by id" --count "$N_READ" --duration "$DUR_READ" --ids "$ids" --verify
    raw "$tag" 16 search-id "GET by id" --count "$N_READ" --duration "$DUR_READ" --prefix "$PREFIX" --uuids "$ids"
}

# The first and the last list page of 100, sorted by userName. Until server-side paging lands
# the gateway enumerates the DNs of every match: on a big directory that raises its heap (and
# VmRSS stays up), so this runs after the other phases of a directory.
list_pages() {  # list_pages TAG N
    local tag=$1 n=$2 start which
    for start in 1 $((n - 99)); do
        which=first
        [ "$start" = 1 ] || which=last
        phase "$tag: list page $which (startIndex=$start)"
        note "list page startIndex=$start on $tag users (default limits): $(probe "$(list_path "$start")")"
        gw "$tag" 1 get-path "list page, $which" --count "$N_LIST" --duration "$DUR_READ" --path "$(list_path "$start")"
    done
}

# The disk's synced-write latency: durable adds are bound by it (an mdb commit syncs twice).
fsync_ms() {
    local t0 t1
    t0=$(date +%s%N)
    dd if=/dev/zero of="$WORK/fsync.probe" bs=4k count=200 oflag=dsync 2>/dev/null || { echo "?"; return; }
    t1=$(date +%s%N)
    rm -f "$WORK/fsync.probe"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 200 / 1e6 }'
}

# ---------- the run ----------
T0=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
FSYNC_START=$(fsync_ms)
log "work directory $WORK"

make_directory small "$SMALL"
make_directory big "$BIG"
TAG_SMALL=$(awk -v n="$SMALL" 'BEGIN { print (n >= 1000000 ? n / 1000000 "M" : n >= 1000 ? n / 1000 "k" : n) }')
TAG_BIG=$(awk -v n="$BIG" 'BEGIN { print (n >= 1000000 ? n / 1000000 "M" : n >= 1000 ? n / 1000 "k" : n) }')

# --- the small directory
start_slapd small
start_gateway small
start_sampler
reads "$TAG_SMALL" "$SMALL"
list_pages "$TAG_SMALL" "$SMALL"
stop_sampler
note "gateway on $TAG_SMALL users: $(grep -E '^(VmHWM|VmRSS)' "/proc/$GW_PID/status" | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}')"
stop_gateway
stop_slapd

# --- the million
start_slapd big
start_gateway big
start_sampler
reads "$TAG_BIG" "$BIG"

if [ "$BURST" = 1 ]; then
phase "$TAG_BIG: burst of $N_BURST POST /Users c=$BURST_C"
gw "$TAG_BIG" "$BURST_C" post-users "POST /Users burst" --count "$N_BURST" --duration "$DUR_BURST" \
    --prefix burst-gw --ids "$WORK/burst-gw.ids"
# The raw adds write what the gateway wrote for the same body (read back from its first entry).
first=$(head -1 "$WORK/burst-gw.ids" | cut -f1)
tmpl=()
if [ -n "$first" ]; then
    ldapsearch -x -LLL -o ldif-wrap=no -H "ldap://127.0.0.1:$LPORT/" -D "$ADMIN_DN" -w "$ADMIN_PW" \
        -b "$PEOPLE" "(uid=$first)" >"$WORK/template.raw" 2>/dev/null || true
    if [ -s "$WORK/template.raw" ] && ! grep -q '^[^:]*::' "$WORK/template.raw"; then
        grep -v '^dn:' "$WORK/template.raw" | grep -v '^$' | sed "s/$first/{name}/g" >"$WORK/template.ldif"
        tmpl=(--template "$WORK/template.ldif")
    fi
fi
phase "$TAG_BIG: burst of $N_BURST raw adds c=$BURST_C"
raw "$TAG_BIG" "$BURST_C" add "POST /Users burst" --count "$N_BURST" --duration "$DUR_BURST" --prefix burst-raw "${tmpl[@]}"
else
    note "burst: not run (--no-burst)"
fi
list_pages "$TAG_BIG" "$BIG"
stop_sampler
note "gateway on $TAG_BIG users at the end of the run: $(grep -E '^(VmHWM|VmRSS)' "/proc/$GW_PID/status" | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}')"
stop_gateway

# --- today's deep page when the gateway may enumerate everything (until VLV paging lands)
phase "$TAG_BIG: list pages with max_list_scan 10000000"
start_gateway enumerate 10000000
for start in 1 $((BIG - 99)); do
    which=first
    [ "$start" = 1 ] || which=last
    note "list page startIndex=$start on $TAG_BIG users with max_list_scan 10,000,000 (the largest allowed): $(probe "$(list_path "$start")")"
    gw "$TAG_BIG" 1 get-path "list page, $which (max_list_scan 10M)" --count 3 --duration 120 \
        --path "$(list_path "$start")"
done
note "gateway with max_list_scan 10,000,000 (the largest allowed) after its $((2 * 4)) list requests: $(grep -E '^(VmHWM|VmRSS)' "/proc/$GW_PID/status" | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", "}')"
stop_gateway
stop_slapd

ELAPSED=$(($(date +%s) - T0))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
FSYNC_END=$(fsync_ms)
log "done in ${ELAPSED}s"

# ---------- report ----------
render() {
    echo "### Results: $TAG_SMALL vs $TAG_BIG users"
    echo
    echo "- CPU: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); memory $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- slapd: $(/usr/sbin/slapd -VV 2>&1 | sed -n 's/.*\(slapd [0-9][^ ]*\).*/\1/p' | head -1), back_mdb, every write synced (durable), loopback; $(cc --version | head -1), RelWithDebInfo"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took ${ELAPSED}s$([ "$SMOKE" = 1 ] && echo ' (smoke sizes)')"
    echo "- load average (1/5/15 min) at the start: $LOAD_START, at the end: $LOAD_END"
    echo "- one synced 4 KiB write (dd oflag=dsync) took $FSYNC_START ms at the start, $FSYNC_END ms at the end"
    echo "- sizes: at most $N_READ reads per row (${DUR_READ} s), $N_LIST list requests per row, $N_BURST POSTs / raw adds at c=$BURST_C"
    echo
    sed 's/^/- /' "$NOTES"
    echo
    awk -F'\t' -v small="$TAG_SMALL" -v big="$TAG_BIG" -v rss="$RSS_LOG" -f "$ROOT/tests/bench/million.awk" "$RESULTS"
}
REPORT="$WORK/report.md"
render >"$REPORT"
cat "$REPORT"
cp "$RESULTS" "$BUILD/million-results.tsv"
cp "$RSS_LOG" "$BUILD/million-rss.tsv"

if [ "$SMOKE" = 1 ]; then
    bad=$(awk -F'\t' '$3 !~ /^list page/ && ($6 == 0 || $7 != 0) {print $1, $2, $3, "c=" $4, "ok=" $6, "errors=" $7}' "$RESULTS")
    if [ -n "$bad" ]; then
        echo "smoke: FAILED" >&2
        echo "$bad" >&2
        exit 1
    fi
    echo "smoke: OK ($(wc -l <"$RESULTS") rows)"
    exit 0
fi

BEGIN_MARK='<!-- bench:million:begin -->'
END_MARK='<!-- bench:million:end -->'
if [ -f "$OUT_MD" ] && grep -q "$BEGIN_MARK" "$OUT_MD" && grep -q "$END_MARK" "$OUT_MD"; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v r="$REPORT" '
        $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
        $0 == e { skip = 0 }
        !skip' "$OUT_MD" >"$WORK/bench.md"
else
    { [ -f "$OUT_MD" ] && cat "$OUT_MD"; echo; echo "$BEGIN_MARK"; cat "$REPORT"; echo "$END_MARK"; } >"$WORK/bench.md"
fi
cp "$WORK/bench.md" "$OUT_MD"
log "report written to $OUT_MD (rows: $BUILD/million-results.tsv, RSS samples: $BUILD/million-rss.tsv)"
