"""Message search (消息搜索): substring search of message bodies across the
channels a person can read, newest first. See docs/CHANNELS.md "Search".

Chinese has no spaces between words, so this is substring search, not word
search. On SQLite, queries of three or more characters are answered by the
FTS5 trigram table `message_search` (migration 0004); shorter ones have no
trigram to look up (and SQLite 3.40's trigram table answers them with no rows
at all), so they scan the reader's channels newest first with LIKE, which
stops as soon as a page is full. On PostgreSQL every query is one ILIKE that
a pg_trgm GIN index on messages.body serves where that is cheapest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, column, literal_column, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.orm import selectinload

from hub.channels.models import Channel, Message
from hub.channels.queries import readable_channels
from hub.extensions import db
from hub.org.models import User
from hub.validation import clean_text

QUERY_MAX = 100
TRIGRAM = 3
# A query shorter than a trigram has no index to look it up in: it reads the
# reader's messages newest first until a page is full, which for a rare
# character is every message they can read. Such a query searches the newest
# SEARCH_SHORT_QUERY_SCAN messages (HUB_SEARCH_SHORT_QUERY_SCAN, default
# 20,000; below `before`) only; the answer then says so (`partial`) and `next`
# continues with the messages before those.

# SQLite's FTS5 table from migration 0004: rowid = messages.id, one row per
# message that is not withdrawn. Not in the models' metadata (SQLite only).
_message_search = table("message_search", column("rowid"), column("body"))


@dataclass
class MessageSearch:
    """One search: the text (from clean_query) and the optional filters."""

    text: str
    channel_id: int | None = None
    author_id: int | None = None
    since: datetime | None = None        # created_at >= since
    until: datetime | None = None        # created_at < until
    before: int | None = None            # message id: the next page
    limit: int = 50


def clean_query(value: Any) -> str:
    """The search text from the client: stripped, 1–100 characters, one line."""
    return clean_text(value, "q", _("搜索词"), max_length=QUERY_MAX)


@dataclass
class SearchResult:
    """What search_page found, and where a short query stopped looking: the
    oldest message id it read (None when it read everything it may)."""

    found: list[tuple[Message, str]]
    scanned_from: int | None = None


def search_messages(reader: User, search: MessageSearch) -> list[tuple[Message, str]]:
    """(message, channel name) for messages whose body contains `search.text`
    (Latin letters in any case), in channels `reader` can read, archived ones
    included; withdrawn messages never. Newest first, at most `search.limit`;
    a short query looks at the newest SEARCH_SHORT_QUERY_SCAN messages only."""
    return search_page(reader, search).found


def search_page(reader: User, search: MessageSearch) -> SearchResult:
    """search_messages, and how far back a short query looked."""
    channels = readable_channels(reader, include_archived=True).with_only_columns(
        Channel.id, Channel.name)
    if search.channel_id is not None:
        channels = channels.where(Channel.id == search.channel_id)
    names = {channel_id: name for channel_id, name in db.session.execute(channels)}
    if not names:
        return SearchResult([])
    # A literal list of ids and no join to channels: each planner then walks
    # the newest messages of those channels (or the text index) and stops at
    # the limit, instead of collecting every match and sorting.
    query = select(Message).where(Message.channel_id.in_(list(names)), Message.withdrawn_at.is_(None))
    floor = _short_query_floor(list(names), search) if len(search.text) < TRIGRAM else None
    if floor is not None:
        query = query.where(Message.id >= floor)
    query, newest_first = _containing(query, search.text)
    if search.author_id is not None:
        query = query.where(Message.author_id == search.author_id)
    if search.since is not None:
        query = query.where(Message.created_at >= search.since)
    if search.until is not None:
        query = query.where(Message.created_at < search.until)
    if search.before is not None:
        query = query.where(newest_first < search.before)
    # Authors by a second query, not the model's joined load: SQLite stops
    # walking a channel early only when the statement reads messages alone.
    query = (query.options(selectinload(Message.author), selectinload(Message.attachments))
             .order_by(newest_first.desc()).limit(search.limit))
    return SearchResult([(message, names[message.channel_id]) for message in db.session.scalars(query)],
                        floor)


def _short_query_floor(channel_ids: list[int], search: MessageSearch) -> int | None:
    """The id of the SEARCH_SHORT_QUERY_SCAN-th newest message the reader can read
    (below `before`): a short query reads no further back. None when there
    are fewer. Read from the (channel_id, id) index alone, not the bodies."""
    # The primary key walked newest first ("+channel_id" keeps SQLite off the
    # (channel_id, id) index, which would sort every id of the channels first).
    channel = (literal_column("+messages.channel_id") if db.engine.dialect.name == "sqlite"
               else Message.channel_id)
    window = select(Message.id).where(channel.in_(channel_ids), Message.withdrawn_at.is_(None))
    if search.before is not None:
        window = window.where(Message.id < search.before)
    scan = max(1, int(current_app.config.get("SEARCH_SHORT_QUERY_SCAN") or 20_000))
    return db.session.scalar(window.order_by(Message.id.desc()).offset(scan - 1).limit(1))


def _containing(query: Select, text: str) -> tuple[Select, ColumnElement[int]]:
    """`query` narrowed to bodies containing `text`, and the message id column
    to order and page by, for this database."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        # The FTS5 table drives: it yields its rowids newest first, so a
        # common term stops after a page and a rare one costs its few matches.
        # Ordering and paging by its rowid (not messages.id) is what lets it.
        query = (query.join(_message_search, _message_search.c.rowid == Message.id)
                 .where(_message_search.c.body.match(fts5_phrase(text))))
        return query, _message_search.c.rowid
    if dialect == "postgresql":
        # Plan this statement for its actual pattern. psycopg prepares a
        # statement run five times, and PostgreSQL's generic plan for
        # "body ILIKE $1" may then pick the trigram index even for a pattern
        # with no trigram in it (1–2 characters, or only punctuation), which
        # reads the whole index: 0.6 s at a million messages. Planned for the
        # pattern, it walks the newest messages, or the reader's channels, or
        # the trigram index, whichever the statistics say is cheapest.
        db.session.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))
        if text.lower() == text.upper():
            # Nothing to fold (Chinese, digits, signs): LIKE finds the same
            # rows as ILIKE and is 3–5 times faster on UTF-8 text.
            return query.where(Message.body.like(like_pattern(text), escape="\\")), Message.id
        return query.where(Message.body.ilike(like_pattern(text), escape="\\")), Message.id
    # Like the trigram table, SQLite's LIKE ignores case (of ASCII letters only).
    return query.where(Message.body.like(like_pattern(text), escape="\\")), Message.id


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string: every character literal (AND, NEAR(, *, ...)."""
    return '"' + text.replace('"', '""') + '"'


def like_pattern(text: str) -> str:
    """%text% with LIKE's own characters (% _ and the escape \\) escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
