"""The checklist builder: drafts, questions, publishing, versions, diffs, JSON import and export."""

import json
import re
import uuid
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ..access import allow
from ..errors import DomainError, Invalid, NotFound
from ..extensions import db
from ..models import Question, QuestionKind, Template
from .. import textin
from ..services import checklists
from .blueprint import bp
from .programme_forms import (
    ChecklistForm,
    ConfirmForm,
    ImportForm,
    QuestionForm,
    ReviewedForm,
)
from .submission import submit

NUMERIC = {QuestionKind.SCORE, QuestionKind.NUMBER}
MAX_IMPORT_BYTES = 2_000_000


def _lines(text: str | None, numeric: bool) -> list:
    values = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if numeric and re.fullmatch(r"-?\d+", line):
            values.append(int(line))
        elif numeric and re.fullmatch(r"-?\d+\.\d+", line):
            values.append(float(line))
        else:
            values.append(line)
    return values


def _show_if(form: QuestionForm, template: Template) -> dict | None:
    if not form.show_if.data:
        return None
    source = next((q for q in template.questions if str(q.id) == form.show_if.data), None)
    return {"question_id": form.show_if.data,
            "values": _lines(form.show_if_values.data, source is not None and source.kind == QuestionKind.SCORE)}


def _question_values(form: QuestionForm, template: Template) -> dict:
    numeric = form.kind.data in NUMERIC
    return {
        "weight": 1 if form.weight.data is None else form.weight.data,
        "show_if": _show_if(form, template),
        "whole_section": form.show_if_section.data,
        "section": form.section.data, "text": form.text.data, "guidance": form.guidance.data or "",
        "kind": form.kind.data, "options": _lines(form.options.data, numeric), "required": form.required.data,
        "clause": form.clause.data or "",
        "finding_answers": _lines(form.finding_answers.data, numeric or form.kind.data == QuestionKind.SCORE),
        "photo_answers": _lines(form.photo_answers.data, numeric or form.kind.data == QuestionKind.SCORE),
        "document_revision_id": form.document_revision_id.data or None,
    }


def _fill_question_form(question: Question) -> QuestionForm:
    form = QuestionForm(formdata=None)
    form.section.data, form.text.data, form.guidance.data = question.section, question.text, question.guidance
    form.kind.data, form.required.data, form.clause.data = question.kind, question.required, question.clause
    form.options.data = "\n".join(map(str, question.options or []))
    form.finding_answers.data = "\n".join(map(str, question.finding_answers or []))
    form.photo_answers.data = "\n".join(map(str, question.photo_answers or []))
    form.weight.data = question.weight
    form.show_if.data = (question.show_if or {}).get("question_id", "")
    form.show_if_values.data = "\n".join(map(str, (question.show_if or {}).get("values", [])))
    form.cite(question.cites)
    return form


def _details_form(template: Template) -> ChecklistForm:
    form = ChecklistForm(formdata=None)
    form.name.data, form.standard.data = template.name, template.standard
    form.description.data, form.review_due.data = template.description, template.review_due
    form.show_scoring(template.scoring)
    return form


def _render(template: Template, status: int = 200, **forms):
    versions = checklists.family_versions(template.family_id)
    question_form = forms.get("question_form") or QuestionForm(formdata=None, section=(
        template.questions[-1].section if template.questions else ""))
    question_form.offer_sources(template)
    context = {
        "template": template,
        "versions": versions,
        "confirm": ConfirmForm(formdata=None),
        "details_form": forms.get("details_form") or _details_form(template),
        "question_form": question_form,
        "questions_by_id": {str(q.id): q for q in template.questions},
        "reviewed_form": forms.get("reviewed_form") or ReviewedForm(formdata=None),
        "kinds": QuestionKind,
        "today": date.today(),
    }
    return render_template("checklist.html", **context), status


@bp.route("/checklists")
@allow("template.edit")
def checklist_list():
    return render_template("checklists.html", templates=checklists.current_versions(),
                           overdue=checklists.overdue_for_review(), today=date.today(), form=ChecklistForm(formdata=None),
                           import_form=ImportForm(formdata=None))


