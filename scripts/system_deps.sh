#!/usr/bin/env bash
# Installs the system packages the browser tests need (Debian's Chromium), when missing.
# Needs root and apt-get; elsewhere it says what is missing and the browser tests skip
# (or fail, when ASSETMAP_TEST_STRICT=1 as in CI).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system_deps: missing ${need[*]}; install them to run the browser tests" >&2
  exit 0
fi
echo "system_deps: installing ${need[*]}" >&2
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
