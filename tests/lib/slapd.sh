# shellcheck shell=bash
# Shell helpers for a throwaway slapd and gateway, sourced by tests/run.sh,
# docker/quickstart.sh and the docker slapd entrypoint.
#
# The slapd configuration comes from the same templates as the C harness
# (tests/slapd/slapd.conf.in, tests/slapd/base.ldif.in), so the quick start,
# CI and the integration tests run the same directory layout.
#
#   s2l_slapd_render TEMPLATE OUT "OPTIONS" NAME=VALUE...   render one template
#   s2l_slapd_setup DIR "OPTIONS" ROOTPW [NAME=VALUE...]      DIR/slapd.conf, base.ldif, db/
#                                    (NAME=VALUE: more template values, e.g. SERVER_ID=1
#                                    PEER_ID=2 PEER_URI=ldap://... REPL_PW=... for multiprovider)
#   s2l_free_port                                             prints a free loopback port
#   s2l_slapd_start DIR PORT                                  sets S2L_SLAPD_PID (foreground child)
#   s2l_slapd_load_base DIR PORT ROOTPW                       ldapadd of DIR/base.ldif
#   s2l_gateway_config FILE LISTEN LDAP_URI ROOTPW TOKEN [EXTRA]  writes a gateway config
#                                                             (EXTRA: more top-level members, JSON text)
#   s2l_wait_http URL SECONDS [PID]                           until the server answers
#   s2l_wait_directory BASE TOKEN SECONDS                     until the gateway's LDAP pool serves
#   s2l_stop_pid PID [SECONDS]                                SIGTERM, then SIGKILL; exit status
#
# OPTIONS is a space-separated subset of: ppolicy memberof refint sssvlv monitor dbnosync
# multiprovider ("all" = every overlay, plus the monitor backend; not multiprovider).

S2L_ROOT=${S2L_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
S2L_SLAPD_BIN=${S2L_SLAPD_BIN:-/usr/sbin/slapd}
S2L_SCHEMA_DIR=${S2L_SCHEMA_DIR:-/etc/ldap/schema}
S2L_MODULE_DIR=${S2L_MODULE_DIR:-/usr/lib/ldap}
S2L_SUFFIX="dc=example,dc=org"
S2L_ROOTDN="cn=admin,$S2L_SUFFIX"

s2l_log() { printf '%s\n' "$*" >&2; }

# sed replacement text: escape the delimiter, '&' and backslashes.
s2l_sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

s2l_slapd_render() {
  local template=$1 out=$2 options=$3
  shift 3
  # "##" lines document the template itself and are not copied.
  local script='/^##/d;' opt kv name value
  [[ " $options " == *" all "* ]] && options="$options ppolicy memberof refint sssvlv monitor"
  for opt in $options; do
    [[ $opt == all ]] && continue
    script+="s|^?$opt ||;"
  done
  script+='/^?[a-z0-9]* /d;'
  for kv in "$@"; do
    name=${kv%%=*}
    value=$(s2l_sed_escape "${kv#*=}")
    script+="s|@$name@|$value|g;"
  done
  {
    printf '# Generated from %s; do not edit.\n' "${template#"$S2L_ROOT"/}"
    sed -e "$script" "$template"
  } >"$out" || return 1
  if grep -q '@[A-Z0-9_]*@' "$out"; then
    s2l_log "s2l_slapd_render: unreplaced placeholder in $out: $(grep -o '@[A-Z0-9_]*@' "$out" | head -n 1)"
    return 1
  fi
}

s2l_slapd_setup() {
  local dir=$1 options=$2 rootpw=$3
  shift 3
  local schema="$S2L_ROOT/schemas/ldap/scim2ldap.schema"
  [[ -f $schema ]] && options="$options s2lschema"
  mkdir -p "$dir/db" || return 1
  s2l_slapd_render "$S2L_ROOT/tests/slapd/slapd.conf.in" "$dir/slapd.conf" "$options" \
    DIR="$dir" SCHEMA_DIR="$S2L_SCHEMA_DIR" MODULE_DIR="$S2L_MODULE_DIR" \
    S2L_SCHEMA="$schema" ROOTPW="$rootpw" "$@" || return 1
  chmod 600 "$dir/slapd.conf"
  s2l_slapd_render "$S2L_ROOT/tests/slapd/base.ldif.in" "$dir/base.ldif" "$options" || return 1
  if ! slaptest -Q -u -f "$dir/slapd.conf"; then
    s2l_log "slaptest rejected $dir/slapd.conf"
    return 1
  fi
}

# Ports below the kernel's ephemeral range are never handed to outgoing
# connections, so a port found free here stays free unless another test takes it.
s2l_free_port() {
  local low=32768 port i
  [[ -r /proc/sys/net/ipv4/ip_local_port_range ]] && read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  ((low > 21000)) || low=32768
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % (low - 20000)))
    # Connection refused means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  s2l_log "s2l_free_port: no free port found"
  return 1
}

