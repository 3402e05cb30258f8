#!/usr/bin/env bash
# profile.sh — instructions per request of the gateway (callgrind), by scenario.
#
#   bash tests/bench/profile.sh [BUILD_DIR] [N]      (default build, 2000 requests;
#                                                    S2L_PROFILE_WORKERS: the gateway's workers, default 1;
#                                                    S2L_PROFILE_CONFIG: more configuration, e.g.
#                                                    '"behaviour": {"direct_put": false}';
#                                                    S2L_LOADGEN: another s2l_loadgen)
#
# Starts a private slapd (dbnosync) and the gateway under valgrind --tool=callgrind
# (collection off until the measured part), creates N users through the gateway, then for
# each scenario (GET by id, GET filter, PATCH one modify, PATCH with fetch, PUT of the whole
# profile, DELETE) zeroes the counters, runs N requests with s2l_loadgen at concurrency 4 and
# dumps: the line printed is the gateway's instructions per request (Ir / N, its whole
# process: event loop, HTTP, JSON, libldap). The dumps stay in the work directory
# (callgrind_annotate FILE) with S2L_BENCH_KEEP=1. Not part of CI (valgrind is slow); numbers
# go to BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
N=${2:-2000}
# shellcheck source=../lib/slapd.sh
source "$ROOT/tests/lib/slapd.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/s2l-profile.XXXXXX")
ROOTPW=profile-secret TOKEN=profile-token-0123456789
SPID="" GPID=""
cleanup() {
    [ -n "$GPID" ] && s2l_stop_pid "$GPID" 20 >/dev/null 2>&1 || true
    [ -n "$SPID" ] && s2l_stop_pid "$SPID" 5 >/dev/null 2>&1 || true
    if [ "${S2L_BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

LPORT=$(s2l_free_port)
s2l_slapd_setup "$WORK/slapd" "ppolicy memberof sssvlv dbnosync" "$ROOTPW"
s2l_slapd_start "$WORK/slapd" "$LPORT"
SPID=$S2L_SLAPD_PID
s2l_slapd_load_base "$WORK/slapd" "$LPORT" "$ROOTPW"

HPORT=$(s2l_free_port)
s2l_gateway_config "$WORK/gw.json" "127.0.0.1:$HPORT" "ldap://127.0.0.1:$LPORT/" "$ROOTPW" "$TOKEN" \
    "\"log_level\": \"info\", \"workers\": ${S2L_PROFILE_WORKERS:-1}${S2L_PROFILE_CONFIG:+, $S2L_PROFILE_CONFIG}"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.%p" \
    "$BUILD/scim2ldap" --config "$WORK/gw.json" >"$WORK/gw.log" 2>&1 &
GPID=$!
s2l_wait_http "http://127.0.0.1:$HPORT/scim/v2/ServiceProviderConfig" 60 "$GPID"
s2l_wait_directory "http://127.0.0.1:$HPORT/scim/v2" "$TOKEN" 30

LG=("${S2L_LOADGEN:-$BUILD/tests/bench/s2l_loadgen}" --port "$HPORT" --token "$TOKEN" --concurrency 4 --timeout 60)
"${LG[@]}" --count "$N" --duration 600 --prefix prof --ids "$WORK/ids" post-users >/dev/null

# valgrind reads a control command only when the gateway runs: an idle one sits in
# epoll_wait, so each command is followed by one small request that wakes it up.
ctl() {
    callgrind_control "$@" "$GPID" >/dev/null &
    local p=$!
    sleep 0.3
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$HPORT/scim/v2/ServiceProviderConfig" || true
    wait "$p"
}

measure() {  # measure LABEL SCENARIO [ARGS...]
    local label=$1
    shift
    ctl -i on
    ctl -z
    "${LG[@]}" --count "$N" --duration 600 --ids "$WORK/ids" "$@" >/dev/null
    ctl -d
    ctl -i off
    local f
    f=$(ls -t "$WORK"/cg.* | head -1)
    local ir
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
    printf '%-28s %10.0f instructions/request\n' "$label" "$(echo "$ir / $N" | bc -l)"
}

measure "GET by id" get-id
measure "GET filter" get-filter
measure "PATCH title (one modify)" patch-title
measure "PATCH user (fetch first)" patch-user
measure "PUT user (whole profile)" put-user
measure "DELETE user" delete-user
