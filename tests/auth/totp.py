"""Second-factor helpers for the tests: enrol a cast member, make their codes."""
from __future__ import annotations

import time

import pyotp
from sqlalchemy import select

from hub.db import utcnow
from hub.extensions import db
from hub.org.models import User


def enrol(app, login: str) -> pyotp.TOTP:
    """Give `login` a confirmed second factor directly; returns their authenticator."""
    secret = pyotp.random_base32()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), None
        db.session.commit()
    return pyotp.TOTP(secret)


def code(authenticator: pyotp.TOTP, steps_ahead: int = 0) -> str:
    """The code of the current time step, or of one a step (30 s) later: a
    later step is still accepted (clock drift) and is newer than any used."""
    return authenticator.at(time.time() + 30 * steps_ahead)


def person(app, login: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        db.session.expunge(user)
        return user
