"""The document flow as one table: STEPS.

Each row is one step a person can take (its API action name): which side it is
on (the issuing office's 发文, or one recipient unit's 收文), who may take it,
from which states, the state it leads to, and who is told. The steps
(actions_outgoing.py, actions_incoming.py) check the caller and the state through
`check`, which reads the row; docs/DOCUMENTS.md shows the same table
(`steps_markdown`, kept equal by tests/documents/test_steps.py); the tests take
every step from every state and expect the row's answer.

Also here: what every step shares — who is who, the timeline entry, the
`document` event, gapless numbers, and the 409 for a step that lost a race.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as N_   # module-level text, translated when shown
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from hub.db import insert_ignore, utcnow
from hub.documents.models import (STATUS_LABELS, Document, DocumentRecipient, DocumentStatus, DocumentStep,
                                  DocumentTask, NumberCounter, RecipientStatus, TaskKind)
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import Role, RoleGrant, Unit, User
from hub.realtime import emit_on_commit, user_room

D, R = DocumentStatus, RecipientStatus
P = ParamSpec("P")
T = TypeVar("T")

# The order of each side's states: a state before a step's from-states is "too
# early" for it, one after is "too late".
OUTGOING_ORDER = (D.DRAFT, D.REVIEWED, D.SIGNED, D.NUMBERED, D.DISPATCHED)
INCOMING_ORDER = (R.PENDING, R.SIGNED_FOR, R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING, R.DONE,
                  R.ARCHIVED)


# ---- Who is who ------------------------------------------------------------------------------

def is_clerk(user: User, unit_id: int) -> bool:
    return user.has_role(Role.CLERK, unit_id)


def is_leader(user: User, unit_id: int) -> bool:
    return user.has_role(Role.LEADER, unit_id)


def is_issuer_clerk(user: User, document: Document) -> bool:
    return is_clerk(user, document.issuer_id)


def is_issuing_side(user: User, document: Document) -> bool:
    """The issuing unit's office: the author, and clerks and leaders of every issuer."""
    return user.id == document.author_id or any(
        is_clerk(user, i.unit_id) or is_leader(user, i.unit_id) for i in document.issuers)


def _tasks(recipient: DocumentRecipient, user: User, kind: str) -> list[DocumentTask]:
    return [t for t in recipient.tasks if t.user_id == user.id and t.kind == kind]


def _single_handler(recipient: DocumentRecipient) -> bool:
    return sum(t.kind == TaskKind.HANDLE for t in recipient.tasks) == 1


def is_lead_handler(user: User, recipient: DocumentRecipient) -> bool:
    return any(t.lead or _single_handler(recipient) for t in _tasks(recipient, user, TaskKind.HANDLE))


# Who may take a step: a rule name (used in STEPS), what it means, and the test.
# Outgoing rules are asked about a Document, incoming ones about a DocumentRecipient.
WHO: dict[str, tuple[str, Callable[[User, Any], bool]]] = {
    "issuer_clerk": ("发文单位的文书", is_issuer_clerk),
    "issuer_leader": ("发文单位（联合发文时任一发文单位）的领导",
                      lambda user, doc: any(is_leader(user, i.unit_id) for i in doc.issuers)),
    "issuer_office": ("发文单位的文书或领导",
                      lambda user, doc: any(is_clerk(user, i.unit_id) or is_leader(user, i.unit_id)
                                            for i in doc.issuers)),
    "author_or_issuer_clerk": ("拟稿人或发文单位的文书",
                               lambda user, doc: is_issuer_clerk(user, doc) or user.id == doc.author_id),
    "unit_clerk": ("收文单位的文书", lambda user, rec: is_clerk(user, rec.unit_id)),
    "unit_leader": ("收文单位的领导", lambda user, rec: is_leader(user, rec.unit_id)),
    "unit_office": ("收文单位的文书或领导",
                    lambda user, rec: is_clerk(user, rec.unit_id) or is_leader(user, rec.unit_id)),
    "reader": ("传阅给的人", lambda user, rec: bool(_tasks(rec, user, TaskKind.READ))),
    "lead_or_unit_clerk": ("主办人（只有一名承办人时即其本人）或收文单位的文书",
                           lambda user, rec: is_lead_handler(user, rec) or is_clerk(user, rec.unit_id)),
    "handler_or_unit_office": ("承办人或收文单位的文书、领导",
                               lambda user, rec: bool(_tasks(rec, user, TaskKind.HANDLE))
                               or is_clerk(user, rec.unit_id) or is_leader(user, rec.unit_id)),
}


