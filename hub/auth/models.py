"""Bearer tokens for the API and Socket.IO."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.extensions import db
from hub.org.models import User


class ApiToken(db.Model):
    """An API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class EndedSignIn(db.Model):
    """A browser sign-in that was signed out. The session is a signed cookie,
    so a copy of it would stay valid until its idle limit; every request and
    socket connect looks its sign_in_id up here. Rows older than the absolute
    session limit can never match a live cookie and are removed by the jobs."""

    __tablename__ = "ended_sign_ins"

    sign_in_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
