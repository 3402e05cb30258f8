#!/usr/bin/env bash
# tests/cli/docker_check.sh — static checks of docker/ (containers cannot run
# on the CI machines), run by ctest.
#
#   bash tests/cli/docker_check.sh BINARY
#
# 1. Both Dockerfiles are "built" by a small emulator: every COPY from the
#    build context (the repository, as docker-compose.yml says) must name
#    files that exist and that <Dockerfile>.dockerignore does not exclude;
#    the final stage's file system is assembled in a temporary folder (COPY
#    --from=build of the compiled binary takes BINARY).
# 2. In the gateway image: ENTRYPOINT, HEALTHCHECK and CMD name files that are
#    there; its configuration (docker/scim2ldap.json) passes --check-config
#    against the mapping and schemas where the image has them; listen port,
#    EXPOSE, the health check's port and the published port agree; the LDAP
#    URI names the compose service.
# 3. In the OpenLDAP image: the entrypoint's helper and templates are where it
#    sources them, and the slapd.conf it renders (with its default overlays)
#    passes slaptest and is exactly what the tests' template
#    (tests/slapd/slapd.conf.in, also used by the C harness) gives for the
#    same options; the data folder is the VOLUME and the compose mount.
# 4. docker-compose.yml: build contexts and Dockerfiles exist; the gateway's
#    health check is the image's (/readyz via scim2ldap-healthcheck); the
#    environment it sets is read by the gateway / the entrypoint; the gateway
#    waits for a healthy directory. docker/quickstart.sh sources files that exist.
# 5. docker/healthcheck.sh against a real gateway (no directory needed): 0 for
#    a 200, 1 for a 404 and for a closed port.
set -u -o pipefail

bin=${1:?usage: docker_check.sh BINARY}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ $bin == /* ]] || bin=$PWD/$bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-docker-XXXXXX") || exit 1
gw_pid=""
cleanup() {
  [[ -n $gw_pid ]] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}

# ------------------------------------------------------------ Dockerfile emulator
# Sets, for the last stage of the Dockerfile: FAKE (its file system),
# ENTRYPOINT, CMD, HEALTHCHECK (JSON arrays as written), EXPOSE, VOLUME.
# Context: the repository. Returns non-zero (with messages) on a bad COPY.
emulate() {
  local dockerfile=$1 name=$2 ignore=$1.dockerignore
  local line instr args stage=-1 workdir=/ rc=0
  local -A stage_root=() stage_workdir=()
  FAKE="" ENTRYPOINT="" CMD="" HEALTHCHECK="" EXPOSE="" VOLUME=""
  local patterns=()
  if [[ -f $ignore ]]; then
    while IFS= read -r line; do
      [[ -z $line || $line == \#* ]] || patterns+=("$line")
    done <"$ignore"
  fi
  # Instructions with continuation lines joined.
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | grep -vE '^[[:space:]]*(#|$)' >"$tmp/$name.instr"
  while IFS= read -r line; do
    instr=${line%%[[:space:]]*}
    instr=${instr^^}
    args=${line#*[[:space:]]}
    args=$(sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' <<<"$args")
    case $instr in
      FROM)
        stage=$((stage + 1))
        FAKE=$tmp/$name-stage$stage
        mkdir -p "$FAKE"
        workdir=/
        stage_root[$stage]=$FAKE
        if [[ $args =~ [[:space:]][Aa][Ss][[:space:]]+([A-Za-z0-9_.-]+)$ ]]; then
          stage_root[${BASH_REMATCH[1]}]=$FAKE
          stage_workdir[${BASH_REMATCH[1]}]=/
        fi
        ENTRYPOINT="" CMD="" HEALTHCHECK="" EXPOSE="" VOLUME=""
        ;;
      WORKDIR)
        [[ $args == /* ]] && workdir=$args || workdir=$workdir/$args
        mkdir -p "$FAKE$workdir"
        ;;
      COPY | ADD)
        local from="" words=() w
        if [[ $args == *'['* ]]; then
          mapfile -t words < <(grep -oE '"[^"]*"' <<<"$args" | tr -d '"')
        else
          read -r -a words <<<"$args"
        fi
        local srcs=() dest
        for w in "${words[@]}"; do
          case $w in
            --from=*) from=${w#--from=} ;;
            --*) ;;
            *) srcs+=("$w") ;;
          esac
        done
        dest=${srcs[-1]}
        unset 'srcs[-1]'
        [[ $dest == /* ]] || dest=$workdir/$dest
        local s host
        for s in "${srcs[@]}"; do
          if [[ -n $from ]]; then
            host=${stage_root[$from]:-}$s
            if [[ ! -e $host ]]; then
              # Built by the stage's RUN: the compiled gateway is BINARY.
              if [[ $(basename "$s") == scim2ldap && $s == */build/scim2ldap ]]; then
                host=$bin
              else
                echo "  $dockerfile: COPY --from=$from $s: not in that stage"
                rc=1
                continue
              fi
            fi
          else
            host=$root/${s%/}
            if [[ ! -e $host ]]; then
              echo "  $dockerfile: COPY $s: no such file in the build context"
              rc=1
              continue
            fi
            local p rel=${s%/}
            for p in "${patterns[@]}"; do
              # shellcheck disable=SC2053  # the pattern is a glob on purpose
              if [[ $rel == $p || $rel == $p/* || $rel == */$p || $rel == */$p/* ]]; then
                echo "  $dockerfile: COPY $s: excluded by $ignore ($p)"
                rc=1
              fi
            done
          fi
          if [[ -d $host ]]; then
            mkdir -p "$FAKE$dest"
            cp -a "$host/." "$FAKE$dest/"
          elif [[ $dest == */ ]]; then
            mkdir -p "$FAKE$dest"
            cp -a "$host" "$FAKE$dest"
          else
            mkdir -p "$(dirname "$FAKE$dest")"
            cp -a "$host" "$FAKE$dest"
          fi
        done
        ;;
      ENTRYPOINT) ENTRYPOINT=$args ;;
      CMD) CMD=$args ;;
      HEALTHCHECK) HEALTHCHECK=${args#*CMD } ;;
      EXPOSE) EXPOSE=$args ;;
      VOLUME) VOLUME=$args ;;
    esac
  done <"$tmp/$name.instr"
  return "$rc"
}

