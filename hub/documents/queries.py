"""Reads over documents: who may open one, a person's documents to handle (for
the inbox), the sender's status board, and search."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (String, and_, case, cast, exists, func, literal, or_, select, type_coerce, union,
                        union_all)
from sqlalchemy.orm import aliased, selectinload

from hub.db import UTCDateTime, utcnow
from hub.documents.models import (Document, DocumentFile, DocumentIssuer, DocumentRecipient, DocumentNewsRead,
                                  DocumentStatus, DocumentTask, RecipientStatus, TaskKind)
from hub.errors import InvalidInput, NotFound, not_found
from hub.extensions import db
from hub.org.models import Role, Unit, User
from hub.times import TZ, beijing
from hub.validation import is_id

R = RecipientStatus
# Where a recipient unit's clerk has something to do, and its leader.
CLERK_PENDING = (R.PENDING, R.SIGNED_FOR, R.REGISTERED)
LEADER_SEES = (R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING, R.DONE, R.ARCHIVED)
OPEN = (R.PENDING, R.SIGNED_FOR, R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING)


def _role_units(user: User, role: str) -> list[int]:
    return [g.unit_id for g in user.roles if g.role == role and g.unit_id is not None]


def _my_task(user: User):
    return exists().where(DocumentTask.recipient_id == DocumentRecipient.id, DocumentTask.user_id == user.id)


def _receiving(user: User):
    """Recipient rows the person is in the path of: their unit's clerks see every
    document dispatched to it; its leaders from registration on; others the
    documents handed to them."""
    clerk_units, leader_units = _role_units(user, Role.CLERK), _role_units(user, Role.LEADER)
    return or_(DocumentRecipient.unit_id.in_(clerk_units),
               and_(DocumentRecipient.unit_id.in_(leader_units), DocumentRecipient.status.in_(LEADER_SEES)),
               _my_task(user))


def _issuing(user: User):
    """Documents the person is on the issuing side of: the author; clerks and
    leaders of every issuing unit (the issuing office)."""
    units = _role_units(user, Role.CLERK) + _role_units(user, Role.LEADER)
    return or_(Document.author_id == user.id,
               Document.id.in_(select(DocumentIssuer.document_id).where(DocumentIssuer.unit_id.in_(units))))


def access_document(user: User, document_id: int) -> Document:
    """A document the person may open: in its path, or its issuing office. 404 otherwise."""
    if not is_id(document_id):               # beyond the column's range: SQLite would overflow
        raise not_found("document")
    document = db.session.get(Document, document_id)
    if document is None:
        raise not_found("document")
    if db.session.scalar(select(Document.id).where(Document.id == document_id, _issuing(user))):
        return document
    if document.status == DocumentStatus.DISPATCHED and db.session.scalar(
            select(DocumentRecipient.id).where(DocumentRecipient.document_id == document_id, _receiving(user))
            .limit(1)):
        return document
    raise not_found("document")


def is_in_path(user: User, document: Document) -> bool:
    try:
        access_document(user, document.id)
    except NotFound:
        return False
    return True


# ---- The inbox ---------------------------------------------------------------------------

@dataclass
class InboxDocument:
    document: Document
    at: datetime
    waiting: bool              # something for this person to do (shown as unread)
    unit_id: int | None        # the recipient unit it concerns, or None on the issuing side
    status: str
    replied: int = 0           # the sender hears back: units that replied since the person last looked
    completed: int = 0         # … and units that finished (办结)


# ---- The sender hears back: 答复 and 办结 since the issuing office's person last looked ----------

EPOCH = datetime(1970, 1, 1, tzinfo=TZ)


def _last_read(user: User):
    mine = DocumentNewsRead
    read = select(mine.read_at).where(mine.document_id == DocumentRecipient.document_id,
                                      mine.user_id == user.id)
    return func.coalesce(read.correlate(DocumentRecipient).scalar_subquery(),
                         literal(EPOCH, UTCDateTime(timezone=True)))


def _hears_back(user: User):
    """Documents the person hears back on: they drafted it, or they are a clerk of an issuer."""
    clerk_units = _role_units(user, Role.CLERK)
    return or_(Document.author_id == user.id,
               Document.id.in_(select(DocumentIssuer.document_id).where(DocumentIssuer.unit_id.in_(clerk_units))))


def _news(user: User):
    """Per dispatched document the person hears back on, with a 答复 or 办结 of a
    recipient unit since they last opened it: when the latest was, and how many
    units replied and finished since."""
    r, last = DocumentRecipient, _last_read(user)
    replied, done = r.replied_at > last, r.done_at > last
    latest = case((and_(replied, or_(r.done_at.is_(None), r.replied_at > r.done_at)), r.replied_at),
                  else_=r.done_at)
    at = type_coerce(func.max(latest), UTCDateTime(timezone=True)).label("at")
    query = (select(r.document_id, at, func.sum(case((replied, 1), else_=0)).label("replied"),
                    func.sum(case((done, 1), else_=0)).label("completed"))
             .join(Document, Document.id == r.document_id)
             .where(Document.status == DocumentStatus.DISPATCHED, _hears_back(user), or_(replied, done))
             .group_by(r.document_id))
    return query, at


def has_news(user: User, document: Document) -> bool:
    """Whether the document has a 答复 or 办结 the person has not seen (opening it clears that)."""
    query, _at = _news(user)
    return db.session.execute(query.where(DocumentRecipient.document_id == document.id)).first() is not None


def may_have_documents(user: User):
    """Whether the inbox can have any document for the person: True when they are
    a clerk or leader somewhere, else a condition (has a task of any document) to
    evaluate with the inbox's other sources in one statement. Someone with
    neither has nothing dispatched to them and nothing to sign on the issuing
    side, so both document statements are skipped."""
    if _role_units(user, Role.CLERK) or _role_units(user, Role.LEADER):
        return True
    return exists().where(DocumentTask.user_id == user.id)


def _path_rows(user: User):
    """The dispatched recipient rows the person is in the path of (those
    _receiving accepts), as a subquery (id, document_id, received_at): a union
    of index lookups, by unit for clerks and leaders and by person for tasks.
    Lists start from these rather than test _receiving's OR on every recipient
    row of every document; and the rows' own columns serve to order a page
    (received_at is the document's dispatched_at, set on every row by dispatch
    and only then), so that no other table is read for the rows left out."""
    clerk_units, leader_units = _role_units(user, Role.CLERK), _role_units(user, Role.LEADER)
    r = DocumentRecipient
    columns, dispatched = (r.id, r.document_id, r.received_at), r.received_at.is_not(None)
    tasks = select(DocumentTask.recipient_id).where(DocumentTask.user_id == user.id)
    if db.session.get_bind().dialect.name == "postgresql":
        # = ANY(ARRAY(...)): index lookups by id. For a plain IN the planner
        # estimates a person's few thousand tasks as costlier than scanning
        # every recipient row, and does that (4 times slower for a leader).
        mine = r.id == func.any(func.array(tasks.scalar_subquery()))
    else:
        mine = r.id.in_(tasks)
    parts = [select(*columns).where(mine, dispatched)]
    if clerk_units:
        parts.append(select(*columns).where(r.unit_id.in_(clerk_units), dispatched))
    if leader_units:
        parts.append(select(*columns).where(r.unit_id.in_(leader_units), r.status.in_(LEADER_SEES),
                                            dispatched))
    # UNION, not UNION ALL: a row reached twice (a leader it is circulated to)
    # is listed once.
    return (union(*parts) if len(parts) > 1 else parts[0]).subquery("path_rows")


def _waiting_rows(user: User):
    """Ids of the recipient rows waiting for the person, as a union of index
    lookups like _path_rows: at their unit, for its clerks until registered, for
    its leaders while proposed; and wherever they have an open task they can act
    on now (in-order circulation: nobody before them still reading). Every such
    row is in the person's path."""
    clerk_units, leader_units = _role_units(user, Role.CLERK), _role_units(user, Role.LEADER)
    earlier = aliased(DocumentTask)
    parts = [select(DocumentTask.recipient_id).where(
        DocumentTask.user_id == user.id, DocumentTask.done_at.is_(None),
        ~exists().where(earlier.recipient_id == DocumentTask.recipient_id, earlier.kind == TaskKind.READ,
                        earlier.turn < DocumentTask.turn, earlier.done_at.is_(None)))]
    if clerk_units:
        parts.append(select(DocumentRecipient.id).where(DocumentRecipient.unit_id.in_(clerk_units),
                                                        DocumentRecipient.status.in_(CLERK_PENDING)))
    if leader_units:
        parts.append(select(DocumentRecipient.id).where(DocumentRecipient.unit_id.in_(leader_units),
                                                        DocumentRecipient.status == R.PROPOSED))
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _issuing_waiting(user: User):
    clerk_units, leader_units = _role_units(user, Role.CLERK), _role_units(user, Role.LEADER)
    unsigned = select(DocumentIssuer.document_id).where(DocumentIssuer.unit_id.in_(leader_units),
                                                        DocumentIssuer.signer_id.is_(None))
    return or_(and_(Document.issuer_id.in_(clerk_units),
                    Document.status.in_((DocumentStatus.DRAFT, DocumentStatus.SIGNED,
                                         DocumentStatus.NUMBERED))),
               and_(Document.status == DocumentStatus.REVIEWED, Document.id.in_(unsigned)))


