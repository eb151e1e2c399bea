"""Benchmark: documents (公文) to 2,000 recipient units, a clerk's inbox of 5,000
documents, and the sender's status board (issue 5).

    .venv/bin/pip install -r requirements-bench.txt        # once (bench/notices.py's helpers need aiohttp)
    .venv/bin/python bench/documents.py                     # SQLite only
    .venv/bin/python bench/documents.py --with-postgres     # and a throwaway PostgreSQL (tests/pg.py)
    .venv/bin/python bench/documents.py --postgres URL      # and a scratch database on URL's server

Builds a fresh database (schema by hub.migrate.upgrade): the 27,036 units of
divisions-zhejiang.csv (hub.org.imports.import_units); the issuing office
丽水市人民政府办公室 (prefix 丽政办发) under 丽水市 with a clerk and a leader; the
first --recipients towns and villages of 丽水市 in tree order, each with a clerk
and a leader (bulk inserted with one password hash, as bench/_notices_data.py
does), and four handlers in the first town. Documents are bulk inserted too:

- the inbox: --inbox documents dispatched to the first town and 19 other units
  (two years of them; the newest still pending, signed for, registered, proposed,
  instructed, in handling, the older done or archived, with their timeline steps
  and handler and reader tasks), and --hidden documents to other units only;
- the board: one document dispatched to every recipient unit, in mixed states
  (pending to archived, some replied, some reminded, the deadline passed);
- for dispatch: numbered documents (signed, numbered, not dispatched) to every
  recipient unit, one per measured run.

Then, each figure p50/p95/p99 over --runs runs (--dispatch-runs for dispatch)
after 3 warm-up runs, each on a fresh session as a request has:

1. inbox (the town's clerk): hub.documents.queries.inbox_documents first page of
   50 and a page half-way down (2,500 deep), waiting_count, GET /api/v1/inbox (when the inbox
   lists documents; otherwise said so) and GET /api/v1/documents (search);
2. dispatch: hub.documents.actions.dispatch in-process, and POST
   /api/v1/documents/<id>/actions {"action": "dispatch"}; create_draft with the
   same recipients for comparison;
3. board: queries.status_board, GET /api/v1/documents/<id>/status, and the whole
   document for the issuing side, GET /api/v1/documents/<id>.

Before measuring it waits for the 1-minute load to be at most 1.0 (--max-wait
seconds at most), and before each phase for other processes to go quiet; each
phase reports the CPU other processes used meanwhile. Results go into
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from notices import (calibration_ms, measure, request, run_on_backends,  # noqa: E402
                     wait_quiet)
from realtime import machine_busy_seconds, own_cpu_seconds  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from _notices_data import SURNAMES, GIVEN, make_app  # noqa: E402
from config import Config  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.passwords import hash_password  # noqa: E402
from hub.db import utcnow  # noqa: E402
from hub.documents import actions, queries  # noqa: E402
from hub.documents.models import (Document, DocumentIssuer, DocumentRecipient, DocumentStatus,  # noqa: E402
                                  DocumentStep, DocumentTask, NumberCounter, RecipientStatus, TaskKind)
from hub.extensions import db  # noqa: E402
from hub.org.imports import import_units  # noqa: E402
from hub.org.models import Membership, Role, RoleGrant, Unit, UnitKind, User  # noqa: E402

DIVISIONS = Path(Config.DATA_DIR) / "divisions-zhejiang.csv"
CITY = "3311"                       # 丽水市: 2,181 towns and villages
TZ = ZoneInfo("Asia/Shanghai")
R = RecipientStatus
OTHERS_PER_DOCUMENT = 19            # recipient units of an inbox document besides the clerk's town
BODY = ("各县（市、区）人民政府，市政府各部门：现将有关事项通知如下。一、提高思想认识，压实工作责任。"
        "二、全面排查隐患，逐一落实整改措施。三、加强值班值守，重要情况及时报告。") * 3
# The clerk's town: by age rank (0 = newest), the share of documents still at
# each state; the rest are archived. Older documents are further along.
INBOX_STATES = [(0.03, R.PENDING), (0.05, R.SIGNED_FOR), (0.07, R.REGISTERED), (0.09, R.PROPOSED),
                (0.12, R.INSTRUCTED), (0.25, R.HANDLING), (0.45, R.DONE), (1.0, R.ARCHIVED)]
# The board document: shares of its recipient units at each state.
BOARD_STATES = [(0.10, R.PENDING), (0.20, R.SIGNED_FOR), (0.30, R.REGISTERED), (0.35, R.PROPOSED),
                (0.45, R.INSTRUCTED), (0.70, R.HANDLING), (0.90, R.DONE), (1.0, R.ARCHIVED)]
# Timeline steps at a recipient unit, by the state it reached.
STEPS_TO = {R.PENDING: [], R.SIGNED_FOR: ["sign_for"], R.REGISTERED: ["sign_for", "register"],
            R.PROPOSED: ["sign_for", "register", "propose"],
            R.INSTRUCTED: ["sign_for", "register", "propose", "instruct"],
            R.HANDLING: ["sign_for", "register", "propose", "instruct", "assign", "circulate"],
            R.DONE: ["sign_for", "register", "propose", "instruct", "assign", "circulate", "complete"],
            R.ARCHIVED: ["sign_for", "register", "propose", "instruct", "assign", "circulate", "complete",
                         "archive"]}
COMMENTS = {"propose": "拟请主要领导阅示，交党政办牵头落实。", "instruct": "同意拟办意见，请抓紧落实。",
            "complete": "已按要求完成。"}


@dataclass
class World:
    """Ids the measurements need."""

    office_id: int
    office_clerk_id: int
    office_leader_id: int
    recipients: list[int]                    # recipient unit ids, tree order
    clerk_of: dict[int, int]                 # unit id -> its clerk
    leader_of: dict[int, int]                # unit id -> its leader
    town_id: int                             # the inbox clerk's unit
    handlers: list[int]                      # four people of the town
    people: int = 0
    seq: dict[int, int] = field(default_factory=dict)      # the office's last 发文 number per year
    inbox_size: int = 0
    board_id: int = 0
    to_dispatch: list[int] = field(default_factory=list)  # numbered, not dispatched


def _name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + \
        GIVEN[(n // 7) % len(GIVEN)]


def build_world(csv_path: Path, recipients: int) -> World:
    """Import the province; add the issuing office, a clerk and a leader for it
    and for each recipient unit, and four handlers in the first town."""
    report = import_units(None, csv_path.name, csv_path.read_bytes())
    assert report.applied and not report.errors, report.errors[:3]
    city = db.session.scalar(select(Unit).where(Unit.code == CITY))
    office = Unit(code=f"{CITY}-GOV", name=f"{city.name}人民政府办公室", kind=UnitKind.DEPARTMENT,
                  parent=city, sort_order=0, doc_prefix="丽政办发")
    db.session.add(office)
    db.session.flush()
    office.path, office.depth = f"{city.path}{office.id}/", city.depth + 1
    units = db.session.execute(
        select(Unit.id, Unit.kind).where(Unit.path.startswith(city.path),
                                         Unit.kind.in_((UnitKind.TOWN, UnitKind.VILLAGE)))
        .order_by(Unit.path).limit(recipients)).all()
    assert len(units) == recipients, f"{city.name} has only {len(units)} towns and villages"
    town_id = next(u.id for u in units if u.kind == UnitKind.TOWN)

    password_hash = hash_password("Bench-2026-documents")
    people: list[tuple[str, int, str, str | None]] = []     # login, unit, position, role
    for unit_id in [office.id] + [u.id for u in units]:
        people += [(f"c{unit_id}", unit_id, "文书", Role.CLERK),
                   (f"l{unit_id}", unit_id, "主要负责人", Role.LEADER)]
    people += [(f"h{town_id}-{k}", town_id, "干部", None) for k in range(4)]
    db.session.execute(insert(User.__table__), [
        {"login": login, "name": _name(n), "password_hash": password_hash} for n, (login, *_) in
        enumerate(people)])
    ids = dict(db.session.execute(select(User.login, User.id)).all())
    db.session.execute(insert(Membership.__table__), [
        {"user_id": ids[login], "unit_id": unit_id, "position": position, "is_primary": True}
        for login, unit_id, position, _ in people])
    db.session.execute(insert(RoleGrant.__table__), [
        {"user_id": ids[login], "role": role, "unit_id": unit_id}
        for login, unit_id, _, role in people if role])
    db.session.commit()
    return World(office_id=office.id, office_clerk_id=ids[f"c{office.id}"],
                 office_leader_id=ids[f"l{office.id}"], recipients=[u.id for u in units],
                 clerk_of={u.id: ids[f"c{u.id}"] for u in units},
                 leader_of={u.id: ids[f"l{u.id}"] for u in units},
                 town_id=town_id, handlers=[ids[f"h{town_id}-{k}"] for k in range(4)], people=len(people))


# --- documents, in bulk ---------------------------------------------------------------

def _state(rank: float, table: list[tuple[float, str]]) -> str:
    return next(state for share, state in table if rank < share)


def _insert_documents(world: World, moments: list[tuple[datetime, datetime | None]], *,
                      deadline: date | None = None) -> list[int]:
    """Documents of the office, signed and numbered, one per (created_at,
    dispatched_at); dispatched where that is set. Their issuer row and outgoing
    steps come with them. Returns their ids, in order."""
    rows = []
    kinds = ("通知", "通报", "函", "意见", "决定")
    for n, (created, dispatched) in enumerate(moments):
        year = (dispatched or created).astimezone(TZ).year
        world.seq[year] = world.seq.get(year, 0) + 1
        rows.append({"doc_type": kinds[n % 5], "title": f"关于做好第{n % 97 + 1}批重点工作的{kinds[n % 5]}",
                     "issuer_id": world.office_id, "author_id": world.office_clerk_id,
                     "urgency": ("平件", "平件", "加急", "平件", "特急")[n % 5], "security": "非涉密",
                     "body": BODY, "notes": None, "deadline": deadline, "replies_to_id": None,
                     "status": DocumentStatus.DISPATCHED if dispatched else DocumentStatus.NUMBERED,
                     "number_prefix": "丽政办发", "number_year": year, "number_seq": world.seq[year],
                     "written_on": (created + timedelta(hours=20)).astimezone(TZ).date(),
                     "created_at": created, "dispatched_at": dispatched, "version": 5})
    ids = list(db.session.scalars(insert(Document).returning(Document.id, sort_by_parameter_order=True),
                                  rows))
    db.session.execute(insert(DocumentIssuer.__table__), [
        {"document_id": i, "unit_id": world.office_id, "position": 0, "signer_id": world.office_leader_id,
         "signed_at": created + timedelta(hours=20)} for i, (created, _) in zip(ids, moments)])
    steps = []
    clerk, leader = world.office_clerk_id, world.office_leader_id
    for i, (created, dispatched) in zip(ids, moments):
        for k, (action, actor) in enumerate((("draft", clerk), ("review", clerk), ("sign", leader),
                                             ("number", clerk))):
            steps.append(_step_row(i, None, action, actor, created + timedelta(hours=10 * k)))
        if dispatched:
            steps.append(_step_row(i, None, "dispatch", world.office_clerk_id, dispatched))
    db.session.execute(insert(DocumentStep.__table__), steps)
    return ids


def _step_row(document_id: int, recipient_id: int | None, action: str, actor_id: int | None, at: datetime,
              comment: str | None = None) -> dict[str, Any]:
    return {"document_id": document_id, "recipient_id": recipient_id, "action": action, "actor_id": actor_id,
            "at": at, "comment": comment, "detail": None}


def _recipient_row(document_id: int, unit_id: int, state: str, dispatched: datetime | None, *,
                   clerk_id: int | None = None, replied: bool = False,
                   reminded: bool = False) -> dict[str, Any]:
    """A recipient unit's row with the times its state implies (one hour per step)."""
    order = list(STEPS_TO)
    reached = order.index(state) if dispatched else 0
    at = (lambda k: dispatched + timedelta(hours=k)) if dispatched else (lambda k: None)
    return {"document_id": document_id, "unit_id": unit_id, "copy": False, "status": state,
            "received_at": dispatched, "signed_for_at": at(1) if reached >= 1 else None,
            "signed_for_by_id": clerk_id if reached >= 1 else None,
            "register_year": at(2).astimezone(TZ).year if reached >= 2 else None,
            "register_seq": None, "done_at": at(30) if reached >= 6 else None,
            "reply": "已按要求完成。" if replied else None, "replied_at": at(31) if replied else None,
            "archived_at": at(40) if reached >= 7 else None,
            "last_reminded_at": at(0) + timedelta(hours=12) if reminded else None,
            "last_chased_at": None, "version": reached + 1}