# First element of a JSON array as written in a Dockerfile/compose file.
first_of() { grep -oE '"[^"]*"' <<<"$1" | head -n 1 | tr -d '"'; }
nth_of() { grep -oE '"[^"]*"' <<<"$1" | sed -n "${2}p" | tr -d '"'; }
is_exec() { [[ -f $1 && -x $1 ]]; }

compose=$root/docker/docker-compose.yml

# ------------------------------------------------------------ 1.+2. the gateway image
check "docker/Dockerfile: every COPY source exists and is not ignored" emulate "$root/docker/Dockerfile" gateway
gw_fake=$FAKE gw_entry=$ENTRYPOINT gw_cmd=$CMD gw_health=$HEALTHCHECK gw_expose=$EXPOSE
check "gateway image: ENTRYPOINT $(first_of "$gw_entry") is there" is_exec "$gw_fake$(first_of "$gw_entry")"
check "gateway image: HEALTHCHECK $(first_of "$gw_health") is there" is_exec "$gw_fake$(first_of "$gw_health")"
check "gateway image: the health check asks /readyz" test "$(nth_of "$gw_health" 2)" = /readyz
gw_conf=$(nth_of "$gw_cmd" 2)
check "gateway image: CMD's configuration $gw_conf is there" test -f "$gw_fake$gw_conf"
if [[ -f $gw_fake$gw_conf ]]; then
  sed -E "s#(\"(mapping|schemas)\"[[:space:]]*:[[:space:]]*\")/#\1$gw_fake/#" "$gw_fake$gw_conf" >"$tmp/gw-config.json"
  if SCIM2LDAP_BEARER_TOKENS=docker-check-token-0123456789 SCIM2LDAP_BIND_PASSWORD=x \
     "$bin" --check-config "$tmp/gw-config.json" >"$tmp/gw-check.log" 2>&1; then
    ok
  else
    bad "gateway image: its configuration fails --check-config where the image has the files: $(cat "$tmp/gw-check.log")"
  fi
  listen_port=$(grep -oE '"listen"[[:space:]]*:[[:space:]]*"[^"]*"' "$gw_fake$gw_conf" | grep -oE '[0-9]+"$' | tr -d '"')
  ldap_host=$(grep -oE '"uri"[[:space:]]*:[[:space:]]*"ldaps?://[^:/"]+' "$gw_fake$gw_conf" | sed -E 's#.*//##')
  check "gateway image: EXPOSE $gw_expose is the listen port $listen_port" test "$gw_expose" = "$listen_port"
  check "gateway image: the health check's port is the listen port" test "$(nth_of "$gw_health" 3)" = "$listen_port"
  check "compose publishes the listen port" grep -qE "^[[:space:]]+- \"127\.0\.0\.1:[0-9]+:$listen_port\"" "$compose"
  check "the gateway's LDAP host \"$ldap_host\" is a compose service" grep -qE "^  $ldap_host:$" "$compose"
