#!/usr/bin/env bash
# Install everything the tests need, then run them (lint, layers and types first).
#   scripts/test.sh [pytest args]   the whole suite (what CI runs)
#   scripts/test.sh --fast [args]   the unit tier only (tests/unit: no model, server or browser)
set -euo pipefail
cd "$(dirname "$0")/.."
fast=""
if [ "${1:-}" = "--fast" ]; then fast=1; shift; fi
scripts/bootstrap.sh dev
if [ -z "$fast" ]; then
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
fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/lint-imports .importlinter
.venv/bin/mypy
if [ -n "$fast" ]; then
  exec .venv/bin/python -m pytest -m unit tests/unit "$@"
fi
exec .venv/bin/python -m pytest "$@"
