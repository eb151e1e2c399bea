"""Actions on data requests: add a catalogue field, send a request, submit a
unit's form, remind the pending units, close a request, mark it 重复/不必要,
and the audit rows of reading other units' values and of exports. Each commits
once and emits only after that commit."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.audit import record_audit
from hub.files.access import is_unused
from hub.files.models import Attachment
from hub.datarequests.access import answerers, require_can_answer, require_requesting_side, role_units
from hub.datarequests.catalogue import FieldDraft
from hub.datarequests.drafts import CheckedScope, RequestDraft, require_evidence_reason
from hub.datarequests.holding import LostRace, claim_version, hold_value, insert_or_nothing
from hub.datarequests.models import (DataField, DataRequest, DataRequestFeedback, DataRequestField,
                                     DataRequestReminder, FeedbackKind, FieldKind, ValueSource)
from hub.datarequests.queries import (Asked, held_values, overlaps, pending_units, request_fields, unit_form,
                                      unit_states)
from hub.datarequests.serialize import inbox_item
from hub.datarequests.values import clean_value, is_empty
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed, TooSoon
from hub.extensions import db
from hub.org.models import Unit, User
from hub.realtime import emit_on_commit, user_room
from hub.times import beijing_today

REMINDER_INTERVAL = timedelta(hours=4)
GENERATED_CODE = re.compile(r"F[0-9]+")


class OverlapConflict(Conflict):
    """409: the request overlaps open requests and no overlap_reason was given."""

    code = "overlap"

    def __init__(self, message: str, *, overlaps: list[dict[str, Any]]) -> None:
        super().__init__(message, field="overlap_reason")
        self.overlaps = overlaps

    def to_json(self) -> dict:
        return {**super().to_json(), "overlaps": self.overlaps}


class StaleForm(Conflict):
    """409: the form was submitted by someone else since it was read; `current` is the form now."""

    code = "stale_version"

    def __init__(self, message: str, *, current: dict[str, Any]) -> None:
        super().__init__(message, field="version")
        self.current = current

    def to_json(self) -> dict:
        return {**super().to_json(), "current": self.current}


# ---- The catalogue -------------------------------------------------------------------------------

def add_field(actor: User, unit: Unit, draft: FieldDraft) -> DataField:
    """新增数据项 for `unit` (the actor's, checked by the caller). Without a code
    it is numbered F00001, F00002, ...; a code in use is a 409."""
    if draft.code is not None:
        if GENERATED_CODE.fullmatch(draft.code):
            raise InvalidInput(_("F 加数字的编码由系统生成，请另取编码或留空"), field="code")
        if db.session.scalar(select(DataField.id).where(DataField.code == draft.code)):
            raise Conflict(_("数据项编码已被使用：%(code)s", code=draft.code), field="code")
    field = DataField(code=draft.code or f"tmp-{secrets.token_hex(8)}", name=draft.name, kind=draft.kind,
                      unit_of_measure=draft.unit_of_measure, choices=draft.choices,
                      period_kind=draft.period_kind, owner_unit_id=unit.id, created_by_id=actor.id,
                      created_at=utcnow(), system=False)
    db.session.add(field)
    try:
        db.session.flush()
    except IntegrityError:                       # the same code, added at the same moment
        db.session.rollback()
        raise Conflict(_("数据项编码已被使用：%(code)s", code=draft.code), field="code") from None
    if draft.code is None:
        field.code = f"F{field.id:05d}"
    record_audit(actor, "data_field.created", field, target_label=field.name,
                 after={"code": field.code, "kind": field.kind, "period_kind": field.period_kind})
    db.session.commit()
    return field


# ---- Sending a request ---------------------------------------------------------------------------

def create_data_request(actor: User, checked: CheckedScope, draft: RequestDraft) -> DataRequest:
    """发起填报: stores the request, its fields and its audience (no row per unit)
    and pushes an inbox item to the clerks of the units still to answer — units
    that already hold every field are complete and are not asked. Overlapping
    open requests need an overlap_reason (409 with the overlaps otherwise)."""
    require_evidence_reason(checked, draft)
    _one_send_at_a_time(checked.period.text)
    found = overlaps(checked)
    if found and not draft.overlap_reason:
        raise OverlapConflict(_("同一期间已有相同单位、相同数据项的填报任务在进行，请先查看；"
                                "确需再次填报请说明理由"), overlaps=found)
    request = DataRequest(title=draft.title, purpose=draft.purpose, period=checked.period.text,
                          deadline=draft.deadline, author_id=actor.id, unit_id=checked.unit.id,
                          overlap_reason=draft.overlap_reason, evidence_reason=draft.evidence_reason,
                          created_at=utcnow())
    request.fields = [DataRequestField(field_id=f.id, position=i) for i, f in enumerate(checked.fields)]
    request.audience = checked.audience.rows()
    db.session.add(request)
    db.session.flush()
    item = inbox_item(request, read=False, units=[])
    for user_id in sorted(answerers(pending_units(request))):
        emit_on_commit("data_request", item, to=user_room(user_id))
    record_audit(actor, "data_request.created", request, target_label=request.title,
                 after={"period": request.period, "fields": [f.id for f in checked.fields],
                        "audience": checked.audience.as_json(), "overlaps": [o["request_id"] for o in found]})
    db.session.commit()
    return request


SENDING_LOCK = 7_240_015             # the advisory lock's first key: "sending a data request"


def _one_send_at_a_time(period: str) -> None:
    """Sends of the same period wait for each other before looking for overlaps,
    so that of two identical requests sent at once the second sees the first
    (409 without a reason). PostgreSQL: a transaction-scoped advisory lock on
    the period, released by the commit. SQLite: the first write of a transaction
    takes the database's one write lock (held to the commit) and the overlap
    query after it reads what was committed before — an UPDATE that matches no
    row is enough."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(SENDING_LOCK, func.hashtext(period))))
    else:
        db.session.execute(update(DataRequest).where(DataRequest.id == 0).values(closed_at=None)
                           .execution_options(synchronize_session=False))


# ---- Answering -----------------------------------------------------------------------------------

def _cleaned(raw: Any, asked: dict[int, Asked]) -> dict[int, Any]:
    """The values sent, checked against their fields: {field_id: value}; a value
    left empty is not an answer (the field keeps what it holds)."""
    if not isinstance(raw, dict):
        raise InvalidInput(_("values 须为以数据项 id 为键的对象"), field="values")
    cleaned: dict[int, Any] = {}
    for key, value in raw.items():
        name = f"values.{str(key)[:32]}"
        numeric = isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 10
        field_id = int(key) if numeric else None
        if field_id not in asked:
            raise InvalidInput(_("该任务没有这个数据项：%(key)s", key=str(key)[:32]), field=name)
        field = asked[field_id].field
        if field.system:
            raise InvalidInput(_("“%(label)s”由系统根据组织机构自动提供，无需填写", label=field.name),
                               field=name)
        if not is_empty(value):
            cleaned[field_id] = clean_value(field.kind, value, field=name, label=field.name,
                                            choices=field.choices)
    return cleaned


def _check_file(actor: User, attachment_id: int, field: DataField) -> None:
    # Locked: the job removing unattached uploads waits, then keeps it.
    attachment = db.session.get(Attachment, attachment_id, with_for_update=True)
    if attachment is None or attachment.uploader_id != actor.id or not is_unused(attachment):
        raise InvalidInput(_("“%(label)s”的文件不存在或已被使用", label=field.name),
                           field=f"values.{field.id}")


def _stale(request: DataRequest, unit: Unit) -> StaleForm:
    # What this session read before losing is stale: read the winner's values afresh.
    db.session.expire_all()
    return StaleForm(_("该表刚被他人提交过，请核对当前数据后再提交"), current=unit_form(request, unit))


def submit_unit_form(actor: User, request: DataRequest, unit: Unit, *, values: Any, version: Any) -> int:
    """提交填报 of `unit` (its clerk, or its leader where it has none): every
    value is checked against its field (400 naming it), every field must then
    hold a value, and each changed value is held once for (unit, field, period)
    with its history. `version` is the one the form was read at: a stale one is
    a 409 with the current form. Returns the new version."""
    require_can_answer(actor, unit)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InvalidInput(_("version 须为读取表单时得到的版本号（整数）"), field="version")
    if request.closed_at is not None:
        raise Conflict(_("该填报任务已结束"))
    asked = {a.field.id: a for a in request_fields(request)}
    cleaned = _cleaned(values, asked)
    held = held_values([unit.id], list(asked.values()))
    for field_id, item in asked.items():
        if not item.field.system and field_id not in cleaned and (unit.id, field_id) not in held:
            raise InvalidInput(_("请填写“%(label)s”", label=item.field.name), field=f"values.{field_id}")
    for field_id, value in cleaned.items():
        current = held.get((unit.id, field_id))
        if asked[field_id].field.kind == FieldKind.FILE and (current is None or current.value != value):
            _check_file(actor, value, asked[field_id].field)
    now = utcnow()
    new_version = claim_version(actor.id, request.id, unit.id, version, now=now)
    if not new_version:
        raise _stale(request, unit)
    try:
        changed = [field_id for field_id, value in cleaned.items()
                   if hold_value(actor.id, unit_id=unit.id, field=asked[field_id].field,
                                 period=asked[field_id].period, value=value,
                                 held=held.get((unit.id, field_id)), request_id=request.id,
                                 source=ValueSource.FORM, at=now)]
    except LostRace:
        raise _stale(request, unit) from None
    emit_on_commit("data_request_status", {"request_id": request.id, "unit_id": unit.id},
                   to=user_room(request.author_id))
    record_audit(actor, "data_request.submitted", request, target_label=request.title,
                 after={"unit_id": unit.id, "version": new_version, "changed": changed})
    db.session.commit()
    return new_version


# ---- Following up --------------------------------------------------------------------------------

def remind_pending(actor: User, request: DataRequest) -> int:
    """提醒填报: one reminder to the clerks of the units still pending, at most
    once every 4 hours per request (429 otherwise). Returns how many units."""
    require_requesting_side(actor, request)
    if request.closed_at is not None:
        raise Conflict(_("该填报任务已结束"))
    pending = pending_units(request)
    if not pending:
        raise Conflict(_("各单位都已填报，无需提醒"))
    now = utcnow()
    rule = _("每 4 小时最多提醒一次")
    claimed = db.session.execute(
        update(DataRequest).where(DataRequest.id == request.id,
                                  or_(DataRequest.last_reminded_at.is_(None),
                                      DataRequest.last_reminded_at <= now - REMINDER_INTERVAL))
        .values(last_reminded_at=now).returning(DataRequest.id)
        .execution_options(synchronize_session=False)).scalar()
    if claimed is None:
        db.session.refresh(request)
        TooSoon.unless_waited(request.last_reminded_at, now, REMINDER_INTERVAL, rule)
        raise TooSoon(rule)
    db.session.add(DataRequestReminder(request_id=request.id, sent_by_id=actor.id, sent_at=now,
                                       units=len(pending)))
    for user_id in sorted(answerers(pending)):
        emit_on_commit("reminder", {"data_request_id": request.id, "title": request.title},
                       to=user_room(user_id))
    record_audit(actor, "data_request.reminded", request, target_label=request.title,
                 after={"units": len(pending)})
    db.session.commit()
    return len(pending)


def close_data_request(actor: User, request: DataRequest) -> DataRequest:
    """结束填报: the request stops collecting (and no longer counts as open for
    overlaps); what was submitted stays held. Idempotent."""
    require_requesting_side(actor, request)
    if request.closed_at is None:
        request.closed_at = utcnow()
        record_audit(actor, "data_request.closed", request, target_label=request.title)
        db.session.commit()
    return request


def give_request_feedback(actor: User, request: DataRequest, unit: Unit, kind: Any) -> None:
    """重复 / 不必要 from a unit asked (its clerk or leader), once per unit; the
    requesting side sees only counts."""
    if kind not in FeedbackKind.__members__.values():
        raise InvalidInput(_("kind 应为 duplicate 或 unnecessary"), field="kind")
    if not any(u.id == unit.id for u in role_units(actor)):
        raise NotAllowed(_("只有本单位的文书、领导可以反馈"))
    if insert_or_nothing(DataRequestFeedback, {"request_id": request.id, "unit_id": unit.id, "kind": kind,
                                                "created_on": beijing_today()}) is None:
        raise Conflict(_("本单位已对该填报任务反馈过"))
    db.session.commit()


# ---- Audited reads -------------------------------------------------------------------------------

def record_values_read(actor: User, *, unit: Unit, request: DataRequest | None = None,
                       subtree: bool = False) -> None:
    """Reading another unit's held values (a form, the 向系统找数据 table) is audited."""
    record_audit(actor, "data.values_read", request if request is not None else unit,
                 target_label=request.title if request is not None else unit.name,
                 after={"unit_id": unit.id, "subtree": subtree})
    db.session.commit()


def record_export(actor: User, request: DataRequest) -> list[dict[str, Any]]:
    """导出填报数据 (the requesting side): audited, committed, then read; returns
    the units asked, in tree order, with their states."""
    require_requesting_side(actor, request)
    states = unit_states(request, details=True)
    record_audit(actor, "data_request.exported", request, target_label=request.title,
                 after={"units": len(states)})
    db.session.commit()
    return states
