#!/usr/bin/env bash
# Set up (if needed) and run the test suite. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh -m slow` for the training/evaluation tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The storage tests run against SQLite and a real PostgreSQL (Debian package, started here).
CHATCOACH_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)
export CHATCOACH_TEST_POSTGRES_URL
bash scripts/chromium.sh  # Debian's Chromium for the console's browser tests (tests/console)
if [ $# -eq 0 ]; then set -- -m "not slow"; fi
exec .venv/bin/python -m pytest "$@"
