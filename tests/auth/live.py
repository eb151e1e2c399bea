"""A test's app served on loopback, and real Socket.IO clients for it.

The Flask-SocketIO test client calls the server in-process and skips the HTTP
layer (no Origin check, no WebSocket). These tests need the real thing: the
app is served by Werkzeug's threaded server on 127.0.0.1:<free port>, in a
thread of the test process (so the test still reaches the same database and
Socket.IO server), and python-socketio's Client connects over WebSocket.

Flask-Login's strong session protection ties a session to the client's address
and User-Agent, so the HTTP sign-in and the socket send the same User-Agent.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from contextlib import contextmanager
from typing import Any, Iterator

import socketio
from werkzeug.serving import make_server

from tests.cast import PASSWORD

USER_AGENT = "hub-tests/1"
TIMEOUT = 10.0


class LiveServer:
    """`app` on http://127.0.0.1:<port>, served by a thread until stop()."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(TIMEOUT)

    def request(self, method: str, path: str, *, cookie: str | None = None, token: str | None = None,
                json_body: Any = None, form: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """One HTTP request; the answer's body is read into `.body`."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        headers = {"User-Agent": USER_AGENT}
        data = None
        if cookie:
            headers["Cookie"] = cookie
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            response.body = response.read()
            return response
        finally:
            connection.close()

    def sign_in(self, login: str, password: str = PASSWORD) -> str:
        """Browser sign-in; returns the session cookie ("hub_session=...")."""
        response = self.request("POST", "/auth/login", form={"login": login, "password": password})
        assert response.status == 302, response.body[:300]
        return session_cookie(response)

    def token(self, login: str, password: str = PASSWORD) -> str:
        response = self.request("POST", "/api/v1/auth/token",
                                json_body={"login": login, "password": password})
        assert response.status == 200, response.body
        return json.loads(response.body)["token"]


def session_cookie(response) -> str:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("hub_session="):
            return value.split(";", 1)[0]
    raise AssertionError("no session cookie in the answer")


class Socket:
    """python-socketio's Client over WebSocket, noting when the server closed it."""

    def __init__(self, url: str, *, cookie: str | None = None, token: str | None = None,
                 origin: str | None = None) -> None:
        options = {"origin": origin} if origin else {}
        self.client = socketio.Client(reconnection=False, request_timeout=TIMEOUT,
                                      websocket_extra_options=options)
        self.closed = threading.Event()
        self.closed_at: float | None = None
        self.client.on("disconnect", self._on_disconnect)
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        self.client.connect(url, headers=headers, auth={"token": token} if token else None,
                            transports=["websocket"], wait_timeout=TIMEOUT)

    def _on_disconnect(self, reason: Any = None) -> None:
        self.closed_at = time.monotonic()
        self.closed.set()

    @property
    def connected(self) -> bool:
        return self.client.connected and not self.closed.is_set()

    def seconds_to_close(self, since: float, timeout: float = 5.0) -> float:
        """Seconds from `since` (time.monotonic()) until the server closed this socket."""
        assert self.closed.wait(timeout), f"still connected {timeout} s later"
        return self.closed_at - since

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@contextmanager
def served(app) -> Iterator[LiveServer]:
    server = LiveServer(app)
    sockets: list[Socket] = []
    server.sockets = sockets
    try:
        yield server
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def open_socket(server: LiveServer, **kw: Any) -> Socket:
    sock = Socket(server.url, **kw)
    server.sockets.append(sock)
    return sock
