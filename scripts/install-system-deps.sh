#!/usr/bin/env bash
# Installs the Debian packages gpuwarden's tests use, when missing:
# gcc (fake libnvidia-ml.so.1), chromium (dashboard browser test),
# prometheus (promtool checks the /metrics exposition). Needs root or sudo.
set -euo pipefail

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=''
[ "$(id -u)" -eq 0 ] || sudo='sudo'
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
