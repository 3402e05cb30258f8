# shellcheck shell=bash
# Installs the Debian packages that are missing (and only those), so the README's
# two commands work on a fresh Debian 12 machine. Sourced by docker/quickstart.sh
# and tests/run.sh.
#
#   s2l_ensure_packages PKG...   apt-get install what is not installed yet; 0 when all are there

s2l_as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "need root (or sudo) for: $*" >&2
    return 1
  fi
}

s2l_ensure_packages() {
  local p need=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  ((${#need[@]})) || return 0
  echo "Installing ${need[*]}" >&2
  # slapd without a system database: everything here runs its own instances.
  echo 'slapd slapd/no_configuration boolean true' | s2l_as_root debconf-set-selections &&
    s2l_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    s2l_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
}

# What building and testing scim2ldap needs.
S2L_BUILD_PACKAGES=(build-essential cmake pkg-config libevent-dev libldap-dev libjansson-dev libssl-dev
                    slapd ldap-utils curl openssl ca-certificates)