@bp.route("/checklists", methods=["POST"])
@allow("template.edit")
def checklist_create():
    form = ChecklistForm()
    done = submit(form, lambda: checklists.create_draft(current_user, form.name.data, form.standard.data,
                                                        form.description.data or "", form.review_due.data),
                  catch=Invalid)
    if done.saved:
        template = done.result
        flash(f"Draft {template.name!r} created. Add its questions, then publish it.")
        return redirect(url_for("pages.checklist", template_id=template.id))
    return render_template("checklists.html", templates=checklists.current_versions(),
                           overdue=checklists.overdue_for_review(), today=date.today(), form=form,
                           import_form=ImportForm(formdata=None)), done.status


def _import_payload(form: ImportForm):
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", ""):
        raw = upload.read(MAX_IMPORT_BYTES + 1)
    else:
        raw = (form.text.data or "").encode()
    if not raw.strip():
        raise Invalid("Choose a checklist file or paste its JSON.", {"file": ["No checklist given."]})
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid("The checklist file is too large.", {"file": ["At most 2 MB."]})
    try:
        return textin.load_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("The file is not JSON.", {"file": [f"Not valid JSON: {exc}"[:200]]}) from exc


def _flatten(messages, prefix="") -> list[str]:
    if isinstance(messages, dict):
        return [m for key, value in messages.items() for m in _flatten(value, f"{prefix}{key}.")]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix.rstrip('.')}: {m}" for m in messages]
    return [f"{prefix.rstrip('.')}: {messages}"]


@bp.route("/checklists/import", methods=["POST"])
@allow("template.edit")
def checklist_import():
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        try:
            template = checklists.import_checklist(current_user, _import_payload(form))
        except ValidationError as exc:
            problems = _flatten(exc.messages)
        except Invalid as exc:
            problems = [exc.message] + _flatten(exc.fields or {})
        else:
            db.session.commit()
            flash(f"Imported {template.name!r} as a draft (version {template.version}). Check it, then publish.")
            return redirect(url_for("pages.checklist", template_id=template.id))
        db.session.rollback()
    form.file.errors = list(form.file.errors or []) + problems[:20]
    return render_template("checklists.html", templates=checklists.current_versions(),
                           overdue=checklists.overdue_for_review(), today=date.today(), form=ChecklistForm(formdata=None),
                           import_form=form), 422


@bp.route("/checklists/<uuid:template_id>")
@allow("template.edit")
def checklist(template_id):
    return _render(checklists.get_template(current_user, template_id))


@bp.route("/checklists/<uuid:template_id>/details", methods=["POST"])
@allow("template.edit")
def checklist_details(template_id):
    template = checklists.get_template(current_user, template_id)
    form = ChecklistForm()
    done = submit(form, lambda: checklists.update_details(current_user, template, form.name.data, form.standard.data,
                                                          form.description.data or "", form.review_due.data,
                                                          scoring=form.scoring()))
    if done.saved:
        flash("Details saved.")
        return redirect(url_for("pages.checklist", template_id=template.id))
    return _render(template, done.status, details_form=form)


@bp.route("/checklists/<uuid:template_id>/questions", methods=["POST"])
@allow("template.edit")
def question_add(template_id):
    template = checklists.get_template(current_user, template_id)
    form = QuestionForm()
    done = submit(form, lambda: checklists.add_question(current_user, template, _question_values(form, template)))
    if done.saved:
        flash("Question added.")
        return redirect(url_for("pages.checklist", template_id=template.id) + "#add-question")
    return _render(template, done.status, question_form=form)


@bp.route("/checklists/<uuid:template_id>/questions/<uuid:question_id>", methods=["GET", "POST"])
@allow("template.edit")
def question_edit(template_id, question_id):
    template = checklists.get_template(current_user, template_id)
    question = checklists.get_question(template, question_id)
    form = QuestionForm() if request.method == "POST" else _fill_question_form(question)
    form.offer_sources(template, before=question.position)
    status = 200
    if request.method == "POST":
        done = submit(form, lambda: checklists.update_question(current_user, question, _question_values(form, template)))
        if done.saved:
            flash("Question saved.")
            return redirect(url_for("pages.checklist", template_id=template.id) + f"#q-{question.position}")
        status = done.status
    return render_template("checklist_question.html", template=template, question=question, form=form), status


