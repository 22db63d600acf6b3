#!/usr/bin/env bash
# Install everything the tests need, then run them (lint first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
# Debian packages the tests use: chromium for the browser tests (Playwright never downloads a
# browser here), prometheus for `promtool` (alert rules), libjemalloc2 (workers run on it).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
/sbin/ldconfig -p | grep -q libjemalloc.so.2 || missing="$missing libjemalloc2"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
