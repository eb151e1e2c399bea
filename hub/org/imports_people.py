"""导入人员: people from CSV/XLSX (API.md "Org tree").

Columns login,name,unit_code,position[,password][,roles]. A new login becomes an
account with a primary membership in unit_code and role grants there; an
existing login is brought in line with its row: name, primary unit (a
transfer, as people.transfer_person: clerk and leader roles in the old unit
end), position, and — only when the file has a roles column — its roles at
that unit. Grants at other units stay; `admin` is added when listed but never
removed by an import.

Passwords are used only to create accounts: such accounts must change the
password at first sign-in. For an existing login the password cell is
ignored, so that re-importing the same file changes nothing; reset a
password on the person's page instead. Without a password the account exists
but cannot sign in until an admin sets one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hub.audit import record_audit
from hub.passwords import check_password_policy, hash_password
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput
from hub.extensions import db
from hub.org.imports_files import (ImportReport, Progress, Scope, Table,
                                   check_columns, read_table, shown)
from hub.org.models import ROLE_LABELS, UNIT_CODE_MAX, Membership, Role, RoleGrant, Unit, User
from hub.org.people import NAME_MAX, POSITION_MAX
from hub.permissions import CONSOLE_MANAGED, account_manageable, can_grant, duty_conflict
from hub.validation import clean_code, clean_login, clean_text

REQUIRED = ("login", "name", "unit_code", "position")
# Chinese headers, as admins write them (and the downloadable template has).
SYNONYMS = {"账号": "login", "登录账号": "login", "姓名": "name", "单位编码": "unit_code",
            "主单位编码": "unit_code", "职务": "position", "密码": "password", "初始密码": "password",
            "角色": "roles"}
TEMPLATE_HEADER = ("账号", "姓名", "单位编码", "职务", "初始密码", "角色")
UNIT_ROLES = frozenset({Role.UNIT_ADMIN.value, Role.CLERK.value, Role.LEADER.value})
ROLES = {role.value: role.value for role in Role} | {
    label: role.value for role, label in ROLE_LABELS.items()}
ROLE_SEPARATORS = (";", "；", "、")
CHUNK = 500          # ids / codes per IN (...) list
INSERT_BATCH = 5000

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class PersonRow:
    """One data row of the file, as validated."""

    row: int
    login: str
    name: str
    unit_code: str
    position: str
    password: str
    roles: frozenset[str] | None        # None: the file has no roles column
    ok: bool = True
    status: str = ""


@dataclass
class PersonState:
    """An existing person as read with Core: enough to compare and check scope."""

    id: int
    name: str
    memberships: list[Any] = field(default_factory=list)     # rows with unit_id, position, is_primary, path
    grants: list[Any] = field(default_factory=list)          # rows with role, unit_id

    @property
    def primary(self) -> Any | None:
        """The primary membership, chosen as User.primary_membership does."""
        for membership in self.memberships:
            if membership.is_primary:
                return membership
        return self.memberships[0] if self.memberships else None

    @property
    def is_admin(self) -> bool:
        return any(grant.role == Role.ADMIN for grant in self.grants)


def import_people(actor: User | None, filename: str, data: bytes, *, dry_run: bool = False,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """导入人员 from a CSV/XLSX file (see the module docstring for the columns).

    actor None = the console; otherwise a system admin, or a unit admin for
    units and people in their subtree (403 without any admin role). Roles in
    the file change only as the importer may grant them (三员分立: a unit admin
    clerk and leader in their subtree, the system admin none; the console any
    but security_admin and auditor, which are issued one by one). All or nothing;
    one "person.imported" audit entry; one commit.
    """
    scope = Scope(actor)
    report = ImportReport(dry_run=dry_run)
    table = read_table(filename, data, synonyms=SYNONYMS)
    if not check_columns(table, REQUIRED, report):
        return report
    rows = _parse_rows(table, report)
    units = _load_units({row.unit_code for row in rows if row.ok})
    people = _load_people({row.login for row in rows if row.ok})
    policy: dict[str, str | None] = {}
    for row in rows:
        if row.ok:
            _classify(row, units, people, scope, report, policy)
            if row.ok:
                setattr(report, row.status, getattr(report, row.status) + 1)
    report.errors.sort(key=lambda error: error.row)
    ticker = Progress(progress)
    if report.errors or dry_run:
        ticker.advance(len(table.rows))
        return report
    try:
        _apply(rows, units, people, ticker)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("导入期间人员数据被其他操作修改，请重新导入"), field="file") from None
    record_audit(actor, "person.imported", target_label=shown(filename or "(file)", 200),
                 actor_login=None if actor is not None else "(console)",
                 after={**report.counts(), "file": shown(filename, 200)})
    db.session.commit()
    report.applied = True
    return report


# --- validation --------------------------------------------------------------------------------

def _parse_rows(table: Table, report: ImportReport) -> list[PersonRow]:
    rows: list[PersonRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in table.records((*REQUIRED, "password", "roles")):
        row = _parse_row(number, cells, report)
        if row.login in first_row_of:
            report.error(number, "login", _("账号 %(login)s 与第 %(row)s 行重复",
                                            login=row.login, row=first_row_of[row.login]))
            continue
        if row.login:
            first_row_of[row.login] = number
        rows.append(row)
    return rows


def _parse_row(number: int, cells: dict[str, str | None], report: ImportReport) -> PersonRow:
    errors_before = len(report.errors)
    login = _checked(report, number, "login", lambda: clean_login(cells["login"]))
    name = _checked(report, number, "name",
                    lambda: clean_text(cells["name"], "name", _("姓名"), max_length=NAME_MAX))
    position = _checked(report, number, "position", lambda: clean_text(
        cells["position"], "position", _("职务"), max_length=POSITION_MAX, required=False))
    unit_code = _checked(report, number, "unit_code", lambda: clean_code(
        cells["unit_code"], "unit_code", _("单位编码"), max_length=UNIT_CODE_MAX))
    roles = _roles(number, cells["roles"], report)
    row = PersonRow(row=number, login=login, name=name, unit_code=unit_code, position=position,
                    password=cells["password"] or "", roles=roles)   # passwords kept exactly
    row.ok = len(report.errors) == errors_before
    return row


def _checked(report: ImportReport, number: int, column: str, clean: Callable[[], str]) -> str:
    try:
        return clean()
    except InvalidInput as problem:
        report.error(number, column, problem.message)
        return ""


def _roles(number: int, value: str | None, report: ImportReport) -> frozenset[str] | None:
    if value is None:
        return None
    for separator in ROLE_SEPARATORS[1:]:
        value = value.replace(separator, ROLE_SEPARATORS[0])
    roles = set()
    for text in (part.strip() for part in value.split(ROLE_SEPARATORS[0])):
        if not text:
            continue
        role = ROLES.get(text) or ROLES.get(text.lower())
        if role is None:
            allowed = ", ".join(r.value for r in Role if r not in CONSOLE_MANAGED)
            report.error(number, "roles", _("未知角色：%(role)s（可选：%(choices)s）",
                                            role=shown(text), choices=allowed))
        elif role in CONSOLE_MANAGED:
            report.error(number, "roles", _("%(role)s不能导入：三员分立，须用 hub create-admin 命令逐个设立",
                                            role=_(ROLE_LABELS[Role(role)])))
        else:
            roles.add(role)
    return frozenset(roles)


def _load_units(codes: set[str]) -> dict[str, Any]:
    table = Unit.__table__
    found: dict[str, Any] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), CHUNK):
        query = select(table.c.id, table.c.code, table.c.path, table.c.active).where(
            table.c.code.in_(ordered[start:start + CHUNK]))
        found.update((unit.code, unit) for unit in db.session.execute(query))
    return found


def _load_people(logins: set[str]) -> dict[str, PersonState]:
    """Existing people by login, with memberships (and their unit paths) and grants."""
    users, memberships, grants = User.__table__, Membership.__table__, RoleGrant.__table__
    people: dict[str, PersonState] = {}
    ordered = sorted(logins)
    for start in range(0, len(ordered), CHUNK):
        query = select(users.c.id, users.c.login, users.c.name).where(
            users.c.login.in_(ordered[start:start + CHUNK]))
        people.update((u.login, PersonState(id=u.id, name=u.name))
                      for u in db.session.execute(query))
    by_id = {person.id: person for person in people.values()}
    ids = sorted(by_id)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for m in db.session.execute(
                select(memberships.c.user_id, memberships.c.unit_id, memberships.c.position,
                       memberships.c.is_primary, Unit.__table__.c.path)
                .join(Unit.__table__, Unit.__table__.c.id == memberships.c.unit_id)
                .where(memberships.c.user_id.in_(chunk)).order_by(memberships.c.id)):
            by_id[m.user_id].memberships.append(m)
        for g in db.session.execute(select(grants.c.user_id, grants.c.role, grants.c.unit_id)
                                    .where(grants.c.user_id.in_(chunk))):
            by_id[g.user_id].grants.append(g)
    return people


def _classify(row: PersonRow, units: dict[str, Any], people: dict[str, PersonState],
              scope: Scope, report: ImportReport, policy: dict[str, str | None]) -> None:
    unit = units.get(row.unit_code)
    problems: list[tuple[str, str]] = []
    if unit is None:
        problems.append(("unit_code", _("单位编码 %(code)s 不存在", code=row.unit_code)))
    elif not unit.active:
        problems.append(("unit_code", _("单位 %(code)s 已撤销", code=row.unit_code)))
    person = people.get(row.login)
    if problems:
        pass
    elif person is None:
        row.status = CREATED
        problem = _password_problem(row.password, policy)
        if problem:
            problems.append(("password", problem))
    else:
        row.status = UPDATED if _differs(row, person, unit.id) else UNCHANGED
    if not problems and row.status != UNCHANGED:
        problems += _scope_problems(row, unit, person, scope)
    for column, message in problems:
        report.error(row.row, column, message)
    row.ok = not problems


def _password_problem(password: str, policy: dict[str, str | None]) -> str | None:
    if not password:
        return None
    if password not in policy:
        try:
            check_password_policy(password)
            policy[password] = None
        except InvalidInput as problem:
            policy[password] = _("初始%(problem)s", problem=problem.message)
    return policy[password]


def _differs(row: PersonRow, person: PersonState, unit_id: int) -> bool:
    primary = person.primary
    if row.name != person.name or primary is None or not primary.is_primary:
        return True
    if primary.unit_id != unit_id or primary.position != row.position:
        return True
    if row.roles is None:
        return False
    held = {g.role for g in person.grants if g.unit_id == unit_id and g.role in UNIT_ROLES}
    return held != row.roles & UNIT_ROLES or (Role.ADMIN in row.roles and not person.is_admin)


def _scope_problems(row: PersonRow, unit: Any, person: PersonState | None,
                    scope: Scope) -> list[tuple[str, str]]:
    """A unit admin places people in units of their subtree and changes only
    people all of whose units lie there (hub.permissions.holds_whole_person);
    nobody changes an account they may not manage;
    roles change only as the importer may grant them."""
    problems = _role_problems(row, unit, person, scope.actor)
    held = {g.role for g in person.grants} if person is not None else set()
    if person is not None and scope.actor is not None and not account_manageable(scope.actor, held):
        problems.append(("login", _("人员 %(login)s 不在您的管理范围内", login=row.login)))
    if scope.is_global:
        return problems
    if not scope.covers(unit):
        problems.append(("unit_code", _("单位 %(code)s 不在您的管理范围内", code=row.unit_code)))
    if person is not None and not (person.memberships
                                   and all(scope.covers(m) for m in person.memberships)):
        problems.append(("login", _("人员 %(login)s 不在您的管理范围内", login=row.login)))
    return problems


def _role_problems(row: PersonRow, unit: Any, person: PersonState | None,
                   actor: User | None) -> list[tuple[str, str]]:
    """The roles a row grants or revokes at its unit, checked as hub.org.roles
    checks a grant (三员分立): the security admin grants every role, a unit
    admin clerk and leader in their subtree, the system admin none; the console
    (actor None) any. `admin` is only ever added by an import."""
    if row.roles is None:
        return []
    grants = person.grants if person is not None else []
    held = {g.role for g in grants}
    here = {g.role for g in grants if g.unit_id == unit.id and g.role in UNIT_ROLES}
    changed = ((row.roles & UNIT_ROLES) ^ here) | ((row.roles & {Role.ADMIN.value}) - held)
    problems = []
    refused = sorted(role for role in changed
                     if actor is not None and not can_grant(actor, role, unit))
    if refused:
        names = "、".join(_(ROLE_LABELS[Role(role)]) for role in refused)
        problems.append(("roles", _("您不能授予或撤销%(roles)s角色（三员分立：角色由安全管理员授予，"
                                    "单位管理员可授予本单位及下级单位的文书、领导）", roles=names)))
    for role in sorted(changed - held):
        conflict = duty_conflict(role, held | (row.roles - {role}))
        if conflict:
            problems.append(("roles", conflict))
            break
    return problems


# --- writing -----------------------------------------------------------------------------------

def _apply(rows: list[PersonRow], units: dict[str, Any], people: dict[str, PersonState],
           ticker: Progress) -> None:
    ticker.advance(sum(1 for row in rows if row.status == UNCHANGED))
    new_rows = [row for row in rows if row.status == CREATED]
    hashes = _initial_hashes(new_rows)
    for start in range(0, len(new_rows), INSERT_BATCH):
        batch = new_rows[start:start + INSERT_BATCH]
        _create_people(batch, units, hashes)
        ticker.advance(len(batch))
    changed = [row for row in rows if row.status == UPDATED]
    for start in range(0, len(changed), CHUNK):
        batch = changed[start:start + CHUNK]
        _update_people(batch, units, people)
        ticker.advance(len(batch))


def _initial_hashes(rows: list[PersonRow]) -> dict[str, str]:
    """One argon2 hash per distinct initial password in the file.

    argon2 costs 50-130 ms per hash: 10,000 people with one initial password
    would take 8-20 minutes hashed one by one. Accounts sharing an initial
    password share its hash (and salt), which tells nothing the file's author
    did not know, and each of them must choose a new password (a fresh hash)
    at first sign-in.
    """
    return {password: hash_password(password)
            for password in sorted({row.password for row in rows if row.password})}


def _create_people(rows: list[PersonRow], units: dict[str, Any], hashes: dict[str, str]) -> None:
    """Accounts, primary memberships and role grants of new people, in three executemanys."""
    now = utcnow()
    users = User.__table__
    values = [{"login": row.login, "name": row.name, "password_hash": hashes.get(row.password),
               "active": True, "must_change_password": bool(row.password), "failed_logins": 0,
               "session_version": 0, "created_at": now} for row in rows]
    ids = dict((login, user_id) for user_id, login in db.session.execute(
        insert(users).returning(users.c.id, users.c.login), values))
    db.session.execute(insert(Membership.__table__), [
        {"user_id": ids[row.login], "unit_id": units[row.unit_code].id,
         "position": row.position, "is_primary": True} for row in rows])
    grants = [{"user_id": ids[row.login], "role": role,
               "unit_id": None if role == Role.ADMIN else units[row.unit_code].id}
              for row in rows for role in sorted(row.roles or ()) if role != Role.MEMBER]
    if grants:
        db.session.execute(insert(RoleGrant.__table__), grants)


def _update_people(rows: list[PersonRow], units: dict[str, Any],
                   people: dict[str, PersonState]) -> None:
    ids = [people[row.login].id for row in rows]
    loaded = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_(ids))
        .options(selectinload(User.memberships), selectinload(User.roles)))}
    for row in rows:
        person = loaded[people[row.login].id]
        unit_id = units[row.unit_code].id
        person.name = row.name
        _place_primary(person, unit_id, row.position)
        if row.roles is not None:
            _set_roles(person, unit_id, row.roles)
    db.session.flush()


def _place_primary(person: User, unit_id: int, position: str) -> None:
    """调动 as people.transfer_person does: the primary membership moves to the
    unit; clerk and leader roles held in the old unit end with it."""
    current = person.primary_membership
    if current is None:
        person.memberships.append(Membership(unit_id=unit_id, position=position, is_primary=True))
        return
    if current.unit_id != unit_id:
        for grant in list(person.roles):
            if grant.unit_id == current.unit_id and grant.role in (Role.CLERK, Role.LEADER):
                person.roles.remove(grant)
        existing = next((m for m in person.memberships if m.unit_id == unit_id), None)
        if existing is not None:
            person.memberships.remove(current)
            current = existing
        else:
            current.unit_id = unit_id
    for membership in person.memberships:
        membership.is_primary = membership is current
    current.position = position


def _set_roles(person: User, unit_id: int, roles: frozenset[str]) -> None:
    """The file's roles become the person's unit roles at `unit_id`; grants
    elsewhere stay. `admin` is added when listed, never removed by an import
    (a missing cell must not lock the administrators out)."""
    wanted = roles & UNIT_ROLES
    for grant in list(person.roles):
        if grant.unit_id == unit_id and grant.role in UNIT_ROLES and grant.role not in wanted:
            person.roles.remove(grant)
    held = {grant.role for grant in person.roles if grant.unit_id == unit_id}
    for role in sorted(wanted - held):
        person.roles.append(RoleGrant(role=role, unit_id=unit_id))
    if Role.ADMIN in roles and not person.is_admin:
        person.roles.append(RoleGrant(role=Role.ADMIN.value, unit_id=None))
