#!/usr/bin/env bash
# tests/cli/install_check.sh — `cmake --install` into a DESTDIR staging folder
# puts everything in place, and what it installs works (run by ctest).
#
#   bash tests/cli/install_check.sh BUILD_DIR SBINDIR DATADIR DOCDIR MANDIR UNITDIR SYSUSERSDIR TMPFILESDIR CONFDIR
#
# The directories are the configured full paths (CMakeLists.txt passes them).
# Checked: the binary runs; the mappings, SCIM and LDAP schemas are the
# repository's; the systemd unit points at the installed binary and
# configuration and carries the hardening (its own user, ProtectSystem=strict,
# NoNewPrivileges, PrivateTmp, ...) and ExecReload = SIGHUP; the sysusers.d and
# tmpfiles.d files; the example configuration passes --check-config; the
# installed binary finds the installed schemas; the man page formats without
# warnings (man -l / groff when installed, else a minimal roff check);
# `systemd-analyze verify` accepts the unit when systemd-analyze is installed.
set -u -o pipefail

(($# == 9)) || { echo "usage: install_check.sh BUILD_DIR SBINDIR DATADIR DOCDIR MANDIR UNITDIR SYSUSERSDIR TMPFILESDIR CONFDIR"; exit 2; }
build=$1 sbindir=$2 datadir=$3 docdir=$4 mandir=$5 unitdir=$6 sysusersdir=$7 tmpfilesdir=$8 confdir=$9
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-install-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}

if ! DESTDIR=$dest cmake --install "$build" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "FAIL: cmake --install"
  exit 1
fi

bin=$dest$sbindir/scim2ldap
unit=$dest$unitdir/scim2ldap.service
man=$dest$mandir/man8/scim2ldap.8

# ---- files in place
check "binary is executable" test -x "$bin"
check "binary runs" "$bin" --version
for f in mappings/openldap.json mappings/posix-rfc2307bis.json schemas/ldap/scim2ldap.schema \
         schemas/ldap/scim2ldap.ldif; do
  check "$f installed as in the repository" cmp -s "$root/$f" "$dest$datadir/$f"
done
for f in "$root"/schemas/scim/*.json; do
  check "schemas/scim/$(basename "$f") installed" cmp -s "$f" "$dest$datadir/schemas/scim/$(basename "$f")"
done
check "config example installed" test -s "$dest$docdir/config.example.json"
check "README installed" cmp -s "$root/README.md" "$dest$docdir/README.md"
check "mapping reference installed" cmp -s "$root/mappings/README.md" "$dest$docdir/MAPPING.md"
check "man page installed" test -s "$man"
check "systemd unit installed" test -s "$unit"
check "sysusers.d file installed" test -s "$dest$sysusersdir/scim2ldap.conf"
check "tmpfiles.d file installed" test -s "$dest$tmpfilesdir/scim2ldap.conf"
if grep -rlI '@[A-Z0-9_]*@' "$dest" >"$tmp/unreplaced" 2>/dev/null; then
  bad "unreplaced @PLACEHOLDER@ in: $(tr '\n' ' ' <"$tmp/unreplaced")"
else
  ok
fi

# ---- the unit
has() { grep -qxF -- "$1" "$unit" || { echo "  the unit lacks: $1"; return 1; }; }
for line in "User=scim2ldap" "Group=scim2ldap" "ExecStart=$sbindir/scim2ldap --config $confdir/config.json" \
            "ExecStartPre=$sbindir/scim2ldap --check-config $confdir/config.json" \
            "ExecReload=/bin/kill -HUP \$MAINPID" "NoNewPrivileges=yes" "ProtectSystem=strict" \
            "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" "CapabilityBoundingSet=" \
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service" \
            "MemoryDenyWriteExecute=yes" "EnvironmentFile=-$confdir/environment" "WantedBy=multi-user.target"; do
  check "unit: $line" has "$line"
done
# The reload checks the configuration before it signals the gateway.
check "unit: check-config before SIGHUP on reload" \
  bash -c "grep '^ExecReload=' '$unit' | head -n 1 | grep -q -- '--check-config'"
check "sysusers.d declares the scim2ldap user" grep -qE '^u scim2ldap ' "$dest$sysusersdir/scim2ldap.conf"
check "tmpfiles.d makes the configuration folder private" \
  grep -qxF "d $confdir 0750 root scim2ldap -" "$dest$tmpfilesdir/scim2ldap.conf"
if command -v systemd-analyze >/dev/null; then
  # Point the unit at the staged binary; MANPATH lets it find Documentation=man:scim2ldap(8).
  mkdir -p "$tmp/unit"
  sed "s|$sbindir/scim2ldap|$bin|g" "$unit" >"$tmp/unit/scim2ldap.service"
  MANPATH=$dest$mandir systemd-analyze verify "$tmp/unit/scim2ldap.service" >"$tmp/verify.log" 2>&1
  # Only complaints about the unit itself count: a container without man or
  # systemd may add its own noise.
  if grep -E 'scim2ldap\.service:[0-9]+:|Unknown (key|section|lvalue)|Failed to parse|not executable|is not absolute' \
       "$tmp/verify.log" >"$tmp/verify.bad"; then
    bad "systemd-analyze verify: $(cat "$tmp/verify.bad")"
  else
    ok
  fi
else
  echo "(systemd-analyze not installed: the unit's syntax is not cross-checked)"
fi

# ---- the example configuration, with the staged paths, passes --check-config
mkdir -p "$tmp/conf"
printf 'example-password\n' >"$tmp/conf/bind-password"
sed -e "s|$datadir|$dest$datadir|g" -e "s|$confdir|$tmp/conf|g" "$dest$docdir/config.example.json" \
  >"$tmp/conf/config.json"
if "$bin" --check-config "$tmp/conf/config.json" >"$tmp/check.log" 2>&1; then
  ok
else
  bad "the example configuration fails --check-config: $(cat "$tmp/check.log")"
fi
# The installed layout: the mapping finds its schemas at <mappings>/../schemas/scim.
out=$("$bin" preview --mapping "$dest$datadir/mappings/openldap.json" --type User --filter 'userName eq "x"' 2>&1)
check "installed preview finds the installed schemas ($out)" test "$out" = "(&(objectClass=inetOrgPerson)(uid=x))"

# ---- the man page
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$man" >"$tmp/groff.log" 2>&1
  check "groff formats the man page without warnings: $(cat "$tmp/groff.log")" test ! -s "$tmp/groff.log"
fi
if command -v man >/dev/null; then
  MANWIDTH=80 man --warnings -l "$man" >"$tmp/man.txt" 2>"$tmp/man.log"
  check "man -l shows the man page without warnings: $(cat "$tmp/man.log")" test ! -s "$tmp/man.log"
  check "man -l output has the NAME section" grep -q '^NAME' "$tmp/man.txt"
fi
if ! command -v groff >/dev/null && ! command -v man >/dev/null; then
  echo "(neither groff nor man installed: minimal roff checks only)"
fi
# Minimal roff checks that need no formatter: the title line, the standard
# sections, only man(7) macros, ASCII only, and no line that roff would take
# for a control line by accident (a leading ' or an unknown .macro).
first_line() { grep -v '^\.\\"' "$man" | head -n 1; }
check "man page starts with .TH SCIM2LDAP 8" test "$(first_line | cut -d' ' -f1-3)" = ".TH SCIM2LDAP 8"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS FILES "SEE ALSO"; do
  check "man page has section $s" grep -qx "\.SH $s" "$man"
done
ascii() { ! tr -d '\t' <"$man" | LC_ALL=C grep -q '[^ -~]'; }
check "man page is ASCII" ascii
macros='\.(\\"|TH|SH|SS|PP|LP|P|TP|IP|HP|RS|RE|B|I|BR|BI|IB|IR|RB|RI|SM|SB|nf|fi|br|sp|EX|EE|UR|UE|MT|ME)( |$)'
if LC_ALL=C grep -nE '^[.'"'"']' "$man" | grep -vE "^[0-9]+:$macros" >"$tmp/macros.bad"; then
  bad "man page uses unknown macros: $(head -n 3 "$tmp/macros.bad")"
else
  ok
fi

echo "$pass passed, $fail failed"
((fail == 0))
