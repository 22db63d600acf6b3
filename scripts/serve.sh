#!/usr/bin/env bash
# Set up (idempotent) and run the service on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/kazru serve "$@"
