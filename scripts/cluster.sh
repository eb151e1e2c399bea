#!/usr/bin/env bash
# A local scale-out cluster to try by hand: PostgreSQL and Redis (Debian's packages)
# on loopback in a temp dir, and two hub processes (gunicorn, gevent worker) sharing
# them, with the demo county loaded. Prints the URLs and demo logins; Ctrl-C stops
# everything and removes the temp dir.
#
#   scripts/cluster.sh [PORT_A [PORT_B]]        # default 5001 and 5002
#
# Needs: apt-get install postgresql redis-server. As root, PostgreSQL runs as the
# postgres user (it refuses root). tests/cluster.py is the same thing for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
port_a=${1:-5001}
port_b=${2:-5002}

initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "$initdb" ] || initdb=$(command -v initdb || true)
[ -n "$initdb" ] || { echo "PostgreSQL not found: apt-get install postgresql" >&2; exit 1; }
pg_ctl=$(dirname "$initdb")/pg_ctl
command -v redis-server >/dev/null || { echo "Redis not found: apt-get install redis-server" >&2; exit 1; }
scripts/install.sh
py=.venv/bin/python

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {   # URL SECONDS: until it answers 200
  "$py" - "$1" "$2" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit(1)
EOF
}

dir=$(mktemp -d /tmp/hub-cluster-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for _ in $(seq 150); do                       # up to 15 s, then SIGKILL
    alive=0
    for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

pg_port=$(free_port)
redis_port=$(free_port)
"${as_pg[@]}" "$initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_ctl" -D "$dir/pg" -l "$dir/postgresql.log" -w -t 30 \
  -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)

export HUB_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export HUB_REDIS_URL="redis://127.0.0.1:$redis_port/0"
export HUB_SECRET_KEY
HUB_SECRET_KEY=$("$py" -c 'import secrets; print(secrets.token_hex(32))')
export HUB_INSTANCE_PATH="$dir/instance" HUB_WORKER=gevent HUB_DEMO="${HUB_DEMO:-1}"

# Schema and demo once, before the processes start, so that they do not race to load it.
banner=$("$py" -c 'from hub.startup import first_start; print(first_start(bind="127.0.0.1"))')
for name in a b; do
  port=$port_a; [ "$name" = b ] && port=$port_b
  HUB_BIND="127.0.0.1:$port" .venv/bin/gunicorn -c gunicorn.conf.py --no-control-socket wsgi:app \
    >"$dir/hub-$name.log" 2>&1 &
  pids+=($!)
done
for port in "$port_a" "$port_b"; do
  wait_http "http://127.0.0.1:$port/healthz" 60 || {
    echo "hub on port $port did not start; its log:" >&2
    tail -n 30 "$dir"/hub-*.log >&2
    exit 1
  }
done

cat <<EOF

Hub cluster: two processes sharing PostgreSQL and Redis (temp dir $dir)
  hub a:       http://127.0.0.1:$port_a/
  hub b:       http://127.0.0.1:$port_b/
  PostgreSQL:  $HUB_DATABASE_URL
  Redis:       $HUB_REDIS_URL
  logs:        $dir/hub-a.log, $dir/hub-b.log
$(printf '%s\n' "$banner" | sed -n '/演示账号/,$p')

Sign in on a and b as two people of the same unit: what one sends, the other sees.
Ctrl-C stops everything.
EOF
while :; do                 # until Ctrl-C, or until one of the processes dies
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || {
      echo "process $pid exited; the end of the logs:" >&2
      tail -n 20 "$dir"/hub-*.log "$dir/redis.log" >&2
      exit 1
    }
  done
  sleep 1
done
