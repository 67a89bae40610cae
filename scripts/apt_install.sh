#!/usr/bin/env bash
# Install Debian packages for the tests: scripts/apt_install.sh [--no-recommends] PACKAGE ...
# `make test` installs Chromium, PostgreSQL/Redis and docker-compose side by side with the venvs:
# the apt runs take turns on a lock file instead of failing on dpkg's lock, and the package lists
# are fetched only when apt knows no candidate for a package yet (a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."
opts=()
if [ "${1:-}" = --no-recommends ]; then opts+=(--no-install-recommends); shift; fi
[ "$#" -gt 0 ] || { echo "usage: apt_install.sh [--no-recommends] PACKAGE ..." >&2; exit 2; }
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
mkdir -p var
exec 9>var/.apt.lock
flock 9
echo "[setup] installing $* from Debian's packages ..."
for package in "$@"; do
  if ! apt-cache policy "$package" 2>/dev/null | grep -q "Candidate: [0-9]"; then
    $sudo apt-get update -qq
    break
  fi
done
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${opts[@]}" "$@" >/dev/null