def inbox_documents(user: User, *, limit: int, before: tuple[datetime, int] | None = None,
                    read: bool | None = None, term: str | None = None) -> list[InboxDocument]:
    """The person's documents, newest first: dispatched ones they are in the path
    of (at = dispatched), and ones waiting on the issuing side (at = created).
    `read=False` only those waiting for them, `read=True` only the others."""
    items: list[InboxDocument] = []
    # A page of the person's own recipient rows (see _path_rows); documents are
    # joined only to match a search term, and the page's are loaded afterwards.
    R_, rows = DocumentRecipient, _path_rows(user)
    receiving_waiting = rows.c.id.in_(_waiting_rows(user))
    received = select(rows.c.id, rows.c.document_id, receiving_waiting.label("waiting"))
    issuing_waiting = _issuing_waiting(user)
    issuing = (select(Document, issuing_waiting.label("waiting"))
               .where(Document.status != DocumentStatus.DISPATCHED, issuing_waiting))
    if read is not None:
        received = received.where(~receiving_waiting if read else receiving_waiting)
        if read:
            issuing = None                  # on the issuing side only what waits is listed
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = or_(Document.title.like(pattern, escape="\\"),
                      Document.number_prefix.like(pattern, escape="\\"))
        received = received.join(Document, Document.id == rows.c.document_id).where(matches)
        issuing = issuing.where(matches) if issuing is not None else None
    if before is not None:
        at, item_id = before
        received = received.where(or_(rows.c.received_at < at,
                                      and_(rows.c.received_at == at, rows.c.document_id < item_id)))
        if issuing is not None:
            issuing = issuing.where(or_(Document.created_at < at,
                                        and_(Document.created_at == at, Document.id < item_id)))
    seen: dict[int, tuple[int, bool]] = {}              # document id -> (its first row's id, waiting)
    for recipient_id, document_id, waiting in db.session.execute(
            received.order_by(rows.c.received_at.desc(), rows.c.document_id.desc(), rows.c.id)
            .limit(limit * 2)):
        if document_id not in seen and len(seen) < limit:
            seen[document_id] = (recipient_id, bool(waiting))
    if seen:
        loaded = {recipient.id: (document, recipient) for document, recipient in db.session.execute(
            select(Document, R_).join(R_, R_.document_id == Document.id)
            .where(R_.id.in_([row for row, _ in seen.values()])))}
        for recipient_id, waiting in seen.values():
            document, recipient = loaded[recipient_id]
            items.append(InboxDocument(document, document.dispatched_at, waiting, recipient.unit_id,
                                       recipient.status))
    if issuing is not None:
        for document, waiting in db.session.execute(
                issuing.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit)):
            if document.id not in seen:
                seen[document.id] = (0, bool(waiting))
                items.append(InboxDocument(document, document.created_at, bool(waiting), None,
                                           document.status))
    if read is not True:
        for item in _news_items(user, limit, before, matches if term else None):
            if item.document.id not in seen:
                seen[item.document.id] = (0, True)
                items.append(item)
    items.sort(key=lambda i: (i.at, i.document.id), reverse=True)
    return items[:limit]


