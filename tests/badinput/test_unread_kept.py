"""The inbox's kept unread number (hub/notices/unread.py) never drifts from a
count made afresh: a Hypothesis state machine publishes (now, backdated and
scheduled, to subtrees, units, positions and people), reads, corrects and
revokes notices, moves people and units, and lets time pass — and after every
step compares, for every person it made, the kept number with a fresh count.
On SQLite and on PostgreSQL (the module's `shared_app`).

Time passes by moving every stored time back at once (notices and the kept
snapshots' horizons), on a connection of its own, so that no session listener
sees it: what was scheduled comes due and snapshots grow old, as they would.
"""
from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select, update

from hub.db import utcnow
from hub.errors import HubError
from hub.extensions import db
from hub.notices import actions as notice_actions
from hub.notices.actions import NoticeDraft
from hub.notices.audience import Audience
from hub.notices.models import Notice, UnreadCount
from hub.notices.queries import access_notice
from hub.notices.unread import count_afresh, unread_count
from hub.org import actions as org_actions
from hub.org import people as org_people
from hub.org.models import Unit, User

EXAMPLES, STEPS = 25, 50
POSITIONS = ["村文书", "主任"]
quick = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def let_time_pass(hours: float) -> None:
    """Every stored moment moves `hours` into the past."""
    shift = timedelta(hours=hours)
    notices, counts = Notice.__table__, UnreadCount.__table__
    with db.engine.begin() as connection:
        for row in connection.execute(select(notices.c.id, notices.c.publish_at, notices.c.created_at)).all():
            connection.execute(update(notices).where(notices.c.id == row.id)
                               .values(publish_at=row.publish_at - shift, created_at=row.created_at - shift))
        for row in connection.execute(select(counts.c.user_id, counts.c.horizon)).all():
            connection.execute(update(counts).where(counts.c.user_id == row.user_id)
                               .values(horizon=row.horizon - shift))