def _incoming_steps(document_id: int, recipient_id: int, state: str, dispatched: datetime, *, clerk: int,
                    leader: int, handler: int) -> list[dict[str, Any]]:
    actors = {"instruct": leader, "complete": handler}
    return [_step_row(document_id, recipient_id, action, actors.get(action, clerk),
                      dispatched + timedelta(hours=k + 1), COMMENTS.get(action))
            for k, action in enumerate(STEPS_TO[state])]


def _tasks(recipient_id: int, state: str, dispatched: datetime, handler: int, reader: int) -> list[dict]:
    """A lead handler and a reader (circulated to) from `assign` on; done when the unit is."""
    if state not in (R.HANDLING, R.DONE, R.ARCHIVED):
        return []
    done = dispatched + timedelta(hours=30) if state != R.HANDLING else None
    return [{"recipient_id": recipient_id, "user_id": handler, "kind": TaskKind.HANDLE, "lead": True,
             "turn": None, "comment": None, "created_at": dispatched + timedelta(hours=5), "done_at": done},
            {"recipient_id": recipient_id, "user_id": reader, "kind": TaskKind.READ, "lead": False,
             "turn": None, "comment": "阅" if done else None, "created_at": dispatched + timedelta(hours=6),
             "done_at": done}]


def add_inbox(world: World, *, visible: int, hidden: int, seed: int = 5) -> None:
    """`visible` documents to the town (and 19 other units), spread over two
    years, the town's row in a state by age; `hidden` to other units only."""
    rng = random.Random(seed)
    now = utcnow()
    others = [u for u in world.recipients if u != world.town_id]
    for first in range(0, visible + hidden, 5000):            # in batches: bounded memory
        count = min(5000, visible + hidden - first)
        moments = []
        for _ in range(count):
            dispatched = now - timedelta(seconds=rng.randint(600, 730 * 86400))
            moments.append((dispatched - timedelta(days=3), dispatched))
        ids = _insert_documents(world, moments, deadline=None)
        town_rows, rest, meta = [], [], []
        for n, (document_id, (_, dispatched)) in enumerate(zip(ids, moments)):
            units = rng.sample(others, OTHERS_PER_DOCUMENT + (first + n >= visible))
            for unit_id in units:
                rest.append(_recipient_row(document_id, unit_id, rng.choice(list(STEPS_TO)), dispatched,
                                           clerk_id=world.clerk_of[unit_id]))
            if first + n < visible:
                age = (now - dispatched).total_seconds() / (730 * 86400)   # 0 = newest, 1 = two years
                state = _state(min(max(age + rng.uniform(-0.01, 0.01), 0.0), 0.999), INBOX_STATES)
                town_rows.append(_recipient_row(document_id, world.town_id, state, dispatched,
                                                clerk_id=world.clerk_of[world.town_id],
                                                replied=state in (R.DONE, R.ARCHIVED) and n % 3 == 0))
                meta.append((document_id, state, dispatched))
        db.session.execute(insert(DocumentRecipient.__table__), rest)
        if town_rows:
            recipient_ids = list(db.session.scalars(
                insert(DocumentRecipient).returning(DocumentRecipient.id, sort_by_parameter_order=True),
                town_rows))
            steps, tasks = [], []
            clerk, leader = world.clerk_of[world.town_id], world.leader_of[world.town_id]
            for recipient_id, (document_id, state, dispatched) in zip(recipient_ids, meta):
                handler = world.handlers[document_id % 4]
                steps += _incoming_steps(document_id, recipient_id, state, dispatched, clerk=clerk,
                                         leader=leader, handler=handler)
                tasks += _tasks(recipient_id, state, dispatched, handler, leader)
            db.session.execute(insert(DocumentStep.__table__), steps)
            if tasks:
                db.session.execute(insert(DocumentTask.__table__), tasks)
        db.session.commit()
    world.inbox_size = visible


