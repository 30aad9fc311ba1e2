"""The organisation in the register (admins): sites, areas and people."""

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import allow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, Role, Site, User
from ..permissions import sites_in_scope
from ..services import arealabels, invitations, org_csv, organisation, people
from .blueprint import bp
from .organisation_forms import (
    ActionForm,
    AreaFilterForm,
    ImportForm,
    AreaForm,
    LabelFilterForm,
    PeopleFilterForm,
    PersonChangeForm,
    PersonForm,
    RetireForm,
    SiteForm,
)
from .forms import record_options
from .params import areas_in_order, page_number
from .submission import submit


def _chosen(model, value):
    return db.session.get(model, uuid_or_none(value)) if uuid_or_none(value) else None


def _responsible_choices(current: User | None = None) -> list[User]:
    """Who the area form offers as responsible: active supervisors and admins (and whoever is now).

    Not everyone: with thousands of people the form would carry thousands of options; the
    API and the CSV import take anyone's id or email.
    """
    offered = list(db.session.scalars(people.user_query(role=Role.SUPERVISOR, active=True))) + \
        list(db.session.scalars(people.user_query(role=Role.ADMIN, active=True)))
    if current is not None and current not in offered:
        offered.append(current)
    return sorted(offered, key=lambda user: user.name)


def _retire(form: RetireForm, call) -> None:
    """Run a retire/restore call; open work is flashed with what is open, not an error page."""
    if not form.validate_on_submit():
        flash("The form expired; try again.")
        return
    try:
        call(bool(form.retired.data), bool(form.even_with_open_work.data))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
        return
    db.session.commit()


# --- sites ---------------------------------------------------------------------------------

def _sites_page(form=None, status=200):
    sites = db.session.scalars(organisation.site_query(include_retired=True)).all()
    counts = organisation.live_area_counts()
    edit_forms = {site.id: SiteForm(formdata=None, prefix=f"s{site.id.hex[:8]}", obj=site) for site in sites}
    return render_template("org_sites.html", sites=sites, counts=counts, form=form or SiteForm(formdata=None),
                           edit_forms=edit_forms, retire_form=RetireForm(formdata=None)), status


@bp.route("/organisation/sites")
@allow("admin.organisation")
def org_sites():
    return _sites_page()


@bp.route("/organisation/sites", methods=["POST"])
@allow("admin.organisation")
def org_site_create():
    form = SiteForm()
    done = submit(form, lambda: organisation.create_site(current_user, form.name.data, form.timezone.data))
    if not done.saved:
        return _sites_page(form, done.status)
    flash(f"Site {done.result.name} added ({done.result.timezone}). Now add its areas.")
    return redirect(url_for("pages.org_sites"))


@bp.route("/organisation/sites/<uuid:site_id>", methods=["POST"])
@allow("admin.organisation")
def org_site_update(site_id):
    site = organisation.get_site(site_id)
    form = SiteForm(prefix=f"s{site.id.hex[:8]}")
    done = submit(form, lambda: organisation.update_site(current_user, site, name=form.name.data,
                                                          timezone=form.timezone.data))
    if not done.saved:
        return _sites_page(status=done.status)
    flash(f"Site {site.name} saved.")
    return redirect(url_for("pages.org_sites"))


@bp.route("/organisation/sites/<uuid:site_id>/retire", methods=["POST"])
@allow("admin.organisation")
def org_site_retire(site_id):
    site = organisation.get_site(site_id)
    _retire(RetireForm(), lambda retired, anyway: organisation.update_site(
        current_user, site, retired=retired, even_with_open_work=anyway))
    return redirect(url_for("pages.org_sites"))


# --- areas ---------------------------------------------------------------------------------

def _area_form(formdata=None, current: User | None = None, **kwargs) -> AreaForm:
    form = AreaForm(formdata=formdata, **kwargs) if formdata is not None else AreaForm(formdata=None, **kwargs)
    return form.offer(organisation.sites_in_order(), _responsible_choices(current))


def _areas_page(form=None, status=200):
    filters = AreaFilterForm(request.args)
    filters.site.choices = record_options("Any", organisation.sites_in_order(True))
    query = organisation.area_query()
    if filters.validate():
        query = organisation.area_query(uuid_or_none(filters.site.data), (filters.q.data or "").strip() or None,
                                        bool(filters.retired.data))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("org_areas.html", page=page, filters=filters, form=form or _area_form(),
                           retire_form=RetireForm(formdata=None),
                           no_sites=not organisation.sites_in_order()), status


@bp.route("/organisation/areas")
@allow("admin.organisation")
def org_areas():
    return _areas_page()


