"""The conflicts register: device values that met a newer server value, for a supervisor to decide."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

from ..access import allow
from ..extensions import db
from ..services import conflicts
from .blueprint import bp


class ResolveForm(FlaskForm):
    choice = HiddenField(validators=[DataRequired(), AnyOf(conflicts.CHOICES)])


LINKS = {"finding": ("pages.finding", "finding_id"), "audit": ("pages.audit", "audit_id")}


def record_link(conflict) -> str | None:
    """Where the record in conflict can be seen in the register, when it has a page."""
    record = conflicts.record_of(conflict)
    if record is None:
        return None
    if conflict.entity in LINKS:
        endpoint, arg = LINKS[conflict.entity]
        return url_for(endpoint, **{arg: record.id})
    if conflict.entity == "response":
        return url_for("pages.audit", audit_id=record.audit_id)
    return url_for("pages.finding", finding_id=record.finding_id)


@bp.route("/conflicts")
@allow("conflict.resolve")
def conflicts_list():
    rows = conflicts.open_conflicts(current_user)
    return render_template("conflicts.html", conflicts=rows, form=ResolveForm(), link=record_link)


@bp.route("/conflicts/<uuid:conflict_id>/resolve", methods=["POST"])
@allow("conflict.resolve")
def conflict_resolve(conflict_id):
    conflict = conflicts.get_conflict(current_user, conflict_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        flash("Choose the server's or the device's value.")
        return redirect(url_for("pages.conflicts_list"))
    conflicts.resolve(current_user, conflict, form.choice.data)
    db.session.commit()
    kept = "the device's value" if form.choice.data == "device" else "the server's value"
    flash(f"Conflict on {conflict.entity} {conflict.field}: kept {kept}.")
    return redirect(url_for("pages.conflicts_list"))
