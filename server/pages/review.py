"""The review queue and the supervisor's decisions on audits; the evidence galleries."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import SIGNED_IN, allow
from ..errors import Invalid, StateError
from ..extensions import db
from ..models import AuditStatus, PhotoSubject
from ..permissions import can, require
from ..services import audit_review, audits, findings, listings
from .blueprint import bp
from .review_forms import ApproveForm, RejectForm, ReopenForm, ReturnForm

DECISIONS = {
    "approve": (ApproveForm, "approve_form"),
    "return": (ReturnForm, "return_form"),
    "reject": (RejectForm, "reject_form"),
    "reopen": (ReopenForm, "reopen_form"),
}


def conflicts_url() -> str | None:
    """The sync engine's conflicts page, when this app has one."""
    for endpoint in ("pages.conflicts_list", "pages.conflicts"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


def audit_forms(audit, **bound) -> dict:
    """The decision forms the audit page shows to a reviewer, for the audit's status."""
    forms = {}
    if not can(current_user, "audit.review"):
        return forms
    if audit.status == AuditStatus.SUBMITTED and can(current_user, "audit.decide", audit):
        names = ("approve", "return", "reject")
    elif audit.status in (AuditStatus.APPROVED, AuditStatus.REJECTED):
        names = ("reopen",)
    else:
        names = ()
    for name in names:
        form_class, key = DECISIONS[name]
        forms[key] = form_class(formdata=None, prefix=name)
    # A form that failed is shown with its errors even if the status moved on meanwhile.
    forms.update(bound)
    return forms


@bp.route("/review")
@allow("audit.review")
def review_queue():
    return render_template("review.html", queue=audit_review.queue(current_user), conflicts_url=conflicts_url())


def _render_audit(audit, status: int, **bound):
    return render_template("audit.html", audit=audit, **listings.audit_detail(audit), **audit_forms(audit, **bound)), status


def _decide(audit_id, name: str, call, message: str, next_url: str | None = None):
    """Check the reviewer may decide, validate the decision's form, call the service, commit and go on.

    On a refusal the audit page comes back with the form and the reason on it.
    """
    audit = audits.get_audit(current_user, audit_id)
    require(current_user, "audit.review", audit)  # before the form: a refusal says nothing of it
    form_class, key = DECISIONS[name]
    form = form_class(prefix=name)
    if not form.validate_on_submit():
        return _render_audit(audit, 422, **{key: form})
    try:
        call(audit, form)
    except (Invalid, StateError) as exc:
        db.session.rollback()
        audit = audits.get_audit(current_user, audit_id)
        form.form_errors.append(exc.message)
        return _render_audit(audit, exc.status, **{key: form})
    db.session.commit()
    flash(message)
    return redirect(next_url or url_for("pages.review_queue"))


@bp.route("/audits/<uuid:audit_id>/approve", methods=["POST"])
@allow("audit.review")
def approve_audit(audit_id):
    return _decide(audit_id, "approve", lambda a, f: audit_review.approve(current_user, a, f.comment.data),
                   "Audit approved. It is locked until someone reopens it with a reason.")


@bp.route("/audits/<uuid:audit_id>/return", methods=["POST"])
@allow("audit.review")
def return_audit(audit_id):
    return _decide(audit_id, "return", lambda a, f: audit_review.return_audit(current_user, a, f.comment.data),
                   "Audit returned to the auditor with your comment; their device shows it after its next sync.")


@bp.route("/audits/<uuid:audit_id>/reject", methods=["POST"])
@allow("audit.review")
def reject_audit(audit_id):
    return _decide(audit_id, "reject", lambda a, f: audit_review.reject(current_user, a, f.reason.data), "Audit rejected.")


@bp.route("/audits/<uuid:audit_id>/reopen", methods=["POST"])
@allow("audit.review")
def reopen_audit(audit_id):
    return _decide(audit_id, "reopen", lambda a, f: audit_review.reopen(current_user, a, f.reason.data),
                   "Audit reopened and returned to the auditor.", url_for("pages.audit", audit_id=audit_id))


@bp.route("/audits/<uuid:audit_id>/evidence")
@allow(SIGNED_IN)
def audit_evidence(audit_id):
    audit = audits.get_audit(current_user, audit_id)
    detail = listings.audit_detail(audit)
    groups = []
    for section, questions in audit.template.sections:
        for q in questions:
            r = detail["responses"].get(q.id)
            photos = detail["photo_links"].get(r.id, []) if r else []
            if photos:
                groups.append((f"{q.position}. {q.text}", photos))
    for f in detail["findings"]:
        groups += _finding_galleries(f, f"Finding: {f.title}", lambda n: f"Finding: {f.title}, corrective action {n}")
    for signature in audit.signatures:
        groups.append((f"Sign-off: {signature.signer_name} ({signature.role})",
                       listings.photos_for(PhotoSubject.SIGNATURE, signature.id)))
    return render_template("evidence.html", title=f"Evidence: {audit.template.name}, {audit.area.label}",
                           back=url_for("pages.audit", audit_id=audit.id), groups=groups)


@bp.route("/findings/<uuid:finding_id>/evidence")
@allow(SIGNED_IN)
def finding_evidence(finding_id):
    finding = findings.get_finding(current_user, finding_id)
    groups = _finding_galleries(finding, "Raised with the finding", lambda n: f"Corrective action {n}")
    return render_template("evidence.html", title=f"Evidence: {finding.title}",
                           back=url_for("pages.finding", finding_id=finding.id), groups=groups)


def _finding_galleries(finding, raised: str, action_label) -> list:
    """List the finding's own photos, then each corrective action's, under these labels; empty ones left out."""
    galleries = [(raised, listings.photos_for(PhotoSubject.FINDING, finding.id))]
    galleries += [(action_label(n), listings.photos_for(PhotoSubject.ACTION, action.id))
                  for n, action in enumerate(finding.actions, 1)]
    return [(label, photos) for label, photos in galleries if photos]
