"""Pages for everyone: the start page and the org directory (通讯录)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.extensions import db
from hub.org import queries
from hub.org.models import UNIT_KIND_LABELS, Membership
from hub.permissions import access_unit

bp = Blueprint("org", __name__)


@bp.get("/me")
@login_required
def me():
    """我的: the person's units and posts, and what does not fit the phone's tab
    bar (填报, 管理, password and two-step verification, 意见箱, language, 退出)."""
    return render_template("org/me.html")


@bp.get("/directory")
@login_required
def directory():
    term = request.args.get("q", "")
    units = queries.search_units(term, limit=30) if term else []
    found = queries.search_people(term, limit=50) if term else []
    roots = queries.children(None) if not term else []
    ids = [u.id for u in roots]
    return render_template("org/directory.html", term=term, units=units, people=found, roots=roots,
                           child_counts=queries.child_counts(ids), member_counts=queries.member_counts(ids),
                           kind_labels={str(k): _(v) for k, v in UNIT_KIND_LABELS.items()})


@bp.get("/directory/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    unit = access_unit(current_user, unit_id)
    return render_template("org/unit.html", unit=unit, ancestors=queries.ancestors(unit),
                           children=queries.children(unit.id),
                           members=sorted(unit_members(unit), key=lambda m: m.user.name))


def unit_members(unit):
    return list(db.session.scalars(select(Membership).where(Membership.unit_id == unit.id)))
