"""Actions on notices: publish, read, acknowledge, remind, correct, revoke,
feedback. Publishing writes the notice and its audience — never a row per
recipient; receipts are written when a person reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.audit import record_audit
from hub.channels.text import sanitize_html
from hub.db import insert_ignore, utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed, TooLarge, TooSoon
from hub.extensions import db
from hub.files.access import is_unused
from hub.files.models import Attachment
from hub.notices.audience import Audience, assigned_memberships, audience_of
from hub.notices.models import (BODY_MAX, REASON_MAX, SUMMARY_MAX, TITLE_MAX, FeedbackKind, Notice,
                                NoticeAttachment, NoticeFeedback, Receipt)
from hub.notices.queries import can_follow_up  # noqa: F401  (views and the API ask actions)
from hub.notices.serialize import inbox_item
from hub.notices.unread import notice_opened
from hub.org.models import Membership, Role, Unit, UnitKind, User
from hub.org.schedule import schedule_for
from hub.permissions import can_admin_unit
from hub.realtime import emit_on_commit, member_room, unit_room, user_room
from hub.validation import clean_id_list, clean_text

REMINDER_INTERVAL = timedelta(hours=4)
ATTACHMENTS_MAX = 20


@dataclass
class NoticeDraft:
    """A notice as composed, checked at the edge."""

    title: str
    summary: str
    body: str
    audience: Audience
    html: str | None = None
    urgent_reason: str | None = None
    requires_ack: bool = False
    deadline: datetime | None = None
    publish_at: datetime | None = None
    attachment_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> NoticeDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        title = clean_text(data.get("title"), "title", _("标题"), max_length=TITLE_MAX)
        summary = clean_text(data.get("summary"), "summary", _("内容摘要"), max_length=SUMMARY_MAX)
        body = data.get("body") or ""
        if not isinstance(body, str):
            raise InvalidInput(_("正文必须是文本"), field="body")
        if len(body) > BODY_MAX:
            raise TooLarge(_("正文不能超过 %(limit)s 个字符", limit=BODY_MAX), field="body")
        html = data.get("html")
        if html is not None and (not isinstance(html, str) or len(html) > BODY_MAX * 2):
            raise InvalidInput(_("富文本内容无效或过长"), field="html")
        urgent = data.get("urgent", False)
        if not isinstance(urgent, bool):
            raise InvalidInput(_("urgent 须为 true 或 false"), field="urgent")
        reason = None
        if urgent:
            reason = clean_text(data.get("urgent_reason"), "urgent_reason", _("紧急原因"),
                                max_length=REASON_MAX)
        requires_ack = data.get("requires_ack", False)
        if not isinstance(requires_ack, bool):
            raise InvalidInput(_("requires_ack 须为 true 或 false"), field="requires_ack")
        return cls(title=title, summary=summary, body=body, html=html,
                   audience=Audience.from_json(data.get("audience")), urgent_reason=reason,
                   requires_ack=requires_ack, deadline=_time(data.get("deadline"), "deadline"),
                   publish_at=_time(data.get("publish_at"), "publish_at"),
                   attachment_ids=clean_id_list(data.get("attachment_ids"), "attachment_ids",
                                                limit=ATTACHMENTS_MAX))


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(_("时间须为带时区的 ISO 8601，例如 2026-11-23T09:00:00+08:00"), field=field)
    return parsed


def publishing_unit(author: User) -> Unit | None:
    """The unit a person publishes for: their primary unit."""
    return author.primary_unit


def reach_root(unit: Unit) -> Unit:
    """A department publishes for the unit above it (县政府办 for the county);
    any other unit for itself."""
    if unit.kind == UnitKind.DEPARTMENT and unit.parent is not None:
        return unit.parent
    return unit


def require_can_publish(author: User, draft: NoticeDraft) -> Unit:
    """Leaders and clerks publish for their unit, to its reach; urgent needs a
    leader (or a system admin) and a reason. Returns the publishing unit."""
    unit = publishing_unit(author)
    if unit is None:
        raise NotAllowed(_("您没有所属单位，不能发布通知"))
    if not author.is_admin and not (author.has_role(Role.LEADER, unit.id)
                                    or author.has_role(Role.CLERK, unit.id)):
        raise NotAllowed(_("只有本单位的领导或文书可以发布通知"))
    if draft.urgent_reason and not (author.is_admin or author.has_role(Role.LEADER, unit.id)):
        raise NotAllowed(_("只有领导可以发布紧急通知"), field="urgent")
    if not author.is_admin:
        _require_within_reach(reach_root(unit), draft.audience)
    return unit


def _require_within_reach(root: Unit, audience: Audience) -> None:
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(audience.unit_ids()))))
    if len(units) != len(audience.unit_ids()) or any(not u.active for u in units):
        raise InvalidInput(_("发送范围中有不存在或已撤销的单位"), field="audience")
    if any(not u.path.startswith(root.path) for u in units):
        raise NotAllowed(_("只能向%(unit)s及其下级单位发布", unit=root.name), field="audience")
    if audience.users:
        inside = set(db.session.scalars(
            select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
            .where(Membership.user_id.in_(audience.users), Unit.path.startswith(root.path))))
        if inside != set(audience.users):
            raise NotAllowed(_("只能向%(unit)s及其下级单位的人员发布", unit=root.name),
                             field="audience.users")


def publish_notice(author: User, draft: NoticeDraft) -> Notice:
    """发布通知: stores the notice and its audience (no per-recipient rows) and,
    unless scheduled, pushes the inbox item to the audience's rooms after commit."""
    notice = _store(author, draft)
    if notice.publish_at <= notice.created_at:
        _announce(notice)
    _audit_published(author, notice)
    db.session.commit()
    return notice


