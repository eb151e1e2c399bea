"""Sender burden (发文负担): the load that sending units place on the grassroots
(DESIGN.md principle 4: analytics measure senders, not the grassroots).

Per sending unit, in tree order, per month (Asia/Shanghai): notices published,
people reached, urgent sends, after-hours sends, anonymous feedback by kind; and
the unit's task channels open now. Nothing here is about recipients' behaviour —
no read counts, no rates — and nothing is ever sorted by a count.

"People reached" is computed when the view is read: each notice's audience is
resolved through today's tree (hub.notices.audience.reach), so publishing stays
free of per-recipient writes. It is therefore the audience's size *now*, which
after a reorganisation may differ from the size on the day of sending. Notices
with the same audience are resolved once per read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from hub.channels.models import Channel, ChannelKind, ChannelState
from hub.db import utcnow
from hub.errors import InvalidInput
from hub.extensions import db
from hub.notices.audience import Audience, audience_of, reach
from hub.notices.models import FeedbackKind, Notice, NoticeFeedback
from hub.org.models import Membership, Unit, User
from hub.org.queries import in_any_subtree
from hub.times import TZ
from hub.permissions import admin_scope, require_any_admin

DEFAULT_MONTHS = 6
MAX_MONTHS = 24


@dataclass(frozen=True)
class BurdenSource:
    """What another domain's sending units ask of the grassroots (data requests),
    added to the view the way domains add socket rooms: this module imports no
    domain above it. `counts(scope, start, end)` gives {(unit_id, "YYYY-MM"):
    {column: count}} for the sending units in scope (None: everywhere), sent in
    [start, end); `columns` names each column for the page."""

    columns: dict[str, Any]
    counts: Callable[[list[str] | None, datetime, datetime], dict[tuple[int, str], dict[str, int]]]


BURDEN_SOURCES: list[BurdenSource] = []


def register_burden_source(source: BurdenSource) -> None:
    """Add a source once (create_app runs once per app, and tests make many)."""
    if not any(known is source for known in BURDEN_SOURCES):
        BURDEN_SOURCES.append(source)


@dataclass
class MonthLoad:
    month: str                              # "2026-11"
    notices: int = 0
    people_reached: int = 0
    urgent: int = 0
    after_hours: int = 0
    feedback: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in FeedbackKind})
    extra: dict[str, int] = field(default_factory=dict)     # the registered sources' columns


@dataclass
class UnitLoad:
    unit: Unit
    months: list[MonthLoad]
    task_channels_open: int = 0

    @property
    def busiest(self) -> int:
        """The unit's own busiest month: the scale of its bars, so a bar shows a
        unit's months against each other, never one unit against another."""
        return max((m.notices for m in self.months), default=0)


@dataclass
class BurdenReport:
    months: list[str]
    units: list[UnitLoad]
    extra_columns: dict[str, Any] = field(default_factory=dict)


def clean_months(value: Any) -> int:
    """?months=N, 1–24 (default 6)."""
    if value in (None, ""):
        return DEFAULT_MONTHS
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_MONTHS:
        raise InvalidInput(_("months 须为 1 到 %(max)s 之间的整数", max=MAX_MONTHS), field="months")
    return int(text)


