"""Channel pages (频道): the list, the message pane grouped by topic (话题), and
the register (频道台账) for admins.

Thin: parse, fetch with permission, one action, flash in Chinese, redirect. A
refused form (hub.errors.form_errors) re-renders its page with the message and
what was typed; a refused button is flashed on the page it was on (never a
500). Every page works without JavaScript; static/js/channels.js adds live
updates on top.
"""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, select

from hub.channels import actions, messages, queries
from hub.channels import register_reads
from hub.channels.access import access_channel, access_message
from hub.channels.actions import TaskDraft
from hub.channels.messages import Acknowledged, MessageDraft
from hub.channels.models import (TOPIC_MAX, Channel, ChannelKind, ChannelRead, ChannelState,
                                 Message, MessageAck)
from hub.errors import HubError, InvalidInput, flash_back, form_errors
from hub.extensions import db
from hub.files.storage import store_attachment
from hub.org import queries as org_queries
from hub.org.models import Role, Unit, User
from hub.permissions import access_person, access_unit, admin_scope, require_any_admin
from hub.redirects import local_target
from hub.validation import as_id

bp = Blueprint("channels", __name__)

PAGE = 50                 # messages on the first screen of the pane
REGISTER_PAGE = 100       # lines of the register per page
SEARCH_LIMIT = 20
TERM_MAX = 100
REGISTER_FILTERS = {"task": (ChannelKind.TASK,), "announce": (ChannelKind.ANNOUNCE,),
                    "unit": (ChannelKind.UNIT,), "all": register_reads.REGISTER_KINDS}


# ---- Small parsers ------------------------------------------------------------

def _term(name: str) -> str:
    return request.args.get(name, "").strip()[:TERM_MAX]


def _terms(term: str) -> list[str]:
    """Several names at once ("石梁镇 上方镇"), so one search can pick several."""
    return [t for t in re.split(r"[\s,，、;；]+", term) if t][:5]


def _arg_id(name: str) -> int | None:
    return as_id(request.args.get(name, ""))


def _form_ids(name: str, *, strict: bool = True) -> list[int]:
    """Ids ticked or chosen in a form; a value that is not an id is refused
    (or, when re-rendering a refused form, left out)."""
    values = [as_id(v) for v in request.form.getlist(name)]
    if strict and None in values:
        raise InvalidInput(_("所选项目无效，请重新选择"), field=name)
    return list(dict.fromkeys(v for v in values if v is not None))


def _view_topic() -> str | None:
    """The topic the pane is narrowed to (None: 全部). Forms carry it in their URL."""
    topic = request.args.get("topic")
    return topic.strip()[:TOPIC_MAX] if topic is not None else None


# ---- Reads the pages need -------------------------------------------------------

def _direct_names(channels: list[Channel]) -> dict[int, str]:
    """A direct channel is named after the other person (its key is "min:max")."""
    others = {}
    for c in channels:
        if c.kind == ChannelKind.DIRECT and c.direct_key:
            a, b = (int(part) for part in c.direct_key.split(":"))
            others[c.id] = b if a == current_user.id else a
    wanted = select(User.id, User.name).where(User.id.in_(set(others.values())))
    names = dict(db.session.execute(wanted).all()) if others else {}
    return {channel_id: names.get(user_id, _("（已删除）")) for channel_id, user_id in others.items()}


def _own_waiting(user: User) -> list[Channel]:
    """Task channels the person asked for that are pending or were rejected."""
    return list(db.session.scalars(select(Channel).where(
        Channel.kind == ChannelKind.TASK, Channel.owner_id == user.id,
        Channel.state.in_([ChannelState.PENDING, ChannelState.REJECTED]))))


def _unit_choices(units: list[Unit]) -> list[dict]:
    trail = org_queries.trails(units)
    return [{"id": u.id, "name": u.name, "trail": " › ".join(a.name for a in trail[u.id])} for u in units]


def _person_choices(people: list[User]) -> list[dict]:
    def where(p: User) -> str:
        m = p.primary_membership
        return f"{m.unit.name} {m.position or ''}".strip() if m else ""
    return [{"id": p.id, "name": p.name, "where": where(p)}
            for p in people if p.active and p.id != current_user.id]