def _store(author: User, draft: NoticeDraft, *, replacing: Notice | None = None) -> Notice:
    """The notice row, its audience and files, flushed (not committed, not pushed)."""
    unit = require_can_publish(author, draft)
    now = utcnow()
    publish_at = draft.publish_at or now
    if draft.deadline is not None and draft.deadline <= publish_at:
        raise InvalidInput(_("截止时间须晚于发布时间"), field="deadline")
    notice = Notice(author_id=author.id, unit_id=unit.id, title=draft.title, summary=draft.summary,
                    body=draft.body, html=sanitize_html(draft.html) if draft.html else None,
                    urgent_reason=draft.urgent_reason, requires_ack=draft.requires_ack,
                    deadline=draft.deadline, publish_at=publish_at, created_at=now,
                    after_hours=not schedule_for(author).is_working_time(now),
                    audience=draft.audience.rows())
    db.session.add(notice)
    db.session.flush()
    _attach(author, notice, draft.attachment_ids, replacing)
    return notice


def _audit_published(author: User, notice: Notice) -> None:
    record_audit(author, "notice.published", notice,
                 after={"title": notice.title, "publish_at": notice.publish_at.isoformat(),
                        "urgent": notice.is_urgent})


def _attach(author: User, notice: Notice, attachment_ids: list[int], replacing: Notice | None) -> None:
    """Link the files the author uploaded for this notice. A file already on a
    message or another notice is refused — except, for a correction, the files
    of the version it replaces, which carry over."""
    if not attachment_ids:
        return
    carried = {a.id for a in replacing.attachments} if replacing is not None else set()
    for position, attachment_id in enumerate(attachment_ids):
        if attachment_id not in carried:
            # Locked: the job removing unattached uploads waits, then keeps it.
            attachment = db.session.get(Attachment, attachment_id, with_for_update=True)
            if attachment is None or attachment.uploader_id != author.id or not is_unused(attachment):
                raise InvalidInput(_("附件不存在或已被使用"), field="attachment_ids")
        db.session.add(NoticeAttachment(notice_id=notice.id, attachment_id=attachment_id, position=position))
    db.session.flush()
    db.session.expire(notice, ["attachments"])


def audience_rooms(notice: Notice) -> list[str]:
    """One room per audience part: a subtree is its root's unit room; a single
    unit its members' room; positions and people the people's own rooms."""
    audience = audience_of(notice.audience)
    rooms = {unit_room(i) for i in audience.subtrees}
    rooms |= {member_room(i) for i in audience.units}
    rooms |= {user_room(i) for i in audience.users}
    if audience.positions:
        only_positions = Audience(positions=audience.positions)
        rooms |= {user_room(row.user_id) for row in db.session.execute(assigned_memberships(only_positions))}
    return sorted(rooms)


def _announce(notice: Notice, event: str = "notice") -> None:
    notice.announced = True
    _push(notice, event)


def _push(notice: Notice, event: str = "notice") -> None:
    item = inbox_item(notice, read=False)
    for room in audience_rooms(notice):
        emit_on_commit(event, item, to=room)


def announce_due_notices() -> int:
    """Push scheduled notices whose time has come (run by the background jobs).

    The `announced` flag flips in one conditional UPDATE, and only the notices
    this UPDATE flipped are pushed: of two processes running this at once, each
    notice is claimed, and pushed, by exactly one."""
    claimed = db.session.scalars(
        update(Notice).where(Notice.announced.is_(False), Notice.publish_at <= utcnow(),
                             Notice.revoked_at.is_(None))
        .values(announced=True).returning(Notice.id), execution_options={"keeps_unread": True}).all()
    if claimed:
        for notice in db.session.scalars(select(Notice).where(Notice.id.in_(claimed)).order_by(Notice.id)):
            _push(notice)
    db.session.commit()
    return len(claimed)