@dataclass(frozen=True)
class Step:
    """One row of the flow. `refused` is the 403 for someone the `who` rule
    leaves out; `too_early` / `too_late` the 409 for a state before / after the
    step's from-states (None: the other one serves both). `from_states` None:
    any state of the side. `to_state` None: the state does not change, or the
    step decides (签发 of a joint document: once every issuer has signed)."""

    action: str
    label: Any
    side: str                                   # "outgoing" (a Document) or "incoming" (a recipient)
    who: str                                    # a key of WHO
    refused: Any
    from_states: tuple[str, ...] | None
    to_state: str | None
    tells: str                                  # who gets the `document` event
    too_early: Any = None
    too_late: Any = None
    needs_comment: Any = None                   # the 400 when the comment is required and missing

    @property
    def order(self) -> tuple[str, ...]:
        return OUTGOING_ORDER if self.side == "outgoing" else INCOMING_ORDER

    def state_refusal(self, state: str) -> str:
        """Why the step cannot be taken from `state` (which is not one of its from-states)."""
        first = min(self.order.index(s) for s in self.from_states)
        early = self.order.index(state) < first
        message = (self.too_early if early else self.too_late) or self.too_early or self.too_late
        return str(message) % {"status": STATUS_LABELS.get(state, state)}


STEPS: dict[str, Step] = {step.action: step for step in (
    # 发文, at the issuing office
    Step("review", N_("核稿"), "outgoing", "issuer_clerk", N_("核稿须由发文单位的文书办理"),
         (D.DRAFT,), D.REVIEWED, "拟稿人和发文单位的领导", too_late=N_("只有草稿可以核稿")),
    Step("return", N_("退回修改"), "outgoing", "issuer_office", N_("只有发文单位的文书或领导可以退回"),
         (D.DRAFT, D.REVIEWED), D.DRAFT, "拟稿人", too_late=N_("已签发的公文不能退回"),
         needs_comment=N_("请写明退回的理由")),
    Step("sign", N_("签发"), "outgoing", "issuer_leader", N_("签发须由发文单位的领导办理"),
         (D.REVIEWED,), D.SIGNED, "拟稿人和发文单位的文书",
         too_early=N_("须先核稿，才能签发"), too_late=N_("该公文已签发")),
    Step("number", N_("编号"), "outgoing", "issuer_clerk", N_("编号须由发文单位的文书办理"),
         (D.SIGNED,), D.NUMBERED, "—", too_early=N_("须签发后才能编号"), too_late=N_("该公文已编号")),
    Step("dispatch", N_("分发"), "outgoing", "issuer_clerk", N_("分发须由发文单位的文书办理"),
         (D.NUMBERED,), D.DISPATCHED, "收文单位的文书；拟稿人和发文单位的文书",
         too_early=N_("须编号后才能分发"), too_late=N_("该公文已分发")),
    Step("remind_unit", N_("提醒收文单位"), "outgoing", "author_or_issuer_clerk",
         N_("只有拟稿人和发文单位的文书可以提醒收文单位"), (D.DISPATCHED,), None,
         "该单位的文书和尚未办完的人", too_early=N_("公文尚未分发")),
    # 收文, at one recipient unit
    Step("sign_for", N_("签收"), "incoming", "unit_clerk", N_("签收须由收文单位的文书办理"),
         (R.PENDING,), R.SIGNED_FOR, "拟稿人和发文单位的文书"),            # again: nothing changes
    Step("register", N_("登记"), "incoming", "unit_clerk", N_("登记须由收文单位的文书办理"),
         (R.SIGNED_FOR,), R.REGISTERED, "—", too_early=N_("须先签收才能登记"), too_late=N_("已登记")),
    Step("propose", N_("拟办"), "incoming", "unit_clerk", N_("拟办须由收文单位的文书办理"),
         (R.REGISTERED,), R.PROPOSED, "收文单位的领导", too_early=N_("须登记后才能拟办"),
         too_late=N_("已拟办"), needs_comment=N_("请填写拟办意见")),
    Step("instruct", N_("批办"), "incoming", "unit_leader", N_("批办须由收文单位的领导办理"),
         (R.REGISTERED, R.PROPOSED), R.INSTRUCTED, "收文单位的文书", too_early=N_("须登记后才能批办"),
         too_late=N_("已批办"), needs_comment=N_("请填写批办意见")),
    Step("assign", N_("交办"), "incoming", "unit_office", N_("交办须由收文单位的文书或领导办理"),
         (R.INSTRUCTED, R.HANDLING), R.HANDLING, "承办人；拟稿人和发文单位的文书",
         too_early=N_("当前状态（%(status)s）不能交办")),
    Step("circulate", N_("传阅"), "incoming", "unit_office", N_("传阅须由收文单位的文书或领导办理"),
         (R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING), R.HANDLING,
         "阅读人（依次传阅时第一位）", too_early=N_("当前状态（%(status)s）不能传阅")),
    Step("mark_read", N_("已阅"), "incoming", "reader", N_("该公文没有传阅给您"), None, None,
         "依次传阅时的下一位"),
    Step("remind", N_("催办"), "incoming", "unit_clerk", N_("催办须由收文单位的文书办理"),
         (R.HANDLING,), None, "尚未办完的承办人和阅读人", too_early=N_("只有办理中的公文可以催办")),
    Step("complete", N_("办结"), "incoming", "lead_or_unit_clerk", N_("办结须由主办人或收文单位的文书办理"),
         (R.INSTRUCTED, R.HANDLING), R.DONE, "拟稿人和发文单位的文书", too_early=N_("须批办后才能办结"),
         too_late=N_("已办结")),
    Step("reply", N_("答复"), "incoming", "handler_or_unit_office",
         N_("答复须由承办人或收文单位的文书、领导办理"),
         (R.INSTRUCTED, R.HANDLING, R.DONE), None, "拟稿人和发文单位的文书",
         too_early=N_("须批办后才能答复"), needs_comment=N_("请填写答复内容")),
    Step("archive", N_("归档"), "incoming", "unit_clerk", N_("归档须由收文单位的文书办理"),
         (R.DONE,), R.ARCHIVED, "—", too_early=N_("须办结后才能归档"), too_late=N_("已归档")),
)}


