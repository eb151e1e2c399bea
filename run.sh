#!/usr/bin/env bash
# Install everything into .venv and start the hub on http://127.0.0.1:5000
# (embedded SQLite in instance/; the first start loads a demo county unless HUB_DEMO=0).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
export HUB_BIND=${HUB_BIND:-127.0.0.1:${PORT:-5000}}
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
