"""Units (the org tree), people, their memberships and roles."""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Time,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import path_string, utcnow
from hub.extensions import db
from hub.i18n import N_


class UnitKind(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"
    DEPARTMENT = "department"
    OTHER = "other"


# The Chinese names are also what import files may write for a kind or a role
# (hub/org/imports_*.py), so they stay plain text here; pages show them through
# gettext (Unit.kind_label, RoleGrant.label, the admin pages).
UNIT_KIND_LABELS = {
    UnitKind.PROVINCE: N_("省"), UnitKind.CITY: N_("市"), UnitKind.COUNTY: N_("县（市、区）"),
    UnitKind.TOWN: N_("乡镇（街道）"), UnitKind.VILLAGE: N_("村（社区）"),
    UnitKind.DEPARTMENT: N_("部门"), UnitKind.OTHER: N_("其他"),
}


class Role(enum.StrEnum):
    ADMIN = "admin"                     # 系统管理员: the org tree and people
    SECURITY_ADMIN = "security_admin"   # 安全管理员: roles, policies, locks
    AUDITOR = "auditor"                 # 安全审计员: reads the audit log (the only one who can)
    UNIT_ADMIN = "unit_admin"
    CLERK = "clerk"
    LEADER = "leader"
    MEMBER = "member"


ROLE_LABELS = {
    Role.ADMIN: N_("系统管理员"), Role.SECURITY_ADMIN: N_("安全管理员"), Role.AUDITOR: N_("安全审计员"),
    Role.UNIT_ADMIN: N_("单位管理员"), Role.CLERK: N_("文书"),
    Role.LEADER: N_("领导"), Role.MEMBER: N_("成员"),
}

UNIT_NAME_MAX = 100
UNIT_CODE_MAX = 32


class Unit(db.Model):
    """单位 / 部门: one node of the org tree.

    `path` is the materialized path of ids from the root, e.g. "/1/12/305/", so a
    subtree is one index range scan and the ancestors are read off one row.
    """

    __tablename__ = "units"
    __table_args__ = (
        Index("ix_units_parent_id_sort_order", "parent_id", "sort_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(UNIT_CODE_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(UNIT_NAME_MAX), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=UnitKind.OTHER)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(path_string(), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    doc_prefix: Mapped[str | None] = mapped_column(String(20))   # 发文机关代字, e.g. 柯政办发
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent, read off the path."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    @property
    def path_ids(self) -> list[int]:
        """Ids from the root down to this unit itself."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def kind_label(self) -> str:
        return _(UNIT_KIND_LABELS.get(self.kind, self.kind))

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


class User(UserMixin, db.Model):
    """干部 / 人员: one login. Belongs to units through memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None]
    # Sign-in protection (等保): failures inside the window, and the lock.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    # Bumped when the password changes or the account is disabled, so every
    # older browser session stops being valid on its next request.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    # TOTP second factor (hub/auth/second_factor.py): the base32 secret, pending
    # until confirmed with a code (totp_enabled_at), and the last time step
    # accepted, so that a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The person's own language (hub/i18n.py); None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id")
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id")

    @property
    def is_active(self) -> bool:          # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Every browser session, API token and socket of the person ends (the
        caller commits): the session version moves on, so the user loader
        refuses older sessions, and hub.auth deletes the person's tokens and
        closes their sockets in the same flush (hub/auth/sockets.py)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def primary_membership(self) -> Membership | None:
        for membership in self.memberships:
            if membership.is_primary:
                return membership
        return self.memberships[0] if self.memberships else None

    @property
    def primary_unit(self) -> Unit | None:
        membership = self.primary_membership
        return membership.unit if membership else None

    @property
    def is_admin(self) -> bool:
        return any(grant.role == Role.ADMIN for grant in self.roles)

    @property
    def is_security_admin(self) -> bool:
        return any(grant.role == Role.SECURITY_ADMIN for grant in self.roles)

    @property
    def is_auditor(self) -> bool:
        return any(grant.role == Role.AUDITOR for grant in self.roles)

    def has_role(self, role: str, unit_id: int | None = None) -> bool:
        return any(g.role == role and (unit_id is None or g.unit_id == unit_id)
                   for g in self.roles)

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class Membership(db.Model):
    """A person's place in a unit, with the position (职务) held there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    position: Mapped[str] = mapped_column(String(64), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


class RoleGrant(db.Model):
    """A role held by a person: `admin`, `security_admin` and `auditor`
    everywhere (三员分立: three people, three duties), the others in one unit.

    A unit_admin grant covers the subtree of its unit; clerk and leader act
    for their unit only.
    """

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "unit_id"),
        CheckConstraint("role in ('admin','security_admin','auditor','unit_admin','clerk','leader','member')",
                        name="known_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return _(ROLE_LABELS.get(self.role, self.role))


# ---- Working hours and quiet time (hub/org/schedule.py reads them) --------------------------------

DEFAULT_DAYS = "12345"                  # ISO weekdays, Monday = 1
DEFAULT_START, DEFAULT_END = time(8, 30), time(17, 30)


class WorkingHours(db.Model):
    """A unit's own working hours; units without a row inherit from above."""

    __tablename__ = "working_hours"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[str] = mapped_column(String(7), default=DEFAULT_DAYS)
    start: Mapped[time] = mapped_column(Time, default=DEFAULT_START)
    end: Mapped[time] = mapped_column(Time, default=DEFAULT_END)


class Holiday(db.Model):
    """A day off (or, with is_workday, an adjusted working day) for everyone
    (unit_id NULL) or for one unit's subtree."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)


class PersonalQuiet(db.Model):
    """A person's own extra quiet window each day (may wrap midnight), and
    whether their whole weekend is quiet."""

    __tablename__ = "personal_quiet"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)
