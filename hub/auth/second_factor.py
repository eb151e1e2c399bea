"""两步验证: a TOTP second factor (RFC 6238, pyotp), as authenticator apps use.

Required for people holding an admin role by default (HUB_TOTP_REQUIRED =
"admins"), for everyone ("everyone"), or for nobody ("off"); anyone may enrol.
An enrolled person gives a code after the password, in the browser and on
POST /api/v1/auth/token; wrong codes count toward the sign-in lockout, and a
code is accepted once only (the last accepted time step is stored).
"""
from __future__ import annotations

import hashlib
import hmac

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hub.audit import record_audit
from hub.auth.actions import (SignInRefused, count_sign_in_failure, end_sessions,
                              sign_in_locked)
from hub.auth.throttle import Device
from hub.db import utcnow
from hub.errors import Conflict, HubError, InvalidInput, NotAllowed, not_found
from hub.extensions import db
from hub.org.models import Role, RoleGrant, User

POLICIES = ("admins", "everyone", "off")
ADMIN_ROLES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.UNIT_ADMIN})
DIGITS = 6
# Codes of the time step before and after are accepted too: ±30 s of clock drift.
DRIFT_STEPS = 1


class SecondFactorRefused(HubError):
    """The password was right; the code is missing, wrong or already used."""

    status, code = 401, "invalid_second_factor"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("动态验证码错误或已使用；连续多次失败后账号将被临时锁定"), field="totp")


class SecondFactorMissing(SecondFactorRefused):
    code = "second_factor_required"

    def __init__(self) -> None:
        super().__init__(_("请输入手机验证器中的 6 位动态验证码"))


class SecondFactorNotEnrolled(SecondFactorRefused):
    code = "second_factor_setup_required"

    def __init__(self) -> None:
        super().__init__(_("该账号须先启用两步验证：请在网页登录，按提示完成设置"))


def policy() -> str:
    value = current_app.config.get("TOTP_REQUIRED", "admins")
    if value not in POLICIES:
        raise RuntimeError(f"HUB_TOTP_REQUIRED must be one of {', '.join(POLICIES)}, not {value!r}")
    return value


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def is_required(user: User) -> bool:
    """Must `user` have a second factor under the configured policy?"""
    rule = policy()
    if rule == "everyone":
        return True
    return rule == "admins" and any(grant.role in ADMIN_ROLES for grant in user.roles)


def second_step(user: User) -> str | None:
    """After a right password: "verify" (ask for the code), "enrol" (must set
    one up first) or None (signed in)."""
    if is_enrolled(user):
        return "verify"
    return "enrol" if is_required(user) else None


def attempt_mark(secret: str) -> str:
    """What the enrolling browser's session keeps to name its own pending
    secret (a digest: the session cookie is signed, not encrypted)."""
    return hashlib.sha256(f"hub-totp-attempt:{secret}".encode()).hexdigest()[:32]


def attempt_is_current(user: User, attempt: str | None) -> bool:
    """`attempt` (a session's mark) names the pending secret."""
    return bool(user.totp_secret) and attempt == attempt_mark(user.totp_secret)


def pending_secret(user: User, attempt: str | None) -> tuple[str, str]:
    """The secret being enrolled, and its attempt mark for the session.

    Every enrolment attempt gets a fresh secret and discards the pending one
    before it: a browser session whose mark (`attempt`) names the current
    pending secret keeps it (a reload shows the same one); any other — a new
    sign-in, another browser — starts over. So whoever saw a pending secret
    earlier (e.g. signing in with the initial password) cannot keep it for
    the real owner to confirm later."""
    if is_enrolled(user):
        raise Conflict(_("两步验证已启用"))
    if not attempt_is_current(user, attempt):
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        db.session.commit()
    return user.totp_secret, attempt_mark(user.totp_secret)


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(user.totp_secret, digits=DIGITS).provisioning_uri(
        name=user.login, issuer_name=current_app.config.get("TOTP_ISSUER") or "Hub")


def provisioning_qr(user: User) -> Markup:
    """The provisioning URI as a QR code, inline SVG (scanned from the screen by
    the authenticator app; no image file, nothing sent anywhere)."""
    code = segno.make(provisioning_uri(user), error="m")
    return Markup(code.svg_inline(scale=4, border=4, omitsize=True, dark="#1f2933", light="#fff",
                                  title=_("两步验证二维码"), svgclass="totp-qr"))


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    now = totp.timecode(utcnow())
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept(user: User, code: str) -> bool:
    """True if `code` is right and newer than any code accepted before. The
    conditional UPDATE makes this hold under concurrency too: of two requests
    with the same code, one changes the row and the other finds it changed
    (PostgreSQL re-checks the row after the first commits; SQLite serializes)."""
    step = _matching_step(user.totp_secret or "", code)
    if step is None:
        return False
    changed = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _refuse(user: User, device: Device | None) -> SecondFactorRefused:
    """A wrong code while signing in: counted like a wrong password."""
    count_sign_in_failure(user, device)
    record_audit(user, "auth.second_factor_failed", user)
    db.session.commit()
    return SecondFactorRefused()


