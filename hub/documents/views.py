"""Document pages (公文): the list with search, the draft form, the document with
its steps, timeline and status board, and the processing sheet (办文单).

Thin: parse, fetch with permission (queries.access_document), one action, flash
in Chinese, redirect. A refused step or draft re-renders its page with the
reason, what was typed and the status of the refusal (403 wrong role, 409 wrong
state, 429 too soon; hub.errors.form_errors), never a 500. Every page works
without JavaScript; static/js/documents.js adds the live unit and people search
and the live status board.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.documents import actions, page_reads, pages, panel, queries
from hub.documents.models import (CAPTION_MAX, COMMENT_MAX, DOC_TYPES, NOTES_MAX, STATUS_LABELS, TITLE_MAX,
                                  URGENCIES, Document, DocumentRecipient, DocumentStatus, RecipientStatus)
from hub.documents.pages import DraftForm, StepForm
from hub.errors import Conflict, HubError, NotAllowed, NotFound, form_errors, not_found
from hub.extensions import db
from hub.times import local_when
from hub.org.queries import children
from hub.permissions import access_unit

bp = Blueprint("documents", __name__)

PAGE = 30
SEARCH_ARGS = ("q", "doc_type", "issuer_id", "since", "until", "status")
WAITING_MAX = 50
STATES = {*DocumentStatus.__members__.values(), *RecipientStatus.__members__.values()}
TIMELINE_PAGE = 100        # steps on the document page at a time
DONE = {
    "review": lazy_gettext("已核稿，等待领导签发"), "return": lazy_gettext("已退回拟稿人修改"),
    "sign": lazy_gettext("已签发"), "number": lazy_gettext("已登记编号"),
    "dispatch": lazy_gettext("已分发到各收文单位"), "sign_for": lazy_gettext("已签收"),
    "register": lazy_gettext("已登记"), "propose": lazy_gettext("拟办意见已送领导批办"),
    "instruct": lazy_gettext("已批办"), "assign": lazy_gettext("已交办"),
    "circulate": lazy_gettext("已传阅"), "mark_read": lazy_gettext("已阅"), "remind": lazy_gettext("已提醒"),
    "complete": lazy_gettext("已办结"), "reply": lazy_gettext("已答复发文单位"),
    "archive": lazy_gettext("已归档"),
}


# ---- The list and search ------------------------------------------------------------------

def _search() -> queries.DocumentSearch:
    args = request.args
    status = args.get("status") or None
    return queries.DocumentSearch(
        term=args.get("q", "").strip()[:100] or None,
        doc_type=args.get("doc_type") if args.get("doc_type") in DOC_TYPES else None,
        issuer_id=pages.as_id(args.get("issuer_id")), since=pages.as_date(args.get("since"), "since"),
        until=pages.as_date(args.get("until"), "until"),
        status=status if status in STATES else None)


@bp.get("/")
@login_required
def index():
    """公文: what waits for me, my recent documents, and the search (a refused
    search: the page without it, the field named)."""
    with form_errors(_index_page, queries.DocumentSearch()):
        search = _search()
    return _index_page(search)


def _index_page(search: queries.DocumentSearch, *, error: HubError | None = None):
    before = pages.as_id(request.args.get("before"))
    found = queries.search_documents(current_user, search, limit=PAGE + 1, before=before)
    waiting = page_reads.inbox_rows(current_user,
                               queries.inbox_documents(current_user, limit=WAITING_MAX, read=False))
    recent = queries.search_documents(current_user, queries.DocumentSearch(), limit=200)
    query = {k: v for k, v in request.args.items() if k in SEARCH_ARGS and v}
    return render_template(
        "documents/index.html", waiting=waiting, found=page_reads.document_rows(current_user, found[:PAGE]),
        next_before=found[PAGE - 1].id if len(found) > PAGE else None, before=before, search=search,
        searching=bool(query), query=query, error=error, doc_types=DOC_TYPES,
        statuses={_("发文办理"): [(s.value, STATUS_LABELS[s]) for s in DocumentStatus],
                  _("收文办理"): [(s.value, STATUS_LABELS[s]) for s in RecipientStatus]},
        issuers=page_reads.issuer_choices(recent, search.issuer_id), can_draft=pages.can_draft(current_user),
        waiting_max=WAITING_MAX,
    ), error.status if error else 200


# ---- The draft form -----------------------------------------------------------------------

@bp.get("/new")
@login_required
def new():
    """拟稿: the draft form."""
    if not pages.can_draft(current_user):
        raise NotAllowed(_("您没有所属单位，不能拟稿"))
    asked = pages.as_id(request.args.get("replies_to"))
    if asked is not None:
        return _draft_page(DraftForm.replying_to(queries.access_document(current_user, asked)))
    return _draft_page(DraftForm())


@bp.post("/new")
@login_required
def create():
    """Save the draft, or (查找 / 下级 / 上传 buttons) re-render the form with what was asked."""
    if not pages.can_draft(current_user):
        raise NotAllowed(_("您没有所属单位，不能拟稿"))
    form = DraftForm.from_form(request.form)
    with form_errors(_draft_page, form):
        pages.upload_files(current_user, form, request.files.getlist("files"))
        if _only_looking(form):
            return _draft_page(form)
        document = actions.create_draft(current_user, actions.DocumentDraft.from_json(form.draft_json()))
    flash(_("草稿已保存，请交文书核稿"))
    return redirect(url_for("documents.show", document_id=document.id))


def _only_looking(form: DraftForm) -> bool:
    """查找, 上传, 下级单位, 全部主送: re-render the form instead of saving it."""
    if form.all_main is not None:
        form.add_main([u.id for u in children(form.all_main)])
    return bool(request.form.get("find") or form.browse or form.all_main)


def _editable(document_id: int) -> Document:
    document = queries.access_document(current_user, document_id)
    if not pages.edits_drafts(current_user, document):
        raise NotAllowed(_("只有拟稿人和发文单位的文书可以修改草稿"))
    if document.status != DocumentStatus.DRAFT:
        raise Conflict(_("只有草稿可以修改；已核稿的公文请先退回"))
    return document


@bp.get("/<int:document_id>/edit")
@login_required
def edit_form(document_id: int):
    """修改草稿: the draft form pre-filled."""
    document = _editable(document_id)
    return _draft_page(DraftForm.from_document(document), document=document)


@bp.post("/<int:document_id>/edit")
@login_required
def edit(document_id: int):
    document = _editable(document_id)
    form = DraftForm.from_form(request.form)
    with form_errors(_draft_page, form, document=document):
        pages.upload_files(current_user, form, request.files.getlist("files"))
        if _only_looking(form):
            return _draft_page(form, document=document)
        actions.update_draft(current_user, document, actions.DocumentDraft.from_json(form.draft_json()))
    flash(_("草稿已修改"))
    return redirect(url_for("documents.show", document_id=document_id))


def _readable(document_id: int) -> Document | None:
    """The document a form names (the 请示 a 批复 answers), if the person may
    open it: an id typed into the form must not show another unit's title."""
    try:
        return queries.access_document(current_user, document_id)
    except NotFound:
        return None


