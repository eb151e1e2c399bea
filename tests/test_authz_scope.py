"""Rules of reach over every route of the authorization matrix (issue 13).

The rows come from tests/test_authz_matrix.py's MATRIX, so a new route is
covered as soon as it has its row:

- a unit admin acts on a person (account, memberships, roles) only when every
  unit the person belongs to lies in their subtree: a county cadre with a post
  in a village (包村干部) is, for that village's or town's admin, like a person
  of a sibling subtree (finding 1);
- nobody decides (approves or rejects) their own pending task channel, on the
  page or the API (finding 6);
- an id that does not exist and an id outside the caller's reach get the same
  404, status and words (finding 11).
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User
from tests.test_authz_matrix import (MATRIX, OFFICE, PERSONAS, TOWN, VILLAGE, Row, World,
                                     counted, http_cell, sign_in, world)

__all__ = ["counted", "world"]           # the matrix's fixtures, used here as they are

NOWHERE = 2**31 - 1                      # a valid id that no object has
CADRE = "kc_cadre"                       # of 柯城区人民政府办公室, with a post in 麻蓬村
SUBTREE_ADMINS = {"village_admin": ("mp_admin", VILLAGE), "town_admin": ("sl_admin", TOWN)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def add_cadre_and_subtree_admins(app) -> int:
    """A county cadre (primary unit the county office) with a secondary post in
    麻蓬村, and unit admins of 麻蓬村 and of 石梁镇; returns the cadre's id."""
    with app.app_context():
        units = {code: db.session.scalar(select(Unit).where(Unit.code == code))
                 for code in (OFFICE, TOWN, VILLAGE)}
        hashed = db.session.scalar(select(User.password_hash).where(User.login == "mp_director"))
        cadre = User(login=CADRE, name="赵振华", password_hash=hashed)
        cadre.memberships.append(Membership(unit=units[OFFICE], position="副主任", is_primary=True))
        cadre.memberships.append(Membership(unit=units[VILLAGE], position="包村干部"))
        people = [cadre]
        for name, (login, code) in zip(("孙村管", "钱镇管"), SUBTREE_ADMINS.values()):
            admin = User(login=login, name=name, password_hash=hashed)
            admin.memberships.append(Membership(unit=units[code], position="信息员", is_primary=True))
            admin.roles.append(RoleGrant(role="unit_admin", unit=units[code]))
            people.append(admin)
        db.session.add_all(people)
        db.session.commit()
        return cadre.id


def reset_cadre(world: World, cadre_id: int) -> int:
    """Put the cadre back as made (a row as 柯城区's admin may have changed them);
    returns the id of their 麻蓬村 membership."""
    with world.app.app_context():
        cadre = db.session.get(User, cadre_id)
        cadre.active, cadre.name = True, "赵振华"
        cadre.roles.clear()
        wanted = {world.ids["office"]: True, world.ids["village"]: False}
        for membership in list(cadre.memberships):
            if membership.unit_id not in wanted:
                cadre.memberships.remove(membership)
        for unit_id, primary in wanted.items():
            membership = next((m for m in cadre.memberships if m.unit_id == unit_id), None)
            if membership is None:
                membership = Membership(unit_id=unit_id)
                cadre.memberships.append(membership)
            membership.is_primary, membership.position = primary, "副主任" if primary else "包村干部"
        db.session.commit()
        return next(m.id for m in cadre.memberships if m.unit_id == world.ids["village"])


@pytest.fixture(scope="module")
def scope_world(world):
    """The matrix's world (this module's own copy), with the cadre and the
    admins of 麻蓬村 and 石梁镇 signed in as extra personas."""
    world.ids["cadre"] = add_cadre_and_subtree_admins(world.app)
    for persona, (login, _code) in SUBTREE_ADMINS.items():
        world.web[persona], world.api[persona], world.tokens[persona] = sign_in(world.app, login)
    return world


def names(row: Row) -> set[str]:
    """The placeholders a row's path and body name."""
    text = row.path + repr(row.json) + repr(row.data if not callable(row.data) else None)
    return set(PLACEHOLDER.findall(text))


def cell_of(row: Row, persona: str) -> str:
    return dict(zip(PERSONAS, row.expect.split()))[persona]


# ---- Finding 1: the whole person in the subtree ------------------------------------------------

PERSON_ROWS = [key for key, row in MATRIX.items()
               if not key.startswith("SOCKET") and names(row) & {"person", "membership"}]


def test_the_person_rows_include_every_account_action():
    """The sweep below covers what the finding names (a guard on `names`)."""
    scoped = {key for key in PERSON_ROWS if cell_of(MATRIX[key], "sibling_admin") == "404"}
    for route in ("POST /api/v1/people/<int:person_id>/password", "PATCH /api/v1/people/<int:person_id>",
                  "POST /admin/people/<id:person_id>/active", "POST /admin/people/<id:person_id>/transfer",
                  "DELETE /api/v1/people/<int:person_id>/memberships/<int:membership_id>",
                  "POST /api/v1/people/<int:person_id>/roles", "GET /admin/people/<id:person_id>"):
        assert route in scoped


