"""What many tests make the same way: a socket of a person, a page's HTML, a
notice published (or refused) through the API."""
from __future__ import annotations

from typing import Any

from hub.extensions import socketio
from tests.cast import PASSWORD

NOTICE_TITLE = "关于做好冬季防火工作的通知"
NOTICE_SUMMARY = "12月1日前完成辖区隐患排查并上报"
NOTICE_BODY = "各村（社区）：\n请按附件要求排查。"


def token_for(app, login: str) -> str:
    response = app.test_client().post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def connect(app, login: str):
    """A Socket.IO test client signed in as `login` by token, connected, with
    nothing received yet."""
    client = socketio.test_client(app, auth={"token": token_for(app, login)})
    assert client.is_connected(), login
    client.get_received()
    return client


def page(client, path: str, status: int = 200, **kw: Any) -> str:
    """The HTML of a page, which must answer `status`."""
    response = client.get(path, **kw)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:400])
    return response.get_data(as_text=True)


def created(response) -> int:
    """The id of what a POST created, which must answer 201."""
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def notice_body(audience: dict, **fields: Any) -> dict:
    """The winter fire-safety notice to `audience` as the API takes it, `fields` over it."""
    return {"title": NOTICE_TITLE, "summary": NOTICE_SUMMARY, "body": NOTICE_BODY, "audience": audience,
            **fields}


def publish(person, title: str, audience: dict, **fields: Any) -> int:
    """A notice of `person` (an API client) to `audience`; its id."""
    body = notice_body(audience, title=title, summary=f"{title}的要点", body="正文")
    return created(person.post("/api/v1/notices", json={**body, **fields}))


def post_to_town(person, ids, **fields: Any):
    """POST the winter fire-safety notice of `person` (an API client) to 石梁镇's
    subtree (unless `audience` says otherwise), `fields` over it: the answer,
    for the tests of what is refused."""
    fields.setdefault("audience", {"subtrees": [ids.unit("330802100")]})
    return person.post("/api/v1/notices", json=notice_body(**fields))


def publish_to_town(api, ids, login: str = "kc_clerk", **fields: Any) -> int:
    """The winter fire-safety notice of 柯城区's office to 石梁镇's subtree (unless
    `audience` says otherwise); its id."""
    return created(post_to_town(api(login), ids, **fields))
