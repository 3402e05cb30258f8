#!/usr/bin/env bash
# memory.sh — the gateway's resident memory around bursts of maximum-size requests
# (not part of CI's timed runs; ~1-2 min on 2 cores).
#
#   bash tests/bench/memory.sh                 measure, print the table
#   bash tests/bench/memory.sh --write         also put it into BENCHMARKS.md (between the
#                                              bench:memory markers)
#   bash tests/bench/memory.sh --parallel N    requests per burst (default 64)
#
# A private slapd (dbnosync) and the gateway with the default limits. For each kind of
# request it sends one burst of N requests at once (curl, one connection each) and
# reads /proc/<gateway>/status: VmRSS before the burst, the peak (VmHWM, reset before
# each burst through /proc/<pid>/clear_refs) and VmRSS 3 s after the burst (the gateway
# is idle again). Kinds, each as large as the default limits allow:
#   accepted     POST /Users with 20,000 emails (limits.max_values_per_attribute), ~0.9 MB:
#                parsed, normalised, mapped, added to slapd (201)
#   values       POST /Users with 60,000 emails as strings, ~1 MB: refused after parsing (413)
#   nodes        POST /Users whose name has 100,000 keys, ~1 MB: refused after parsing (413)
#   deep         POST /Users nested 2,000 levels (jansson's own limit is 2,048): refused (400)
# The whole series runs twice: with the gateway's idle trimming (default) and with
# SCIM2LDAP_MALLOC_TRIM=0, so the table shows what trimming returns to the system.
#
# Environment: S2L_BENCH_BUILD_DIR (default <repo>/build-bench), S2L_BENCH_KEEP=1 keeps
# the work directory (bodies, logs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${S2L_BENCH_BUILD_DIR:-$ROOT/build-bench}
PARALLEL=64
WRITE=0
OUT_MD="$ROOT/BENCHMARKS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --write) WRITE=1 ;;
        --parallel) PARALLEL=$2; shift ;;
        -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "memory.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $PARALLEL =~ ^[0-9]+$ ]] || ((PARALLEL < 1 || PARALLEL > 256)); then
    echo "memory.sh: --parallel must be 1..256" >&2
    exit 2
fi

# shellcheck source=tests/lib/slapd.sh
source "$ROOT/tests/lib/slapd.sh"

WORK=$(mktemp -d /tmp/s2l-memory.XXXXXX)
GW_PID=""
S2L_SLAPD_PID=""
log() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
    [ -n "$GW_PID" ] && s2l_stop_pid "$GW_PID" 10
    [ -n "$S2L_SLAPD_PID" ] && s2l_stop_pid "$S2L_SLAPD_PID" 10
    if [ "${S2L_BENCH_KEEP:-0}" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 &&
    cmake --build "$BUILD" -j2 --target scim2ldap >>"$WORK/cmake.log" 2>&1 ||
    { tail -30 "$WORK/cmake.log" >&2; exit 1; }
GATEWAY="$BUILD/scim2ldap"

# ---------- bodies (bounded generators: awk loops of fixed length) ----------
URN='urn:ietf:params:scim:schemas:core:2.0:User'
gen_accepted() { # NAME
    awk -v n="$1" -v urn="$URN" 'BEGIN {
        printf "{\"schemas\":[\"%s\"],\"userName\":\"%s\",\"emails\":[", urn, n
        for (i = 0; i < 20000; i++) printf "%s{\"value\":\"e%05d@example.org\",\"type\":\"work\"}", (i ? "," : ""), i
        printf "]}" }'
}
gen_values() {
    awk -v urn="$URN" 'BEGIN {
        printf "{\"schemas\":[\"%s\"],\"userName\":\"values\",\"emails\":[", urn
        for (i = 0; i < 60000; i++) printf "%s\"e%05d@x.org\"", (i ? "," : ""), i
        printf "]}" }'
}
gen_nodes() {
    awk -v urn="$URN" 'BEGIN {
        printf "{\"schemas\":[\"%s\"],\"userName\":\"nodes\",\"name\":{", urn
        for (i = 0; i < 100000; i++) printf "%s\"k%d\":1", (i ? "," : ""), i
        printf "}}" }'
}
gen_deep() {
    awk -v urn="$URN" 'BEGIN {
        printf "{\"schemas\":[\"%s\"],\"userName\":\"deep\",\"name\":", urn
        for (i = 0; i < 2000; i++) printf "["
        printf "1"
        for (i = 0; i < 2000; i++) printf "]"
        printf "}" }'
}
mkdir -p "$WORK/bodies"
gen_values >"$WORK/bodies/values.json"
gen_nodes >"$WORK/bodies/nodes.json"
gen_deep >"$WORK/bodies/deep.json"
KINDS="accepted values nodes deep"

