"""First run: the steps that take an admin from an empty organisation to a first audit programme."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from ..access import allow
from ..errors import Invalid
from ..extensions import db
from ..services import checklists, organisation
from .blueprint import bp

BUNDLED = {"iso9001-internal-audit.json": "ISO 9001 internal audit", "iso45001-safety-walk.json": "ISO 45001 safety walk"}


class StarterForm(FlaskForm):
    file = SelectField("Start from", choices=[SelectChoice(name, label) for name, label in BUNDLED.items()])


@bp.route("/setup")
@allow("admin.organisation")
def setup():
    return render_template("setup.html", steps=organisation.setup_steps(), form=StarterForm(formdata=None))


@bp.route("/setup/checklist", methods=["POST"])
@allow("admin.organisation")
def setup_checklist():
    """Copy one of the bundled checklists in as a draft to check and publish."""
    form = StarterForm()
    if not form.validate_on_submit():
        flash("Choose one of the checklists offered.")
        return redirect(url_for("pages.setup"))
    try:
        template = checklists.import_checklist(current_user, checklists.bundled_checklist(form.file.data))
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("pages.setup"))
    db.session.commit()
    flash(f"{template.name!r} is a draft now: check its questions, then publish it.")
    return redirect(url_for("pages.checklist", template_id=template.id))
