"""Counting commits: "one commit per action" checked, not assumed.

    with counted_commits() as commits:
        correct_notice(author, notice, draft)
    assert commits.count == 1

An `after_commit` listener on SQLAlchemy's Session counts every commit of any
session while the block runs (a commit that fails is not counted).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass
class Commits:
    count: int = 0


@contextmanager
def counted_commits() -> Iterator[Commits]:
    commits = Commits()

    def count(session: Session) -> None:
        commits.count += 1

    sa.event.listen(Session, "after_commit", count)
    try:
        yield commits
    finally:
        sa.event.remove(Session, "after_commit", count)