def check(action: str, actor: User | None, subject: Document | DocumentRecipient) -> Step:
    """The caller may take the step (else 403 with the row's reason) and the
    subject is in one of its from-states (else 409): read from STEPS. `actor`
    None is the jobs (automatic 催办), which need no role."""
    step = check_who(action, actor, subject)
    state = subject.status
    if step.from_states is not None and state not in step.from_states:
        raise Conflict(step.state_refusal(state))
    return step


def check_who(action: str, actor: User | None, subject: Document | DocumentRecipient) -> Step:
    """Only the row's `who` rule (a 403 with its reason); check() also checks the state."""
    step = STEPS[action]
    if actor is not None and not WHO[step.who][1](actor, subject):
        raise NotAllowed(str(step.refused))
    return step


def require_comment(action: str, comment: str | None) -> None:
    """The 400 of a step whose row asks for a comment (拟办意见, 批办意见, …)."""
    reason = STEPS[action].needs_comment
    if reason is not None and not comment:
        raise InvalidInput(str(reason), field="comment")


def steps_markdown() -> str:
    """The table as docs/DOCUMENTS.md shows it (in the current language)."""
    lines = ["| 步骤 | action | 一方 | 谁可以办 | 从哪些状态 | 到 | 通知谁 |",
             "|---|---|---|---|---|---|---|"]
    for step in STEPS.values():
        side = "发文" if step.side == "outgoing" else "收文"
        states = "任何" if step.from_states is None else "、".join(str(STATUS_LABELS[s])
                                                                   for s in step.from_states)
        to = "不变" if step.to_state is None else str(STATUS_LABELS[step.to_state])
        lines.append(f"| {step.label} | `{step.action}` | {side} | {WHO[step.who][0]} | {states} | {to} | "
                     f"{step.tells} |")
    return "\n".join(lines)


# ---- What every step shares --------------------------------------------------------------------

def one_step(step: Callable[P, T]) -> Callable[P, T]:
    """A step that loses to a concurrent step on the same document or recipient
    unit (its version changed meanwhile) is rolled back and answered with 409."""
    @functools.wraps(step)
    def taking(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return step(*args, **kwargs)
        except StaleDataError:
            db.session.rollback()
            raise Conflict(_("这份公文刚被其他人处理过，请刷新后再试")) from None
    return taking


def record_step(document: Document, actor: User | None, action: str, *,
                recipient: DocumentRecipient | None = None, comment: str | None = None,
                detail: str | None = None) -> None:
    """A row of the document's timeline."""
    document.steps.append(DocumentStep(action=action, actor_id=actor.id if actor else None,
                                       recipient=recipient, comment=comment, detail=detail, at=utcnow()))


def need(condition: bool, reason: str) -> None:
    """A 409 for a state the table cannot say (e.g. 没有收文单位)."""
    if not condition:
        raise Conflict(reason)


def notify(document: Document, user_ids, action: str, unit_id: int | None = None) -> None:
    payload = {"id": document.id, "action": action, "status": document.status, "unit_id": unit_id}
    for user_id in sorted(set(user_ids)):
        emit_on_commit("document", payload, to=user_room(user_id))


def holders(role: str, unit_ids) -> list[int]:
    """The people holding `role` in any of `unit_ids` (one query)."""
    unit_ids = list(unit_ids)
    if not unit_ids:
        return []
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == role, RoleGrant.unit_id.in_(unit_ids)).distinct()))


def issuing_people(document: Document) -> list[int]:
    units = [i.unit_id for i in document.issuers]
    return [document.author_id, *holders(Role.CLERK, units)]


def next_number(unit_id: int, year: int, kind: str) -> int:
    """The next number of a unit's counter, gapless: UPDATE … RETURNING holds the
    counter's row until the caller's transaction ends, so concurrent callers
    queue, and a rollback gives the number back."""
    insert_ignore(db.session, NumberCounter, {"unit_id": unit_id, "year": year, "kind": kind, "last": 0})
    return db.session.execute(
        update(NumberCounter)
        .where(NumberCounter.unit_id == unit_id, NumberCounter.year == year, NumberCounter.kind == kind)
        .values(last=NumberCounter.last + 1).returning(NumberCounter.last)).scalar_one()


def issuer_prefix(unit: Unit) -> str:
    """发文机关代字, e.g. 柯政办发; the unit's name when none is set."""
    return unit.doc_prefix or unit.name
