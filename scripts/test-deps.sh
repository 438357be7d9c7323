#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (run before `npm test` by npm's pretest):
# git, GNU tar and curl; rebar3 + Erlang (the real Hex client); Swift with s3api (the S3 test
# server); Chromium (the browse-page screenshot); wrk (the proxy load test); systemd (systemd-analyze
# verify on examples/systemd). Does nothing when they are all there.
set -euo pipefail
declare -A need=(
  [git]=git [tar]=tar [curl]=curl [rebar3]=rebar3 [erl]=erlang-nox
  [swift-proxy-server]="swift-proxy swift-object swift-container swift-account"
  [chromium]=chromium [wrk]=wrk [systemd-analyze]=systemd
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=(${need[$cmd]})
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "pkgpub tests need these Debian packages: ${missing[*]} (install them, or run as root on Debian)" >&2
  exit 1
fi
echo "installing test dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates "${missing[@]}" >/dev/null
