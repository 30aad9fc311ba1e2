"""The document register: list, overdue reviews, a document's revisions, upload, approve, review."""

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import allow
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, Role, User, utcnow
from ..permissions import can
from ..services import documents
from ..services.documents import Upload
from .blueprint import bp
from .document_forms import TYPE_LABELS, AcknowledgementForm, DocumentFilterForm, DocumentForm, RevisionForm
from .forms import record_options
from .params import areas_in_order, page_number
from .programme_forms import ConfirmForm
from .submission import submit


def _owners():
    return db.session.scalars(db.select(User).where(User.active.is_(True), User.role.in_([Role.ADMIN, Role.SUPERVISOR]))
                              .order_by(User.name)).all()


def _document_form(posted: bool = False) -> DocumentForm:
    # A posted form reads the request's fields and files (FlaskForm's default formdata).
    form = DocumentForm() if posted else DocumentForm(formdata=None)
    form.owner.choices = record_options("Me", _owners())
    return form


def _today() -> date:
    return utcnow().date()


@bp.route("/documents")
@allow("document.list")
def documents_list():
    form = DocumentFilterForm(request.args)
    overdue_only = request.args.get("overdue") == "1"
    filters = {"text": form.q.data, "status": form.status.data} if form.validate() else {}
    query = documents.document_query(current_user, overdue_on=_today() if overdue_only else None, **filters)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("documents.html", page=page, form=form, overdue_only=overdue_only, today=_today(),
                           pending=documents.pending_acknowledgements(current_user),
                           overdue=documents.overdue_reviews(_today(), limit=20), types=TYPE_LABELS,
                           manage=can(current_user, "document.manage"))


@bp.route("/documents/new", methods=["GET", "POST"])
@allow("document.manage")
def document_new():
    if request.method == "GET":
        return render_template("document_new.html", form=_document_form())
    request.max_content_length = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"] + 1024 * 1024
    form = _document_form(posted=True)

    def register():
        fields = {"number": form.number.data, "title": form.title.data, "type": form.type.data,
                  "review_every_months": form.review_every_months.data or 12,
                  "owner_id": uuid_or_none(form.owner.data), "change_note": form.change_note.data or ""}
        upload = form.file.data
        return documents.create_document(current_user, fields, Upload(upload.stream, upload.filename or ""))

    done = submit(form, register)
    if done.saved:
        flash(f"{done.result.number} registered; revision 1 is a draft until approved.")
        return redirect(url_for("pages.document", document_id=done.result.id))
    return render_template("document_new.html", form=form), done.status


def _ack_form(current, posted: bool = False) -> AcknowledgementForm:
    form = AcknowledgementForm() if posted else AcknowledgementForm(
        formdata=None, roles=list(current.ack_roles or []) if current else [],
        areas=list(current.ack_area_ids or []) if current else [])
    form.areas.choices = record_options("", areas_in_order(), label=lambda a: a.label)[1:]
    return form


def _render(document, status=200, revision_form=None, ack_form=None):
    visible = [r for r in document.revisions if can(current_user, "document.revision.view", r)]
    current, manage = document.current, can(current_user, "document.manage")
    acknowledgements = documents.acknowledgement_status(current) if current and manage else None
    asked = current is not None and documents.is_asked(current_user, current)
    acknowledged = asked and current_user.id in documents.acknowledgement_status(current).acknowledged
    return render_template("document.html", document=document, revisions=list(reversed(visible)),
                           today=_today(), types=TYPE_LABELS, manage=manage,
                           revision_form=revision_form or RevisionForm(formdata=None),
                           ack_form=ack_form or _ack_form(current), acknowledgements=acknowledgements,
                           asked=asked, acknowledged=acknowledged, confirm=ConfirmForm(formdata=None)), status


@bp.route("/documents/<uuid:document_id>")
@allow("document.list")
def document(document_id):
    return _render(documents.get_document(current_user, document_id))


@bp.route("/documents/<uuid:document_id>/revisions", methods=["POST"])
@allow("document.manage")
def document_revise(document_id):
    document = documents.get_document(current_user, document_id, "document.manage")
    request.max_content_length = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"] + 1024 * 1024
    form = RevisionForm()

    def revise():
        upload = form.file.data
        return documents.add_revision(current_user, document, Upload(upload.stream, upload.filename or ""),
                                      form.change_note.data or "")

    done = submit(form, revise)
    if done.saved:
        flash(f"Revision {done.result.rev} added as a draft; revision "
              f"{document.current.rev if document.current else '-'} stays current until it is approved.")
        return redirect(url_for("pages.document", document_id=document.id))
    return _render(document, done.status, revision_form=form)


def _confirmed():
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/documents/<uuid:document_id>/revisions/<int:rev>/approve", methods=["POST"])
@allow("document.manage")
def document_approve(document_id, rev):
    document = documents.get_document(current_user, document_id, "document.manage")
    revision = documents.get_revision(current_user, document, rev)
    _confirmed()
    documents.approve_revision(current_user, document, revision)
    db.session.commit()
    flash(f"{document.number} rev {rev} approved; next review due {document.next_review_due}.")
    return redirect(url_for("pages.document", document_id=document.id))


@bp.route("/documents/<uuid:document_id>/review", methods=["POST"])
@allow("document.manage")
def document_reviewed(document_id):
    document = documents.get_document(current_user, document_id, "document.manage")
    _confirmed()
    documents.record_review(current_user, document)
    db.session.commit()
    flash(f"Review of {document.number} recorded with no change; next review due {document.next_review_due}.")
    return redirect(url_for("pages.document", document_id=document.id))


@bp.route("/documents/<uuid:document_id>/acknowledgements", methods=["POST"])
@allow("document.manage")
def document_ask_acknowledgement(document_id):
    document = documents.get_document(current_user, document_id, "document.manage")
    if document.current is None:
        flash("Approve a revision before asking people to acknowledge it.")
        return redirect(url_for("pages.document", document_id=document.id))
    form = _ack_form(document.current, posted=True)

    def ask():
        areas = [_area(value) for value in form.areas.data or []]
        return documents.ask_acknowledgement(current_user, document, document.current, form.roles.data or [], areas)

    done = submit(form, ask)
    if done.saved:
        flash(f"{document.number} rev {document.current.rev}: acknowledgement asked of "
              f"{len(documents.acknowledgement_status(document.current).required)} people.")
        return redirect(url_for("pages.document", document_id=document.id))
    return _render(document, done.status, ack_form=form)


def _area(value) -> Area:
    area = db.session.get(Area, uuid_or_none(value)) if uuid_or_none(value) else None
    if area is None:
        abort(404)
    return area


@bp.route("/documents/<uuid:document_id>/revisions/<int:rev>/acknowledge", methods=["POST"])
@allow("document.list")
def document_acknowledge(document_id, rev):
    document = documents.get_document(current_user, document_id)
    revision = documents.get_revision(current_user, document, rev)
    _confirmed()
    documents.acknowledge(current_user, document, revision)
    db.session.commit()
    flash(f"Recorded: you have read and understood {document.number} rev {rev}.")
    return redirect(url_for("pages.document", document_id=document.id))