fi

# ------------------------------------------------------------ 3. the OpenLDAP image
check "docker/slapd/Dockerfile: every COPY source exists and is not ignored" \
  emulate "$root/docker/slapd/Dockerfile" ldap
ld_fake=$FAKE ld_entry=$(first_of "$ENTRYPOINT") ld_volume=$VOLUME ld_health=$HEALTHCHECK
check "ldap image: ENTRYPOINT $ld_entry is there" is_exec "$ld_fake$ld_entry"
check "ldap image: has a HEALTHCHECK (the gateway waits for it)" test -n "$ld_health"
entry_src=$root/docker/slapd/entrypoint.sh
helper=$(grep -oE '^source [^ ]+' "$entry_src" | head -n 1 | cut -d' ' -f2)
check "ldap image: the entrypoint's helper $helper is there" test -f "$ld_fake$helper"
data_dir=$(grep -oE '^data=[^ ]+' "$entry_src" | cut -d= -f2)
check "ldap image: the data folder $data_dir is the VOLUME" test "$ld_volume" = "$data_dir"
check "compose mounts the data volume at $data_dir" grep -qE "^[[:space:]]+- ldap-data:$data_dir$" "$compose"
overlays=$(sed -nE 's/^overlays=\$\{SLAPD_OVERLAYS:-([^}]*)\}.*/\1/p' "$entry_src")
check "ldap image: the entrypoint's default overlays are known ($overlays)" test -n "$overlays"
for o in $overlays; do
  check "tests/slapd/slapd.conf.in has the option $o" grep -q "^?$o " "$root/tests/slapd/slapd.conf.in"
done
check "the ldap image's template is the tests' template" \
  cmp -s "$ld_fake$(dirname "$(dirname "$helper")")/slapd/slapd.conf.in" "$root/tests/slapd/slapd.conf.in"
check "the C harness renders the same template" grep -q '"tests/slapd/slapd.conf.in"' "$root/tests/integration/harness.c"
if [[ -f $ld_fake$helper ]] && command -v slaptest >/dev/null; then
  # What the entrypoint renders, from inside the image's layout (slaptest included) ...
  if (source "$ld_fake$helper" && s2l_slapd_setup "$tmp/image-data" "$overlays" "{SSHA}x") >"$tmp/render1.log" 2>&1 &&
     # ... and what the tests' helper renders for the same options.
     (source "$root/tests/lib/slapd.sh" && s2l_slapd_setup "$tmp/tests-data" "$overlays" "{SSHA}x") >"$tmp/render2.log" 2>&1; then
    sed -e "s#$tmp/image-data#DIR#g; s#$ld_fake##g" -e '1d' "$tmp/image-data/slapd.conf" >"$tmp/a.conf"
    sed -e "s#$tmp/tests-data#DIR#g; s#$root/#/usr/share/scim2ldap/#g" -e '1d' "$tmp/tests-data/slapd.conf" >"$tmp/b.conf"
    if diff -u "$tmp/b.conf" "$tmp/a.conf" >"$tmp/conf.diff"; then
      ok
    else
      bad "the image's slapd.conf differs from the tests' for the same options:"
      cat "$tmp/conf.diff"
    fi
    check "the image's base entries are the tests'" cmp -s "$tmp/image-data/base.ldif" "$tmp/tests-data/base.ldif"
  else
    bad "rendering the image's slapd configuration failed: $(cat "$tmp/render1.log" "$tmp/render2.log")"
  fi