def _news_items(user: User, limit: int, before: tuple[datetime, int] | None, matches) -> list[InboxDocument]:
    """The sender hears back: a page of the dispatched documents with news for the person (see _news)."""
    news, news_at = _news(user)
    if matches is not None:
        news = news.where(matches)
    if before is not None:
        at, item_id = before
        news = news.having(or_(news_at < at, and_(news_at == at, DocumentRecipient.document_id < item_id)))
    rows = db.session.execute(news.order_by(news_at.desc(), DocumentRecipient.document_id.desc())
                              .limit(limit)).all()
    if not rows:
        return []
    loaded = {d.id: d for d in db.session.scalars(select(Document).where(
        Document.id.in_([row.document_id for row in rows])))}
    return [InboxDocument(loaded[row.document_id], row.at, True, None, DocumentStatus.DISPATCHED,
                          replied=row.replied or 0, completed=row.completed or 0) for row in rows]


def waiting_count(user: User) -> int:
    """How many documents wait for the person (the inbox's unread number for documents)."""
    # The rows waiting for a person are all in their path, and dispatched ones
    # have received_at: no join, and the person's rows drive (as in _path_rows).
    received = (select(func.count(func.distinct(DocumentRecipient.document_id)))
                .where(DocumentRecipient.id.in_(_waiting_rows(user)),
                       DocumentRecipient.received_at.is_not(None)))
    issuing = select(func.count(Document.id)).where(Document.status != DocumentStatus.DISPATCHED,
                                                    _issuing_waiting(user))
    news = select(func.count()).select_from(_news(user)[0].subquery())
    # One round trip for all three.
    return db.session.scalar(select(received.scalar_subquery() + issuing.scalar_subquery()
                                    + news.scalar_subquery())) or 0


