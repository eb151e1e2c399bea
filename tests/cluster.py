"""A local cluster for the cross-process tests: PostgreSQL, Redis and two hub processes.

    with running_cluster(pg_server, folder) as cluster:
        a, b = cluster.a, cluster.b            # HubProcess: a.url, a.port
        token = cluster.token("d02.clerk")     # POST /api/v1/auth/token
        with cluster.socket(b, "d02.staff1") as sock:
            ...                                 # python-socketio Client over WebSocket

The database is a fresh one on the suite's PostgreSQL (tests/pg.py), Redis is a
throwaway server (tests/redis_server.py), and each hub process is what an
operator runs, `gunicorn -c gunicorn.conf.py wsgi:app` with HUB_WORKER=gevent,
on its own free loopback port, sharing HUB_DATABASE_URL, HUB_REDIS_URL,
HUB_SECRET_KEY and the instance folder (uploads). The demo county is loaded
once before the processes start (hub.startup.first_start, what each one's
first start would do), so that they do not race to load it.

The cluster counts as up when both answer /healthz and both are subscribed to
the message queue (Redis PUBSUB NUMSUB). Every wait has a timeout; everything
is stopped at the end, also on failure, by the pid this module started.
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.pg import PostgresServer, free_port
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
DEMO_PASSWORD = "Demo@2026"
FIRST_START_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 15.0
SOCKET_TIMEOUT = 10.0
# The channel Flask-SocketIO publishes on (its default).
QUEUE_CHANNEL = "flask-socketio"


class HubProcess:
    """One `gunicorn -c gunicorn.conf.py wsgi:app` (gevent worker) on 127.0.0.1:<port>."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.log = folder / f"gunicorn-{name}.log"
        self.env = {**env, "HUB_BIND": f"127.0.0.1:{self.port}"}
        self.process: subprocess.Popen | None = None
        self.worker: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "wb") as log:
            # Its own session, so that stop() can end the master and its worker
            # together even if the master no longer answers.
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def worker_pid(self) -> int | None:
        """The gunicorn worker (the master's one child), once there is one."""
        if self.process is None:
            return None
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return None
        pids = [int(p) for p in children.split()]
        return pids[0] if len(pids) == 1 else None

    def ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"hub {self.name} exited: {self.tail()}")
        self.worker = self.worker_pid()
        if self.worker is None:
            return False
        try:
            status, _ = request(self, "GET", "/healthz", timeout=2)
        except OSError:
            return False
        return status == 200

    def tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGINT (gunicorn's quick shutdown), then SIGKILL to its session if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
        if self.worker is not None and _in_session(self.worker, self.process.pid):
            os.kill(self.worker, signal.SIGKILL)        # a worker its master left behind

    # Faults (tests/faults): a crash, a graceful stop and a restart on the same port.

    def kill(self) -> None:
        """SIGKILL the master and its worker at once (their whole session), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        if self.worker is not None and _in_session(self.worker, self.process.pid):
            os.kill(self.worker, signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM to the master: gunicorn's graceful stop (in-flight requests finish)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def restart(self, timeout: float = START_TIMEOUT) -> float:
        """Start again on the same port after kill() or terminate(); returns the seconds
        until it answers /healthz."""
        if self.process is not None and self.process.poll() is None:
            self.process.wait(timeout=STOP_TIMEOUT + 30)
        started = time.monotonic()
        self.worker = None
        self.start()
        wait_until(self.ready, timeout, f"hub {self.name} restarted at {self.url}")
        return time.monotonic() - started


def _in_session(pid: int, session: int) -> bool:
    """True if process `pid` still runs in the session that `session` leads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[3]) == session        # field 6 of /proc/PID/stat: the session id


def request(process: HubProcess, method: str, path: str, *, token: str | None = None,
            body: Any = None, timeout: float = REQUEST_TIMEOUT) -> tuple[int, Any]:
    """One HTTP request over loopback; returns (status, parsed JSON or text)."""
    connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(raw)
        return response.status, raw.decode(errors="replace")
    finally:
        connection.close()


