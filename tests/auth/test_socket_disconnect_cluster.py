"""Across processes: a sign-out, a token revocation or a password change on hub
a closes the person's sockets on hub b within a second (the Redis message
queue carries the "close these rooms" message).

Two gunicorn processes on PostgreSQL and Redis (tests/cluster.py), real clients
over WebSocket and HTTP over loopback. Run once, on PostgreSQL only, and skipped
without redis-server unless HUB_REQUIRE_REDIS=1 (CI), like tests/test_cluster.py.
"""
from __future__ import annotations

import os
import re
import time

import pytest

from tests.auth.live import USER_AGENT, Socket, session_cookie
from tests.cluster import DEMO_PASSWORD, HubProcess, request, running_cluster
from tests.redis_server import require_redis

BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgresql").split(",")
pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS,
                                reason="the cluster runs on PostgreSQL (HUB_TEST_BACKENDS)")
LIMIT = 1.0


@pytest.fixture(scope="module")
def cluster(pg_server, tmp_path_factory):
    require_redis()
    with running_cluster(pg_server, tmp_path_factory.mktemp("auth-cluster"),
                         database="hub_auth_cluster") as running:
        yield running


def http(process: HubProcess, method: str, path: str, *, cookie: str | None = None,
         form: dict[str, str] | None = None):
    import http.client
    import urllib.parse
    connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=15)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.body = response.read().decode(errors="replace")
        return response
    finally:
        connection.close()


def browser_sign_in(process: HubProcess, login: str) -> str:
    """The login form as a browser posts it (CSRF token and all); the session cookie."""
    page = http(process, "GET", "/auth/login")
    cookie = session_cookie(page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.body).group(1)
    answer = http(process, "POST", "/auth/login", cookie=cookie,
                  form={"login": login, "password": DEMO_PASSWORD, "csrf_token": csrf})
    assert answer.status == 302, answer.body[:300]
    return session_cookie(answer)


def csrf_of(process: HubProcess, cookie: str) -> tuple[str, str]:
    """A page's CSRF token, and the session cookie that holds it."""
    page = http(process, "GET", "/auth/password", cookie=cookie)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.body).group(1)
    return token, session_cookie(page)


def closed_within_a_second(sock: Socket, since: float, answered: float, what: str) -> None:
    """Closed at most a second after hub a answered (its commit comes before the
    answer). Timed from the answer, not from sending: a password change spends
    a second or more in two argon2 hashes (production parameters) before it
    commits. Both figures are printed."""
    assert sock.closed.wait(5), f"{what}: still connected 5 s later"
    after_answer = sock.closed_at - answered
    print(f"\n{what}: socket on hub b closed {(sock.closed_at - since) * 1000:.0f} ms after the "
          f"request to hub a was sent, {after_answer * 1000:+.0f} ms from its answer")
    assert after_answer < LIMIT, f"{what}: {after_answer:.2f} s after the answer"


def test_sign_out_on_one_process_closes_the_socket_on_the_other(cluster):
    cookie = browser_sign_in(cluster.a, "d02.leader")
    sock = Socket(cluster.b.url, cookie=cookie)
    bystander = Socket(cluster.b.url, token=cluster.token("d02.clerk"))
    try:
        csrf, cookie = csrf_of(cluster.a, cookie)
        start = time.monotonic()
        assert http(cluster.a, "POST", "/auth/logout", cookie=cookie,
                    form={"csrf_token": csrf}).status == 302
        closed_within_a_second(sock, start, time.monotonic(), "sign-out")
        time.sleep(0.3)
        assert bystander.connected
    finally:
        sock.close()
        bystander.close()


def test_revoking_a_token_on_one_process_closes_its_socket_on_the_other(cluster):
    status, body = request(cluster.a, "POST", "/api/v1/auth/token",
                           body={"login": "330802100.ws", "password": DEMO_PASSWORD})
    assert status == 200, body
    sock = Socket(cluster.b.url, token=body["token"])
    try:
        start = time.monotonic()
        status, _ = request(cluster.a, "DELETE", "/api/v1/auth/token", token=body["token"])
        answered = time.monotonic()
        assert status == 200
        closed_within_a_second(sock, start, answered, "token revoked")
    finally:
        sock.close()


def test_a_password_change_on_one_process_closes_the_sockets_on_the_other(cluster):
    status, body = request(cluster.a, "POST", "/api/v1/auth/token",
                           body={"login": "330802100.sj", "password": DEMO_PASSWORD})
    assert status == 200, body
    sock = Socket(cluster.b.url, token=body["token"])
    try:
        start = time.monotonic()
        status, answer = request(cluster.a, "POST", "/api/v1/me/password", token=body["token"],
                                 body={"current_password": DEMO_PASSWORD,
                                       "new_password": "Xin-mima-2026"})
        answered = time.monotonic()
        assert status == 200, answer
        closed_within_a_second(sock, start, answered, "password changed")
    finally:
        sock.close()
