"""Creating the first system administrator, outside any actor's permission."""
from __future__ import annotations

from sqlalchemy import select

from hub.audit import record_audit
from hub.auth.actions import apply_new_password
from hub.auth.passwords import check_password_policy
from hub.extensions import db
from hub.org.models import Role, RoleGrant, User
from hub.validation import clean_login, clean_text


def create_admin(login: str, password: str, *, name: str = "系统管理员") -> tuple[User, bool]:
    """Create a system administrator, or reset the password of an existing one
    and make sure they hold the admin role. Audited with no actor (the console)."""
    login = clean_login(login)
    name = clean_text(name, "name", "姓名", max_length=64)
    check_password_policy(password)
    user = db.session.scalar(select(User).where(User.login == login))
    created = user is None
    if created:
        user = User(login=login, name=name)
        db.session.add(user)
    user.active = True
    apply_new_password(user, password, must_change=False)
    if not user.is_admin:
        user.roles.append(RoleGrant(role=Role.ADMIN))
    db.session.flush()
    record_audit(None, "person.created" if created else "auth.password_reset", user,
                 actor_login="(console)", after={"role": "admin"})
    db.session.commit()
    return user, created