def add_board(world: World, seed: int = 5) -> None:
    """One document dispatched to every recipient unit three days ago, its
    deadline yesterday, the units in mixed states (some replied, some reminded)."""
    rng = random.Random(seed)
    dispatched = utcnow() - timedelta(days=3)
    yesterday = dispatched.astimezone(TZ).date() + timedelta(days=2)
    [document_id] = _insert_documents(world, [(dispatched - timedelta(days=1), dispatched)],
                                      deadline=yesterday)
    states = [_state(rng.random(), BOARD_STATES) for _ in world.recipients]
    rows = [_recipient_row(document_id, unit_id, state, dispatched, clerk_id=world.clerk_of[unit_id],
                           replied=state in (R.DONE, R.ARCHIVED) and rng.random() < 0.3,
                           reminded=state == R.PENDING and rng.random() < 0.5)
            for unit_id, state in zip(world.recipients, states)]
    recipient_ids = list(db.session.scalars(
        insert(DocumentRecipient).returning(DocumentRecipient.id, sort_by_parameter_order=True), rows))
    steps, tasks = [], []
    for recipient_id, unit_id, state in zip(recipient_ids, world.recipients, states):
        clerk, leader = world.clerk_of[unit_id], world.leader_of[unit_id]
        steps += _incoming_steps(document_id, recipient_id, state, dispatched, clerk=clerk, leader=leader,
                                 handler=clerk)
        tasks += _tasks(recipient_id, state, dispatched, clerk, leader)
    db.session.execute(insert(DocumentStep.__table__), steps)
    db.session.execute(insert(DocumentTask.__table__), tasks)
    db.session.commit()
    world.board_id = document_id


