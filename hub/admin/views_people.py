"""Admin person pages: new person, and one person's account, units, roles and password.

Thin like the unit pages: parse, fetch with permission, one action from
hub.org.people (the account: system admin, unit admins) or hub.org.roles (roles
and locks: the security admin, 三员分立), flash, redirect; a refusal re-renders
the page with the message next to the form that caused it (hub.errors.form_errors).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.admin.views import (arg_id, bp, picked_unit, picker_scope, search_term, unit_choices,
                             units_in_scope)
from hub.auth import second_factor
from hub.errors import HubError, InvalidInput, form_errors, not_found
from hub.extensions import db
from hub.org import people, roles
from hub.org.models import ROLE_LABELS, Membership, Role, RoleGrant, Unit, User
from hub.permissions import (DELEGATED_ROLES, GLOBAL_DUTIES, access_person_for_admin,
                             access_person_for_roles, access_person_page, access_unit_for_roles,
                             can_admin_person, can_admin_unit, can_grant, can_manage_roles,
                             in_roles_scope, require_any_admin)
from hub.validation import clean_bool


def _grantable_roles() -> dict[str, str]:
    """Roles offered in the grant form (三员分立): every role but the implicit
    `member` to the security admin; clerk and leader to a unit admin."""
    return {role.value: _(label) for role, label in ROLE_LABELS.items()
            if role != Role.MEMBER and (current_user.is_security_admin or role in DELEGATED_ROLES)}


def _person_page(person: User, *, failed: str | None = None, error: HubError | None = None):
    """Render the person page; `failed` names the form whose `error` is shown.
    It shows each duty its own forms: the account, units and password to whoever
    manages the person, the roles (and the lock) to whoever grants them."""
    manage = can_admin_person(current_user, person)
    grant = can_manage_roles(current_user) and in_roles_scope(current_user, person)
    term = search_term("unit_q")
    found = units_in_scope(term, within=picker_scope(current_user)) if term else []
    own_units = [m.unit for m in person.memberships if m.unit.active and (
        can_admin_unit(current_user, m.unit) or can_grant(current_user, Role.CLERK, m.unit))]
    return render_template(
        "admin/person.html", person=person, unit_term=term, found_units=unit_choices(found),
        role_units=unit_choices(own_units + [u for u in found if u not in own_units]),
        own_unit_ids=[u.id for u in own_units], manage=manage, grant=grant,
        locked=roles.is_locked(person),
        editable={m.id: manage and can_admin_unit(current_user, m.unit) for m in person.memberships},
        revocable={g.id: grant and person.id != current_user.id
                   and can_grant(current_user, g.role, g.unit) for g in person.roles},
        roles=_grantable_roles() if grant and person.id != current_user.id else {},
        failed=failed, error=error, form=request.form if failed else {},
    ), error.status if error else 200


def _membership(person: User, membership_id: int) -> Membership:
    membership = next((m for m in person.memberships if m.id == membership_id), None)
    if membership is None:
        raise not_found("membership")
    return membership


def _done(person_id: int, message: str):
    flash(message)
    return redirect(url_for("admin.person", person_id=person_id))


@bp.get("/people/new")
@login_required
def person_new():
    """新建人员: the form, with a unit picker limited to the admin's scope."""
    require_any_admin(current_user)
    return _new_person_page()


def _new_person_page(*, error: HubError | None = None):
    term = search_term("unit_q")
    units = units_in_scope(term) if term else []
    chosen_id = arg_id("unit_id")
    if chosen_id is not None:
        chosen = db.session.get(Unit, chosen_id)
        if chosen is not None and chosen.active and can_admin_unit(current_user, chosen):
            units = [chosen] + [u for u in units if u.id != chosen.id]
    return render_template("admin/person_new.html", units=unit_choices(units), unit_term=term,
                           chosen_id=chosen_id, error=error, form=request.form
                           ), error.status if error else 200


@bp.post("/people/new")
@login_required
def person_create():
    require_any_admin(current_user)
    form = request.form
    with form_errors(_new_person_page):
        person = people.create_person(current_user, login=form.get("login", ""),
                                      name=form.get("name", ""), unit=picked_unit(),
                                      position=form.get("position", ""),
                                      password=form.get("password") or None)
    return _done(person.id, _("已新建人员：%(name)s（%(login)s）", name=person.name, login=person.login))


@bp.get("/people/<id:person_id>")
@login_required
def person(person_id: int):
    """人员管理: account, units with positions, roles, password — each part to
    the duty it belongs to."""
    return _person_page(access_person_page(current_user, person_id))


@bp.post("/people/<id:person_id>")
@login_required
def person_update(person_id: int):
    """修改姓名."""
    person = access_person_for_admin(current_user, person_id)
    with form_errors(_person_page, person, failed="name"):
        people.update_person(current_user, person, name=request.form.get("name", ""))
    return _done(person_id, _("姓名已保存"))