def _simple(template_id, call, message: str, question_id=None):
    """Run one button's service call, commit and go back to the checklist (or show why not)."""
    template = checklists.get_template(current_user, template_id)
    question = checklists.get_question(template, question_id) if question_id else None
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = call(template, question)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
        return _render(template, exc.status)
    db.session.commit()
    flash(message)
    target = result if isinstance(result, Template) else template
    if db.session.get(Template, target.id) is None:
        return redirect(url_for("pages.checklist_list"))
    return redirect(url_for("pages.checklist", template_id=target.id))


@bp.route("/checklists/<uuid:template_id>/questions/<uuid:question_id>/up", methods=["POST"])
@allow("template.edit")
def question_up(template_id, question_id):
    return _simple(template_id, lambda t, q: checklists.move_question(current_user, q, -1), "Question moved up.", question_id)


@bp.route("/checklists/<uuid:template_id>/questions/<uuid:question_id>/down", methods=["POST"])
@allow("template.edit")
def question_down(template_id, question_id):
    return _simple(template_id, lambda t, q: checklists.move_question(current_user, q, 1), "Question moved down.", question_id)


@bp.route("/checklists/<uuid:template_id>/questions/<uuid:question_id>/delete", methods=["POST"])
@allow("template.edit")
def question_delete(template_id, question_id):
    return _simple(template_id, lambda t, q: checklists.delete_question(current_user, q), "Question deleted.", question_id)


@bp.route("/checklists/<uuid:template_id>/publish", methods=["POST"])
@allow("template.edit")
def checklist_publish(template_id):
    return _simple(template_id, lambda t, q: checklists.publish(current_user, t),
                   "Published. This version is now frozen; new audits use it.")


@bp.route("/checklists/<uuid:template_id>/new-version", methods=["POST"])
@allow("template.edit")
def checklist_new_version(template_id):
    return _simple(template_id, lambda t, q: checklists.new_version(current_user, t),
                   "Draft of the next version ready. Audits on earlier versions keep theirs.")


@bp.route("/checklists/<uuid:template_id>/retire", methods=["POST"])
@allow("template.edit")
def checklist_retire(template_id):
    return _simple(template_id, lambda t, q: checklists.retire(current_user, t),
                   "Retired. Audits already on it keep it; no new audit will use it.")


@bp.route("/checklists/<uuid:template_id>/delete", methods=["POST"])
@allow("template.edit")
def checklist_delete(template_id):
    return _simple(template_id, lambda t, q: checklists.delete_draft(current_user, t), "Draft deleted.")


@bp.route("/checklists/<uuid:template_id>/reviewed", methods=["POST"])
@allow("template.edit")
def checklist_reviewed(template_id):
    template = checklists.get_template(current_user, template_id)
    form = ReviewedForm()
    done = submit(form, lambda: checklists.mark_reviewed(current_user, template, form.review_due.data))
    if done.saved:
        flash(f"Review recorded; next review due {template.review_due}.")
        return redirect(url_for("pages.checklist", template_id=template.id))
    return _render(template, done.status, reviewed_form=form)


@bp.route("/checklists/<uuid:template_id>/export")
@allow("template.edit")
def checklist_export(template_id):
    template = checklists.get_template(current_user, template_id)
    body = json.dumps(checklists.export_checklist(template), indent=2, ensure_ascii=False) + "\n"
    slug = re.sub(r"[^a-z0-9]+", "-", template.name.lower()).strip("-") or "checklist"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{slug}-v{template.version}.json"'})


@bp.route("/checklists/diff")
@allow("template.edit")
def checklist_diff():
    old_id, new_id = request.args.get("old", type=uuid.UUID), request.args.get("new", type=uuid.UUID)
    if old_id is None or new_id is None:
        raise NotFound("Choose two versions to compare.")
    old, new = checklists.get_template(current_user, old_id), checklists.get_template(current_user, new_id)
    if old.family_id != new.family_id:
        raise Invalid("Compare two versions of the same checklist.")
    rows = checklists.diff(old, new)
    counts = {c: sum(r["change"] == c for r in rows) for c in ("same", "changed", "added", "removed")}
    only_changes = request.args.get("only") == "changes"
    if only_changes:
        rows = [r for r in rows if r["change"] != "same"]
    return render_template("checklist_diff.html", old=old, new=new, rows=rows, counts=counts, only_changes=only_changes,
                           show_if_text=lambda q: checklists.hidden_because(q, q.template.questions))

