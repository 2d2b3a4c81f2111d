#!/usr/bin/env bash
# Installs the system packages the tests use: a real Docker engine, a registry and image
# tools (Debian packages). As root it installs what is missing; otherwise it says what is
# missing and the tests that need it are skipped (outside CI) or fail (CI=true).
set -euo pipefail
packages=(docker.io docker-registry busybox-static util-linux)
commands=(dockerd docker-registry busybox unshare)
missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || [ -x "/bin/${commands[$i]}" ] || missing+=("${packages[$i]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  echo "system-deps: tests that need them are skipped (and fail under CI=true)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