def verify_sign_in_code(user: User, code: str | None, *, device: Device | None = None) -> None:
    """登录, second step: the code of an enrolled person. A locked or disabled
    account is refused like a wrong password; a wrong or reused code counts
    toward the lockout. On success the caller completes the sign-in (commit)."""
    if not user.active or sign_in_locked(user, device):
        raise SignInRefused()
    if not code or not code.strip():
        raise SecondFactorMissing()
    if not _accept(user, code):
        raise _refuse(user, device)


def require_for_token(user: User, code: str | None, *, device: Device | None = None) -> None:
    """POST /api/v1/auth/token after a right password: the code when the person
    has a second factor; a person who must have one and has none is refused
    until they enrol in the browser."""
    step = second_step(user)
    if step == "verify":
        verify_sign_in_code(user, code, device=device)
    elif step == "enrol":
        record_audit(user, "auth.login_failed", user, after={"reason": "second_factor_not_enrolled"})
        db.session.commit()
        raise SecondFactorNotEnrolled()


def enable_second_factor(user: User, code: str | None, *, signing_in: bool,
                         attempt: str | None, device: Device | None = None) -> None:
    """启用两步验证: the code from the newly enrolled app confirms the pending
    secret — only the one this attempt (its session's mark) was shown. While
    signing in (enrolment required), a wrong code counts toward the lockout
    like any sign-in failure."""
    if is_enrolled(user):
        raise Conflict(_("两步验证已启用"))
    if not attempt_is_current(user, attempt):
        raise Conflict(_("请重新打开两步验证设置页面"))
    if signing_in and (not user.active or sign_in_locked(user, device)):
        raise SignInRefused()
    if not code or not code.strip():
        raise InvalidInput(_("请输入验证器显示的 6 位动态验证码"), field="totp")
    if not _accept(user, code):
        if signing_in:
            raise _refuse(user, device)
        raise InvalidInput(_("动态验证码不正确：请核对手机时间后重试"), field="totp")
    user.totp_enabled_at = utcnow()
    record_audit(user, "auth.second_factor_enabled", user)
    db.session.commit()


def access_person_for_reset(actor: User, person_id: int) -> User:
    """Only a security admin (安全管理员) resets second factors, for anyone."""
    if not actor.is_security_admin:
        raise NotAllowed(_("只有安全管理员可以重置两步验证"))
    person = db.session.get(User, person_id)
    if person is None:
        raise not_found("person")
    return person


def reset_second_factor(actor: User, person: User) -> None:
    """重置两步验证 (a lost or replaced phone): the secret is removed and the
    person's sessions, tokens and sockets end; they enrol again at the next
    sign-in if it is required for them."""
    if not actor.is_security_admin:
        raise NotAllowed(_("只有安全管理员可以重置两步验证"))
    before = {"second_factor": is_enrolled(person)}
    person.totp_secret = None
    person.totp_enabled_at = None
    person.totp_last_step = None
    end_sessions(person)
    record_audit(actor, "auth.second_factor_reset", person, before=before,
                 after={"second_factor": False})
    db.session.commit()


@sa.event.listens_for(Session, "before_flush")
def _end_sessions_of_new_second_factor_holders(session: Session, flush_context, instances) -> None:
    """A role that requires a second factor (policy "admins": ADMIN_ROLES),
    granted to someone who has none confirmed, ends every session, token and
    socket they hold (as a password reset does): they sign in again, and the
    sign-in makes them enrol before anything else. The second factor is checked
    at sign-in only, so without this a session from before the grant would use
    the new role without one.

    One rule for every path that adds a grant — the admin page, the API, the
    people import's roles column, the console (hub.org.bootstrap) — because it
    watches the grants a flush inserts, not the views."""
    if not has_app_context() or policy() != "admins":
        return
    people = {}
    for obj in session.new:
        if isinstance(obj, RoleGrant) and obj.role in ADMIN_ROLES:
            person = obj.user
            if person is not None and person.id is not None and not is_enrolled(person):
                people[person.id] = person
    with session.no_autoflush:
        for person in people.values():
            end_sessions(person)
