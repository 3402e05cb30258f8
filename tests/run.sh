#!/usr/bin/env bash
# tests/run.sh — the project's test command.
#
#   bash tests/run.sh           build into build/ (RelWithDebInfo), run every ctest test
#                               (unit + integration), then Okta's SCIM conformance suite and
#                               the Azure reference Postman suite, each against a gateway
#                               on a throwaway slapd, when ../shared/conformance/run.sh
#                               exists next to the repository (newman comes from npm)
#   bash tests/run.sh --asan    build into build-asan/ with ASan+UBSan and run the same
#                               ctest suite (the conformance run is not repeated)
#
# Options: --no-conformance   skip the conformance suite
#          -j N               build jobs (default: nproc)
# Environment: S2L_CTEST_JOBS  parallel ctest jobs (default 1: integration tests
#                              time things and the machine may be shared)
#              OKTA_EXPECTED   assertions the Okta suite must pass (default 52)
#              AZURE_EXPECTED  assertions the Azure suite must pass (default 103: the two
#                              it fails are listed in azure_known_failures and README.md)
#              S2L_BUILD_DIR   build folder instead of build/ (build-asan/ with --asan)
#              S2L_REQUIRE_DIRECTORIES  1 (default as root): the Samba AD DC and 389-DS
#                              suites (ctest -L ad / -L 389ds) fail instead of skipping
#                              when their server cannot run
#
# Exit status 0 only if every step passed. Integration tests run with
# S2L_REQUIRE_GATEWAY=1: a gateway that cannot start is a failure here, not a skip.
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

asan=0
conformance=1
jobs=$(nproc 2>/dev/null || echo 2)
while (($#)); do
  case $1 in
    --asan) asan=1 ;;
    --no-conformance) conformance=0 ;;
    -j) jobs=${2:?-j needs a number}; shift ;;
    -j*) jobs=${1#-j} ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "tests/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# A fresh Debian 12 machine can run this directly: install what is missing.
# shellcheck source=tests/lib/packages.sh
source "$root/tests/lib/packages.sh"
s2l_ensure_packages "${S2L_BUILD_PACKAGES[@]}" || exit 1
# Samba AD DC and 389-DS run as root only; elsewhere their suites skip.
if ((EUID == 0)); then
  s2l_ensure_packages "${S2L_DIRECTORY_PACKAGES[@]}" || exit 1
fi
if ((conformance)) && [[ -f $root/../shared/conformance/run.sh ]] && ! command -v node >/dev/null; then
  s2l_ensure_packages nodejs || exit 1
fi
# The Azure suite runs with newman, which the suite's run.sh installs with npm.
if ((conformance && !asan)) && [[ -f $root/../shared/conformance/run.sh ]] && ! command -v npm >/dev/null; then
  s2l_ensure_packages npm || exit 1
fi

export S2L_REQUIRE_GATEWAY=1
# As root (CI) the Samba AD DC and 389-DS suites must run, not skip.
if ((EUID == 0)); then
  export S2L_REQUIRE_DIRECTORIES=${S2L_REQUIRE_DIRECTORIES:-1}
fi
summary=()
failed=0

step_result() { # name status seconds
  local mark=PASS
  (($2 == 0)) || { mark=FAIL; failed=1; }
  summary+=("$(printf '%-4s  %-34s %5ss' "$mark" "$1" "$3")")
}

run_step() { # name command...
  local name=$1 start rc
  shift
  printf '\n==== %s\n' "$name"
  start=$SECONDS
  "$@"
  rc=$?
  step_result "$name" "$rc" $((SECONDS - start))
  return "$rc"
}

print_summary() {
  printf '\n==== summary (%s, %s/)\n' "$([[ $asan == 1 ]] && echo "ASan+UBSan" || echo "RelWithDebInfo")" "$build"
  printf '%s\n' "${summary[@]}"
  if ((failed)); then
    echo "RESULT: FAILED"
  else
    echo "RESULT: all passed"
  fi
}

if ((asan)); then
  build=${S2L_BUILD_DIR:-build-asan}
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DS2L_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-}
else
  build=${S2L_BUILD_DIR:-build}
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

if ! run_step "configure ($build)" cmake -S . -B "$build" "${cmake_args[@]}" ||
   ! run_step "build" cmake --build "$build" -j"$jobs"; then
  print_summary
  exit 1
fi

run_step "ctest (unit + integration)" \
  ctest --test-dir "$build" --output-on-failure -j "${S2L_CTEST_JOBS:-1}"

# ---------------------------------------------------------------- conformance
suite="$root/../shared/conformance/run.sh"

cf_tmp=""
cf_gw_pid=""