@bp.route("/organisation/areas", methods=["POST"])
@allow("admin.organisation")
def org_area_create():
    form = _area_form(request.form)
    done = submit(form, lambda: organisation.create_area(
        current_user, organisation.get_site(uuid_or_none(form.site.data)), form.name.data,
        responsible=_chosen(User, form.responsible.data), risk_level=form.risk_level.data,
        audit_every_months=form.audit_every_months.data))
    if not done.saved:
        return _areas_page(form, done.status)
    flash(f"Area {done.result.label} added.")
    return redirect(url_for("pages.org_areas"))


@bp.route("/organisation/areas/<uuid:area_id>")
@allow("admin.organisation")
def org_area(area_id):
    area = organisation.get_area(area_id)
    form = _area_form(current=area.responsible, site=str(area.site_id), name=area.name,
                      responsible=str(area.responsible_id or ""),
                      risk_level=area.risk_level, audit_every_months=area.audit_every_months)
    return _area_page(area, form)


def _area_page(area, form, status=200):
    return render_template("org_area.html", area=area, form=form, retire_form=RetireForm(formdata=None),
                           work=organisation.open_work([area.id]), label_url=arealabels.label_url(area),
                           qr=arealabels.qr_svg(arealabels.label_url(area), f"QR code for {area.label}")), status


@bp.route("/areas/labels")
@allow("area.labels")
def area_labels():
    """A sheet of QR labels, one per area in use (of one site, or every site the person reviews), for A4."""
    scope = sites_in_scope(current_user)
    sites = [site for site in organisation.sites_in_order() if scope is None or site.id in scope]
    filters = LabelFilterForm(request.args)
    filters.site.choices = record_options("Every site", sites)
    site_id = uuid_or_none(filters.site.data) if filters.validate() else None
    base = invitations.base_url()
    labels = [(area, arealabels.qr_svg(arealabels.label_url(area, base), f"QR code for {area.label}"))
              for area in organisation.areas_for_labels(current_user, site_id)]
    site = next((s for s in sites if s.id == site_id), None)
    return render_template("area_labels.html", labels=labels, filters=filters, site=site)


@bp.route("/organisation/areas/<uuid:area_id>", methods=["POST"])
@allow("admin.organisation")
def org_area_update(area_id):
    area = organisation.get_area(area_id)
    form = _area_form(request.form, current=area.responsible)
    done = submit(form, lambda: organisation.update_area(
        current_user, area, site=organisation.get_site(uuid_or_none(form.site.data)), name=form.name.data,
        responsible=_chosen(User, form.responsible.data), risk_level=form.risk_level.data,
        audit_every_months=form.audit_every_months.data))
    if not done.saved:
        return _area_page(area, form, done.status)
    flash(f"Area {area.label} saved.")
    return redirect(url_for("pages.org_areas"))


@bp.route("/organisation/areas/<uuid:area_id>/retire", methods=["POST"])
@allow("admin.organisation")
def org_area_retire(area_id):
    area = organisation.get_area(area_id)
    _retire(RetireForm(), lambda retired, anyway: organisation.update_area(
        current_user, area, retired=retired, even_with_open_work=anyway))
    return redirect(url_for("pages.org_area", area_id=area.id))


# --- people --------------------------------------------------------------------------------

def _person_form(cls=PersonForm, formdata=None, **kwargs):
    form = cls(formdata=formdata, **kwargs) if formdata is not None else cls(formdata=None, **kwargs)
    return form.offer(areas_in_order(), organisation.sites_in_order())


def _people_page():
    filters = PeopleFilterForm(request.args)
    filters.site.choices = record_options("Any", organisation.sites_in_order(True))
    query = people.user_query()
    if filters.validate():
        state = filters.state.data
        query = people.user_query((filters.q.data or "").strip() or None, filters.role.data or None,
                                  uuid_or_none(filters.site.data), None,
                                  True if state == "active" else False if state == "inactive" else None)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("people.html", page=page, filters=filters)


@bp.route("/people")
@allow("admin.users")
def people_list():
    # The add form (every area as an option) has its own page, so the list stays quick at thousands.
    return _people_page()


@bp.route("/people/new")
@allow("admin.users")
def person_new(form=None, status=200):
    return render_template("person_new.html", form=form or _person_form()), status


def _deliver(link, user) -> None:
    delivery = invitations.deliver([link], inviter=current_user)[0]
    what = "An invitation" if link.purpose == invitations.INVITATION else "A password reset link"
    if delivery.sent:
        flash(f"{what} was emailed to {user.email}.")
    else:
        flash(f"{what} could not be emailed to {user.email}: {delivery.problem}")