def _found(model, term: str, chosen: list[int], search) -> list:
    """The rows already ticked, then what each of the search terms finds."""
    rows = list(db.session.scalars(select(model).where(model.id.in_(chosen)))) if chosen else []
    for t in _terms(term):
        rows += search(t, limit=SEARCH_LIMIT)
    return list({row.id: row for row in rows}.values())


def _acked(shown: list[Message]) -> set[int]:
    """Which of the shown messages the person has already confirmed."""
    ids = [m.id for m in shown]
    return set(db.session.scalars(select(MessageAck.message_id).where(
        MessageAck.user_id == current_user.id, MessageAck.message_id.in_(ids)))) if ids else set()


# ---- The list ---------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    """频道: the person's channels by kind, unread counts where there are some,
    and the forms that open a direct message or ask for a task channel."""
    return _index_page()


def _index_page(*, error: HubError | None = None):
    channels = [*db.session.scalars(queries.readable_channels(current_user)), *_own_waiting(current_user)]
    channels.sort(key=lambda c: (c.last_message_id or 0, c.id), reverse=True)
    groups: dict[str, list[Channel]] = {"unit": [], "announce": [], "task": [], "direct": [], "archived": []}
    for c in channels:
        groups["archived" if c.state in (ChannelState.ARCHIVED, ChannelState.REJECTED) else c.kind].append(c)
    have_announce = {c.unit_id for c in groups["announce"]}
    leads = [g.unit for g in current_user.roles if g.role == Role.LEADER and g.unit is not None
             and g.unit.active and g.unit_id not in have_announce]
    form = request.form if error is not None else {}
    chosen = {key: _form_ids(key, strict=False) if error is not None else []
              for key in ("unit_ids", "subtree_ids", "user_ids")}
    terms = {"person_q": _term("person_q"), "unit_q": _term("unit_q"), "people_q": _term("people_q")}
    live = [c.id for c in channels if c.state == ChannelState.ACTIVE]
    return render_template(
        "channels/index.html", groups=groups, names=_direct_names(channels),
        unread=queries.unread_counts(current_user, live),
        leads=leads, terms=terms,
        dm_people=_person_choices(_found(User, terms["person_q"], [], org_queries.search_people)),
        task_units=_unit_choices(_found(Unit, terms["unit_q"], chosen["unit_ids"] + chosen["subtree_ids"],
                                        org_queries.search_units)),
        task_people=_person_choices(_found(User, terms["people_q"], chosen["user_ids"],
                                           org_queries.search_people)),
        chosen=chosen, form=form, error=error,
    ), error.status if error else 200


@bp.get("/units/choices")
@login_required
def unit_choices():
    """JSON for the task form's live unit search: active units matching `q`
    (several names allowed), each with its ancestors so that two 新村 differ."""
    return {"items": _unit_choices(_found(Unit, _term("q"), [], org_queries.search_units))}


@bp.post("/direct")
@login_required
def open_direct():
    """私信: open (or make) the direct channel with the chosen person."""
    with form_errors(flash_back, url_for("channels.index", _anchor="direct")):
        ids = _form_ids("user_id")
        if not ids:
            raise InvalidInput(_("请先查找并选择要私信的人"), field="user_id")
        channel = actions.direct_channel(current_user, access_person(current_user, ids[0]))
    return redirect(url_for("channels.show", channel_id=channel.id))


@bp.post("/announce/<int:unit_id>")
@login_required
def open_announcements(unit_id: int):
    """开设公告频道 for a unit the person leads."""
    with form_errors(flash_back, url_for("channels.index")):
        channel = actions.announcement_channel(current_user, access_unit(current_user, unit_id))
    return redirect(url_for("channels.show", channel_id=channel.id))


@bp.post("/tasks")
@login_required
def create_task():
    """建专项工作群: active at once within one's own units, else waits for approval."""
    with form_errors(_index_page):
        subtrees = _form_ids("subtree_ids")
        draft = TaskDraft.from_json({
            "name": request.form.get("name", ""), "purpose": request.form.get("purpose", ""),
            "ends_on": request.form.get("ends_on", ""), "subtree_ids": subtrees,
            "unit_ids": [i for i in _form_ids("unit_ids") if i not in subtrees],
            "user_ids": _form_ids("user_ids")})
        channel = actions.create_task_channel(current_user, draft)
    if channel.state == ChannelState.PENDING:
        flash(_("已提交「%(name)s」，等待管理员审批后启用", name=channel.name))
        return redirect(url_for("channels.index"))
    flash(_("专项工作群「%(name)s」已建立", name=channel.name))
    return redirect(url_for("channels.show", channel_id=channel.id))


