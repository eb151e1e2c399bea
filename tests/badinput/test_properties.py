"""Hypothesis: the rich-text sanitizer, the org tree as a state machine of
domain actions, and notice receipts.

Example counts are kept modest (settings below) so the suite stays fast; each
test says how many it runs. No example database is written (database=None):
failures print their shrunk example instead.
"""
from __future__ import annotations

import itertools
from collections import Counter
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, invariant, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select

from hub.channels import queries as channel_queries
from hub.channels.models import Channel, ChannelKind, ChannelState
from hub.channels.text import RICH_ATTRIBUTES, RICH_TAGS, sanitize_html
from hub.errors import HubError
from hub.extensions import db
from hub.org import actions as org_actions
from hub.org import people as org_people
from hub.org.models import Membership, Unit, User
from tests.badinput.fields import blns

SANITIZER_EXAMPLES = 400
TREE_EXAMPLES, TREE_STEPS = 15, 25
RECEIPT_EXAMPLES = 25

quick = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

# ---- The sanitizer ------------------------------------------------------------------------------

FRAGMENTS = [
    "<script>", "</script>", "<SCRIPT SRC=//x.example/x.js>", "<scr<script>ipt>",
    "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<a href=\"javascript:alert(1)\">",
    "<a href='jav&#x09;ascript:alert(1)'>",
    "<a href=\"JaVaScRiPt:alert(1)\">", "<a href=\"  javascript:alert(1)\">", "<a href=\"data:text/html,x\">",
    "<a href=\"https://example.org/\" onclick=\"x()\">", "<a title=\"x\" href=\"mailto:a@b\">", "</a>",
    "<p>", "</p>", "<b>", "<i style=\"x\">", "<iframe src=x>", "<style>", "<!--", "-->", "<![CDATA[",
    "]]>", "<math><mi xlink:href=\"javascript:1\">", "<form action=javascript:1>", "<body onload=x>",
    "<p/onmouseover=x>",
    "javascript:", " onclick=", "\"", "'", "&lt;", "&#60;", "&", "<", ">", "=", "/", " ", "收到", "\n",
]
markup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(blns()), st.text(max_size=8)),
                  max_size=12).map("".join)


