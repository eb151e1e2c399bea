"""Shared by the disk-full tests (test_storage_full.py, test_postgres_full.py)."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from hub.extensions import db


def post_until_full(person, path: str, body: Callable[[int], str], limit: int):
    """Post messages until one is refused: (the ids accepted, the refused response).
    Fails when none is refused, or the refusal is not a 507 storage_full."""
    accepted = []
    for n in range(limit):
        response = person.post(path, json={"body": body(n), "client_msg_id": f"fill-{n}"})
        if response.status_code != 201:
            assert response.status_code == 507, response.get_data(as_text=True)[:300]
            assert response.get_json()["error"]["code"] == "storage_full"
            return accepted, response
        accepted.append(response.get_json()["id"])
    raise AssertionError(f"the storage never filled up in {limit} messages")


def stored_messages(app, channel: int) -> tuple[list[int], int]:
    """The channel's message ids in the database, and its last_message_id."""
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT id FROM messages WHERE channel_id = :c ORDER BY id"),
                                  {"c": channel}).scalars().all()
        last = db.session.execute(sa.text("SELECT last_message_id FROM channels WHERE id = :c"),
                                  {"c": channel}).scalar_one()
    return list(rows), last
