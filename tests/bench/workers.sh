#!/usr/bin/env bash
# workers.sh — the gateway with one event loop next to the gateway with two ("workers"),
# each next to raw libldap on its own slapd in the same run.
#
#   bash tests/bench/workers.sh [--levels "16 64"] [--modes nosync] [--out FILE]
#
# Runs tests/bench/run.sh --users-only twice (--workers 1, then --workers 2), slapd with
# `dbnosync` by default so that slapd is not the limit for reads, and prints, per scenario
# and level: the gateway's rate at 1 and 2 workers and their ratio, the gateway's CPU per
# request (all its threads: utime+stime over the measured window) at 1 and 2 workers, and
# each run's gateway/raw ratio. Then the gateway alone (no LDAP in the request: GET
# /ServiceProviderConfig, still authenticated, routed, rendered and logged) at 1 and 2
# workers against one slapd, where only the load generator shares the cores. The tables go
# between the bench:workers markers of BENCHMARKS.md (--out). ~6 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LEVELS="16 64 256"
MODES="nosync"
OUT_MD="$ROOT/BENCHMARKS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --levels) LEVELS=$2; shift ;;
        --modes) MODES=$2; shift ;;
        --out) OUT_MD=$2; shift ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "workers.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

WORK=$(mktemp -d /tmp/s2l-bench-workers.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
for w in 1 2; do
    bash "$ROOT/tests/bench/run.sh" --users-only --modes "$MODES" --levels "$LEVELS" --workers "$w" \
        --out "$WORK/w$w.md" --results "$WORK/w$w.tsv" >"$WORK/w$w.log" 2>&1 ||
        { tail -30 "$WORK/w$w.log" >&2; exit 1; }
done

# ---- the gateway alone: requests that never reach LDAP ----
# shellcheck source=../lib/slapd.sh
source "$ROOT/tests/lib/slapd.sh"
BUILD=${S2L_BENCH_BUILD_DIR:-$ROOT/build-bench}
LOADGEN="$BUILD/tests/bench/s2l_loadgen"
ROOTPW=bench-secret TOKEN=bench-token-0123456789abcdef
LPORT=$(s2l_free_port)
s2l_slapd_setup "$WORK/slapd" "dbnosync" "$ROOTPW"
s2l_slapd_start "$WORK/slapd" "$LPORT"
SPID=$S2L_SLAPD_PID
GPID=""
trap '[ -n "$GPID" ] && s2l_stop_pid "$GPID" 10; s2l_stop_pid "$SPID" 5; rm -rf "$WORK"' EXIT
s2l_slapd_load_base "$WORK/slapd" "$LPORT" "$ROOTPW"
: >"$WORK/alone.tsv"
for w in 1 2; do
    HPORT=$(s2l_free_port)
    s2l_gateway_config "$WORK/gw$w.json" "127.0.0.1:$HPORT" "ldap://127.0.0.1:$LPORT/" "$ROOTPW" "$TOKEN" \
        "\"log_level\": \"info\", \"workers\": $w"
    "$BUILD/scim2ldap" --config "$WORK/gw$w.json" 2>"$WORK/gw$w.log" &
    GPID=$!
    s2l_wait_http "http://127.0.0.1:$HPORT/scim/v2/ServiceProviderConfig" 30 "$GPID"
    for c in 16 64; do
        "$LOADGEN" --port "$HPORT" --token "$TOKEN" --concurrency "$c" --count 400000 --duration 5 --timeout 30 \
            --pid "$GPID" --tag "w$w" --label "GET /ServiceProviderConfig" --out "$WORK/alone.tsv" \
            --path /scim/v2/ServiceProviderConfig get-path 2>>"$WORK/alone.log" || true
    done
    s2l_stop_pid "$GPID" 10 || true
    GPID=""
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# Rows: 1 mode 2 side 3 scenario 4 c 5 issued 6 ok 7 errors 8 elapsed 9 ops/s ... 13 cpu_s_per_1k
# (gateway CPU seconds per 1,000 requests = ms per request).
report() {
    echo "## Workers: one event loop vs two"
    echo
    echo "- CPU: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); both runs took $(( $(date +%s) - T0 ))s;" \
         "load average at the start: $LOAD_START, at the end: $LOAD_END"
    echo "- tests/bench/run.sh --users-only --modes \"$MODES\" --levels \"$LEVELS\", once with \"workers\": 1 and once"
    echo "  with \"workers\": 2 (4 LDAP connections per worker); each run has its own slapd and its own raw libldap rows."
    echo
    echo "| mode | scenario | c | gw req/s w1 | gw req/s w2 | w2 / w1 | gw CPU ms/req w1 | w2 | gw/raw w1 | gw/raw w2 |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '
        FNR == 1 { run++ }
        { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; ops[run, k] = ($6 > 0 ? $9 : ""); cpu[run, k] = $13
          if ($2 == "gw" && !((k) in seen)) { seen[k] = 1; order[++n] = k } }
        function r(a, b) { return (a == "" || b == "" || b <= 0) ? "n/a" : sprintf("%.2f", a / b) }
        function f(v, fmt) { return (v == "" || v < 0) ? "n/a" : sprintf(fmt, v) }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]; split(k, p, SUBSEP)
                raw = p[1] SUBSEP "raw" SUBSEP p[3] SUBSEP p[4]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[3], p[4],
                    f(ops[1, k], "%.0f"), f(ops[2, k], "%.0f"), r(ops[2, k], ops[1, k]),
                    f(cpu[1, k], "%.3f"), f(cpu[2, k], "%.3f"),
                    r(ops[1, k], ops[1, raw]), r(ops[2, k], ops[2, raw])
            }
        }' "$WORK/w1.tsv" "$WORK/w2.tsv"
    echo
    echo "The gateway alone (GET /ServiceProviderConfig: authenticated, routed, rendered, logged; no LDAP):"
    echo
    echo "| c | req/s w1 | req/s w2 | w2 / w1 | gw CPU ms/req w1 | w2 |"
    echo "|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '
        { ops[$1, $4] = $9; cpu[$1, $4] = $13; if (!($4 in seen)) { seen[$4] = 1; cs[++n] = $4 } }
        function r(a, b) { return (a == "" || b == "" || b <= 0) ? "n/a" : sprintf("%.2f", a / b) }
        END { for (i = 1; i <= n; i++) { c = cs[i]
                printf "| %s | %.0f | %.0f | %s | %.3f | %.3f |\n", c, ops["w1", c], ops["w2", c],
                    r(ops["w2", c], ops["w1", c]), cpu["w1", c], cpu["w2", c] } }' "$WORK/alone.tsv"
}
report >"$WORK/report.md"
cat "$WORK/report.md"

BEGIN_MARK='<!-- bench:workers:begin -->'
END_MARK='<!-- bench:workers:end -->'
if [ -f "$OUT_MD" ] && grep -q "$BEGIN_MARK" "$OUT_MD" && grep -q "$END_MARK" "$OUT_MD"; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v r="$WORK/report.md" '
        $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
        $0 == e { skip = 0 }
        !skip' "$OUT_MD" >"$WORK/out.md"
    cp "$WORK/out.md" "$OUT_MD"
else
    { [ -f "$OUT_MD" ] && cat "$OUT_MD"; echo; echo "$BEGIN_MARK"; cat "$WORK/report.md"; echo "$END_MARK"; } >"$WORK/out.md"
    cp "$WORK/out.md" "$OUT_MD"
fi
echo "written to $OUT_MD" >&2