def month_starts(months: int, now: datetime) -> list[datetime]:
    """Local midnight of the first day of each of the last `months` months
    (oldest first, this month last), plus the start of next month."""
    local = now.astimezone(TZ)
    index = local.year * 12 + local.month - 1
    return [datetime(i // 12, i % 12 + 1, 1, tzinfo=TZ) for i in range(index - months + 1, index + 2)]


def _audience_key(audience: Audience) -> tuple:
    return (tuple(sorted(audience.subtrees)), tuple(sorted(audience.units)),
            tuple(sorted(audience.users)), tuple(sorted(audience.positions)))


def burden_report(user: User, *, months: int = DEFAULT_MONTHS, now: datetime | None = None) -> BurdenReport:
    """发文负担 for admins: a system admin sees every sending unit, a unit admin
    those in their subtrees (403 for anyone else). Units that sent nothing in
    the period and have no task channel open are left out."""
    require_any_admin(user)
    scope = admin_scope(user)
    now = now or utcnow()
    starts = month_starts(months, now)
    labels = [f"{s.year}-{s.month:02d}" for s in starts[:-1]]
    sent = (select(Notice).join(Unit, Unit.id == Notice.unit_id)
            .where(Notice.publish_at >= starts[0], Notice.publish_at < starts[-1], Notice.publish_at <= now))
    if scope is not None:
        sent = sent.where(in_any_subtree(scope))
    notices = list(db.session.scalars(sent.options(selectinload(Notice.audience))))

    loads: dict[int, list[MonthLoad]] = {}
    where: dict[int, MonthLoad] = {}
    reached: dict[tuple, int] = {}
    for notice in notices:
        local = notice.publish_at.astimezone(TZ)
        month = loads.setdefault(notice.unit_id, [MonthLoad(label) for label in labels])[
            labels.index(f"{local.year}-{local.month:02d}")]
        audience = audience_of(notice.audience)
        key = _audience_key(audience)
        if key not in reached:
            reached[key] = reach(audience)[0]
        month.notices += 1
        month.people_reached += reached[key]
        month.urgent += notice.is_urgent
        month.after_hours += notice.after_hours
        where[notice.id] = month
    if notices:
        ids = sent.with_only_columns(Notice.id).subquery()
        for notice_id, kind, count in db.session.execute(
                select(NoticeFeedback.notice_id, NoticeFeedback.kind, func.count())
                .where(NoticeFeedback.notice_id.in_(select(ids.c.id)))
                .group_by(NoticeFeedback.notice_id, NoticeFeedback.kind)):
            feedback = where[notice_id].feedback
            feedback[kind] = feedback.get(kind, 0) + count

    columns: dict[str, Any] = {}
    for source in BURDEN_SOURCES:
        columns.update(source.columns)
        for (unit_id, label), counts in source.counts(scope, starts[0], min(starts[-1], now)).items():
            if label in labels:
                extra = loads.setdefault(unit_id, [MonthLoad(m) for m in labels])[labels.index(label)].extra
                for key, count in counts.items():
                    extra[key] = extra.get(key, 0) + count
    for months_of_unit in loads.values():
        for month in months_of_unit:
            month.extra = {key: month.extra.get(key, 0) for key in columns}

    channels = _task_channels_open(scope)
    unit_ids = set(loads) | set(channels)
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.path))) \
        if unit_ids else []
    return BurdenReport(months=labels, extra_columns=columns, units=[
        UnitLoad(unit=u, months=loads.get(u.id) or [MonthLoad(label, extra=dict.fromkeys(columns, 0))
                                                    for label in labels],
                 task_channels_open=channels.get(u.id, 0)) for u in units])


# ---- The monthly chart: server-side SVG, one per unit ---------------------------------------

BAR_WIDTH, BAR_GAP, MARGIN = 24, 14, 10
PLOT_TOP, PLOT_HEIGHT, LABELS_HEIGHT = 18, 100, 22


@dataclass
class MonthBar:
    """One month's bar of a unit's chart, in SVG user units: the notices sent
    (`height`) with the after-hours part of them at its foot (`after_height`)."""

    load: MonthLoad
    x: float
    y: float
    height: float
    after_y: float
    after_height: float
    width: float = BAR_WIDTH

    @property
    def middle(self) -> float:
        return self.x + BAR_WIDTH / 2


@dataclass
class MonthChart:
    bars: list[MonthBar]
    width: float
    height: float = PLOT_TOP + PLOT_HEIGHT + LABELS_HEIGHT
    baseline: float = PLOT_TOP + PLOT_HEIGHT


def month_chart(load: UnitLoad) -> MonthChart:
    """A unit's months as bars scaled to its own busiest month, so the chart
    compares a unit's months with each other and never one unit with another
    (every unit's chart has the same height whatever it sent)."""
    scale = PLOT_HEIGHT / load.busiest if load.busiest else 0
    bars = []
    for i, month in enumerate(load.months):
        height, after = round(month.notices * scale, 1), round(month.after_hours * scale, 1)
        bars.append(MonthBar(load=month, x=MARGIN + i * (BAR_WIDTH + BAR_GAP),
                             y=PLOT_TOP + PLOT_HEIGHT - height, height=height,
                             after_y=PLOT_TOP + PLOT_HEIGHT - after, after_height=after))
    width = 2 * MARGIN + len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    return MonthChart(bars=bars, width=width)


def _task_channels_open(scope: list[str] | None) -> dict[int, int]:
    """Active task channels per owner's primary unit."""
    query = (select(Membership.unit_id, func.count(Channel.id))
             .join(Membership, and_(Membership.user_id == Channel.owner_id, Membership.is_primary.is_(True)))
             .join(Unit, Unit.id == Membership.unit_id)
             .where(Channel.kind == ChannelKind.TASK, Channel.state == ChannelState.ACTIVE)
             .group_by(Membership.unit_id))
    if scope is not None:
        query = query.where(in_any_subtree(scope))
    return dict(db.session.execute(query).all())


def burden_json(report: BurdenReport) -> dict[str, Any]:
    """Counts per unit (tree order) and month; no rates, no ordering by size."""
    return {"months": report.months, "next": None, "items": [
        {"unit_id": load.unit.id, "name": load.unit.name, "code": load.unit.code,
         "depth": load.unit.depth, "task_channels_open": load.task_channels_open,
         "months": [{"month": m.month, "notices": m.notices, "people_reached": m.people_reached,
                     "urgent": m.urgent, "after_hours": m.after_hours, "feedback": dict(m.feedback),
                     **m.extra}
                    for m in load.months]}
        for load in report.units]}
