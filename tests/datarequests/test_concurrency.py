"""Two clerks submit the same version of a form at the same moment, each in a
thread and a session of their own: exactly one wins, the other gets 409 with
the values that won — on SQLite and on PostgreSQL (a conditional INSERT or
UPDATE on the version decides, not the order of reading)."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from hub.datarequests.models import DataRequest, DataRequestUnit, DataValueHistory
from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User
from tests.datarequests.conftest import TOWN, add_field, form, request_body, send

ROUNDS = 3


def _second_clerk(app) -> str:
    """石梁镇 gets a second 文书, so that two people answer its forms."""
    with app.app_context():
        town = db.session.scalar(select(Unit).where(Unit.code == TOWN))
        hashed = db.session.scalar(select(User.password_hash).where(User.login == "sl_clerk"))
        clerk = User(login="sl_clerk2", name="何文书", password_hash=hashed)
        clerk.memberships.append(Membership(unit=town, position="党政办文书", is_primary=True))
        clerk.roles.append(RoleGrant(role="clerk", unit=town))
        db.session.add(clerk)
        db.session.commit()
    return "sl_clerk2"


def _race(clients, path: str, bodies: list[dict], method: str = "put") -> list:
    """Send the bodies at once, one thread each; the responses in the same order."""
    barrier = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = getattr(clients[index], method)(path, json=bodies[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_clerks_submitting_the_same_version_at_once_one_wins(app, api, ids):
    second = _second_clerk(app)
    office = api("kc_clerk")
    field = add_field(office)["id"]
    town = ids.unit(TOWN)
    request_id = send(office, [field], {"units": [town]})["id"]
    clerks = [api("sl_clerk"), api(second)]
    path = f"/api/v1/data/requests/{request_id}/units/{town}"
    for round_ in range(ROUNDS):
        version = form(clerks[0], request_id, town)["version"]
        assert version == round_
        bodies = [{"values": {str(field): 1000 * round_ + i}, "version": version} for i in (1, 2)]
        answers = _race(clerks, path, bodies)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409], [a.get_json() for a in answers]
        winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
        loser = answers[1 - winner].get_json()
        assert loser["error"]["code"] == "stale_version"
        kept = 1000 * round_ + winner + 1
        assert loser["current"]["version"] == version + 1
        assert loser["current"]["fields"][0]["value"] == kept
        assert form(clerks[1], request_id, town)["fields"][0]["value"] == kept
    with app.app_context():
        answer = db.session.scalar(select(DataRequestUnit).where(DataRequestUnit.request_id == request_id))
        assert answer.version == ROUNDS
        versions = db.session.scalars(select(DataValueHistory.version)
                                      .where(DataValueHistory.field_id == field)
                                      .order_by(DataValueHistory.version)).all()
        assert versions == list(range(1, ROUNDS + 1))          # one history row per winning submit


def _post_at_once(clients, path: str, bodies: list[dict]) -> list:
    return _race(clients, path, bodies, method="post")


def test_two_authors_sending_the_same_request_at_once_the_second_sees_the_first(app, api, ids, bureau):
    """Each round, 柯城区's office and its 统计局 send the same fields to the same
    town for the same period at the same moment: one is sent, the other is a 409
    with the first among its overlaps — never two requests without a reason."""
    office, statistics = api("kc_clerk"), api(bureau)
    field = add_field(office)["id"]
    town = ids.unit(TOWN)
    for round_ in range(ROUNDS):
        period = str(2020 + round_)
        body = request_body([field], {"units": [town]}, period=period)
        answers = _post_at_once([office, statistics], "/api/v1/data/requests", [body, body])
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 409], [a.get_json() for a in answers]
        sent = next(a for a in answers if a.status_code == 201).get_json()["id"]
        refused = next(a for a in answers if a.status_code == 409).get_json()
        assert refused["error"]["code"] == "overlap"
        assert [o["request_id"] for o in refused["overlaps"]] == [sent]
    with app.app_context():
        assert db.session.scalar(select(func.count(DataRequest.id))) == ROUNDS
