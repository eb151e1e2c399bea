#!/usr/bin/env bash
# CI: the production mode starts from the runtime lock alone (issue 14, item 5).
# A venv holding only requirements.txt starts the hub with HUB_WORKER=gevent on a
# fresh SQLite folder with the demo; a client (the test venv's python-socketio)
# then signs in for a token and opens a socket. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
port=$("$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HUB_WORKER=gevent HUB_BIND="127.0.0.1:$port" HUB_INSTANCE_PATH="$work/instance" HUB_DEMO=1 \
  "$work/venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app >"$work/hub.log" 2>&1 &
server=$!
for _ in $(seq 1 240); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/hub.log"; echo "smoke: the hub died" >&2; exit 1; fi
  sleep 0.5
done
.venv/bin/python - "$port" <<'PY' || { cat "$work/hub.log"; exit 1; }
import sys

import requests
import socketio

base = f"http://127.0.0.1:{sys.argv[1]}"
answer = requests.post(f"{base}/api/v1/auth/token", json={"login": "d02.clerk", "password": "Demo@2026"},
                       timeout=30)
answer.raise_for_status()
token = answer.json()["token"]
client = socketio.Client()
client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
assert client.connected, "the socket did not connect"
client.disconnect()
print(f"smoke: gevent worker from requirements.txt alone: signed in and opened a socket at {base}")
PY
if grep -q "Traceback\|ModuleNotFoundError" "$work/hub.log"; then
  cat "$work/hub.log"; echo "smoke: the hub logged an error" >&2; exit 1
fi
