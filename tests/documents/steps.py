"""Helpers for the documents API tests: a draft body, steps, refusals, people."""
from __future__ import annotations

import io

from sqlalchemy import select

from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User
TOWN, OFFICE, COUNTY, OTHER_TOWN = "330802100", "330802-GOV", "330802", "330803100"



def notice(ids, **fields) -> dict:
    data = {"doc_type": "通知", "title": "关于做好2026年冬季森林防火工作的通知", "urgency": "加急",
            "security": "非涉密", "main_recipients": [ids.unit(TOWN)], "body": "各乡镇（街道）：……"}
    data.update(fields)
    return data


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def refused(response, status: int, field: str | None = None) -> dict:
    """The error JSON of a refusal: the status, a reason, and the field when one is named."""
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


def act(person, document_id: int, action: str, **fields):
    return person.post(f"/api/v1/documents/{document_id}/actions", json={"action": action, **fields})


def upload(person, name: str, data: bytes) -> int:
    response = person.post("/api/v1/attachments", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    return ok(response, 201)["id"]


def outgoing(api, document_id: int, clerk: str = "kc_clerk", leader: str = "kc_leader") -> dict:
    """Review, sign off, number and dispatch a draft."""
    ok(act(api(clerk), document_id, "review"))
    ok(act(api(leader), document_id, "sign"))
    ok(act(api(clerk), document_id, "number"))
    return ok(act(api(clerk), document_id, "dispatch"))


def dispatched(api, ids, **fields) -> int:
    document = ok(api("kc_clerk").post("/api/v1/documents", json=notice(ids, **fields)), 201)
    outgoing(api, document["id"])
    return document["id"]


def actions_of(document: dict) -> list[str]:
    return [step["action"] for step in document["timeline"]]


def make_person(app, login: str, name: str, unit_code: str, position: str, role: str) -> None:
    """An extra person for one test, with the cast's password."""
    with app.app_context():
        template = db.session.scalar(select(User).where(User.login == "kc_clerk"))
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        person = User(login=login, name=name, password_hash=template.password_hash)
        person.memberships.append(Membership(unit=unit, position=position, is_primary=True))
        person.roles.append(RoleGrant(role=role, unit=unit))
        db.session.add(person)
        db.session.commit()


def set_office_prefix(app) -> None:
    """The county office's 发文机关代字."""
    with app.app_context():
        db.session.scalar(select(Unit).where(Unit.code == OFFICE)).doc_prefix = "柯政办发"
        db.session.commit()
