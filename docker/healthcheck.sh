#!/usr/bin/env bash
# docker/healthcheck.sh — the gateway container's health check, installed in
# the image as /usr/local/bin/scim2ldap-healthcheck.
#
#   scim2ldap-healthcheck [PATH [PORT]]     default: /readyz 8080
#
# Healthy (exit 0) when GET http://127.0.0.1:PORT/PATH answers 200: /readyz
# answers 200 while at least one LDAP connection is bound and 503 otherwise,
# needs no token. The slim image has no curl: bash's /dev/tcp does one
# HTTP/1.0 request. Plain HTTP only (a gateway serving HTTPS itself needs
# another check).
set -u
path=${1:-/readyz}
port=${2:-8080}
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3 || exit 1
IFS= read -r -t 3 status <&3 || exit 1
exec 3>&-
[[ $status =~ ^HTTP/1\.[01]\ 200($|[[:space:]]) ]]