@bp.route("/people", methods=["POST"])
@allow("admin.users")
def person_add():
    form = _person_form(formdata=request.form)

    def add():
        user = people.add_person(current_user, form.email.data, form.name.data, form.role.data,
                                 _chosen(Area, form.home_area.data), [_chosen(Site, s) for s in form.sites.data or []
                                                                      if _chosen(Site, s)])
        return user, invitations.issue(current_user, user)

    done = submit(form, add)
    if not done.saved:
        return person_new(form, done.status)
    user, link = done.result
    flash(f"{user.name} added.")
    _deliver(link, user)
    return redirect(url_for("pages.people_list"))


@bp.route("/people/<uuid:user_id>")
@allow("admin.users")
def person(user_id):
    user = people.get_user(user_id)
    form = _person_form(PersonChangeForm, name=user.name, role=user.role, home_area=str(user.home_area_id or ""),
                        sites=[str(site.id) for site in user.sites])
    return _person_page(user, form)


def _person_page(user, form, status=200):
    return render_template("person.html", person=user, form=form, action_form=ActionForm(formdata=None)), status


@bp.route("/people/<uuid:user_id>", methods=["POST"])
@allow("admin.users")
def person_update(user_id):
    user = people.get_user(user_id)
    form = _person_form(PersonChangeForm, formdata=request.form)
    done = submit(form, lambda: people.update_person(
        current_user, user, name=form.name.data, role=form.role.data, home_area=_chosen(Area, form.home_area.data),
        sites=[site for site in (_chosen(Site, s) for s in form.sites.data or []) if site]))
    if not done.saved:
        return _person_page(user, form, done.status)
    flash(f"{user.name} saved.")
    return redirect(url_for("pages.person", user_id=user.id))


@bp.route("/people/<uuid:user_id>/active", methods=["POST"])
@allow("admin.users")
def person_active(user_id):
    user = people.get_user(user_id)
    form = ActionForm()
    activate = request.form.get("active") == "1"
    done = submit(form, lambda: people.update_person(current_user, user, active=activate))
    if done.saved:
        flash(f"{user.name} is {'reactivated' if activate else 'deactivated: their sessions and tokens have ended'}.")
    return redirect(url_for("pages.person", user_id=user.id))


@bp.route("/people/<uuid:user_id>/link", methods=["POST"])
@allow("admin.users")
def person_link(user_id):
    user = people.get_user(user_id)
    done = submit(ActionForm(), lambda: invitations.issue(current_user, user))
    if done.saved:
        _deliver(done.result, user)
    return redirect(url_for("pages.person", user_id=user.id))


# --- bulk set-up from CSV --------------------------------------------------------------------

def _kind(kind: str) -> str:
    if kind not in org_csv.COLUMNS:
        raise NotFound("Import and export are of areas or users.")
    return kind


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/organisation/import")
@allow("admin.organisation")
def org_import():
    return render_template("org_import.html", form=ImportForm(formdata=None), result=None)


@bp.route("/organisation/import", methods=["POST"])
@allow("admin.organisation")
def org_import_run():
    """Check the file (dry run), or import it all or nothing."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("org_import.html", form=form, result=None), 422
    kind = form.kind.data
    raw = form.file.data.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors.append("Save the file as CSV UTF-8.")
        return render_template("org_import.html", form=form, result=None), 422
    if request.form.get("apply") != "1":
        result = org_csv.check(kind, text)
        return render_template("org_import.html", form=form, result=result, dry_run=True), 200
    try:
        applied = org_csv.apply(current_user, kind, text, invite=bool(form.invite.data))
    except DomainError as exc:
        db.session.rollback()
        return render_template("org_import.html", form=form, result=org_csv.check(kind, text), dry_run=False,
                               refused=exc.message), exc.status
    db.session.commit()
    flash(f"Imported. {applied.check.summary()}")
    if applied.invitations:
        deliveries = invitations.deliver(applied.invitations, inviter=current_user)
        failed = [d for d in deliveries if not d.sent]
        flash(f"{len(deliveries) - len(failed)} invitation(s) emailed" +
              (f"; {len(failed)} could not be: {failed[0].problem}" if failed else "."))
    return redirect(url_for("pages.org_import"))


@bp.route("/organisation/import/<kind>-template.csv")
@allow("admin.organisation")
def org_import_template(kind):
    return _csv(org_csv.template(_kind(kind)), f"gemba-{kind}-template.csv")


@bp.route("/organisation/export/<kind>.csv")
@allow("admin.organisation")
def org_export(kind):
    return _csv(org_csv.export(current_user, _kind(kind)), f"gemba-{kind}.csv")