def _draft_page(form: DraftForm, *, document: Document | None = None, error: HubError | None = None):
    asked = _readable(form.replies_to) if form.replies_to else None
    return render_template(
        "documents/new.html", form=form, document=document, error=error, asked=asked,
        picker=pages.draft_picker(current_user, form), doc_types=DOC_TYPES, urgencies=URGENCIES,
        issuer=document.issuer if document is not None else pages.drafting_unit_or_none(current_user),
        attachments=pages.form_attachments(current_user, form, document),
        limits={"title": TITLE_MAX, "notes": NOTES_MAX, "caption": CAPTION_MAX},
        max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
    ), error.status if error else 200


@bp.get("/units/choices")
@login_required
def unit_choices():
    """JSON for the draft form's unit search: active units anywhere in the tree
    matching `q`, or the units under `parent_id`."""
    parent_id = pages.as_id(request.args.get("parent_id"))
    if parent_id is not None:
        parent = access_unit(current_user, parent_id)
        if not parent.active:
            raise not_found("unit")
        return {"items": pages.unit_choices(children(parent_id)),
                "parent": {"id": parent.id, "name": parent.name, "parent_id": parent.parent_id}}
    term = request.args.get("q", "").strip()[:100]
    return {"items": pages.unit_choices(pages.find_units(term)) if term else []}


# ---- The document -------------------------------------------------------------------------

def _acting_recipient(document: Document) -> DocumentRecipient | None:
    unit_id = pages.as_id(request.values.get("unit_id"))
    return (actions.recipient_for(current_user, document, unit_id) if unit_id is not None else None) \
        or actions.recipient_for(current_user, document)


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int):
    """The document: its elements, files, the steps the person may take, the
    timeline and, for the issuing side, the status board."""
    document = queries.access_document(current_user, document_id)
    if queries.has_news(current_user, document):       # the replies and completions are read now
        actions.mark_seen(current_user, document)
    return _document_page(document)


def _document_page(document: Document, *, error: HubError | None = None, failed: StepForm | None = None):
    issuing = actions.is_issuing_side(current_user, document)
    recipient = _acting_recipient(document)
    steps = pages.incoming_steps(current_user, recipient) if recipient is not None else []
    outgoing = pages.outgoing_steps(current_user, document)
    people_q = request.args.get("people_q", "").strip()[:100]
    people = (pages.person_choices(pages.unit_people(recipient.unit, people_q))
              if recipient is not None and ({"assign", "circulate", "instruct"} & set(steps)) else [])
    if recipient is not None:
        next_panel = panel.incoming_panel(recipient, steps)
    elif outgoing or (issuing and document.status != DocumentStatus.DISPATCHED):
        next_panel = panel.outgoing_panel(document, outgoing)
    else:
        next_panel = None
    entries, more = _timeline_page(document, issuing, recipient)
    dispatched = document.status == DocumentStatus.DISPATCHED
    board = queries.status_board(document) if issuing and dispatched else None
    main, copies = page_reads.recipient_units(document)
    task, turn = pages.open_read_task(current_user, recipient) if recipient is not None else (None, False)
    return render_template(
        "documents/show.html", document=document, issuing=issuing, recipient=recipient, error=error,
        failed=failed, outgoing=outgoing, incoming=steps, panel=next_panel,
        can_edit=pages.can_edit(current_user, document), people=people, people_q=people_q,
        entries=entries, more_steps=more, board=board,
        counts=page_reads.board_counts(board) if board else None,
        can_remind=pages.can_remind_units(current_user, document), main=main, copies=copies,
        read_task=task, my_turn=turn, step_labels=page_reads.STEP_LABELS, status_labels=STATUS_LABELS,
        replies_to=db.session.get(Document, document.replies_to_id) if document.replies_to_id else None,
        comment_max=COMMENT_MAX,
    ), error.status if error else 200