def mark_read(reader: User, notice: Notice) -> Receipt:
    """已读: the receipt is written when a person opens a notice. Idempotent."""
    receipt = _record_read(reader, notice)
    db.session.commit()
    return receipt


def _record_read(reader: User, notice: Notice) -> Receipt:
    """The person's receipt of the notice, written on first reading (not committed)."""
    if insert_ignore(db.session, Receipt, {"notice_id": notice.id, "user_id": reader.id,
                                           "read_at": utcnow(), "feedback_given": False}, keeps_unread=True):
        notice_opened(db.session, reader, notice)
        emit_on_commit("receipt", {"notice_id": notice.id}, to=user_room(notice.author_id))
    return db.session.scalar(select(Receipt).where(Receipt.notice_id == notice.id,
                                                   Receipt.user_id == reader.id))


def acknowledge(reader: User, notice: Notice) -> Receipt:
    """签收 a notice that asks for it (reading it too). Idempotent."""
    if not notice.requires_ack:
        raise Conflict(_("该通知不需要签收"))
    if notice.revoked_at is not None:
        raise Conflict(_("该通知已撤回"))
    receipt = _record_read(reader, notice)
    if receipt.acked_at is None:
        receipt.acked_at = utcnow()
        emit_on_commit("receipt", {"notice_id": notice.id}, to=user_room(notice.author_id))
    db.session.commit()
    return receipt


def send_reminder(actor: User, notice: Notice) -> None:
    """提醒未读: at most once every 4 hours per notice (429 otherwise). The push
    goes to the audience's rooms; pages show it only to people who have not read."""
    if not can_follow_up(actor, notice):
        raise NotAllowed(_("只有发布人和发布单位的管理员可以提醒"))
    if notice.revoked_at is not None:
        raise Conflict(_("该通知已撤回"))
    now = utcnow()
    TooSoon.unless_waited(notice.last_reminded_at, now, REMINDER_INTERVAL, _("每 4 小时最多提醒一次"))
    notice.last_reminded_at = now
    for room in audience_rooms(notice):
        emit_on_commit("reminder", {"notice_id": notice.id, "title": notice.title}, to=room)
    record_audit(actor, "notice.reminded", notice)
    db.session.commit()


def correct_notice(author: User, notice: Notice, draft: NoticeDraft) -> Notice:
    """更正: a new version replaces the notice; people who read the old one see
    the new one flagged as corrected."""
    if notice.author_id != author.id and not can_admin_unit(author, notice.unit):
        raise NotAllowed(_("只有发布人可以更正"))
    if notice.superseded_by_id is not None or notice.revoked_at is not None:
        raise Conflict(_("该通知已被更正或撤回"))
    if draft.publish_at is not None and draft.publish_at > utcnow():
        # The old version leaves inboxes the moment it is superseded, so a
        # correction cannot wait: it goes out now.
        raise InvalidInput(_("更正须立即发布，不能定时"), field="publish_at")
    # One transaction: the new version is numbered before its event is built,
    # so readers are pushed what the API answers (version 2, correcting 1).
    new = _store(author, draft, replacing=notice)
    new.corrects_id, new.version = notice.id, notice.version + 1
    notice.superseded_by_id = new.id
    _announce(new)
    _audit_published(author, new)
    record_audit(author, "notice.corrected", notice, after={"new_id": new.id})
    db.session.commit()
    return new


def revoke_notice(author: User, notice: Notice, *, note: str) -> Notice:
    """撤回: the record stays, with the note, for everyone who received it."""
    if notice.author_id != author.id and not can_admin_unit(author, notice.unit):
        raise NotAllowed(_("只有发布人可以撤回"))
    if notice.revoked_at is not None:
        return notice
    notice.revoke_note = clean_text(note, "note", _("撤回说明"), max_length=REASON_MAX)
    notice.revoked_at = utcnow()
    for room in audience_rooms(notice):
        emit_on_commit("notice_changed", {"id": notice.id, "revoked": True}, to=room)
    record_audit(author, "notice.revoked", notice, after={"note": notice.revoke_note})
    db.session.commit()
    return notice


def give_feedback(reader: User, notice: Notice, kind: str) -> None:
    """重复 / 不清楚 / 不必要, anonymously: the feedback row names no person; the
    receipt only remembers that feedback was given, so it is given once."""
    if kind not in FeedbackKind.__members__.values():
        raise InvalidInput(_("反馈类型应为 duplicate、unclear 或 unnecessary"), field="kind")
    receipt = _record_read(reader, notice)
    if receipt.feedback_given:
        raise Conflict(_("您已对该通知提交过反馈"))
    receipt.feedback_given = True
    db.session.add(NoticeFeedback(notice_id=notice.id, kind=kind))
    db.session.commit()
