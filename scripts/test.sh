#!/usr/bin/env bash
# Install everything the tests need, then run them (lint first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
