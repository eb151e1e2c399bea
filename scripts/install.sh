#!/usr/bin/env bash
# Install Hub's Python dependencies into .venv inside the repo (idempotent).
# Usage: scripts/install.sh [dev]   — "dev" adds the test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "Python 3.11 is required" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
lock=requirements.txt
[ "${1:-}" = "dev" ] && lock=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt "$lock" | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$lock"
  touch "$stamp"
fi