# ---- The message pane --------------------------------------------------------------

@bp.get("/<int:channel_id>")
@login_required
def show(channel_id: int):
    """The message pane: the last 50 messages (of one topic, or 全部), newest at
    the bottom, the topics on the side, and the composer."""
    return _pane(access_channel(current_user, channel_id))


def _pane(channel: Channel, *, error: HubError | None = None, draft: dict | None = None):
    topic, before = _view_topic(), _arg_id("before")
    found = queries.messages_before(channel, before, PAGE + 1, topic=topic)
    shown = list(reversed(found[:PAGE]))
    pointer = db.session.get(ChannelRead, (current_user.id, channel.id))
    replying = _reply_target(channel, (draft or {}).get("reply_to") or _arg_id("reply_to"))
    return render_template(
        "channels/show.html", channel=channel, title=_direct_names([channel]).get(channel.id, channel.name),
        quoted=queries.quoted(channel, [m.reply_to_id for m in shown if m.reply_to_id]
                              + ([replying.id] if replying else [])), replying=replying,
        messages=shown, older=found[PAGE - 1].id if len(found) > PAGE else None, latest=before is None,
        topic=topic, topics=queries.topics(channel), acked=_acked(shown),
        can_post=queries.can_post(current_user, channel), member_count=queries.member_count(channel),
        merged_into=db.session.get(Channel, channel.merged_into_id) if channel.merged_into_id else None,
        last_read=pointer.last_read_id if pointer else 0, error=error, draft=draft or {},
        client_msg_id=(draft or {}).get("client_msg_id") or uuid.uuid4().hex,
    ), error.status if error else 200


def _reply_target(channel: Channel, message_id: object) -> Message | None:
    """The message a reply being written quotes: one of this channel, not withdrawn."""
    if not isinstance(message_id, int):
        return None
    message = db.session.get(Message, message_id)
    if message is None or message.channel_id != channel.id or message.withdrawn_at is not None:
        return None
    return message


@bp.get("/<int:channel_id>/mentions")
@login_required
def mention_choices(channel_id: int):
    """JSON for the composer: whom "@" + q offers (people and units of the channel)."""
    channel = access_channel(current_user, channel_id)
    return {"items": queries.mention_suggestions(channel, request.args.get("q", "").strip()[:20])}


@bp.post("/<int:channel_id>/messages")
@login_required
def send(channel_id: int):
    """发消息 from the composer. The hidden client_msg_id makes a double submit
    harmless; a bare "收到" is recorded as an acknowledgement instead."""
    channel = access_channel(current_user, channel_id)
    form = {"body": request.form.get("body", "").replace("\r\n", "\n"),
            "topic": request.form.get("topic", ""),
            "client_msg_id": request.form.get("client_msg_id") or None}
    reply_to = request.form.get("reply_to") or None         # 回复: the message quoted
    if reply_to is not None:
        form["reply_to"] = int(reply_to) if reply_to.isdigit() and len(reply_to) < 16 else reply_to
    # "@name" typed in the text mentions that person or unit of the channel.
    named = {"mention_names": True}
    with form_errors(_pane, channel, draft=form):        # the text is kept; the file is chosen again
        upload, attached = request.files.get("file"), []
        if upload is not None and upload.filename:
            attached = [store_attachment(current_user, upload.filename,
                                         upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)).id]
        draft = MessageDraft.from_json({**form, **named, "attachment_ids": attached})
        result, _posted = messages.post_message(current_user, channel, draft)
    if isinstance(result, Acknowledged):
        flash(_("已记为确认收到"))
        return redirect(url_for("channels.show", channel_id=channel.id, topic=_view_topic(),
                                _anchor=f"m-{result.message.id}"))
    topic = result.topic if _view_topic() is not None else None
    return redirect(url_for("channels.show", channel_id=channel.id, topic=topic, _anchor=f"m-{result.id}"))


def _at(message: Message) -> str:
    """The pane at `message`, in the topic the page showed."""
    return url_for("channels.show", channel_id=message.channel_id, topic=_view_topic(),
                   _anchor=f"m-{message.id}")


