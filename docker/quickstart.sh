#!/usr/bin/env bash
# docker/quickstart.sh — try scim2ldap in one command on Debian 12 (no Docker needed).
#
#   bash docker/quickstart.sh             gateway on http://127.0.0.1:8080/scim/v2
#   PORT=9090 bash docker/quickstart.sh   another port
#   HOST=0.0.0.0 bash docker/quickstart.sh  listen on every interface (put TLS in
#                                          front before an IdP on the internet uses it)
#   S2L_BUILD_DIR=/path                    build folder (default: build/ in the repository)
#
# Installs missing packages (apt-get, needs root or sudo), builds the gateway,
# starts a throwaway slapd (temporary folder, free loopback port, our schema,
# ppolicy with a default policy, memberof, refint, sssvlv, base entries under
# dc=example,dc=org), generates a bearer token, starts the gateway and prints the
# Tenant URL and Secret Token to paste into an IdP. Stays in the foreground with
# the gateway's log; Ctrl-C stops both and deletes the temporary folder.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
build=${S2L_BUILD_DIR:-$root/build}

say() { printf '\033[1m%s\033[0m\n' "$*"; }

# ---------------------------------------------------------------- packages
# shellcheck source=tests/lib/packages.sh
source "$root/tests/lib/packages.sh"
s2l_ensure_packages "${S2L_BUILD_PACKAGES[@]}" || exit 1

# ---------------------------------------------------------------- build
say "Building the gateway in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target scim2ldap -j"$(nproc)" >/dev/null

# shellcheck source=tests/lib/slapd.sh
source "$root/tests/lib/slapd.sh"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is already in use; try PORT=$((PORT + 1)) bash $0" >&2
  exit 1
fi

# ---------------------------------------------------------------- slapd
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scim2ldap-quickstart-XXXXXX")
gw_pid=""
S2L_SLAPD_PID=""
# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  echo
  say "Stopping"
  if [[ -n $gw_pid ]]; then s2l_stop_pid "$gw_pid" 15 || true; fi
  if [[ -n $S2L_SLAPD_PID ]]; then s2l_stop_pid "$S2L_SLAPD_PID" 15 || true; fi
  rm -rf "$tmp"
  echo "Removed $tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rootpw=$(s2l_random_hex 12)
token=$(s2l_random_hex 24)
say "Starting slapd in $tmp"
s2l_slapd_setup "$tmp/slapd" "all" "$rootpw"
ldap_port=$(s2l_free_port)
s2l_slapd_start "$tmp/slapd" "$ldap_port"
s2l_slapd_load_base "$tmp/slapd" "$ldap_port" "$rootpw"

# ---------------------------------------------------------------- gateway
s2l_gateway_config "$tmp/scim2ldap.json" "$HOST:$PORT" "ldap://127.0.0.1:$ldap_port/" "$rootpw" "$token"
say "Starting the gateway"
"$build/scim2ldap" --config "$tmp/scim2ldap.json" &
gw_pid=$!
url_host=$HOST
[[ $url_host == 0.0.0.0 ]] && url_host=127.0.0.1
base="http://$url_host:$PORT/scim/v2"
if ! s2l_wait_http "$base/ServiceProviderConfig" 20 "$gw_pid"; then
  echo "The gateway did not start (see its log above)." >&2
  exit 1
fi

cat <<EOF

  scim2ldap is running.

  Tenant URL:    $base
  Secret Token:  $token

  Try it:
    curl -s -H "Authorization: Bearer $token" $base/ServiceProviderConfig
    curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' \\
      -d '{"userName":"jdoe@example.org","name":{"givenName":"Jane","familyName":"Doe"},"emails":[{"value":"jdoe@example.org","primary":true}],"active":true}' \\
      $base/Users

  The directory behind it:
    ldapsearch -x -H ldap://127.0.0.1:$ldap_port/ -D $S2L_ROOTDN -w $rootpw -b $S2L_SUFFIX

  Config: $tmp/scim2ldap.json   Ctrl-C stops the gateway and slapd and deletes $tmp.

EOF

# In the foreground until the gateway exits or Ctrl-C.
set +e
wait "$gw_pid"
status=$?
gw_pid=""
((status == 0 || status == 130)) || echo "The gateway exited with status $status." >&2
exit "$status"