def _timeline_page(document: Document, issuing: bool, recipient: DocumentRecipient | None):
    """A page of the steps the person may see (all on the issuing side, else the
    outgoing ones and their unit's), after the step id in ?steps_after=."""
    return page_reads.timeline(document, None if issuing else [recipient.id] if recipient else [],
                               limit=TIMELINE_PAGE, after=pages.as_id(request.args.get("steps_after")) or 0)


@bp.get("/<int:document_id>/timeline")
@login_required
def timeline(document_id: int):
    """The next page of the timeline (?steps_after=<step id>) as <li> elements,
    which the document page appends: a document circulated to thousands of units
    has thousands of steps, so the page shows them a page at a time."""
    document = queries.access_document(current_user, document_id)
    entries, more = _timeline_page(document, actions.is_issuing_side(current_user, document),
                                   _acting_recipient(document))
    return render_template("documents/_timeline_steps.html", document=document, entries=entries,
                           more_steps=more)


@bp.post("/<int:document_id>/step")
@login_required
def step(document_id: int):
    """One workflow step from the page's forms (actions.take_step)."""
    document = queries.access_document(current_user, document_id)
    form = StepForm.from_form(request.form)
    with form_errors(_document_page, document, failed=form):
        actions.take_step(current_user, document, form.action, comment=form.comment, user_ids=form.user_ids,
                          unit_id=form.unit_id, in_order=form.in_order, lead_id=form.lead_id)
    flash(str(DONE.get(form.action, _("已办理"))))
    on_board = form.action == "remind" and actions.is_issuing_side(current_user, document)
    anchor = "board" if on_board else "steps"
    return redirect(url_for("documents.show", document_id=document_id, _anchor=anchor))


@bp.get("/<int:document_id>/board")
@login_required
def board(document_id: int):
    """JSON of the status board for its live update (issuing side only)."""
    document = queries.access_document(current_user, document_id)
    if not actions.is_issuing_side(current_user, document):
        raise NotAllowed(_("只有发文单位可以查看各收文单位的办理情况"))
    rows = queries.status_board(document)
    return {"items": [{"unit_id": r["unit_id"], "status": r["status"],
                       "status_label": STATUS_LABELS.get(r["status"], r["status"]),
                       "signed_for": local_when(r["signed_for_at"]), "done": local_when(r["done_at"]),
                       "replied": bool(r["replied"]), "reply": r["reply"], "overdue": bool(r["overdue"]),
                       "reminded": local_when(r["last_reminded_at"])} for r in rows],
            "counts": page_reads.board_counts(rows)}


@bp.get("/<int:document_id>/people")
@login_required
def people_choices(document_id: int):
    """JSON for the 承办 / 传阅 people search: people of the acting recipient unit."""
    document = queries.access_document(current_user, document_id)
    recipient = _acting_recipient(document)
    if recipient is None:
        raise NotAllowed(_("您不在该公文的收文单位办理环节中"))
    term = request.args.get("q", "").strip()[:100]
    return {"items": pages.person_choices(pages.unit_people(recipient.unit, term))}


# ---- The processing sheet (办文单) ------------------------------------------------------------

@bp.get("/<int:document_id>/sheet")
@login_required
def sheet(document_id: int):
    """办文单, printable: a recipient unit's 收文办理单, or for the issuing side
    without unit_id the 发文稿纸."""
    document = queries.access_document(current_user, document_id)
    issuing = actions.is_issuing_side(current_user, document)
    unit_id = pages.as_id(request.args.get("unit_id"))
    if unit_id is None and issuing:
        main, copies = page_reads.recipient_units(document)
        return render_template("documents/sheet_out.html", document=document, main=main, copies=copies,
                               steps=page_reads.outgoing_sheet(document))
    if issuing and unit_id is not None:
        recipient = db.session.scalar(select(DocumentRecipient).where(
            DocumentRecipient.document_id == document.id, DocumentRecipient.unit_id == unit_id))
    else:
        recipient = actions.recipient_for(current_user, document, unit_id)
    if recipient is None:
        raise not_found("sheet")
    return render_template("documents/sheet.html", document=document, sheet=page_reads.sheet_for(recipient),
                           issuing=issuing)