@bp.post("/messages/<int:message_id>/ack")
@login_required
def ack(message_id: int):
    """确认收到 a message (instead of typing "收到")."""
    message = access_message(current_user, message_id)
    back = _at(message)
    with form_errors(flash_back, back):
        messages.acknowledge(current_user, message)
    flash(_("已确认收到"))
    return redirect(back)


@bp.post("/messages/<int:message_id>/edit")
@login_required
def edit(message_id: int):
    """编辑 one's own message (the old text is kept as history)."""
    message = access_message(current_user, message_id)
    back = _at(message)
    with form_errors(flash_back, back):
        messages.edit_message(current_user, message, body=request.form.get("body", "").replace("\r\n", "\n"))
    flash(_("消息已修改"))
    return redirect(back)


@bp.post("/messages/<int:message_id>/withdraw")
@login_required
def withdraw(message_id: int):
    """撤回 one's own message."""
    message = access_message(current_user, message_id)
    back = _at(message)
    with form_errors(flash_back, back):
        messages.withdraw_message(current_user, message)
    flash(_("消息已撤回"))
    return redirect(back)


# ---- The register (频道台账) ----------------------------------------------------------

@bp.get("/register")
@login_required
def register_page():
    """频道台账 for admins: channels in their scope with members, activity and the
    闲置 / 重叠 flags; pending task channels to approve."""
    require_any_admin(current_user)
    scope = admin_scope(current_user)
    kind = request.args.get("kind", "task")
    kind = kind if kind in REGISTER_FILTERS else "task"
    archived, page = request.args.get("archived") == "1", _arg_id("page") or 1
    states = (ChannelState.ACTIVE, ChannelState.ARCHIVED) if archived else (ChannelState.ACTIVE,)
    order = case({"task": 0, "announce": 1, "unit": 2}, value=Channel.kind)
    query = register_reads.register_channels(scope, kinds=REGISTER_FILTERS[kind], states=states)
    found = list(db.session.scalars(query.order_by(order, Channel.state, Channel.id)
                                    .offset((page - 1) * REGISTER_PAGE).limit(REGISTER_PAGE + 1)))
    rows = register_reads.register_rows(found[:REGISTER_PAGE])
    pending = register_reads.pending_channels(scope)
    return render_template(
        "channels/register.html", rows=rows, pending=pending,
        counts={c.id: queries.member_count(c) for c in pending},
        merge_targets=[r.channel for r in rows if r.channel.kind == ChannelKind.TASK
                       and r.channel.state == ChannelState.ACTIVE],
        kind=kind, archived=archived, page=page, more=len(found) > REGISTER_PAGE,
        here=request.full_path.rstrip("?"))


def _register_page() -> str:
    """The register as the form's page showed it (its `next`), or the register."""
    home = url_for("channels.register_page")
    target = local_target(request.form.get("next"), home)
    return target if target.startswith(home) else home


@bp.post("/register/<int:channel_id>/archive")
@login_required
def register_archive(channel_id: int):
    """归档 a task channel from the register."""
    channel = register_reads.access_register_channel(current_user, channel_id)
    back = _register_page()
    with form_errors(flash_back, back):
        actions.archive_channel(current_user, channel)
    flash(_("已归档「%(name)s」", name=channel.name))
    return redirect(back)


@bp.post("/register/<int:channel_id>/merge")
@login_required
def register_merge(channel_id: int):
    """合并: the chosen task channel takes over this one's members; this one is archived."""
    source = register_reads.access_register_channel(current_user, channel_id)
    back = _register_page()
    with form_errors(flash_back, back):
        target_ids = _form_ids("target_id")
        if not target_ids:
            raise InvalidInput(_("请选择要并入的频道"), field="target_id")
        target = register_reads.access_register_channel(current_user, target_ids[0])
        actions.merge_task_channels(current_user, source, target)
    flash(_("已将「%(name)s」并入「%(target)s」", name=source.name, target=target.name))
    return redirect(back)


@bp.post("/register/<int:channel_id>/decision")
@login_required
def register_decide(channel_id: int):
    """审批 a pending task channel: approve (启用) or reject (不批准)."""
    channel = register_reads.access_register_channel(current_user, channel_id)
    approve = request.form.get("approve") == "1"
    back = _register_page()
    with form_errors(flash_back, back):
        actions.decide_task_channel(current_user, channel, approve=approve)
    flash(_("已批准「%(name)s」", name=channel.name) if approve
          else _("未批准「%(name)s」", name=channel.name))
    return redirect(back)
