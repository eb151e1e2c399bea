"""A throwaway Redis server on loopback for the test run.

Started from Debian's `redis-server` package binary in a temp directory, on a
free port, bound to 127.0.0.1, with persistence off (no RDB snapshots, no
append-only file) and in the foreground, so that the test run owns the process
and stops it by its pid. Redis runs as root without complaint, so unlike
PostgreSQL (tests/pg.py) there is no user to switch to.

Without the binary the tests that need Redis are skipped, with the install
command in the reason; CI sets HUB_REQUIRE_REDIS=1 so that they fail instead.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.pg import free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
MISSING = "redis-server not found: apt-get install redis-server"


def find_redis() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)), None)


def require_redis() -> None:
    """Skip the calling test (or fixture) when Redis is missing; fail under HUB_REQUIRE_REDIS=1."""
    import pytest
    if find_redis() is None:
        if os.environ.get("HUB_REQUIRE_REDIS") == "1":
            pytest.fail(MISSING)
        pytest.skip(MISSING)


def ping(port: int, timeout: float = 1.0) -> bool:
    """True if a Redis server answers PING on 127.0.0.1:port (plain RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """redis-server on 127.0.0.1:<free port>; start() waits for PING, stop() ends it."""

    def __init__(self) -> None:
        self.binary = find_redis()
        self.dir = Path(tempfile.mkdtemp(prefix="hub-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def available(self) -> bool:
        return self.binary is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--daemonize", "no",
                   "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")]
        self.process = subprocess.Popen(command, cwd=self.dir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"redis-server exited ({self.process.returncode}): "
                                   f"{error or self.log()}")
            if ping(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer in {START_TIMEOUT:.0f} s: {self.log()}")

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT)
            if self.process is not None and self.process.stderr is not None:
                self.process.stderr.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
