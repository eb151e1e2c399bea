"""Admin pages: the blueprint, the tree with its search, and what every page shares.

The unit, person, import and audit pages live in views_units.py, views_people.py,
views_imports.py and views_audit.py, all on this one `admin` blueprint.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from hub.extensions import db
from hub.org import queries
from hub.org.models import UNIT_KIND_LABELS, Unit
from hub.permissions import admin_scope, is_any_admin, require_any_admin

bp = Blueprint("admin", __name__)


ID_MAX = 2**31 - 1
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
SEARCH_LIMIT = 30
TERM_MAX = 100


@bp.app_context_processor
def admin_navigation() -> dict:
    """base.html shows 管理 to anyone who administers something."""
    def can_admin() -> bool:
        return current_user.is_authenticated and is_any_admin(current_user)
    return {"can_admin": can_admin}


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time as Beijing time (Asia/Shanghai), which is what people read."""
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


def arg_id(name: str) -> int | None:
    """An id from the query string or form, or None when absent or not a usable id."""
    value = request.values.get(name, "").strip()
    if not value.isdigit() or not 0 < int(value) <= ID_MAX:
        return None
    return int(value)


def search_term(name: str = "q") -> str:
    """A search box's text, trimmed and bounded (a long paste must not reach SQL as-is)."""
    return request.args.get(name, "").strip()[:TERM_MAX]


def units_in_scope(term: str, *, exclude: Unit | None = None) -> list[Unit]:
    """Active units matching `term` that the current admin administers, optionally
    without `exclude` and its subtree (used by the parent and target pickers)."""
    found = queries.search_units(term, within=admin_scope(current_user), limit=SEARCH_LIMIT)
    if exclude is not None:
        found = [u for u in found if not u.path.startswith(exclude.path)]
    return found


def unit_choices(units: list[Unit]) -> list[dict]:
    """Units for a picker, each labelled with its ancestors so that two 新村 differ."""
    trail = queries.trails(units)
    return [{"id": u.id, "name": u.name, "code": u.code,
             "trail": " › ".join(a.name for a in trail[u.id])} for u in units]


@bp.get("/")
@login_required
def index():
    """The tree of the admin's subtrees, and the search over units and people."""
    require_any_admin(current_user)
    scope = admin_scope(current_user)
    roots = queries.children(None) if scope is None else queries.scope_roots(scope)
    ids = [u.id for u in roots]
    term = search_term()
    units = units_in_scope(term) if term else []
    found = queries.search_people(term, within=scope, limit=SEARCH_LIMIT) if term else []
    return render_template(
        "admin/index.html", roots=roots, child_counts=queries.child_counts(ids),
        member_counts=queries.member_counts(ids), term=term, units=unit_choices(units),
        people=found, kind_labels={str(k): v for k, v in UNIT_KIND_LABELS.items()})


@bp.get("/units/choices")
@login_required
def unit_picker():
    """JSON for the unit pickers' live search: units in scope matching `q`,
    leaving out the subtree of `exclude` (a unit cannot move under itself)."""
    require_any_admin(current_user)
    exclude_id = arg_id("exclude")
    exclude = db.session.get(Unit, exclude_id) if exclude_id is not None else None
    term = search_term()
    return {"items": unit_choices(units_in_scope(term, exclude=exclude)) if term else []}