s2l_slapd_start() {
  local dir=$1 port=$2 i
  local uri="ldap://127.0.0.1:$port/"
  # -d keeps slapd in the foreground (so $! is slapd and it dies with us);
  # "none" still logs errors such as a port already in use.
  "$S2L_SLAPD_BIN" -f "$dir/slapd.conf" -h "$uri" -d none 2>>"$dir/slapd.log" &
  S2L_SLAPD_PID=$!
  for ((i = 0; i < 150; i++)); do
    if ldapsearch -x -LLL -H "$uri" -s base -b "" -o nettimeout=2 namingContexts >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$S2L_SLAPD_PID" 2>/dev/null; then
      s2l_log "slapd exited during start; log tail:"
      tail -n 20 "$dir/slapd.log" >&2
      return 1
    fi
    sleep 0.1
  done
  s2l_log "slapd did not answer on $uri within 15 s"
  kill -KILL "$S2L_SLAPD_PID" 2>/dev/null
  return 1
}

s2l_slapd_load_base() {
  local dir=$1 port=$2 rootpw=$3
  ldapadd -x -H "ldap://127.0.0.1:$port/" -D "$S2L_ROOTDN" -w "$rootpw" -f "$dir/base.ldif" >/dev/null
}

# JSON string literal for a shell value (tokens and passwords are generated,
# but paths may hold anything).
s2l_json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

s2l_gateway_config() {
  local file=$1 listen=$2 uri=$3 rootpw=$4 token=$5 extra=${6:-}
  (
    umask 077
    cat >"$file" <<EOF
{${extra:+
  $extra,}
  "listen": $(s2l_json_str "$listen"),
  "base_path": "/scim/v2",
  "auth": { "bearer_tokens": [$(s2l_json_str "$token")] },
  "ldap": { "uri": $(s2l_json_str "$uri"), "bind_dn": $(s2l_json_str "$S2L_ROOTDN"),
            "bind_password": $(s2l_json_str "$rootpw"), "connections": 4, "timeout_ms": 5000 },
  "mapping": $(s2l_json_str "$S2L_ROOT/mappings/openldap.json"),
  "schemas": $(s2l_json_str "$S2L_ROOT/schemas/scim")
}
EOF
  )
}

s2l_wait_http() {
  local url=$1 secs=$2 pid=${3:-} i
  for ((i = 0; i < secs * 10; i++)); do
    # Any HTTP answer (even 401) means the listener is up.
    if curl -s -o /dev/null --max-time 2 "$url"; then
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.1
  done
  return 1
}

# The gateway listens before its LDAP pool has bound; directory requests answer
# 503 until then. Waits (bounded) until one does not.
s2l_wait_directory() {
  local base=$1 token=$2 secs=$3 i code
  for ((i = 0; i < secs * 10; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $token" \
      "$base/Users?count=1") || code=000
    [[ $code != 503 && $code != 000 ]] && return 0
    sleep 0.1
  done
  return 1
}

# Returns the process's exit status when it is a child of this shell (0 for
# other processes that stopped), 124 if it had to be killed.
s2l_stop_pid() {
  local pid=$1 secs=${2:-10} i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
  for ((i = 0; i < secs * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      return $?
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 124
}

s2l_random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}
