#!/usr/bin/env bash
# tests/cli/docker_pair_check.sh — static checks of docker/pair/ (the provider pair with
# several gateways behind haproxy; containers cannot run on the CI machines): ctest
# "cli.docker_pair". docker/docker-compose.yml and the images are tests/cli/docker_check.sh's.
#
#   bash tests/cli/docker_pair_check.sh [SCIM2LDAP_BINARY]
#
# For docker/pair/docker-compose.yml:
#   - every build context, Dockerfile, file a Dockerfile COPYs and bind-mounted file exists;
#   - every depends_on names a service of the file;
#   - the gateway configuration next to the compose file passes `scim2ldap --check-config`
#     (image paths mapped to the repository), and the hosts of its ldap.uri are services;
#   - every slapd service's configuration, rendered by docker/slapd/entrypoint.sh from its
#     compose environment, passes slaptest; providers of a pair have distinct serverIDs and
#     each one's peer is the other (its URI a service, its serverID the peer's);
#   - haproxy.cfg (pair): the servers are the gateway service on the gateway's port, the
#     health check is the gateway's base_path, and there are slots for every replica.
# Prints one line per check; exit status 1 if any failed. Needs slapd (slaptest,
# slappasswd) and, for --check-config, the gateway binary (default build/scim2ldap).
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-$root/build/scim2ldap}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-docker-check-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0

ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
rel() { printf '%s' "${1#"$root"/}"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# ---------------------------------------------------------------- a little compose reading
# Enough YAML for our own compose files: two-space indentation, one key per line.

services() { # services FILE: the service names
  awk '/^services:/ {in_s = 1; next} /^[^ #]/ {in_s = 0} in_s && /^  [A-Za-z0-9_.-]+:[[:space:]]*$/ {
         sub(/^  /, ""); sub(/:.*/, ""); print }' "$1"
}

