#!/usr/bin/env bash
# tests/cli/preview_golden.sh — golden-file tests of `scim2ldap preview` (run by ctest).
#
#   bash tests/cli/preview_golden.sh BINARY [CASE...]
#   S2L_UPDATE_GOLDEN=1 bash tests/cli/preview_golden.sh BINARY   rewrite the expected files
#                                                                   (then read the diff!)
#
# Each folder under tests/data/preview/ is one case:
#   args             the arguments after "preview", one per line; @ROOT@ is the
#                    repository; the command runs inside the case folder, so
#                    input files are named relatively (as errors then show them)
#   expected.out     standard output, byte for byte
#   expected.err     standard error (absent = must be empty)
#   expected.status  exit status (absent = 0)
# Every LDIF output that succeeded is also parsed by `ldapmodify -n` (a dry run
# that contacts no server), so the golden files cannot drift into invalid LDIF.
set -u -o pipefail

bin=${1:?usage: preview_golden.sh BINARY [CASE...]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=$root/tests/data/preview
update=${S2L_UPDATE_GOLDEN:-0}
[[ $bin == /* ]] || bin=$PWD/$bin

if (($#)); then
  cases=("$@")
else
  cases=()
  for d in "$data"/*/; do
    [[ -f $d/args ]] && cases+=("$(basename "$d")")
  done
fi
((${#cases[@]})) || { echo "no cases under $data"; exit 1; }

have_ldapmodify=0
command -v ldapmodify >/dev/null && have_ldapmodify=1
((have_ldapmodify)) || echo "(ldapmodify not installed: LDIF syntax is not cross-checked)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/s2l-preview-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
for c in "${cases[@]}"; do
  dir=$data/$c
  args=()
  while IFS= read -r line || [[ -n $line ]]; do
    args+=("${line//@ROOT@/$root}")
  done <"$dir/args"
  (cd "$dir" && "$bin" preview "${args[@]}") >"$tmp/out" 2>"$tmp/err"
  status=$?
  # Paths into the repository are shown as @ROOT@, so the files do not depend
  # on where the checkout is.
  sed -i "s|$root|@ROOT@|g" "$tmp/out" "$tmp/err"
  echo "$status" >"$tmp/status"

  if ((update)); then
    cp "$tmp/out" "$dir/expected.out"
    if [[ -s $tmp/err ]]; then cp "$tmp/err" "$dir/expected.err"; else rm -f "$dir/expected.err"; fi
    if ((status != 0)); then cp "$tmp/status" "$dir/expected.status"; else rm -f "$dir/expected.status"; fi
  fi

  ok=1
  want_status=0
  [[ -f $dir/expected.status ]] && want_status=$(<"$dir/expected.status")
  if [[ $status != "$want_status" ]]; then
    echo "FAIL $c: exit status $status, want $want_status"
    ok=0
  fi
  if ! diff -u "$dir/expected.out" "$tmp/out" >"$tmp/diff"; then
    echo "FAIL $c: standard output differs:"
    cat "$tmp/diff"
    ok=0
  fi
  if [[ -f $dir/expected.err ]]; then
    if ! diff -u "$dir/expected.err" "$tmp/err" >"$tmp/diff"; then
      echo "FAIL $c: standard error differs:"
      cat "$tmp/diff"
      ok=0
    fi
  elif [[ -s $tmp/err ]]; then
    echo "FAIL $c: unexpected standard error:"
    cat "$tmp/err"
    ok=0
  fi
  # A sanitizer report is a failure even when the output matched.
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then
    echo "FAIL $c: sanitizer report"
    ok=0
  fi
  if ((have_ldapmodify && status == 0)) && ! grep -qx -- '--filter' "$dir/args" && [[ -s $tmp/out ]]; then
    if ! ldapmodify -n -v -H ldap://127.0.0.1:9/ -f "$tmp/out" >"$tmp/ldapmodify" 2>&1; then
      echo "FAIL $c: ldapmodify -n does not accept the LDIF:"
      cat "$tmp/ldapmodify"
      ok=0
    fi
  fi
  if ((ok)); then
    pass=$((pass + 1))
    echo "ok   $c"
  else
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
((fail == 0))