def test_the_kept_unread_number_equals_a_fresh_count(shared_app):
    counter = itertools.count()
    done: Counter = Counter()

    class Inboxes(RuleBasedStateMachine):
        units = Bundle("units")
        people = Bundle("people")
        notices = Bundle("notices")

        def __init__(self) -> None:
            super().__init__()
            self.context = shared_app.app_context()
            self.context.push()
            self.admin = db.session.scalar(select(User).where(User.login == "admin"))
            city = db.session.scalar(select(Unit).where(Unit.code == "3308"))
            self.root = org_actions.create_unit(self.admin, code=f"K{next(counter)}", name="镇", parent=city)
            self.people: list[int] = [self.admin.id]
            self.villages = [org_actions.create_unit(self.admin, code=f"V{next(counter)}", name="村",
                                                     parent=self.root) for _ in range(2)]

        @initialize(target=units)
        def a_town_with_villages(self):
            return multiple(self.root.id, *(v.id for v in self.villages))

        @initialize(target=people)
        def people_in_them(self):
            made = []
            posts = [(self.root, "主任"), (self.root, "")] + [(v, "村文书") for v in self.villages]
            for unit, position in posts:
                n = next(counter)
                made.append(org_people.create_person(self.admin, login=f"k{n}.unread", name=f"人{n}",
                                                     unit=unit, position=position).id)
            self.people += made
            return multiple(*made)

        def teardown(self) -> None:
            db.session.rollback()
            self.context.pop()

        def attempt(self, label: str, action, *args, **kwargs):
            try:
                result = action(*args, **kwargs)
                done[label] += 1
                return result
            except HubError:
                db.session.rollback()
                return None

        def unit(self, unit_id: int) -> Unit:
            return db.session.get(Unit, unit_id)

        def person(self, person_id: int) -> User:
            return db.session.get(User, person_id)

        @rule(target=units, name=st.sampled_from(["村", "社区", "科"]))
        def create_unit(self, name):
            created = self.attempt("create_unit", org_actions.create_unit, self.admin,
                                   code=f"U{next(counter)}", name=name, parent=self.root)
            return created.id if created else self.root.id

        @rule(target=units, parent=units)
        def create_below(self, parent):
            created = self.attempt("create_unit", org_actions.create_unit, self.admin,
                                   code=f"U{next(counter)}", name="组", parent=self.unit(parent))
            return created.id if created else parent

        @rule(target=people, unit=units, position=st.sampled_from(POSITIONS + [""]))
        def add_person(self, unit, position):
            n = next(counter)
            person = self.attempt("create_person", org_people.create_person, self.admin, login=f"k{n}.unread",
                                  name=f"人{n}", unit=self.unit(unit), position=position)
            if person is None:
                return self.admin.id
            self.people.append(person.id)
            return person.id

        @rule(notice_to=st.sampled_from(["subtree", "unit", "user", "position"]), unit=units, person=people,
              position=st.sampled_from(POSITIONS),
              when=st.sampled_from(["now", "now", "backdated", "scheduled"]),
              target=notices)
        def publish(self, notice_to, unit, person, position, when):
            audience = {"subtree": Audience(subtrees=[unit]), "unit": Audience(units=[unit]),
                        "user": Audience(users=[person]),
                        "position": Audience(positions=[(unit, position)])}[notice_to]
            publish_at = {"now": None, "backdated": utcnow() - timedelta(hours=3),
                          "scheduled": utcnow() + timedelta(minutes=90)}[when]
            draft = NoticeDraft(title=f"通知{next(counter)}", summary="要点", body="正文", audience=audience,
                                publish_at=publish_at)
            notice = self.attempt("publish_notice", notice_actions.publish_notice, self.admin, draft)
            return notice.id if notice else 0

        @rule(person=people, notice=notices)
        def read(self, person, notice):
            if not notice:
                return
            reader = self.person(person)
            try:
                opened = access_notice(reader, notice)
            except HubError:
                return
            self.attempt("mark_read", notice_actions.mark_read, reader, opened)

        @rule(notice=notices)
        def correct(self, notice):
            current = db.session.get(Notice, notice) if notice else None
            if (current is None or current.superseded_by_id or current.revoked_at
                    or current.publish_at > utcnow()):
                return
            draft = NoticeDraft(title=current.title + "（更正）", summary="要点", body="正文",
                                audience=Audience(subtrees=[self.root.id]))
            self.attempt("correct_notice", notice_actions.correct_notice, self.admin, current, draft)

        @rule(notice=notices)
        def revoke(self, notice):
            current = db.session.get(Notice, notice) if notice else None
            if current is not None:
                self.attempt("revoke_notice", notice_actions.revoke_notice, self.admin, current,
                             note="发错了")

        @rule(person=people, unit=units)
        def transfer(self, person, unit):
            if person != self.admin.id:
                self.attempt("transfer_person", org_people.transfer_person, self.admin, self.person(person),
                             self.unit(unit))

        @rule(person=people, unit=units, position=st.sampled_from(POSITIONS))
        def add_membership(self, person, unit, position):
            if person != self.admin.id:
                self.attempt("add_membership", org_people.add_membership, self.admin, self.person(person),
                             self.unit(unit), position=position)

        @rule(person=people, which=st.integers(0, 3), position=st.sampled_from(POSITIONS + [""]))
        def change_position(self, person, which, position):
            if person != self.admin.id:
                memberships = self.person(person).memberships
                self.attempt("update_membership", org_people.update_membership, self.admin,
                             memberships[which % len(memberships)], position=position)

        @rule(person=people, which=st.integers(0, 3))
        def remove_membership(self, person, which):
            if person != self.admin.id:
                memberships = self.person(person).memberships
                self.attempt("remove_membership", org_people.remove_membership, self.admin,
                             memberships[which % len(memberships)])

        @rule(unit=units, parent=units)
        def move_unit(self, unit, parent):
            if unit != self.root.id:
                self.attempt("move_unit", org_actions.move_unit, self.admin, self.unit(unit),
                             self.unit(parent))

        @rule(unit=units)
        def retire_unit(self, unit):
            if unit != self.root.id:
                self.attempt("retire_unit", org_actions.retire_unit, self.admin, self.unit(unit))

        @rule(hours=st.sampled_from([0.5, 2, 30]))
        def time_passes(self, hours):
            let_time_pass(hours)
            done["time_passes"] += 1

        @invariant()
        def the_kept_number_is_the_counted_one(self):
            db.session.expire_all()
            for person_id in self.people:
                person = self.person(person_id)
                kept = unread_count(person)
                assert kept == count_afresh(person), person.login
                assert kept >= 0

    run_state_machine_as_test(Inboxes, settings=settings(quick, max_examples=EXAMPLES,
                                                         stateful_step_count=STEPS))
    for action in ("publish_notice", "mark_read", "correct_notice", "revoke_notice", "transfer_person",
                   "add_membership", "update_membership", "move_unit", "retire_unit", "time_passes"):
        assert done[action] > 0, done