# shellcheck disable=SC2317  # called from conformance_run and a trap
conformance_cleanup() {
  [[ -n $cf_gw_pid ]] && s2l_stop_pid "$cf_gw_pid" 5
  [[ -n ${S2L_SLAPD_PID:-} ]] && s2l_stop_pid "$S2L_SLAPD_PID" 5
  cf_gw_pid=""
  S2L_SLAPD_PID=""
  [[ -n $cf_tmp ]] && rm -rf "$cf_tmp"
  cf_tmp=""
}

# Runs the suite against a fresh slapd + gateway; 0 if it reports exactly the
# expected number of passed assertions and no failure, and the gateway then
# stops cleanly.
# shellcheck disable=SC2317  # invoked through run_step
conformance_run() {
  local expected=${OKTA_EXPECTED:-52}
  local rootpw token port gwport base rc=1 code line status
  # shellcheck source=tests/lib/slapd.sh
  source "$root/tests/lib/slapd.sh"
  if ! command -v node >/dev/null; then
    echo "node is needed to replay the Okta suite (install nodejs)"
    return 1
  fi
  if ! command -v curl >/dev/null; then
    echo "curl is needed to seed the directory (install curl)"
    return 1
  fi
  cf_tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-conformance-XXXXXX") || return 1
  trap 'conformance_cleanup; exit 130' INT TERM
  rootpw=$(s2l_random_hex 16)
  token=$(s2l_random_hex 24)
  S2L_SLAPD_PID=""

  if ! s2l_slapd_setup "$cf_tmp/slapd" "all dbnosync" "$rootpw" ||
     ! port=$(s2l_free_port) ||
     ! s2l_slapd_start "$cf_tmp/slapd" "$port" ||
     ! s2l_slapd_load_base "$cf_tmp/slapd" "$port" "$rootpw" ||
     ! gwport=$(s2l_free_port); then
    echo "could not start a throwaway slapd"
    conformance_cleanup
    return 1
  fi
  s2l_gateway_config "$cf_tmp/gateway.json" "127.0.0.1:$gwport" "ldap://127.0.0.1:$port/" "$rootpw" "$token"
  "$root/$build/scim2ldap" --config "$cf_tmp/gateway.json" 2>"$cf_tmp/gateway.log" &
  cf_gw_pid=$!
  base="http://127.0.0.1:$gwport/scim/v2"
  if ! s2l_wait_http "$base/ServiceProviderConfig" 20 "$cf_gw_pid" || ! s2l_wait_directory "$base" "$token" 20; then
    echo "the gateway did not start (or its LDAP pool did not bind); log tail:"
    tail -n 30 "$cf_tmp/gateway.log"
    conformance_cleanup
    return 1
  fi

  # The suite reads "the first user" and expects name, email and active on it.
  code=$(curl -s -o "$cf_tmp/seed.json" -w '%{http_code}' --max-time 10 -X POST "$base/Users" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' \
    --data '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed.user@example.org",
             "name":{"givenName":"Seed","familyName":"User"},
             "emails":[{"value":"seed.user@example.org","type":"work","primary":true}],"active":true}')
  if [[ $code != 201 ]]; then
    echo "seeding a user failed: HTTP $code: $(head -c 500 "$cf_tmp/seed.json")"
    tail -n 30 "$cf_tmp/gateway.log"
    conformance_cleanup
    return 1
  fi

  BASE=$base TOKEN=$token OUT="$cf_tmp/out" bash "$suite" okta | tee "$cf_tmp/suite.txt"
  line=$(grep '^okta:' "$cf_tmp/suite.txt" | head -n 1)
  if [[ $line =~ okta:\ +([0-9]+)\ passed,\ ([0-9]+)\ failed ]] &&
     ((BASH_REMATCH[1] == expected && BASH_REMATCH[2] == 0)); then
    rc=0
  else
    echo "expected \"$expected passed, 0 failed\"; the report:"
    tail -n 60 "$cf_tmp/out/okta.txt"
  fi

  # A clean shutdown is part of passing.
  s2l_stop_pid "$cf_gw_pid" 15
  status=$?
  cf_gw_pid=""
  if ((status == 124)); then
    echo "the gateway did not stop within 15 s of SIGTERM"
    rc=1
  elif ((status != 0)); then
    echo "the gateway exited with status $status on SIGTERM"
    rc=1
  fi
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$cf_tmp/gateway.log"; then
    echo "sanitizer report in the gateway log:"
    grep -A 20 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$cf_tmp/gateway.log" | head -n 40
    rc=1
  fi
  if ((rc != 0)); then
    echo "gateway log tail:"
    tail -n 20 "$cf_tmp/gateway.log"
  fi
  conformance_cleanup
  trap - INT TERM
  return "$rc"
}