@bp.post("/people/<id:person_id>/active")
@login_required
def person_active(person_id: int):
    """停用 / 启用 the account (停用 ends the person's sessions)."""
    person = access_person_for_admin(current_user, person_id)
    with form_errors(_person_page, person, failed="active"):
        active = clean_bool(request.form.get("active"), "active", _("启用状态"))
        people.update_person(current_user, person, active=active)
    return _done(person_id, _("账号已启用") if active else _("账号已停用，其登录会话已结束"))


@bp.post("/people/<id:person_id>/transfer")
@login_required
def person_transfer(person_id: int):
    """调动: the primary unit changes, with the new position."""
    person = access_person_for_admin(current_user, person_id)
    with form_errors(_person_page, person, failed="transfer"):
        unit = picked_unit()
        people.transfer_person(current_user, person, unit,
                               position=request.form.get("position", ""))
    return _done(person_id, _("已调动到：%(unit)s", unit=unit.name))


@bp.post("/people/<id:person_id>/memberships")
@login_required
def membership_add(person_id: int):
    """兼职: the person also belongs to another unit (or moves there as primary)."""
    person = access_person_for_admin(current_user, person_id)
    with form_errors(_person_page, person, failed="membership"):
        unit = picked_unit()
        people.add_membership(current_user, person, unit,
                              position=request.form.get("position", ""),
                              primary=clean_bool(request.form.get("primary"), "primary", _("主单位")))
    return _done(person_id, _("已加入：%(unit)s", unit=unit.name))


@bp.post("/people/<id:person_id>/memberships/<id:membership_id>")
@login_required
def membership_update(person_id: int, membership_id: int):
    """修改职务, or 设为主单位 (the form sends primary=1 and no position)."""
    person = access_person_for_admin(current_user, person_id)
    membership = _membership(person, membership_id)
    with form_errors(_person_page, person, failed=f"membership-{membership_id}"):
        primary = request.form.get("primary") == "1"
        people.update_membership(current_user, membership, position=request.form.get("position"),
                                 primary=primary or None)
    return _done(person_id, _("已设为主单位") if primary else _("职务已保存"))


@bp.post("/people/<id:person_id>/memberships/<id:membership_id>/remove")
@login_required
def membership_remove(person_id: int, membership_id: int):
    """离开单位 (not the last one: transfer instead)."""
    person = access_person_for_admin(current_user, person_id)
    membership = _membership(person, membership_id)
    name = membership.unit.name
    with form_errors(_person_page, person, failed=f"membership-{membership_id}"):
        people.remove_membership(current_user, membership)
    return _done(person_id, _("已离开：%(unit)s", unit=name))


@bp.post("/people/<id:person_id>/roles")
@login_required
def role_grant(person_id: int):
    """授予角色 (security admin; a unit admin: clerk and leader in their subtree).
    The unit is ignored for the three global duties."""
    person = access_person_for_roles(current_user, person_id)
    role = request.form.get("role", "")
    with form_errors(_person_page, person, failed="role"):
        unit = None
        if role not in GLOBAL_DUTIES and request.form.get("unit_id"):
            unit = picked_unit(access=access_unit_for_roles)
        roles.grant_role(current_user, person, role, unit)
    return _done(person_id, _("已授予角色：%(role)s", role=_(ROLE_LABELS.get(role, role))))


@bp.post("/people/<id:person_id>/roles/<id:grant_id>/revoke")
@login_required
def role_revoke(person_id: int, grant_id: int):
    """撤销角色."""
    person = access_person_for_roles(current_user, person_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != person.id:
        raise not_found("grant")
    label = grant.label
    with form_errors(_person_page, person, failed="roles"):
        roles.revoke_role(current_user, grant)
    return _done(person_id, _("已撤销角色：%(role)s", role=label))


@bp.post("/people/<id:person_id>/password")
@login_required
def password_reset(person_id: int):
    """重置密码: the person must change it at the next sign-in."""
    person = access_person_for_admin(current_user, person_id)
    with form_errors(_person_page, person, failed="password"):
        password = request.form.get("password", "")
        if password != request.form.get("confirm_password", ""):
            raise InvalidInput(_("两次输入的密码不一致"), field="confirm_password")
        people.reset_password(current_user, person, password)
    return _done(person_id, _("密码已重置，该人员下次登录时须修改密码"))


@bp.post("/people/<id:person_id>/unlock")
@login_required
def account_unlock(person_id: int):
    """解除锁定 (security admin): the account may sign in again at once."""
    person = access_person_for_roles(current_user, person_id)
    with form_errors(_person_page, person, failed="unlock"):
        was_locked = roles.unlock_account(current_user, person)
    flash(_("已解除锁定：%(name)s", name=person.name) if was_locked
          else _("%(name)s的账号未被锁定", name=person.name))
    if request.form.get("back") == "security":
        return redirect(url_for("admin.security"))
    return redirect(url_for("admin.person", person_id=person_id))


@bp.post("/people/<id:person_id>/second-factor/reset")
@login_required
def second_factor_reset(person_id: int):
    """重置两步验证 (security admin): for a lost or replaced phone."""
    person = second_factor.access_person_for_reset(current_user, person_id)
    second_factor.reset_second_factor(current_user, person)
    return _done(person_id, _("两步验证已重置，该人员的登录已结束，下次登录时重新设置"))