class _Elements(HTMLParser):
    """The start tags and attributes of an HTML fragment, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")     # a URL's scheme (WHATWG); none: relative


@settings(quick, max_examples=SANITIZER_EXAMPLES)
@given(markup)
def test_the_sanitizer_is_idempotent_and_never_emits_script(text):
    clean = sanitize_html(text)
    assert sanitize_html(clean) == clean
    assert not re.search(r"<\s*/?\s*script", clean, re.IGNORECASE)
    parser = _Elements()
    parser.feed(clean)
    parser.close()
    for tag, attrs in parser.found:
        assert tag in RICH_TAGS, (tag, clean)
        for name, value in attrs:
            assert not name.startswith("on") and name in RICH_ATTRIBUTES.get(tag, {"rel"}) | {"rel"}, clean
            if name == "href":
                # What a browser would follow (the parser has decoded entities; the
                # WHATWG URL parser trims C0 controls and spaces, and drops tabs and
                # newlines anywhere). "java\x01script:" is no scheme: a relative URL.
                target = re.sub(r"[\t\n\r]", "", (value or "").strip("".join(map(chr, range(33)))))
                scheme = _SCHEME.match(target)
                allowed = scheme is None or scheme.group(1).lower() in ("http", "https", "mailto")
                assert allowed, (value, clean)


# ---- The org tree as a state machine ----------------------------------------------------------------

def tree_problems(root: Unit) -> list[str]:
    """Everything wrong with the subtree of `root` and its channels, or []."""
    problems = []
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    for unit in [u for u in units.values() if u.path.startswith(root.path) or u.id == root.parent_id]:
        seen, node = set(), unit
        while node.parent_id is not None:             # acyclic: the parent chain ends
            if node.id in seen:
                problems.append(f"cycle through {unit.id}")
                break
            seen.add(node.id)
            node = units[node.parent_id]
        parent = units.get(unit.parent_id)
        expected_path = (parent.path if parent else "/") + f"{unit.id}/"
        if unit.path != expected_path or unit.depth != (parent.depth + 1 if parent else 0):
            problems.append(f"unit {unit.id}: path {unit.path} depth {unit.depth}, expected {expected_path}")
        if unit.active and parent is not None and not parent.active:
            problems.append(f"active unit {unit.id} under retired {parent.id}")
    members_by_unit: dict[int, set[int]] = {}
    for user_id, unit_id, active in db.session.execute(
            select(Membership.user_id, Membership.unit_id, User.active)
            .join(User, User.id == Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
            .where(Unit.path.startswith(root.path))):
        if not units[unit_id].active:
            problems.append(f"person {user_id} is still in retired unit {unit_id}")
        if active:
            members_by_unit.setdefault(unit_id, set()).add(user_id)
    channels = {c.unit_id: c for c in db.session.scalars(
        select(Channel).where(Channel.kind == ChannelKind.UNIT))}
    for unit in [u for u in units.values() if u.path.startswith(root.path)]:
        channel = channels.get(unit.id)
        if unit.active:
            if channel is None or channel.state != ChannelState.ACTIVE:
                problems.append(f"active unit {unit.id} has no active channel")
                continue
            members = channel_queries.member_ids(channel)
            if members != members_by_unit.get(unit.id, set()):
                problems.append(f"unit {unit.id}: channel members {members} != unit members "
                                f"{members_by_unit.get(unit.id, set())}")
        elif unit.merged_into_id is not None and channel is not None and channel.state == ChannelState.ACTIVE:
            problems.append(f"merged unit {unit.id} still has an active channel")
    return problems


def readable_unit_channels(person: User) -> set[int]:
    query = channel_queries.readable_channels(person, include_archived=False)
    return {c.unit_id for c in db.session.scalars(query) if c.kind == ChannelKind.UNIT}


def test_the_org_tree_stays_a_tree_with_channels_that_follow_it(shared_app):
    counter = itertools.count()
    done: Counter = Counter()

    class OrgTree(RuleBasedStateMachine):
        units = Bundle("units")
        people = Bundle("people")

        def __init__(self) -> None:
            super().__init__()
            self.context = shared_app.app_context()
            self.context.push()
            self.admin = db.session.scalar(select(User).where(User.login == "admin"))
            self.people: list[int] = []
            city = db.session.scalar(select(Unit).where(Unit.code == "3308"))
            self.root = org_actions.create_unit(self.admin, code=f"R{next(counter)}", name="根", parent=city)

        def teardown(self) -> None:
            db.session.rollback()
            self.context.pop()

        def attempt(self, action, *args, **kwargs):
            """Run a domain action; a refusal must leave nothing behind."""
            try:
                result = action(self.admin, *args, **kwargs)
                done[action.__name__] += 1
                return result
            except HubError:
                db.session.rollback()
                return None

        def unit(self, unit_id: int) -> Unit:
            return db.session.get(Unit, unit_id)

        @rule(target=units, name=st.sampled_from(["镇", "村", "𠀀𪚥社区", "<b>科</b>", " 办 "]))
        def create_under_root(self, name):
            created = self.attempt(org_actions.create_unit, code=f"U{next(counter)}", name=name,
                                   parent=self.root)
            return created.id if created else self.root.id

        @rule(target=units, parent=units, name=st.sampled_from(["组", "股", "室"]))
        def create(self, parent, name):
            created = self.attempt(org_actions.create_unit, code=f"U{next(counter)}", name=name,
                                   parent=self.unit(parent))
            return created.id if created else parent

        @rule(unit=units, parent=units)
        def move(self, unit, parent):
            if unit != self.root.id:
                self.attempt(org_actions.move_unit, self.unit(unit), self.unit(parent))

        @rule(source=units, into=units)
        def merge(self, source, into):
            if source != self.root.id:
                self.attempt(org_actions.merge_units, self.unit(source), self.unit(into))

        @rule(unit=units)
        def retire(self, unit):
            if unit != self.root.id:
                self.attempt(org_actions.retire_unit, self.unit(unit))

        @rule(target=people, unit=units)
        def add_person(self, unit):
            n = next(counter)
            person = self.attempt(org_people.create_person, login=f"p{n}.tree", name=f"人{n}",
                                  unit=self.unit(unit))
            if person is None:
                return None
            self.people.append(person.id)
            if unit != self.root.id:              # and a second post (兼职) in the root unit
                self.attempt(org_people.add_membership, person, self.unit(self.root.id))
            return person.id

        @rule(person=people, unit=units)
        def transfer(self, person, unit):
            if person is not None:
                self.attempt(org_people.transfer_person, db.session.get(User, person), self.unit(unit))

        @rule(person=people, unit=units)
        def add_membership(self, person, unit):
            if person is not None:
                self.attempt(org_people.add_membership, db.session.get(User, person), self.unit(unit))

        @rule(person=people, which=st.integers(0, 3))
        def remove_a_membership(self, person, which):
            if person is not None:
                memberships = db.session.get(User, person).memberships
                self.attempt(org_people.remove_membership, memberships[which % len(memberships)])

        @invariant()
        def it_is_a_tree_whose_channels_follow_it(self):
            db.session.expire_all()
            assert tree_problems(db.session.get(Unit, self.root.id)) == []

        @invariant()
        def people_read_exactly_their_units_channels(self):
            for person in db.session.scalars(select(User).where(User.id.in_(self.people))):
                own = {m.unit_id for m in person.memberships if m.unit.active}
                assert readable_unit_channels(person) == own, person.login

    run_state_machine_as_test(OrgTree, settings=settings(
        quick, max_examples=TREE_EXAMPLES, stateful_step_count=TREE_STEPS))
    # The machine did reach the interesting actions, not only refusals.
    for action in ("create_unit", "move_unit", "merge_units", "retire_unit", "create_person",
                   "transfer_person", "add_membership", "remove_membership"):
        assert done[action] > 0, done


# ---- Receipts ---------------------------------------------------------------------------------------------

# Two people of the audience (a village under the town) and one outside it.
READERS = ["mp_secretary", "mp_director", "sf_member"]


@pytest.fixture(scope="module")
def receipt_people(shared_api, shared_ids):
    return {login: (shared_api(login), shared_ids.user(login)) for login in READERS}


def test_receipts_count_each_person_once(shared_api, shared_ids, receipt_people):
    leader = shared_api("sl_leader")
    town = shared_ids.unit("330802100")

    @settings(quick, max_examples=RECEIPT_EXAMPLES)
    @given(st.lists(st.tuples(st.sampled_from(READERS), st.sampled_from(["open", "read", "ack"])),
                    max_size=12))
    def check(steps):
        notice = leader.post("/api/v1/notices", json={
            "title": "回执", "summary": "请签收", "requires_ack": True, "audience": {"subtrees": [town]}})
        assert notice.status_code == 201, notice.get_json()
        notice_id = notice.get_json()["id"]
        read, acked = set(), set()
        for login, step in steps:
            client, _ = receipt_people[login]
            if step == "open":
                response = client.get(f"/api/v1/notices/{notice_id}")
            else:
                response = client.post(f"/api/v1/notices/{notice_id}/{step}")
            if login == "sf_member":                   # outside the audience: nothing to see
                assert response.status_code == 404
                continue
            assert response.status_code == 200, response.get_json()
            read.add(login)
            if step == "ack":
                acked.add(login)
        coverage = leader.get(f"/api/v1/notices/{notice_id}/receipts").get_json()
        assert coverage["audience_count"] >= coverage["read_count"] >= coverage["acked_count"]
        assert (coverage["read_count"], coverage["acked_count"]) == (len(read), len(acked)), steps
        assert sum(row["read"] for row in coverage["by_unit"]) == coverage["read_count"]
        assert all(row["audience"] >= row["read"] >= row["acked"] for row in coverage["by_unit"])
        again = leader.get(f"/api/v1/notices/{notice_id}/receipts").get_json()
        assert again == coverage                         # reading the coverage changes nothing

    check()
