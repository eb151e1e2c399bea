#!/usr/bin/env bash
# Run the whole test suite: every test on a real SQLite file and on a real
# PostgreSQL that the suite starts on loopback (needs Debian's postgresql package).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh dev
exec .venv/bin/python -m pytest "$@"
