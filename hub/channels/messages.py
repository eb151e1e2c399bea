"""Actions on messages: post (or acknowledge), edit, withdraw, mark read.

Each commits once and emits after the commit (hub.realtime.emit_on_commit).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.channels import queries
from hub.channels.actions import open_direct_channel
from hub.channels.models import (BODY_MAX, TOPIC_MAX, Channel, ChannelRead, ChannelState, Mention,
                                 Message, MessageAck, MessageEdit)
from hub.channels.serialize import message_json
from hub.channels.text import is_acknowledgement, sanitize_html
from hub.db import insert_ignore, utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed, TooLarge, not_found
from hub.extensions import db
from hub.files.access import is_unused
from hub.files.models import Attachment
from hub.org.models import Membership, User
from hub.realtime import channel_room, emit_on_commit, user_room
from hub.validation import clean_id_list, is_id


@dataclass
class MessageDraft:
    """A message as a client sends it, checked at the edge (from_json)."""

    body: str
    client_msg_id: str | None = None
    topic: str = ""
    html: str | None = None
    reply_to: int | None = None
    mention_users: list[int] = field(default_factory=list)
    mention_units: list[int] = field(default_factory=list)
    attachment_ids: list[int] = field(default_factory=list)
    # The page's composer: "@name" typed in the body mentions that person or unit
    # of the channel too (queries.named_in), picked from the suggestions or not.
    mention_names: bool = False

    @classmethod
    def from_json(cls, data: Any) -> MessageDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("消息必须是 JSON 对象"), field="body")
        body = data.get("body")
        if not isinstance(body, str):
            raise InvalidInput(_("缺少消息内容"), field="body")
        if len(body) > BODY_MAX:
            raise TooLarge(_("消息不能超过 %(limit)s 个字符（现为 %(length)s 个）",
                             limit=BODY_MAX, length=len(body)), field="body")
        client_msg_id = data.get("client_msg_id")
        if client_msg_id is not None and (not isinstance(client_msg_id, str)
                                          or not 0 < len(client_msg_id) <= 64):
            raise InvalidInput(_("client_msg_id 须为 1–64 个字符的文本"), field="client_msg_id")
        topic = data.get("topic") or ""
        if not isinstance(topic, str) or len(topic.strip()) > TOPIC_MAX:
            raise InvalidInput(_("话题须为不超过 %(limit)s 个字符的文本", limit=TOPIC_MAX), field="topic")
        html = data.get("html")
        if html is not None and (not isinstance(html, str) or len(html) > BODY_MAX * 2):
            raise InvalidInput(_("富文本内容无效或过长"), field="html")
        return cls(body=body, client_msg_id=client_msg_id, topic=topic.strip(), html=html,
                   reply_to=_optional_id(data, "reply_to"),
                   mention_users=clean_id_list(data.get("mention_user_ids"), "mention_user_ids"),
                   mention_units=clean_id_list(data.get("mention_unit_ids"), "mention_unit_ids"),
                   attachment_ids=clean_id_list(data.get("attachment_ids"), "attachment_ids"),
                   mention_names=data.get("mention_names") is True)


def _optional_id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not is_id(value):
        raise InvalidInput(_("%(field)s 必须是有效的 id", field=name), field=name)
    return value


@dataclass
class Acknowledged:
    """A bare "收到" was recorded as an acknowledgement of `message`."""

    message: Message


def post_message(author: User, channel: Channel, draft: MessageDraft) -> tuple[Message | Acknowledged, bool]:
    """发消息. Returns (message, created). A retry with the same client_msg_id
    returns the first message with created=False. A body that is only an
    acknowledgement becomes an ack of the message it answers instead."""
    _require_can_post(author, channel)
    if not draft.html and not draft.attachment_ids and is_acknowledgement(draft.body):
        target = _acknowledge_reply(author, channel, draft.reply_to)
        db.session.commit()
        return Acknowledged(target), True
    if not draft.body.strip() and not draft.attachment_ids:
        raise InvalidInput(_("消息内容不能为空"), field="body")
    reply_to = _reply_target(channel, draft.reply_to) if draft.reply_to else None
    message = Message(channel_id=channel.id, author_id=author.id, body=draft.body,
                      html=sanitize_html(draft.html) if draft.html else None,
                      topic=draft.topic or (reply_to.topic if reply_to else ""),
                      client_msg_id=draft.client_msg_id,
                      reply_to_id=reply_to.id if reply_to else None)
    # Known already: message_json() below then needs no query for them (this
    # runs for every message sent, see docs/PERFORMANCE.md "Real time").
    message.author = author
    if not draft.attachment_ids:
        message.attachments = []
    db.session.add(message)
    try:
        db.session.flush()
    except IntegrityError:
        # A retry with a client id already used (sent before, or by a concurrent
        # retry): the constraint, not a lookup first, decides — that lookup would
        # cost every first send a query — and the row that won is handed back.
        db.session.rollback()
        existing = _by_client_id(author, draft.client_msg_id or "")
        if existing is None:
            raise
        return existing, False
    _attach(author, message, draft.attachment_ids)
    _mention(author, channel, message, draft)
    # Never backwards: two posts to one channel can commit in the other order than
    # their ids (PostgreSQL re-evaluates this on the row the other one committed).
    newer = sa.or_(Channel.last_message_id.is_(None), Channel.last_message_id < message.id)
    channel.last_message_id = sa.case((newer, message.id), else_=Channel.last_message_id)
    channel.last_message_at = sa.case((newer, message.created_at), else_=Channel.last_message_at)
    emit_on_commit("message", message_json(message), to=channel_room(channel.id))
    db.session.commit()
    return message, True


def _require_can_post(author: User, channel: Channel) -> None:
    if channel.state == ChannelState.ARCHIVED:
        raise Conflict(_("该频道已归档，只能查看"), field="channel_id")
    if channel.state != ChannelState.ACTIVE:
        raise Conflict(_("该频道尚未通过审批"), field="channel_id")
    if not queries.can_post(author, channel):
        raise NotAllowed(_("您不能在该频道发言"))


def _by_client_id(author: User, client_msg_id: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.author_id == author.id,
                                                   Message.client_msg_id == client_msg_id))


def _reply_target(channel: Channel, message_id: int) -> Message:
    target = db.session.get(Message, message_id)
    if target is None or target.channel_id != channel.id:
        raise InvalidInput(_("回复的消息不在该频道"), field="reply_to")
    return target


def _acknowledge_reply(author: User, channel: Channel, reply_to: int | None) -> Message:
    target = _reply_target(channel, reply_to) if reply_to else queries.latest_by_others(channel, author)
    if target is None:
        raise InvalidInput(_("没有可以确认收到的消息"), field="body")
    _record_ack(author, target)
    return target


def acknowledge(user: User, message: Message) -> Message:
    """确认收到 a message (the button, or a bare "收到"): one per person, idempotent."""
    channel = db.session.get(Channel, message.channel_id)
    if not queries.can_read(user, channel):
        raise not_found("message")
    _record_ack(user, message)
    db.session.commit()
    return message


def _record_ack(user: User, message: Message) -> None:
    if message.author_id == user.id:
        return
    if not insert_ignore(db.session, MessageAck, {"message_id": message.id, "user_id": user.id,
                                                  "created_at": utcnow()}):
        return                                      # already acknowledged: nothing changes
    db.session.execute(update(Message).where(Message.id == message.id)
                       .values(ack_count=Message.ack_count + 1))
    db.session.refresh(message)
    emit_on_commit("ack", {"channel_id": message.channel_id, "message_id": message.id,
                           "acks": message.ack_count}, to=channel_room(message.channel_id))


def _attach(author: User, message: Message, attachment_ids: list[int]) -> None:
    for attachment_id in attachment_ids:
        attachment = db.session.get(Attachment, attachment_id)
        if attachment is None or attachment.uploader_id != author.id or not is_unused(attachment):
            raise InvalidInput(_("附件不存在或已被使用"), field="attachment_ids")
        attachment.message_id = message.id


def _mention(author: User, channel: Channel, message: Message, draft: MessageDraft) -> None:
    """@person reaches only people who can read the channel; @unit only units
    whose people are all in it, and then only those people (a unit's room would
    also hold everyone below it, who may not read the channel). One `mention`
    event per person, however many ways they were mentioned."""
    if draft.mention_names:
        users, units = queries.named_in(channel, draft.body)
        draft.mention_users = [*draft.mention_users, *users]
        draft.mention_units = [*draft.mention_units, *units]
    if not (draft.mention_users or draft.mention_units):
        return
    reader_ids = queries.member_ids(channel)
    reached: set[int] = set()
    for user_id in dict.fromkeys(draft.mention_users):
        if user_id not in reader_ids:
            raise InvalidInput(_("只能 @ 本频道的成员"), field="mention_user_ids")
        db.session.add(Mention(message_id=message.id, user_id=user_id))
        reached.add(user_id)
    for unit_id in dict.fromkeys(draft.mention_units):
        people = _unit_people(unit_id)
        if not people or not people <= reader_ids:
            raise InvalidInput(_("只能 @ 本频道成员所在的单位"), field="mention_unit_ids")
        db.session.add(Mention(message_id=message.id, unit_id=unit_id))
        reached |= people
    for user_id in sorted(reached - {author.id}):
        emit_on_commit("mention", {"channel_id": channel.id, "message_id": message.id},
                       to=user_room(user_id))


def _unit_people(unit_id: int) -> set[int]:
    """The active people whose post is in the unit itself (not below it): whom @unit means."""
    return set(db.session.scalars(select(Membership.user_id).join(User, User.id == Membership.user_id)
                                  .where(Membership.unit_id == unit_id, User.active.is_(True))))


def edit_message(author: User, message: Message, *, body: str, html: str | None = None) -> Message:
    """编辑: only the author, not after withdrawal; the old text is kept as history."""
    if message.author_id != author.id:
        raise NotAllowed(_("只能编辑自己的消息"))
    if message.withdrawn_at is not None:
        raise Conflict(_("消息已撤回"))
    channel = db.session.get(Channel, message.channel_id)
    if channel.state != ChannelState.ACTIVE:
        raise Conflict(_("该频道已归档，只能查看"))
    draft = MessageDraft.from_json({"body": body, "html": html})
    if not draft.body.strip():
        raise InvalidInput(_("消息内容不能为空"), field="body")
    db.session.add(MessageEdit(message_id=message.id, body=message.body, html=message.html))
    message.body = draft.body
    message.html = sanitize_html(draft.html) if draft.html else None
    message.edited_at = utcnow()
    emit_on_commit("message_changed", message_json(message), to=channel_room(message.channel_id))
    db.session.commit()
    return message


def withdraw_message(actor: User, message: Message) -> Message:
    """撤回: by the author. The record stays (for the archive) but nobody sees its text."""
    if message.author_id != actor.id:
        raise NotAllowed(_("只能撤回自己的消息"))
    if message.withdrawn_at is None:
        message.withdrawn_at = utcnow()
        emit_on_commit("message_changed", message_json(message), to=channel_room(message.channel_id))
        db.session.commit()
    return message


def mark_read(user: User, channel: Channel, up_to: int) -> int:
    """Move the person's read pointer forward to `up_to` (never back). Returns it."""
    pointer = db.session.get(ChannelRead, (user.id, channel.id))
    if pointer is None:
        pointer = ChannelRead(user_id=user.id, channel_id=channel.id, last_read_id=0)
        db.session.add(pointer)
    latest = channel.last_message_id or 0
    pointer.last_read_id = max(pointer.last_read_id or 0, min(up_to, latest))
    try:
        db.session.commit()
    except IntegrityError:                       # a concurrent first read: retry once
        db.session.rollback()
        return mark_read(user, channel, up_to)
    return pointer.last_read_id


def reply_privately(user: User, message: Message, draft: MessageDraft) -> tuple[Message | Acknowledged, bool]:
    """私信回复: an answer to an announcement goes to its author, not the channel.
    The direct channel (made on first use) and the message commit together."""
    author = db.session.get(User, message.author_id)
    channel = open_direct_channel(user, author)
    draft.reply_to = None
    return post_message(user, channel, draft)
