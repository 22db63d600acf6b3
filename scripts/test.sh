#!/usr/bin/env bash
# Install everything the tests need, then run them (lint first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
