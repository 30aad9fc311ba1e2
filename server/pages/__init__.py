"""The register: server-rendered pages for supervisors, auditors and admins."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import fieldrules, security
from ..access import PUBLIC, SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..ids import uuid_or_none
from ..permissions import can
from ..services import accounts, charts, inbox, listings, notify
from ..services import dashboard as dashboards
from ..services.audits import get_audit
from ..services.findings import get_finding
from ..services import organisation as organisation_service
from ..services.organisation import zone_of
from . import (  # noqa: F401  (each adds its routes to bp)
    account, actions, checklists, competence, conflicts, coverage, documents, notifications, organisation, programme,
    review, setup, trail, upkeep, welcome,
)
from .blueprint import bp
from .forms import AuditFilterForm, FindingFilterForm, LoginForm
from .params import areas_in_order, page_number

# Extra register sections add themselves here: {"endpoint", "label", "permission"}.
REGISTER_NAV: list[dict] = [
    {"endpoint": "pages.review_queue", "label": "Review", "permission": "audit.review"},
    {"endpoint": "pages.actions_list", "label": "Actions", "permission": "finding.list"},
    {"endpoint": "pages.trail", "label": "Trail", "permission": "trail.view"},
    {"endpoint": "pages.conflicts_list", "label": "Conflicts", "permission": "conflict.resolve"},
    {"endpoint": "pages.programme_list", "label": "Programme", "permission": "programme.plan"},
    {"endpoint": "pages.checklist_list", "label": "Checklists", "permission": "template.edit"},
    {"endpoint": "pages.coverage_page", "label": "Coverage", "permission": "programme.plan"},
    # Sites, areas and import/export are one click on from here (their pages share a sub-menu).
    {"endpoint": "pages.org_sites", "label": "Organisation", "permission": "admin.organisation"},
    {"endpoint": "pages.people_list", "label": "People", "permission": "admin.users"},
    {"endpoint": "pages.webhooks_list", "label": "Webhooks", "permission": "admin.webhooks"},
    {"endpoint": "pages.objectives_list", "label": "Objectives", "permission": "objective.list"},
    {"endpoint": "pages.readiness_page", "label": "Readiness", "permission": "readiness.view"},
    {"endpoint": "pages.management_reviews_list", "label": "Management review", "permission": "management_review.manage"},
    {"endpoint": "pages.documents_list", "label": "Documents", "permission": "document.list"},
    {"endpoint": "pages.competence_matrix", "label": "Competence", "permission": "competence.view"},
]


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    # Browsers read a backslash as a slash, so "/\evil.example" is "//evil.example" to them.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable():
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        who = security.client()
        try:
            user = accounts.sign_in(form.email.data, form.password.data, who)
        except DomainError as exc:
            db.session.commit()  # a failure is counted and in the trail even though we refuse
            form.password.errors.append(exc.message)
            status = exc.status
        else:
            security.sign_in(user, who)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted() and form.errors:
        status = 401
    return render_template("login.html", form=form, first_run=accounts.nobody_yet()), status


@bp.route("/logout", methods=["POST"])
@allow(PUBLIC)
def logout():
    security.sign_out()
    db.session.commit()
    flash("You are signed out.")
    return redirect(url_for("pages.login"))


@bp.route("/")
@allow(SIGNED_IN)
def home():
    # An admin of an organisation with nothing in it yet starts at the set-up steps.
    if can(current_user, "admin.organisation") and not organisation_service.sites_in_order():
        return redirect(url_for("pages.setup"))
    if can(current_user, "register.dashboard"):
        return redirect(url_for("pages.dashboard"))
    return redirect(url_for("pages.findings"))


@bp.route("/dashboard")
@allow("register.dashboard")
def dashboard():
    steps = organisation_service.setup_steps() if can(current_user, "admin.organisation") else []
    page = render_template("dashboard.html", board=dashboards.dashboard(current_user),
                           charts=charts.dashboard_charts(current_user), setup_steps=steps)
    db.session.commit()  # keeps the charts' snapshot of past months, when one was made
    return page


@bp.route("/audits")
@allow("audit.list")
def audits():
    form = AuditFilterForm(request.args, areas=areas_in_order())
    filters = {}
    if form.validate():
        filters = {"status": form.status.data or None, "area_id": uuid_or_none(form.area.data)}
    query = listings.audit_query(current_user, **filters)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("audits.html", form=form, page=page)


@bp.route("/audits/<uuid:audit_id>")
@allow(SIGNED_IN)
def audit(audit_id):
    audit = get_audit(current_user, audit_id)
    return render_template("audit.html", audit=audit, **listings.audit_detail(audit), **review.audit_forms(audit),
                           report_recipients=notify.report_recipients(audit))


@bp.route("/findings")
@allow("finding.list")
def findings():
    form = FindingFilterForm(request.args, areas=areas_in_order())
    filters = {}
    if form.validate():
        status = form.status.data or None
        filters = {
            "status": None if status == "open_any" else status,
            "open_only": status == "open_any",
            "kind": form.kind.data or None,
            "area_id": uuid_or_none(form.area.data),
            "clause": (form.clause.data or "").strip() or None,
            "text": (form.q.data or "").strip() or None,
        }
    query = listings.finding_query(current_user, **filters)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("findings.html", form=form, page=page)


@bp.route("/findings/<uuid:finding_id>")
@allow(SIGNED_IN)
def finding(finding_id):
    finding = get_finding(current_user, finding_id)
    return render_template("finding.html", finding=finding, **listings.finding_detail(finding),
                           **actions.finding_forms(finding))


@bp.app_template_global()
def page_url(page_number: int) -> str:
    args = request.args.to_dict()
    args["page"] = page_number
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.app_template_filter()
def human(value) -> str:
    return str(value or "").replace("_", " ")


@bp.app_template_filter()
def answer(value) -> str:
    """An answer as a reader sees it: a multiple choice as its options joined by commas."""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


@bp.app_template_filter()
def when(moment, place=None, time: bool = True) -> str:
    """A stored UTC moment as the place's clock shows it, with the zone named.

    `place` is a site, an area (its site's zone) or a zone name; none: UTC. A person who
    chose a zone on their Account page sees every time in theirs.
    """
    if moment is None:
        return "–"
    own = getattr(current_user, "timezone", None) if current_user else None
    zone = zone_of(own or place)
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M" if time else "%Y-%m-%d") + f" {zone.key}"


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["register_nav"] = REGISTER_NAV
    app.jinja_env.globals["unread_notifications"] = inbox.unread_count
    app.jinja_env.globals["carried_why"] = fieldrules.carried_why  # the five whys form shows the carried why