@pytest.mark.parametrize("key", PERSON_ROWS)
def test_a_subtree_admin_reaches_only_people_wholly_in_their_subtree(scope_world, key):
    """Against the county cadre with a post in 麻蓬村, the admins of 麻蓬村 and
    of 石梁镇 get what an admin of a sibling subtree gets for a person of
    柯城区 (404 for every account, membership and role action), and 柯城区's
    admin, whose subtree holds all the cadre's units, what they get for 李秀英."""
    row, method = MATRIX[key], key.split(" ", 1)[0]
    assert not row.fresh, "a row with its own sign-in: LOGINS has no subtree admins (add them here)"
    wrong = []
    for persona, expected in [(p, cell_of(row, "sibling_admin")) for p in SUBTREE_ADMINS] + [
            ("unit_admin", cell_of(row, "unit_admin"))]:
        membership = reset_cadre(scope_world, scope_world.ids["cadre"])
        about_cadre = replace(scope_world, ids={**scope_world.ids, "person": scope_world.ids["cadre"],
                                                "membership": membership})
        got, detail = http_cell(about_cadre, method, row, persona)
        if got != expected:
            wrong.append(f"{persona}: expected {expected}, got {got} — {detail}")
    reset_cadre(scope_world, scope_world.ids["cadre"])
    assert wrong == [], "\n".join(wrong)


# ---- Finding 6: nobody decides their own request ----------------------------------------------

DECISION_ROWS = [key for key, row in MATRIX.items() if "pending" in names(row)]


def _own_pending_channel(world: World, persona: str) -> int:
    """A task channel `persona` (a unit admin) asks for over the whole county:
    beyond their own subtree, so it waits for approval."""
    number = world.next_number()
    response = world.api[persona].post("/api/v1/channels", json={
        "name": f"全区专项{number}", "purpose": "全区防汛调度",
        "ends_on": (date.today() + timedelta(days=30)).isoformat(), "subtree_ids": [world.ids["county"]]})
    assert response.status_code == 201 and response.get_json()["state"] == "pending", response.get_json()
    return response.get_json()["id"]


def _state(world: World, channel_id: int) -> str:
    with world.app.app_context():
        from hub.channels.models import Channel
        return db.session.get(Channel, channel_id).state


def test_the_decision_rows_are_found():
    assert len(DECISION_ROWS) >= 2


@pytest.mark.parametrize("key", DECISION_ROWS)
@pytest.mark.parametrize("approve", [True, False])
def test_nobody_decides_their_own_request(scope_world, key, approve):
    """石梁镇's unit admin asks for a county-wide channel: it waits; they may
    not approve (nor reject) it themselves (403), 柯城区's admin may."""
    row, method = MATRIX[key], key.split(" ", 1)[0]
    if row.json is not None:
        row = replace(row, json={**row.json, "approve": approve})
    else:
        row = replace(row, data={**row.data, "approve": "1" if approve else "0"})
    own = _own_pending_channel(scope_world, "town_admin")
    mine = replace(scope_world, ids={**scope_world.ids, "pending": own})
    assert http_cell(mine, method, row, "town_admin")[0] == "403"
    assert _state(scope_world, own) == "pending"
    assert http_cell(mine, method, row, "unit_admin")[0] == "ok"
    assert _state(scope_world, own) == ("active" if approve else "rejected")


# ---- Finding 11: one 404 for "not found" and "not yours" ----------------------------------------

ID_ROWS = [key for key, row in MATRIX.items()
           if not key.startswith("SOCKET") and PLACEHOLDER.search(row.path) and "404" in row.expect.split()]
ERROR_PAGE = re.compile(r"<h1>(\d+)</h1>\s*<p>(.*?)</p>", re.S)


def _answer(world: World, method: str, row: Row, persona: str) -> tuple[int, str]:
    """The status and the words of a response (the JSON error, or the error page's)."""
    from tests.test_authz_matrix import _fill  # noqa: PLC0415 - the matrix's own filling
    ids = dict(world.ids)
    if row.prepare is not None:
        ids.update(row.prepare(world))
    kwargs = {}
    if row.json is not None:
        kwargs["json"] = _fill(row.json, ids)
    elif row.data is not None:
        data = row.data() if callable(row.data) else row.data
        kwargs["data"] = {k: str(_fill(v, ids)) if isinstance(v, str) else v for k, v in data.items()}
    path = row.path.format(**ids)
    client = world.api[persona] if path.startswith("/api/") else world.web[persona]
    response = client.open(path, method=method, **kwargs)
    if response.is_json:
        return response.status_code, (response.get_json().get("error") or {}).get("message", "")
    found = ERROR_PAGE.search(response.get_data(as_text=True))
    return response.status_code, found.group(2).strip() if found else ""


def _nowhere(row: Row, name: str) -> Row:
    """The row with the object `name` replaced by an id that does not exist."""
    prepare = row.prepare
    return replace(row, prepare=lambda world: {**(prepare(world) if prepare else {}), name: NOWHERE})


@pytest.mark.parametrize("key", ID_ROWS)
def test_a_missing_id_and_an_id_out_of_reach_answer_alike(scope_world, key):
    """For each persona the row answers 404 (the object exists, out of their
    reach), the same request naming an id that does not exist gets the same
    status and the same words, whichever id of the path is replaced."""
    row, method = MATRIX[key], key.split(" ", 1)[0]
    wrong = []
    for persona in [p for p in PERSONAS if cell_of(row, p) == "404"]:
        out_of_reach = _answer(scope_world, method, row, persona)
        assert out_of_reach[0] == 404, (persona, out_of_reach)
        for name in sorted(set(PLACEHOLDER.findall(row.path))):
            missing = _answer(scope_world, method, _nowhere(row, name), persona)
            if missing != out_of_reach:
                wrong.append(f"{persona}, {{{name}}} missing: {missing} ≠ out of reach: {out_of_reach}")
    assert wrong == [], "\n".join(wrong)


def test_every_404_of_an_object_is_raised_through_not_found():
    """One message per kind of object: no helper words its own 404 (hub.errors.not_found)."""
    root = Path(__file__).resolve().parent.parent / "hub"
    own_words = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
                 if path.name != "errors.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "NotFound(" in line]
    assert own_words == []
