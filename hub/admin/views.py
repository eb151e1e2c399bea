"""Admin pages: the blueprint, the tree with its search, and what every page shares.

The unit, person, import and audit pages live in views_units.py, views_people.py,
views_imports.py and views_audit.py, all on this one `admin` blueprint.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.errors import NotAllowed, naming
from hub.extensions import db
from hub.org import queries
from hub.org.models import UNIT_KIND_LABELS, Unit, User
from hub.permissions import (access_unit_for_admin, admin_scope, can_admin_person, can_manage_roles,
                             is_any_admin, roles_scope)
from hub.validation import as_id, clean_int

bp = Blueprint("admin", __name__)


SEARCH_LIMIT = 30
TERM_MAX = 100


def duties(user: User) -> dict[str, bool]:
    """Which admin pages `user` may use (三员分立): the org tree and people
    (system admin, unit admins), security (roles, locks: the security admin)
    and the audit log (the auditor)."""
    signed_in = user.is_authenticated
    return {"people": signed_in and is_any_admin(user),
            "security": signed_in and user.is_security_admin,
            "audit": signed_in and user.is_auditor}


@bp.app_context_processor
def admin_navigation() -> dict:
    """base.html shows 管理 to anyone with an admin duty; the admin pages'
    navigation shows each duty only its own pages."""
    def can_admin() -> bool:
        return any(duties(current_user).values())
    return {"can_admin": can_admin, "admin_duties": lambda: duties(current_user)}


def arg_id(name: str) -> int | None:
    """An id from the query string or form, or None when absent or not a usable id."""
    return as_id(request.values.get(name, ""))


def search_term(name: str = "q") -> str:
    """A search box's text, trimmed and bounded (a long paste must not reach SQL as-is)."""
    return request.args.get(name, "").strip()[:TERM_MAX]


def units_in_scope(term: str, *, exclude: Unit | None = None,
                   within: list[str] | None | bool = False) -> list[Unit]:
    """Active units matching `term` that the current admin administers (or
    inside `within`, None meaning everywhere), optionally without `exclude` and
    its subtree (used by the parent and target pickers)."""
    scope = admin_scope(current_user) if within is False else within
    found = queries.search_units(term, within=scope, limit=SEARCH_LIMIT)
    if exclude is not None:
        found = [u for u in found if not u.path.startswith(exclude.path)]
    return found


def picked_unit(field: str = "unit_id", label: str | None = None, *,
                access: Callable[[User, int], Unit] = access_unit_for_admin) -> Unit:
    """The unit chosen in a form's picker, through `access` (by default the
    units the admin manages): one out of reach is refused naming the field."""
    unit_id = clean_int(request.form.get(field), field, label or _("单位"))
    with naming(field):
        return access(current_user, unit_id)


def unit_choices(units: list[Unit]) -> list[dict]:
    """Units for a picker, each labelled with its ancestors so that two 新村 differ."""
    trail = queries.trails(units)
    return [{"id": u.id, "name": u.name, "code": u.code,
             "trail": " › ".join(a.name for a in trail[u.id])} for u in units]


@bp.get("/")
@login_required
def index():
    """The tree of the admin's subtrees, and the search over units and people.
    The security admin and the auditor, who manage neither, go to their own page."""
    if not is_any_admin(current_user):
        if current_user.is_security_admin:
            return redirect(url_for("admin.security"))
        if current_user.is_auditor:
            return redirect(url_for("admin.audit"))
        raise NotAllowed(_("需要管理员权限"))
    scope = admin_scope(current_user)
    roots = queries.children(None) if scope is None else queries.scope_roots(scope)
    ids = [u.id for u in roots]
    term = search_term()
    units = units_in_scope(term) if term else []
    found = queries.search_people(term, within=scope, limit=SEARCH_LIMIT) if term else []
    return render_template(
        "admin/index.html", roots=roots, child_counts=queries.child_counts(ids),
        member_counts=queries.member_counts(ids), term=term, units=unit_choices(units),
        people=found, kind_labels={str(k): _(v) for k, v in UNIT_KIND_LABELS.items()},
        manageable={p.id for p in found if can_admin_person(current_user, p)})


@bp.get("/units/choices")
@login_required
def unit_picker():
    """JSON for the unit pickers' live search: units in scope matching `q`,
    leaving out the subtree of `exclude` (a unit cannot move under itself).
    For the security admin: the units they grant roles in (everywhere)."""
    scope = picker_scope(current_user)
    exclude_id = arg_id("exclude")
    exclude = db.session.get(Unit, exclude_id) if exclude_id is not None else None
    term = search_term()
    return {"items": unit_choices(units_in_scope(term, exclude=exclude, within=scope)) if term else []}


def picker_scope(user: User) -> list[str] | None:
    """Where the unit pickers of the admin pages search: the admin's scope, or
    for someone who only grants roles, where they grant them (403: neither)."""
    if is_any_admin(user):
        return admin_scope(user)
    if can_manage_roles(user):
        return roles_scope(user)
    raise NotAllowed(_("需要管理员权限"))