else
  echo "(slaptest not installed: the image's slapd.conf is not rendered)"
fi

# ------------------------------------------------------------ 4. compose
mapfile -t contexts < <(sed -nE 's/^[[:space:]]+context:[[:space:]]*(.*)$/\1/p' "$compose")
mapfile -t dockerfiles < <(sed -nE 's/^[[:space:]]+dockerfile:[[:space:]]*(.*)$/\1/p' "$compose")
check "compose: two services are built" test "${#contexts[@]}" -eq 2 -a "${#dockerfiles[@]}" -eq 2
for i in "${!contexts[@]}"; do
  ctx=$(cd "$root/docker" && cd "${contexts[$i]}" 2>/dev/null && pwd)
  check "compose: build context ${contexts[$i]} is the repository" test "$ctx" = "$root"
  check "compose: ${dockerfiles[$i]} exists" test -f "$root/${dockerfiles[$i]}"
done
compose_health=$(sed -nE 's/^[[:space:]]+test:[[:space:]]*(\[.*\])$/\1/p' "$compose" | head -n 1)
check "compose: the gateway's health check is the image's ($compose_health)" \
  test "$(grep -oE '"[^"]*"' <<<"$compose_health" | tail -n +2 | tr -d '\n')" = "$(grep -oE '"[^"]*"' <<<"$gw_health" | tr -d '\n')"
check "compose: the gateway waits for a healthy directory" grep -qE '^[[:space:]]+condition: service_healthy$' "$compose"
for v in SCIM2LDAP_BEARER_TOKENS SCIM2LDAP_BIND_PASSWORD; do
  check "compose sets $v and the gateway reads it" \
    bash -c "grep -qE '^[[:space:]]+$v:' '$compose' && grep -q '\"$v\"' '$root/gateway/core/config.c'"
done
check "compose sets LDAP_ADMIN_PASSWORD and the entrypoint reads it" \
  bash -c "grep -qE '^[[:space:]]+LDAP_ADMIN_PASSWORD:' '$compose' && grep -q 'LDAP_ADMIN_PASSWORD' '$entry_src'"
while IFS= read -r src; do
  check "docker/quickstart.sh sources $src" test -f "$root/$src"
done < <(grep -oE '^source "\$root/[^"]+"' "$root/docker/quickstart.sh" | sed -E 's#^source "\$root/##; s#"$##')
for f in docker/healthcheck.sh docker/slapd/entrypoint.sh docker/quickstart.sh; do
  check "$f is executable" test -x "$root/$f"
done

# ------------------------------------------------------------ 5. the health check script
# shellcheck source=tests/lib/slapd.sh
source "$root/tests/lib/slapd.sh"
port=$(s2l_free_port) && ldap_port=$(s2l_free_port) && closed=$(s2l_free_port)
cat >"$tmp/hc.json" <<EOF
{"listen": "127.0.0.1:$port", "auth": {"bearer_tokens": ["docker-check-token-0123456789"]},
 "ldap": {"uri": "ldap://127.0.0.1:$ldap_port/"}, "mapping": "$root/mappings/openldap.json"}
EOF
"$bin" --config "$tmp/hc.json" 2>"$tmp/hc.log" &
gw_pid=$!
if s2l_wait_http "http://127.0.0.1:$port/scim/v2/ServiceProviderConfig" 20 "$gw_pid"; then
  check "healthcheck.sh: 200 is healthy" bash "$root/docker/healthcheck.sh" /scim/v2/ServiceProviderConfig "$port"
  check "healthcheck.sh: 404 is not" bash -c "! bash '$root/docker/healthcheck.sh' /no-such-endpoint $port"
  check "healthcheck.sh: a closed port is not" bash -c "! bash '$root/docker/healthcheck.sh' /readyz $closed"
else
  bad "the gateway did not start for the health check test: $(tail -n 5 "$tmp/hc.log")"
fi
s2l_stop_pid "$gw_pid" 10 >/dev/null
gw_pid=""

echo "$pass passed, $fail failed"
((fail == 0))