# ---- The sender's status board -----------------------------------------------------------

def status_board(document: Document) -> list[dict[str, Any]]:
    """Per recipient unit, in tree order: where the document stands there. Overdue:
    past the document's deadline and not done. Nothing is ranked or compared."""
    today = _today()
    overdue_possible = document.deadline is not None and document.deadline < today
    replies = set(db.session.scalars(select(Document.issuer_id).where(
        Document.replies_to_id == document.id, Document.status == DocumentStatus.DISPATCHED)))
    # Plain columns, not DocumentRecipient objects: 2,000 of those (each with
    # its unit joined) were most of the board's time.
    r = DocumentRecipient
    rows = db.session.execute(
        select(r.unit_id, Unit.name, Unit.depth, r.copy, r.status, r.signed_for_at, r.done_at, r.replied_at,
               r.last_reminded_at, r.reply)
        .join(Unit, Unit.id == r.unit_id)
        .where(r.document_id == document.id).order_by(Unit.path)).all()
    open_states = set(OPEN)
    return [{"unit_id": unit_id, "name": name, "depth": depth, "copy": copy, "status": status,
             "signed_for_at": signed_for_at, "done_at": done_at,
             "replied": replied_at is not None or unit_id in replies,
             "overdue": overdue_possible and status in open_states, "last_reminded_at": last_reminded_at,
             "reply": reply, "replied_at": replied_at}
            for (unit_id, name, depth, copy, status, signed_for_at, done_at, replied_at, last_reminded_at,
                 reply) in rows]


def _today() -> date:
    return beijing(utcnow()).date()


# ---- Search ----------------------------------------------------------------------------