class SocketClient:
    """python-socketio's Client over WebSocket, recording every event it receives."""

    def __init__(self, process: HubProcess, token: str) -> None:
        import socketio
        self.process = process
        self.client = socketio.Client(reconnection=False, request_timeout=SOCKET_TIMEOUT)
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.client.on("*", self._record)
        self.client.connect(process.url, auth={"token": token}, transports=["websocket"],
                            wait_timeout=SOCKET_TIMEOUT)

    def _record(self, event: str, data: Any = None) -> None:
        with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    def received(self, event: str, match: Callable[[Any], bool] = lambda data: True) -> list[Any]:
        with self._changed:
            return [data for name, data in self.events if name == event and match(data)]

    def wait_for(self, event: str, match: Callable[[Any], bool] = lambda data: True,
                 timeout: float = SOCKET_TIMEOUT) -> Any:
        """The first `event` whose data matches; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [data for name, data in self.events if name == event and match(data)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event!r} event on hub {self.process.name} "
                                         f"within {timeout:.0f} s; got {self.events!r}")
                self._changed.wait(left)

    def call(self, event: str, data: Any) -> Any:
        return self.client.call(event, data, timeout=SOCKET_TIMEOUT)

    def close(self) -> None:
        self.client.disconnect()


class Cluster:
    """PostgreSQL + Redis + hub processes a and b; tokens and sockets for the demo cast."""

    def __init__(self, database_url: str, redis: RedisServer, a: HubProcess, b: HubProcess) -> None:
        self.database_url, self.redis = database_url, redis
        self.a, self.b = a, b
        self._tokens: dict[str, str] = {}

    def token(self, login: str) -> str:
        if login not in self._tokens:
            status, body = request(self.a, "POST", "/api/v1/auth/token",
                                   body={"login": login, "password": DEMO_PASSWORD})
            assert status == 200, (login, status, body)
            self._tokens[login] = body["token"]
        return self._tokens[login]

    def api(self, process: HubProcess, login: str, method: str, path: str,
            body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        """An API call as `login` on `process`; asserts the status."""
        status, answer = request(process, method, path, token=self.token(login), body=body)
        expected = (expect,) if isinstance(expect, int) else expect
        assert status in expected, (method, path, status, answer)
        return answer

    @contextmanager
    def socket(self, process: HubProcess, login: str) -> Iterator[SocketClient]:
        client = SocketClient(process, self.token(login))
        try:
            yield client
        finally:
            client.close()

    def queue_subscribers(self) -> int:
        import redis
        with redis.Redis.from_url(self.redis.url, socket_timeout=5) as connection:
            return dict(connection.pubsub_numsub(QUEUE_CHANNEL)).get(QUEUE_CHANNEL.encode(), 0)


def hub_env(folder: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of every hub process: the machine's, minus any HUB_* it had."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
    env.update(HUB_DATABASE_URL=database_url, HUB_REDIS_URL=redis_url,
               HUB_SECRET_KEY=secrets.token_hex(32), HUB_INSTANCE_PATH=str(folder / "instance"),
               HUB_DEMO="1", HUB_WORKER="gevent", PYTHONUNBUFFERED="1",
               HUB_TOTP_REQUIRED="off",      # the demo admins sign in by password alone
               # Many clients sign in from 127.0.0.1 at once; the limits are tested elsewhere.
               HUB_SIGN_IN_LIMIT_PER_ADDRESS="off", HUB_SIGN_IN_LIMIT_PER_LOGIN="off",
               HUB_STORAGE_MIN_FREE_MB="16")
    return env


def load_demo(env: dict[str, str], folder: Path) -> str:
    """Schema and demo county, once, as a hub's first start does; returns the banner."""
    code = ("import sys; from hub.startup import first_start; "
            "print(first_start(bind='127.0.0.1:0'), flush=True)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=FIRST_START_TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"first start failed: {result.stderr[-3000:]}")
    return result.stdout


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


@contextmanager
def running_cluster(pg: PostgresServer, folder: Path, database: str = "hub_cluster") -> Iterator[Cluster]:
    """Start Redis and two hub processes on a fresh database of `pg`; stop all at the end."""
    redis = RedisServer()
    processes: list[HubProcess] = []
    try:
        redis.start()
        database_url = pg.create_database(database)
        env = hub_env(folder, database_url, redis.url)
        load_demo(env, folder)
        processes = [HubProcess("a", folder, env), HubProcess("b", folder, env)]
        for process in processes:
            process.start()
        for process in processes:
            wait_until(process.ready, START_TIMEOUT, f"hub {process.name} at {process.url}")
        cluster = Cluster(database_url, redis, *processes)
        _subscribe_both(cluster)
        yield cluster
    except BaseException:
        for process in processes:
            sys.stderr.write(f"--- hub {process.name} log ---\n{process.tail()}\n")
        raise
    finally:
        for process in processes:
            try:
                process.stop()
            except Exception as problem:       # keep stopping the others
                sys.stderr.write(f"stopping hub {process.name}: {problem}\n")
        redis.stop()


def _subscribe_both(cluster: Cluster) -> None:
    """Both processes listen on the message queue before the tests begin.

    A process subscribes when its worker starts (gunicorn.conf.py); this waits
    for both subscriptions so that no test races them."""
    wait_until(lambda: cluster.queue_subscribers() >= 2, START_TIMEOUT,
               "both hub processes subscribed to the Redis message queue")


# Faults (tests/faults): stopping and starting the servers the hub depends on, on
# the same port, so that the hub processes find them again without a restart.

def stop_redis(redis: RedisServer) -> None:
    """End redis-server (SIGTERM) but keep its folder and port for start_redis()."""
    if redis.process is not None and redis.process.poll() is None:
        redis.process.terminate()
        redis.process.wait(timeout=STOP_TIMEOUT)
    if redis.process is not None and redis.process.stderr is not None:
        redis.process.stderr.close()


def start_redis(redis: RedisServer) -> None:
    """redis-server again on the port it had (empty: persistence is off)."""
    redis.start()


def stop_postgres(pg: PostgresServer) -> list[str]:
    """pg_ctl stop -m fast (clients are disconnected); returns the server's options
    for start_postgres()."""
    import shlex
    options = shlex.split((pg.data / "postmaster.opts").read_text())[1:]
    pg._run(pg.pg_ctl, "-D", str(pg.data), "-m", "fast", "-w", "stop")
    return options


def start_postgres(pg: PostgresServer, options: list[str]) -> None:
    """The server again, with the options it had (same port), once it accepts connections."""
    import shlex
    rest = [o for i, o in enumerate(options) if o != "-D" and (i == 0 or options[i - 1] != "-D")]
    pg._run(pg.pg_ctl, "-D", str(pg.data), "-o", shlex.join(rest), "-l",
            str(pg.dir / "server.log"), "-w", "start")
