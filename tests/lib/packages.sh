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
    s2l_without_daemons s2l_as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${need[@]}"
}

# Runs a command with /usr/sbin/policy-rc.d answering 101, so packages that
# ship daemons (samba, dirsrv, slapd) do not start them: tests run their own
# throwaway instances. A policy-rc.d that exists already is left as it is.
s2l_without_daemons() {
  local made=0 rc
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# scim2ldap tests: no daemons from package installs\nexit 101\n' |
      s2l_as_root tee /usr/sbin/policy-rc.d >/dev/null && s2l_as_root chmod 755 /usr/sbin/policy-rc.d && made=1
  fi
  "$@"
  rc=$?
  ((made)) && s2l_as_root rm -f /usr/sbin/policy-rc.d
  return "$rc"
}

# What building and testing scim2ldap needs (used by the scripts sourcing this file).
# shellcheck disable=SC2034
S2L_BUILD_PACKAGES=(build-essential cmake pkg-config libevent-dev libldap-dev libjansson-dev libssl-dev
                    slapd ldap-utils curl openssl ca-certificates)
# The other directories the integration tests run (ctest -L ad, -L 389ds):
# a throwaway Samba AD DC and 389 Directory Server (tests/integration/harness_ad.c,
# harness_389.c); openssl makes the AD DC's LDAPS certificate.
# shellcheck disable=SC2034
S2L_DIRECTORY_PACKAGES=(samba-ad-dc samba-ad-provision ldb-tools 389-ds-base openssl)