# ---------- slapd ----------
ROOTPW=$(s2l_random_hex 12)
TOKEN=$(s2l_random_hex 24)
s2l_slapd_setup "$WORK/slapd" "all dbnosync" "$ROOTPW" || exit 1
LPORT=$(s2l_free_port)
s2l_slapd_start "$WORK/slapd" "$LPORT" || exit 1
s2l_slapd_load_base "$WORK/slapd" "$LPORT" "$ROOTPW" || exit 1

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# run_series MODE: a fresh gateway, then one burst per kind.
run_series() {
    local mode=$1 port base kind i before peak after statuses run=0
    port=$(s2l_free_port)
    # The default limits, except time: slapd indexes 20,000 mail values per accepted
    # request and serialises the writes, so the last of a burst waits longer than the
    # default 5 s / 30 s deadlines. The point here is memory, not latency.
    cat >"$WORK/gw-$mode.json" <<EOF
{
  "listen": "127.0.0.1:$port",
  "auth": { "bearer_tokens": ["$TOKEN"] },
  "ldap": { "uri": "ldap://127.0.0.1:$LPORT/", "bind_dn": "$S2L_ROOTDN", "bind_password": "$ROOTPW",
            "connections": 4, "timeout_ms": 300000 },
  "limits": { "request_timeout_ms": 300000 },
  "mapping": "$ROOT/mappings/openldap.json",
  "schemas": "$ROOT/schemas/scim"
}
EOF
    if [ "$mode" = untrimmed ]; then
        SCIM2LDAP_MALLOC_TRIM=0 "$GATEWAY" --config "$WORK/gw-$mode.json" 2>"$WORK/gw-$mode.log" &
    else
        "$GATEWAY" --config "$WORK/gw-$mode.json" 2>"$WORK/gw-$mode.log" &
    fi
    GW_PID=$!
    base="http://127.0.0.1:$port/scim/v2"
    s2l_wait_http "$base/ServiceProviderConfig" 20 "$GW_PID" || { tail "$WORK/gw-$mode.log" >&2; exit 1; }
    # Warm up: the pool connected, the first requests' one-time allocations done.
    for i in $(seq 1 20); do
        curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOKEN" "$base/Users?filter=userName%20eq%20%22w$i%22"
    done
    sleep 3
    local baseline
    baseline=$(kb "$GW_PID" VmRSS)
    for kind in $KINDS; do
        run=$((run + 1))
        if [ "$kind" = accepted ]; then
            for i in $(seq 1 "$PARALLEL"); do gen_accepted "mem-$mode-$i" >"$WORK/bodies/accepted-$i.json"; done
        fi
        before=$(kb "$GW_PID" VmRSS)
        echo 5 >"/proc/$GW_PID/clear_refs" # resets VmHWM to the current RSS
        local pids=()
        for i in $(seq 1 "$PARALLEL"); do
            local body="$WORK/bodies/$kind.json"
            [ "$kind" = accepted ] && body="$WORK/bodies/accepted-$i.json"
            curl -s -o /dev/null -w '%{http_code}\n' --max-time 300 -X POST "$base/Users" \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
                --data-binary "@$body" >>"$WORK/status-$mode-$kind.txt" &
            pids+=($!)
        done
        wait "${pids[@]}" || true
        peak=$(kb "$GW_PID" VmHWM)
        sleep 3
        after=$(kb "$GW_PID" VmRSS)
        statuses=$(sort "$WORK/status-$mode-$kind.txt" | uniq -c | awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$kind" "$statuses" "$baseline" "$before" "$peak" "$after" >>"$RESULTS"
        log "$mode $kind: $statuses; RSS before $(mb "$before") MB, peak $(mb "$peak") MB, 3 s after $(mb "$after") MB"
    done
    s2l_stop_pid "$GW_PID" 15 || true
    GW_PID=""
    # The accepted users are deleted directly so both series start from the same directory.
    ldapsearch -x -LLL -H "ldap://127.0.0.1:$LPORT/" -D "$S2L_ROOTDN" -w "$ROOTPW" -b "ou=people,$S2L_SUFFIX" \
        "(uid=mem-*)" 1.1 | awk '/^dn: / { print substr($0, 5) }' >"$WORK/dns.txt"
    [ -s "$WORK/dns.txt" ] && ldapdelete -x -H "ldap://127.0.0.1:$LPORT/" -D "$S2L_ROOTDN" -w "$ROOTPW" -f "$WORK/dns.txt"
}

run_series untrimmed
run_series trimmed

TABLE="$WORK/table.md"
{
    echo "| kind ($PARALLEL in parallel) | answers | RSS at start | before burst | peak (VmHWM) | 3 s after, glibc default | 3 s after, idle trim |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' '
        function mb(k) { return sprintf("%.1f MB", k / 1024) }
        $1 == "untrimmed" { ans[$2] = $3; base[$2] = $4; before[$2] = $5; peak[$2] = $6; plain[$2] = $7; order[++n] = $2 }
        $1 == "trimmed" { trim[$2] = $7; tb[$2] = $5; tp[$2] = $6 }
        END { for (i = 1; i <= n; i++) { k = order[i]
            printf "| %s | %s | %s | %s / %s | %s / %s | %s | %s |\n", k, ans[k], mb(base[k]), mb(before[k]), mb(tb[k]), mb(peak[k]), mb(tp[k]), mb(plain[k]), mb(trim[k]) } }
    ' "$RESULTS"
    echo
    echo "Before-burst and peak columns: glibc default / idle trim. $(nproc) cores, $(date -u +%Y-%m-%d)."
} >"$TABLE"
cat "$TABLE"

if [ "$WRITE" = 1 ]; then
    if grep -q '<!-- bench:memory:start -->' "$OUT_MD" 2>/dev/null; then
        awk -v table="$TABLE" '
            /<!-- bench:memory:start -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
            /<!-- bench:memory:end -->/ { skip = 0 }
            !skip { print }' "$OUT_MD" >"$WORK/out.md" && cp "$WORK/out.md" "$OUT_MD"
        log "table written into $OUT_MD"
    else
        log "no bench:memory markers in $OUT_MD: table not written"
    fi
fi