# The Azure assertions scim2ldap fails on purpose, "<request> / <assertion>":
# the suite wants 204 from PATCH /Users; scim2ldap answers 200 with the user
# (behaviour.user_patch_returns_body, default true, because Okta reads it).
# With that option false the suite passes 105/105. See README.md, "Conformance".
azure_known_failures=(
  "Patch user omalley new username / Status code is 204"
  "patch user omalley active with boolean / Status code is 204"
)

# Runs the Azure reference suite against a fresh slapd + gateway (it wants an
# EMPTY directory); 0 if exactly AZURE_EXPECTED assertions pass and every
# failure is a known one, and the gateway then stops cleanly.
# shellcheck disable=SC2317  # invoked through run_step
azure_run() {
  local expected=${AZURE_EXPECTED:-103}
  local rootpw token port gwport base rc=1 status line known f
  # shellcheck source=tests/lib/slapd.sh
  source "$root/tests/lib/slapd.sh"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are needed to run the Azure suite with newman (install nodejs, npm)"
    return 1
  fi
  cf_tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-azure-XXXXXX") || return 1
  trap 'conformance_cleanup; exit 130' INT TERM
  rootpw=$(s2l_random_hex 16)
  token=$(s2l_random_hex 24)
  S2L_SLAPD_PID=""
  if ! s2l_slapd_setup "$cf_tmp/slapd" "all dbnosync" "$rootpw" ||
     ! port=$(s2l_free_port) ||
     ! s2l_slapd_start "$cf_tmp/slapd" "$port" ||
     ! s2l_slapd_load_base "$cf_tmp/slapd" "$port" "$rootpw" ||
     ! gwport=$(s2l_free_port); then
    echo "could not start a throwaway slapd"
    conformance_cleanup
    return 1
  fi
  s2l_gateway_config "$cf_tmp/gateway.json" "127.0.0.1:$gwport" "ldap://127.0.0.1:$port/" "$rootpw" "$token"
  "$root/$build/scim2ldap" --config "$cf_tmp/gateway.json" 2>"$cf_tmp/gateway.log" &
  cf_gw_pid=$!
  base="http://127.0.0.1:$gwport/scim/v2"
  if ! s2l_wait_http "$base/ServiceProviderConfig" 20 "$cf_gw_pid" || ! s2l_wait_directory "$base" "$token" 20; then
    echo "the gateway did not start (or its LDAP pool did not bind); log tail:"
    tail -n 30 "$cf_tmp/gateway.log"
    conformance_cleanup
    return 1
  fi

  BASE=$base TOKEN=$token OUT="$cf_tmp/out" bash "$suite" azure | tee "$cf_tmp/suite.txt"
  line=$(grep '^azure:' "$cf_tmp/suite.txt" | head -n 1)
  # "<request> / <assertion>" of every failed assertion, one per line
  node -e 'const r=require(process.argv[1]);for(const f of r.run.failures)console.log(`${f.source&&f.source.name} / ${f.error&&f.error.test}`)' \
    "$cf_tmp/out/azure.json" >"$cf_tmp/failures.txt" 2>/dev/null
  if [[ $line =~ azure:\ +([0-9]+)\ passed,\ ([0-9]+)\ failed ]] && ((BASH_REMATCH[1] >= expected)); then
    rc=0
    while IFS= read -r f; do
      known=0
      for k in "${azure_known_failures[@]}"; do [[ $f == "$k" ]] && known=1; done
      if ((!known)); then
        echo "unexpected Azure failure: $f"
        rc=1
      fi
    done <"$cf_tmp/failures.txt"
  else
    echo "expected at least $expected passed assertions; the report:"
    cat "$cf_tmp/failures.txt"
    tail -n 80 "$cf_tmp/out/azure.txt"
  fi

  s2l_stop_pid "$cf_gw_pid" 15
  status=$?
  cf_gw_pid=""
  if ((status != 0)); then
    echo "the gateway exited with status $status on SIGTERM"
    rc=1
  fi
  if ((rc != 0)); then
    echo "gateway log tail:"
    tail -n 20 "$cf_tmp/gateway.log"
  fi
  conformance_cleanup
  trap - INT TERM
  return "$rc"
}

if ((!asan && conformance)); then
  if [[ -f $suite ]]; then
    run_step "conformance: Okta SCIM 2.0 spec test" conformance_run
    run_step "conformance: Azure reference suite" azure_run
  else
    echo "(no $suite next to the repository: conformance suite skipped)"
  fi
fi

print_summary
exit "$failed"
