#!/usr/bin/env bash
# profile.sh — instructions per request of the gateway (callgrind), by scenario.
#
#   bash tests/bench/profile.sh [BUILD_DIR] [N]      (default build, 2000 requests)
#
# Starts a private slapd (dbnosync) and the gateway under valgrind --tool=callgrind
# (collection off until the measured part), creates N users through the gateway, then for
# each scenario (GET by id, GET filter, PATCH one modify, PATCH with fetch, DELETE) zeroes
# the counters, runs N requests with s2l_loadgen at concurrency 4 and dumps: the line printed
# is the gateway's instructions per request (Ir / N, its whole process: event loop, HTTP,
# JSON, libldap). The dumps stay in the work directory (callgrind_annotate FILE) with
# S2L_BENCH_KEEP=1. Not part of CI (valgrind is slow); numbers go to BENCHMARKS.md.
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
    '"log_level": "info"'
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$WORK/cg.%p" \
    "$BUILD/scim2ldap" --config "$WORK/gw.json" >"$WORK/gw.log" 2>&1 &
GPID=$!
s2l_wait_http "http://127.0.0.1:$HPORT/scim/v2/ServiceProviderConfig" 60 "$GPID"
s2l_wait_directory "http://127.0.0.1:$HPORT/scim/v2" "$TOKEN" 30

LG=("$BUILD/tests/bench/s2l_loadgen" --port "$HPORT" --token "$TOKEN" --concurrency 4 --timeout 60000)
"${LG[@]}" --count "$N" --duration 600 --prefix prof --ids "$WORK/ids" post-users >/dev/null

measure() {  # measure LABEL SCENARIO [ARGS...]
    local label=$1
    shift
    callgrind_control -z "$GPID" >/dev/null
    callgrind_control -i on "$GPID" >/dev/null
    "${LG[@]}" --count "$N" --duration 600 --ids "$WORK/ids" "$@" >/dev/null
    callgrind_control -i off "$GPID" >/dev/null
    callgrind_control -d "$label" "$GPID" >/dev/null
    local f
    f=$(ls -t "$WORK"/cg.* | head -1)
    local ir
    ir=$(awk '/^summary:/ {print $2}' "$f")
    printf '%-28s %10.0f instructions/request\n' "$label" "$(echo "$ir / $N" | bc -l)"
}

measure "GET by id" get-id
measure "GET filter" get-filter
measure "PATCH title (one modify)" patch-title
measure "PATCH user (fetch first)" patch-user
measure "DELETE user" delete-user
