"""The competence page: the matrix (people x competences) with its filters and exports, and its forms."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import allow
from ..errors import NotFound
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, Role, Site, User, utcnow
from ..permissions import sites_in_scope
from ..services import competence
from ..services.documents import Upload
from .blueprint import bp
from .competence_forms import CompetenceForm, MatrixFilterForm, RecordForm, RequirementForm, TrainingForm
from .forms import record_options
from .params import areas_in_order, page_number
from .submission import submit

PEOPLE_PER_PAGE = 50


class _Option:
    def __init__(self, id, name):
        self.id, self.name = id, name


def _people():
    return [_Option(*row) for row in db.session.execute(
        db.select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))]


def _assessors():
    """Who may train or assess: auditors, supervisors and admins (staff are trained, not trainers, here)."""
    return [_Option(*row) for row in db.session.execute(
        db.select(User.id, User.name).where(User.active.is_(True), User.role != Role.STAFF).order_by(User.name))]


def _get(model, value, what: str):
    record = db.session.get(model, uuid_or_none(value)) if uuid_or_none(value) else None
    if record is None:
        raise NotFound(f"There is no such {what}.")
    return record


def _forms(posted: str | None = None, people=None):
    """The page's four forms, the one named `posted` reading the request.

    Shown with the matrix, the person lists offer the people the matrix shows (a site's
    thousand, not the organisation's many thousands); a posted form accepts anyone active.
    """
    people = _people() if people is None else people
    assessors, catalogue, areas = _assessors(), competence.competences(), areas_in_order()

    def make(cls, name):
        return cls() if posted == name else cls(formdata=None)

    forms = {"competence": make(CompetenceForm, "competence"), "requirement": make(RequirementForm, "requirement"),
             "record": make(RecordForm, "record"), "training": make(TrainingForm, "training")}
    competence_options = record_options("Choose", catalogue)
    forms["requirement"].competence.choices = competence_options
    forms["requirement"].area.choices = record_options("Any area", areas, label=lambda a: a.label)
    forms["record"].person.choices = record_options("Choose", people)
    forms["record"].competence.choices = competence_options
    forms["record"].assessed_by.choices = record_options("Nobody named", assessors)
    forms["training"].trainer.choices = record_options("Nobody named", assessors)
    forms["training"].attendees.choices = record_options("", people)[1:]
    forms["training"].competences.choices = competence_options[1:]
    return forms


def _render(status=200, forms=None):
    scope = sites_in_scope(current_user)
    sites = [s for s in db.session.scalars(db.select(Site).order_by(Site.name)) if scope is None or s.id in scope]
    areas = [a for a in areas_in_order() if scope is None or a.site_id in scope]
    form = MatrixFilterForm(request.args, areas=areas)
    form.site.choices = record_options("Every site" if scope is None else "All my sites", sites)
    site_id = area_id = None
    if form.validate():
        site_id, area_id = uuid_or_none(form.site.data), uuid_or_none(form.area.data)
    today = utcnow().date()
    matrix = competence.competence_matrix(current_user, site_id, area_id, today)
    # Columns: the competences anyone shown needs or holds; rows: one page of people.
    shown = matrix.used
    page, pages = page_number(), max(1, -(-len(matrix.people) // PEOPLE_PER_PAGE))
    start = (min(page, pages) - 1) * PEOPLE_PER_PAGE
    rows = list(zip(matrix.people[start:start + PEOPLE_PER_PAGE], matrix.cells[start:start + PEOPLE_PER_PAGE],
                    strict=True))
    labels = {a.id: a.label for a in areas}
    query = {"site_id": str(site_id) if site_id else None, "area_id": str(area_id) if area_id else None}
    query = {k: v for k, v in query.items() if v}
    return render_template("competence.html", form=form, matrix=matrix, shown=shown, rows=rows, labels=labels,
                           page=min(page, pages), pages=pages, query=query,
                           forms=forms or _forms(people=[_Option(p.id, p.name) for p in matrix.people]),
                           expiring_days=current_app.config.get("COMPETENCE_EXPIRING_DAYS", 30)), status


@bp.route("/competences")
@allow("competence.view")
def competence_matrix():
    return _render()


def _posted(name: str, call, message):
    """Run the posted form `name` through `call`; flash `message(result)` and go back to the matrix, or show the errors."""
    forms = _forms(name)
    done = submit(forms[name], lambda: call(forms[name]))
    if done.saved:
        flash(message(done.result))
        return redirect(url_for("pages.competence_matrix"))
    return _render(done.status, forms)


@bp.route("/competences/add", methods=["POST"])
@allow("competence.manage")
def competence_add():
    return _posted("competence", lambda form: competence.create_competence(
        current_user, form.name.data, form.validity_months.data), lambda c: f"{c.name} added.")


@bp.route("/competences/require", methods=["POST"])
@allow("competence.manage")
def competence_require():
    def call(form):
        area = _get(Area, form.area.data, "area") if form.area.data else None
        return competence.require_competence(current_user, _get_competence(form.competence.data),
                                             form.role.data or None, area)
    return _posted("requirement", call, lambda r: f"{r.competence.name} is now required.")


@bp.route("/competences/record", methods=["POST"])
@allow("competence.manage")
def competence_record():
    request.max_content_length = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"] + 1024 * 1024

    def call(form):
        upload = form.file.data
        evidence = Upload(upload.stream, upload.filename or "") if upload and getattr(upload, "filename", "") else None
        return competence.record_competence(
            current_user, _get(User, form.person.data, "person"), _get_competence(form.competence.data),
            form.gained_on.data, form.expires_on.data,
            _get(User, form.assessed_by.data, "person") if form.assessed_by.data else None, evidence=evidence)
    return _posted("record", call, lambda r: f"Recorded: {r.user.name} holds {r.competence.name}"
                   + (f" until {r.expires_on}." if r.expires_on else "."))


@bp.route("/competences/training", methods=["POST"])
@allow("competence.manage")
def competence_training():
    def call(form):
        return competence.record_training(
            current_user, form.title.data, form.held_on.data,
            _get(User, form.trainer.data, "person") if form.trainer.data else None,
            [_get(User, pid, "person") for pid in form.attendees.data],
            [_get_competence(cid) for cid in form.competences.data])
    return _posted("training", call, lambda t: f"{t.title}: {len(t.attendees)} people gained "
                   f"{len(t.competences)} competence(s).")


def _get_competence(value):
    return competence.get_competence(uuid_or_none(value))
