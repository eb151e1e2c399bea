"""Socket.IO refuses a browser connection from a foreign Origin (cross-site
WebSocket hijacking): only the hub's own origin by default, or the configured
list (HUB_SOCKETIO_ALLOWED_ORIGINS). Real clients over WebSocket."""
from __future__ import annotations

import pytest
import socketio

from tests.auth.live import Socket, open_socket, served

EVIL = "http://evil.example"


def test_a_foreign_origin_is_refused_even_with_a_valid_session(app):
    with served(app) as server:
        cookie = server.sign_in("kc_clerk")
        with pytest.raises(socketio.exceptions.ConnectionError):
            Socket(server.url, cookie=cookie, origin=EVIL)
        # The same session from the hub's own page connects.
        assert open_socket(server, cookie=cookie, origin=server.url).connected


def test_the_polling_transport_checks_the_origin_too(app, client):
    refused = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL})
    assert refused.status_code == 400
    own = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert own.status_code == 200


def test_allowed_origins_are_configurable(make_app, database_uri):
    portal = "https://portal.example.gov.cn"
    app = make_app(database_uri, SOCKETIO_ALLOWED_ORIGINS=[portal])
    with served(app) as server:
        token = server.token("kc_clerk")
        assert open_socket(server, token=token, origin=portal).connected
        with pytest.raises(socketio.exceptions.ConnectionError):
            Socket(server.url, token=token, origin=EVIL)


def test_origin_list_from_the_environment(monkeypatch):
    import config
    monkeypatch.setenv("HUB_SOCKETIO_ALLOWED_ORIGINS", " https://a.example , https://b.example,")
    assert config._list("HUB_SOCKETIO_ALLOWED_ORIGINS") == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("HUB_SOCKETIO_ALLOWED_ORIGINS", "")
    assert config._list("HUB_SOCKETIO_ALLOWED_ORIGINS") is None