service_value() { # service_value FILE SERVICE KEY: the first "KEY: value" inside the service's block
  awk -v svc="$2" -v key="$3" '
    /^services:/ {in_s = 1; next}
    /^[^ #]/ {in_s = 0}
    in_s && /^  [A-Za-z0-9_.-]+:/ {cur = $1; sub(/:.*/, "", cur); next}
    in_s && cur == svc {
      line = $0; sub(/^[[:space:]]+/, "", line)
      if (index(line, key ":") == 1) {
        v = substr(line, length(key) + 2); sub(/^[[:space:]]+/, "", v); gsub(/^"|"$/, "", v); print v; exit
      }
    }' "$1"
}

service_block() { # service_block FILE SERVICE: the lines of the service, incl. a merged <<: *anchor
  awk -v svc="$2" '
    /^services:/ {in_s = 1; next}
    /^[^ #]/ {in_s = 0}
    in_s && /^  [A-Za-z0-9_.-]+:/ {cur = $1; sub(/:.*/, "", cur); next}
    in_s && cur == svc {print}' "$1"
}

anchor_block() { # anchor_block FILE NAME: the top-level "x-...: &NAME" block
  awk -v name="$2" '$0 ~ "^[a-z-]+: &" name "$" {on = 1; next} /^[^ #]/ {on = 0} on {print}' "$1"
}

# ---------------------------------------------------------------- per compose file

check_dockerfile() { # check_dockerfile CONTEXT DOCKERFILE
  local ctx=$1 df=$2 src missing=""
  [[ -f $ctx/$df ]] || return 1
  # COPY sources (not --from= stages) relative to the context.
  while read -r src; do
    [[ -e $ctx/$src ]] || missing+=" $src"
  done < <(awk '/^COPY / && !/--from=/ {for (i = 2; i < NF; i++) print $i}' "$ctx/$df")
  [[ -z $missing ]] || { echo "      $df: missing COPY sources:$missing"; return 1; }
}

check_builds() { # check_builds COMPOSE
  local f=$1 dir ctx df n=0
  dir=$(dirname "$f")
  while read -r ctx df; do
    n=$((n + 1))
    check "$(rel "$f"): build context $ctx with $df (and what it COPYs)" check_dockerfile "$dir/$ctx" "$df"
  done < <(awk '/context:/ {c = $2} /dockerfile:/ {print c, $2}' "$f")
  ((n > 0)) || bad "$(rel "$f"): no build found"
}

check_mounts() { # check_mounts COMPOSE: bind mounts "- ./x:/y" exist
  local f=$1 dir m
  dir=$(dirname "$f")
  while read -r m; do
    check "$(rel "$f"): bind-mounted $m exists" test -e "$dir/$m"
  done < <(sed -n 's/^ *- *\(\.[^:]*\):.*/\1/p' "$f")
}

check_depends() { # check_depends COMPOSE: every depends_on target is a service
  local f=$1 svcs dep
  svcs=" $(services "$f" | tr '\n' ' ') "
  while read -r dep; do
    check "$(rel "$f"): depends_on $dep is a service" test "${svcs/ $dep /}" != "$svcs"
  done < <(awk '/depends_on:/ {d = 1; ind = match($0, /[^ ]/); next}
                d && match($0, /[^ ]/) <= ind {d = 0}
                d && /^ *- / {sub(/^ *- */, ""); print; next}
                d && /^ *[A-Za-z0-9_.-]+:[[:space:]]*$/ && match($0, /[^ ]/) == ind + 2 {sub(/^ */, ""); sub(/:.*/, ""); print}' "$f")
}

gateway_config_ok() { # gateway_config_ok CONFIG: --check-config with image paths mapped to the repository
  local cfg=$1 copy=$tmp/$(basename "$(dirname "$1")")-gateway.json
  sed "s|/usr/share/scim2ldap/|$root/|g" "$cfg" >"$copy"
  SCIM2LDAP_BEARER_TOKENS=check-token-0123456789abcdef SCIM2LDAP_BIND_PASSWORD=x "$bin" --check-config "$copy" \
    >"$tmp/check-config.log" 2>&1 || { sed 's/^/      /' "$tmp/check-config.log"; return 1; }
}

check_gateway() { # check_gateway COMPOSE CONFIG
  local f=$1 cfg=$2 host svcs
  if [[ -x $bin ]]; then
    check "$(rel "$cfg"): scim2ldap --check-config" gateway_config_ok "$cfg"
  else
    bad "$(rel "$cfg"): no gateway binary at $bin to check it with (build first)"
  fi
  svcs=" $(services "$f" | tr '\n' ' ') "
  while read -r host; do
    check "$(rel "$cfg"): ldap host $host is a service of $(rel "$f")" test "${svcs/ $host /}" != "$svcs"
  done < <(grep -o 'ldap[si]\?://[A-Za-z0-9_.-]*' "$cfg" | sed 's|.*://||' | sort -u)
}

render_slapd() { # render_slapd COMPOSE SERVICE: the service's slapd.conf via the entrypoint
  local f=$1 svc=$2 id peer_id peer_uri overlays
  overlays=$(service_value "$f" "$svc" SLAPD_OVERLAYS)
  id=$(service_value "$f" "$svc" SLAPD_SERVER_ID)
  peer_id=$(service_value "$f" "$svc" SLAPD_PEER_ID)
  peer_uri=$(service_value "$f" "$svc" SLAPD_PEER_URI)
  env -u SLAPD_OVERLAYS ${overlays:+SLAPD_OVERLAYS="$overlays"} S2L_ROOT="$root" SLAPD_DATA_DIR="$tmp/$svc" \
    LDAP_ADMIN_PASSWORD=check-password \
    SLAPD_SERVER_ID="$id" SLAPD_PEER_ID="$peer_id" SLAPD_PEER_URI="$peer_uri" \
    bash "$root/docker/slapd/entrypoint.sh" --setup-only >"$tmp/$svc.log" 2>&1 ||
    { sed 's/^/      /' "$tmp/$svc.log"; return 1; }
}

is_slapd_service() { # is_slapd_service COMPOSE SERVICE
  local anchor
  service_block "$1" "$2" | grep -q 'dockerfile: docker/slapd/Dockerfile' && return 0
  anchor=$(service_block "$1" "$2" | sed -n 's/.*<<: \*\([A-Za-z0-9_-]*\).*/\1/p' | head -n 1)
  [[ -n $anchor ]] && anchor_block "$1" "$anchor" | grep -q 'dockerfile: docker/slapd/Dockerfile'
}

check_providers() { # check_providers COMPOSE
  local f=$1 svc peer peer_host ids=() want
  local -A id_of=()
  for svc in $(services "$f"); do
    is_slapd_service "$f" "$svc" || continue
    check "$(rel "$f"): $svc's slapd.conf renders and passes slaptest" render_slapd "$f" "$svc"
    id_of[$svc]=$(service_value "$f" "$svc" SLAPD_SERVER_ID)
    [[ -n ${id_of[$svc]} ]] && ids+=("${id_of[$svc]}")
  done
  ((${#id_of[@]} > 0)) || { bad "$(rel "$f"): no slapd service"; return; }
  ((${#ids[@]} == 0)) && return 0 # a single directory, no replication
  local ovl=()
  for svc in "${!id_of[@]}"; do
    [[ -n ${id_of[$svc]} ]] && ovl+=("$(service_value "$f" "$svc" SLAPD_OVERLAYS)")
  done
  check "$(rel "$f"): every provider runs the same overlays (${ovl[0]:-the default})" \
    test "$(printf '%s\n' "${ovl[@]}" | sort -u | wc -l)" -eq 1
  check "$(rel "$f"): serverIDs are distinct (${ids[*]})" test "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" -eq "${#ids[@]}"
  check "$(rel "$f"): every provider has a serverID" test "${#ids[@]}" -eq "${#id_of[@]}"
  for svc in "${!id_of[@]}"; do
    peer=$(service_value "$f" "$svc" SLAPD_PEER_URI)
    peer_host=${peer#*://}
    peer_host=${peer_host%%[:/]*}
    want=$(service_value "$f" "$svc" SLAPD_PEER_ID)
    check "$(rel "$f"): $svc replicates from $peer_host, another provider" \
      test -n "${id_of[$peer_host]:-}" -a "$peer_host" != "$svc"
    check "$(rel "$f"): $svc's SLAPD_PEER_ID $want is $peer_host's serverID" test "${id_of[$peer_host]:-x}" = "$want"
    check "$(rel "$f"): $svc's slapd.conf replicates from $peer" grep -q "provider=$peer " "$tmp/$svc/slapd.conf"
  done
}

check_haproxy() { # check_haproxy COMPOSE CONFIG HAPROXY_CFG
  local f=$1 cfg=$2 hap=$3 line host port listen_port base_path slots replicas svc
  check "$(rel "$f"): haproxy.cfg is mounted where the official image reads it" \
    grep -q "$(basename "$hap"):/usr/local/etc/haproxy/haproxy.cfg" "$f"
  line=$(grep -E '^[[:space:]]*server-template[[:space:]]' "$hap" | head -n 1)
  [[ -n $line ]] || { bad "$(rel "$hap"): no server-template line"; return; }
  read -r _ _ slots hostport _ <<<"$line"
  host=${hostport%:*}
  port=${hostport##*:}
  listen_port=$(sed -n 's/.*"listen": *"[^"]*:\([0-9]*\)".*/\1/p' "$cfg")
  base_path=$(sed -n 's/.*"base_path": *"\([^"]*\)".*/\1/p' "$cfg")
  svc=$(services "$f" | grep -x "$host")
  check "$(rel "$hap"): servers are the compose service \"$host\"" test -n "$svc"
  check "$(rel "$hap"): server port $port is the gateway's listen port ($listen_port)" test "$port" = "$listen_port"
  check "$(rel "$hap"): health check on $base_path/ServiceProviderConfig" \
    grep -q "option httpchk GET $base_path/ServiceProviderConfig" "$hap"
  replicas=$(service_value "$f" "$host" replicas)
  check "$(rel "$hap"): $slots slots for ${replicas:-1} replicas" test "$slots" -ge "${replicas:-1}"
  check "$(rel "$hap"): never retries a request a gateway may have received" \
    bash -c "! grep -E '^[[:space:]]*retry-on' '$hap' | grep -qvE 'retry-on[[:space:]]+conn-failure[[:space:]]*$'"
}

for compose in "$root/docker/pair/docker-compose.yml"; do
  rel=${compose#"$root"/}
  if [[ ! -f $compose ]]; then
    bad "$rel: missing"
    continue
  fi
  dir=$(dirname "$compose")
  f=$compose
  check_builds "$f"
  check_mounts "$f"
  check_depends "$f"
  cfg=$dir/scim2ldap.json
  check_gateway "$f" "$cfg"
  check_providers "$f"
  [[ -f $dir/haproxy.cfg ]] && check_haproxy "$f" "$cfg" "$dir/haproxy.cfg"
done

echo "$passed passed, $failed failed"
((failed == 0))