@dataclass
class DocumentSearch:
    term: str | None = None          # number or title
    doc_type: str | None = None
    issuer_id: int | None = None
    since: date | None = None
    until: date | None = None
    status: str | None = None


NUMBER_BRACKETS = str.maketrans("[［【]］】", "〔〔〔〕〕〕")


def search_documents(user: User, search: DocumentSearch, *, limit: int,
                     before: int | None = None) -> list[Document]:
    """The documents the person may open that match, newest first (by id)."""
    mine = or_(_issuing(user), and_(Document.status == DocumentStatus.DISPATCHED, Document.id.in_(
        select(_path_rows(user).c.document_id))))
    query = select(Document.id).where(mine)
    if search.term:
        pattern = "%" + search.term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        number = (func.coalesce(Document.number_prefix, "") + "〔"
                  + func.coalesce(cast(Document.number_year, String), "")
                  + "〕" + func.coalesce(cast(Document.number_seq, String), "") + "号")
        # 发文字号 are written with 〔〕; [], ［］ and 【】 typed for them find them too.
        number_pattern = pattern.translate(NUMBER_BRACKETS)
        query = query.where(or_(Document.title.like(pattern, escape="\\"),
                                number.like(number_pattern, escape="\\")))
    if search.doc_type:
        query = query.where(Document.doc_type == search.doc_type)
    if search.issuer_id:
        query = query.where(Document.id.in_(select(DocumentIssuer.document_id)
                                            .where(DocumentIssuer.unit_id == search.issuer_id)))
    if search.since:
        query = query.where(Document.created_at >= _start_of(search.since))
    if search.until:
        query = query.where(Document.created_at < _start_of(search.until + timedelta(days=1)))
    if search.status:
        if search.status in RecipientStatus.__members__.values():
            # A state of the receiving side: where it stands at the person's own recipient unit.
            rows = _path_rows(user)
            query = query.where(Document.id.in_(
                select(rows.c.document_id).join(DocumentRecipient, DocumentRecipient.id == rows.c.id)
                .where(DocumentRecipient.status == search.status)))
        elif search.status in DocumentStatus.__members__.values():
            query = query.where(Document.status == search.status)
        else:
            raise InvalidInput(_("status 应为发文状态（draft、reviewed、signed、numbered、dispatched）"
                                 "或收文状态（pending、signed_for、registered、proposed、instructed、handling、"
                                 "done、archived）"), field="status")
    if before is not None:
        query = query.where(Document.id < before)
    # Ids first, then the page's documents: sorting whole rows of every match
    # (body included) cost more than the search.
    ids = list(db.session.scalars(query.order_by(Document.id.desc()).limit(limit)))
    if not ids:
        return []
    return list(db.session.scalars(select(Document).where(Document.id.in_(ids))
                                   .options(selectinload(Document.issuers)).order_by(Document.id.desc())))


def own_states(user: User, documents: list[Document]) -> dict[int, str]:
    """Where each dispatched document stands at the person's own recipient unit
    (the first of their rows, by id), for those they receive: the receiving side
    sees its own state, not the sender's "已分发"."""
    ids = [d.id for d in documents if d.status == DocumentStatus.DISPATCHED]
    if not ids:
        return {}
    rows = _path_rows(user)
    states: dict[int, str] = {}
    for document_id, status in db.session.execute(
            select(rows.c.document_id, DocumentRecipient.status)
            .join(DocumentRecipient, DocumentRecipient.id == rows.c.id)
            .where(rows.c.document_id.in_(ids)).order_by(rows.c.id)):
        states.setdefault(document_id, status)
    return states


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), TZ)


# ---- Files on documents (registered with hub.files.access) -------------------------------------

def documents_carrying(attachment_id: int) -> list[int]:
    """The document an uploaded file is the body or an attachment of."""
    return list(db.session.scalars(select(DocumentFile.document_id)
                                   .where(DocumentFile.attachment_id == attachment_id)))


def may_open_document(user: User, document_id: int) -> bool:
    try:
        access_document(user, document_id)
    except NotFound:
        return False
    return True
