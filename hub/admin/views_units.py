"""Admin unit pages: details, children, members, and the forms that change the tree.

Each POST parses the form, fetches with permission, calls one org action, flashes
and redirects. A refused change re-renders the page with the message next to the
form that caused it (status = the error's status; hub.errors.form_errors).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.admin.views import arg_id, bp, picked_unit, search_term, unit_choices, units_in_scope
from hub.errors import HubError, InvalidInput, form_errors
from hub.extensions import db
from hub.org import actions, queries
from hub.org.models import UNIT_KIND_LABELS, Unit
from hub.permissions import access_unit_for_admin, can_admin_unit
from hub.validation import clean_int


def _unit_page(unit: Unit, *, failed: str | None = None, error: HubError | None = None):
    """Render the unit page; `failed` names the form whose `error` is shown."""
    parent_term, target_term = search_term("parent_q"), search_term("target_q")
    kids = queries.children(unit.id, include_retired=True)
    return render_template(
        "admin/unit.html", unit=unit,
        ancestors=[(a, can_admin_unit(current_user, a)) for a in queries.ancestors(unit)],
        children=kids, child_counts=queries.child_counts([k.id for k in kids]),
        members=queries.unit_memberships(unit.id),
        merged_into=db.session.get(Unit, unit.merged_into_id) if unit.merged_into_id else None,
        kind_labels={kind: _(label) for kind, label in UNIT_KIND_LABELS.items()},
        parent_term=parent_term, target_term=target_term,
        parent_choices=unit_choices(units_in_scope(parent_term, exclude=unit)) if parent_term else [],
        target_choices=unit_choices(units_in_scope(target_term, exclude=unit)) if target_term else [],
        failed=failed, error=error, form=request.form if failed else {},
    ), error.status if error else 200


@bp.get("/units/<id:unit_id>")
@login_required
def unit(unit_id: int):
    """单位管理: details, breadcrumbs, children, members and the change forms."""
    return _unit_page(access_unit_for_admin(current_user, unit_id))


@bp.post("/units/<id:unit_id>")
@login_required
def unit_update(unit_id: int):
    """改名 / change the kind or sort order."""
    unit = access_unit_for_admin(current_user, unit_id)
    with form_errors(_unit_page, unit, failed="edit"):
        actions.update_unit(current_user, unit, name=request.form.get("name", ""),
                            kind=request.form.get("kind") or None,
                            sort_order=request.form.get("sort_order") or None)
    flash(_("单位信息已保存"))
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.post("/units/<id:unit_id>/children")
@login_required
def unit_create_child(unit_id: int):
    """新建下级单位 under this unit."""
    parent = access_unit_for_admin(current_user, unit_id)
    with form_errors(_unit_page, parent, failed="child"):
        child = actions.create_unit(current_user, code=request.form.get("code", ""),
                                    name=request.form.get("name", ""), parent=parent,
                                    kind=request.form.get("kind") or None,
                                    sort_order=clean_int(request.form.get("sort_order"),
                                                         "sort_order", _("排序"), required=False))
    flash(_("已新建下级单位：%(unit)s", unit=child.name))
    return redirect(url_for("admin.unit", unit_id=child.id))


@bp.post("/units/<id:unit_id>/move")
@login_required
def unit_move(unit_id: int):
    """移动单位 with its whole subtree under the chosen parent."""
    unit = access_unit_for_admin(current_user, unit_id)
    with form_errors(_unit_page, unit, failed="move"):
        actions.move_unit(current_user, unit, picked_unit("parent_id", _("新的上级单位")))
    unit = db.session.get(Unit, unit_id)
    flash(_("已移动到：%(unit)s", unit=unit.parent.name))
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.get("/units/<id:unit_id>/merge")
@login_required
def unit_merge_confirm(unit_id: int):
    """合并 — the confirmation step: what will move, what will end."""
    source = access_unit_for_admin(current_user, unit_id)
    target_id = arg_id("target_id")
    if target_id is None:
        flash(_("请先选择要合并到的单位"), "error")
        return redirect(url_for("admin.unit", unit_id=unit_id, _anchor="merge"))
    return _merge_page(source, access_unit_for_admin(current_user, target_id))


def _merge_page(source: Unit, target: Unit, *, error: HubError | None = None):
    return render_template(
        "admin/merge.html", source=source, target=target, error=error,
        target_trail=queries.ancestors(target), members=queries.unit_memberships(source.id),
        children=queries.children(source.id), grants=queries.grants_in_unit(source.id),
    ), error.status if error else 200


@bp.post("/units/<id:unit_id>/merge")
@login_required
def unit_merge(unit_id: int):
    """合并单位: people and sub-units move to the target; this unit is retired."""
    source = access_unit_for_admin(current_user, unit_id)
    target = picked_unit("target_id", _("目标单位"))
    name = source.name
    with form_errors(_merge_page, source, target):
        target = actions.merge_units(current_user, source, target)
    flash(_("已将“%(unit)s”合并到“%(target)s”", unit=name, target=target.name))
    return redirect(url_for("admin.unit", unit_id=target.id))


@bp.post("/units/<id:unit_id>/retire")
@login_required
def unit_retire(unit_id: int):
    """撤销单位 (refused while it still has members or active sub-units)."""
    unit = access_unit_for_admin(current_user, unit_id)
    with form_errors(_unit_page, unit, failed="retire"):
        if request.form.get("confirm") != "1":
            raise InvalidInput(_("请勾选确认后再撤销"), field="confirm")
        actions.retire_unit(current_user, unit)
    flash(_("已撤销单位：%(unit)s", unit=unit.name))
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.post("/units")
@login_required
def unit_create_root():
    """新建顶级单位 (system admins only; the action refuses everyone else).
    A refusal is flashed on the tree page by the HubError handler."""
    unit = actions.create_unit(current_user, code=request.form.get("code", ""),
                               name=request.form.get("name", ""), parent=None,
                               kind=request.form.get("kind") or None)
    flash(_("已新建顶级单位：%(unit)s", unit=unit.name))
    return redirect(url_for("admin.unit", unit_id=unit.id))