def add_to_dispatch(world: World, count: int) -> None:
    """`count` documents signed and numbered today, to every recipient unit."""
    now = utcnow()
    for _ in range(count):
        [document_id] = _insert_documents(world, [(now - timedelta(days=1), None)])
        db.session.execute(insert(DocumentRecipient.__table__), [
            _recipient_row(document_id, unit_id, R.PENDING, None) for unit_id in world.recipients])
        world.to_dispatch.append(document_id)
        db.session.commit()


def vacuum() -> None:
    """PostgreSQL: VACUUM ANALYZE after the bulk loads, the state autovacuum
    leaves a table in within a minute or two in production (planner statistics,
    and the visibility map that index-only scans need; measured straight after
    the load, some reads took up to twice as long). SQLite: nothing (Hub never
    runs ANALYZE there, so the planner works without statistics, as in production)."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")


def save_counters(world: World) -> None:
    """The office's 发文 counters, as numbering would have left them."""
    db.session.execute(insert(NumberCounter.__table__), [
        {"unit_id": world.office_id, "year": year, "kind": "out", "last": last}
        for year, last in world.seq.items()])
    db.session.commit()


# --- the phases -----------------------------------------------------------------------------

def _user(user_id: int):
    return lambda: db.session.get(User, user_id)


def inbox_lists_documents(client, token: str) -> bool:
    """Whether GET /api/v1/inbox has documents in it yet (hub/inbox/queries.py)."""
    with client.application.app_context():
        response = client.get("/api/v1/inbox?limit=50", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200 and any(
        item.get("kind") == "document" for item in response.get_json()["items"])


def phase_inbox(world: World, client, token: str, runs: int) -> dict:
    clerk = _user(world.clerk_of[world.town_id])
    mine = (select(Document.dispatched_at, Document.id)
            .join(DocumentRecipient, DocumentRecipient.document_id == Document.id)
            .where(DocumentRecipient.unit_id == world.town_id, Document.status == DocumentStatus.DISPATCHED)
            .order_by(Document.dispatched_at.desc(), Document.id.desc()))
    visible = len(db.session.execute(mine).all())
    deep_at, deep_id = db.session.execute(mine.offset(visible // 2).limit(1)).one()
    first = queries.inbox_documents(clerk(), limit=50)
    deep = queries.inbox_documents(clerk(), limit=50, before=(deep_at, deep_id))
    assert len(first) == 50 and len(deep) == 50
    result: dict[str, Any] = {
        "visible": visible, "waiting": queries.waiting_count(clerk()),
        "inbox_documents first": measure(lambda: (
            lambda u=clerk(): queries.inbox_documents(u, limit=50)), runs),
        "inbox_documents deep": measure(lambda: (lambda u=clerk(): queries.inbox_documents(
            u, limit=50, before=(deep_at, deep_id))), runs),
        "inbox_documents waiting only": measure(lambda: (lambda u=clerk(): queries.inbox_documents(
            u, limit=50, read=False)), runs),
        "waiting_count": measure(lambda: (lambda u=clerk(): queries.waiting_count(u)), runs)}
    result["inbox_has_documents"] = inbox_lists_documents(client, token)
    if result["inbox_has_documents"]:
        cursor = f"{deep_at.timestamp():.6f}:document:{deep_id}"
        result["GET /api/v1/inbox"] = measure(lambda: request(
            client, "GET", "/api/v1/inbox?limit=50", token), runs)
        result["GET /api/v1/inbox deep"] = measure(lambda: request(
            client, "GET", f"/api/v1/inbox?limit=50&before={cursor}", token), runs)
    result["GET /api/v1/documents"] = measure(lambda: request(
        client, "GET", "/api/v1/documents?limit=50", token), runs)
    result["GET /api/v1/documents deep"] = measure(lambda: request(
        client, "GET", f"/api/v1/documents?limit=50&before={deep_id}", token), runs)
    result["GET /api/v1/documents?q=number"] = measure(lambda: request(
        client, "GET", f"/api/v1/documents?limit=50&q={quote(deep[0].document.number)}", token), runs)
    return result


def phase_dispatch(world: World, client, token: str, runs: int) -> dict:
    clerk = _user(world.office_clerk_id)
    ids: Iterator[int] = iter(world.to_dispatch)
    result: dict[str, Any] = {"recipients": len(world.recipients)}
    result["dispatch"] = measure(
        lambda: (lambda u=clerk(), d=db.session.get(Document, next(ids)): actions.dispatch(u, d)), runs)
    result["POST /api/v1/documents/<id>/actions dispatch"] = measure(lambda: request(
        client, "POST", f"/api/v1/documents/{next(ids)}/actions", token, {"action": "dispatch"}), runs)
    dispatched = db.session.scalar(select(Document).where(Document.id == world.to_dispatch[-1]))
    assert dispatched.status == DocumentStatus.DISPATCHED
    assert len(dispatched.recipients) == len(world.recipients)
    draft = {"doc_type": "通知", "title": "关于做好2026年冬季森林防火工作的通知", "urgency": "加急",
             "main_recipients": world.recipients, "body": BODY}
    result["create_draft (for comparison)"] = measure(lambda: (
        lambda u=clerk(), d=actions.DocumentDraft.from_json(draft): actions.create_draft(u, d)),
        max(runs // 2, 5))
    return result


def phase_board(world: World, client, token: str, runs: int) -> dict:
    document = lambda: db.session.get(Document, world.board_id)  # noqa: E731
    board = queries.status_board(document())
    assert len(board) == len(world.recipients)
    states: dict[str, int] = {}
    for row in board:
        states[row["status"]] = states.get(row["status"], 0) + 1
    return {"units": len(board), "states": states, "overdue": sum(r["overdue"] for r in board),
            "replied": sum(r["replied"] for r in board),
            "status_board": measure(lambda: (lambda d=document(): queries.status_board(d)), runs),
            "GET /api/v1/documents/<id>/status": measure(lambda: request(
                client, "GET", f"/api/v1/documents/{world.board_id}/status", token), runs),
            "GET /api/v1/documents/<id> (issuing side)": measure(lambda: request(
                client, "GET", f"/api/v1/documents/{world.board_id}", token), max(runs // 10, 5))}


# --- the run ---------------------------------------------------------------------------------

def run(label: str, uri: str, folder: Path, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    app = make_app(folder, uri)
    result: dict[str, Any] = {"backend": label}
    with app.app_context():
        started = time.perf_counter()
        world = build_world(args.file, args.recipients)
        add_inbox(world, visible=args.inbox, hidden=args.hidden)
        add_board(world)
        add_to_dispatch(world, 2 * (3 + args.dispatch_runs))
        save_counters(world)
        vacuum()
        result["setup_s"] = round(time.perf_counter() - started, 1)
        result["world"] = {"people": world.people, "recipients": len(world.recipients),
                           "documents": db.session.query(Document).count(),
                           "recipient_rows": db.session.query(DocumentRecipient).count(),
                           "steps": db.session.query(DocumentStep).count()}
        print(f"{label}: {json.dumps(result['world'])}, built in {result['setup_s']} s", flush=True)
        client = app.test_client()
        clerk_token = issue_token(db.session.get(User, world.clerk_of[world.town_id]))
        office_token = issue_token(db.session.get(User, world.office_clerk_id))
        phases = [("inbox", lambda: phase_inbox(world, client, clerk_token, args.runs)),
                  ("board", lambda: phase_board(world, client, office_token, args.runs)),
                  ("dispatch", lambda: phase_dispatch(world, client, office_token, args.dispatch_runs))]
        for name, phase in phases:
            if name not in args.phases:
                continue
            quiet = wait_quiet()
            started, busy, own = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds()
            result[name] = phase()
            wall = time.perf_counter() - started
            # CPU the rest of the machine used meanwhile (a PostgreSQL server included).
            others = machine_busy_seconds() - busy - (own_cpu_seconds() - own)
            result[f"{name}_machine"] = {**quiet, "calibration_ms": calibration_ms(),
                                         "wall_s": round(wall, 1), "others_cpu_s": round(others, 1)}
            print(f"{label}: {name}: {json.dumps(result[f'{name}_machine'])}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return result


TARGETS = {("dispatch", "dispatch"): 1000, ("dispatch", "POST /api/v1/documents/<id>/actions dispatch"): 1000,
           ("inbox", "inbox_documents first"): 30, ("inbox", "inbox_documents deep"): 30,
           ("inbox", "GET /api/v1/inbox"): 30, ("inbox", "GET /api/v1/inbox deep"): 30,
           ("board", "status_board"): 300, ("board", "GET /api/v1/documents/<id>/status"): 300}


def report(result: dict) -> None:
    """A Markdown table of one backend's figures."""
    def fmt(stats: dict) -> str:
        return " | ".join(f"{stats[k]:.1f}" for k in ("p50", "p95", "p99", "max"))

    print(f"\n### {result['backend']} ({json.dumps(result['world'])}; setup {result['setup_s']} s)\n")
    print("| measure | n | p50 ms | p95 ms | p99 ms | max ms | target |\n|---|---|---|---|---|---|---|")
    for phase in [p for p in ("inbox", "board", "dispatch") if p in result]:
        for key, stats in result[phase].items():
            if isinstance(stats, dict) and "p50" in stats:
                target = TARGETS.get((phase, key))
                print(f"| {phase}: {key} | {stats['n']} | {fmt(stats)} | {f'< {target}' if target else ''} |")
        print(f"| {phase}: " + ", ".join(f"{k} {v}" for k, v in result[phase].items()
                                          if not (isinstance(v, dict) and "p50" in v)) + " | | | | | | |")
    machine_state = {k[:-8]: v for k, v in result.items() if k.endswith("_machine")}
    print(f"\nthe machine during each phase: {json.dumps(machine_state)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DIVISIONS)
    parser.add_argument("--postgres", metavar="URL", help="also run on a scratch database on this server")
    parser.add_argument("--with-postgres", action="store_true",
                        help="also run on a throwaway PostgreSQL started as tests/pg.py does")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--recipients", type=int, default=2000, help="recipient units of 丽水市")
    parser.add_argument("--inbox", type=int, default=5000, help="documents in the clerk's inbox")
    parser.add_argument("--hidden", type=int, default=15000, help="documents to other units only")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--dispatch-runs", type=int, default=20)
    parser.add_argument("--phases", default="inbox,board,dispatch", help="which phases to measure")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="seconds to wait at the start for the 1-minute load to drop to 1.0")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]

    run_on_backends("documents", run, report, args)


if __name__ == "__main__":
    main()
