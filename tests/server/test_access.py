"""Walk every page and API route as every role and anonymously: each gets the status it must.

A route missing from ACCESS fails the test, so a new route cannot ship without someone
deciding who may use it.
"""

import re
import uuid

import pytest

from server import access, create_app, security
from server.extensions import db
from tests.conftest import AuthActions, app_config

ROLES = ("anonymous", "staff", "auditor", "supervisor", "admin")
PUBLIC = set(ROLES)
SIGNED_IN = {"staff", "auditor", "supervisor", "admin"}
REVIEWERS = {"supervisor", "admin"}
# The audit in the world is assigned to the auditor; the finding was raised by staff.
AUDIT_VIEWERS = {"auditor", "supervisor", "admin"}
FINDING_VIEWERS = {"staff", "supervisor", "admin"}
REGISTER = {"auditor", "supervisor", "admin"}
# The corrective action in the world is owned by staff.
ACTION_WORKERS = {"staff", "supervisor", "admin"}
ADMIN = {"admin"}
# ...and so is the objective.
OBJECTIVE_OWNERS = {"staff", "supervisor", "admin"}

ACCESS: dict[str, set[str]] = {
    # sign-in, health, docs and static files
    "auth.login": PUBLIC, "auth.logout": PUBLIC, "pages.login": PUBLIC, "pages.logout": PUBLIC,
    "pages.welcome": PUBLIC,  # an invitation or reset link: the secret in the URL is the permission
    "health.healthz": PUBLIC, "api-docs.openapi_json": PUBLIC, "static": PUBLIC,
    "pwa.static_file": PUBLIC, "pwa.service_worker": PUBLIC,
    # identity, and what each person manages of their own account (an admin may revoke anyone's token)
    "account.list_sessions": SIGNED_IN, "account.end_session": SIGNED_IN, "account.list_tokens": SIGNED_IN,
    "account.create_token": SIGNED_IN, "account.revoke_token": SIGNED_IN, "account.change_password": SIGNED_IN,
    "pages.account": SIGNED_IN, "pages.account_password": SIGNED_IN, "pages.account_end_session": SIGNED_IN,
    "pages.account_token_create": SIGNED_IN, "pages.account_token_revoke": SIGNED_IN,
    # the field app's sync
    "auth.me": SIGNED_IN, "sync.bootstrap": SIGNED_IN, "sync.pull": SIGNED_IN, "sync.push": SIGNED_IN,
    "sync.snapshot": SIGNED_IN,
    # HEAD says the server has these bytes (so a device skips the upload) only to those who may see them.
    "photos.PhotoByHash": {"GET": FINDING_VIEWERS, "HEAD": FINDING_VIEWERS, "PUT": SIGNED_IN},
    "photos.ResumablePhotoUpload": {"HEAD": SIGNED_IN, "PUT": SIGNED_IN},
    # register pages everyone signed in has, scoped to what they may see
    "pages.home": SIGNED_IN, "pages.findings": SIGNED_IN, "pages.my_actions": SIGNED_IN,
    "pages.finding": FINDING_VIEWERS, "pages.finding_evidence": FINDING_VIEWERS,
    "review.my_actions": SIGNED_IN,
    "reports.findings_csv": SIGNED_IN, "reports.findings_xlsx": SIGNED_IN,
    "reports.actions_csv": SIGNED_IN, "reports.actions_xlsx": SIGNED_IN,
    "pages.dashboard": REGISTER, "pages.audits": REGISTER,
    "pages.audit": AUDIT_VIEWERS, "pages.audit_evidence": AUDIT_VIEWERS,
    "reports.audit_report": AUDIT_VIEWERS, "reports.evidence_pack": AUDIT_VIEWERS,
    # review, actions, conflicts, trail: supervisors and admins
    "pages.review_queue": REVIEWERS, "review.queue": REVIEWERS,
    "pages.approve_audit": REVIEWERS, "pages.return_audit": REVIEWERS, "pages.reject_audit": REVIEWERS,
    "pages.reopen_audit": REVIEWERS, "review.approve": REVIEWERS, "review.return_audit": REVIEWERS,
    "review.reject": REVIEWERS, "review.reopen": REVIEWERS,
    "pages.triage_finding": REVIEWERS, "review.triage": REVIEWERS,
    "pages.plan_action": REVIEWERS, "review.plan_action": REVIEWERS,
    "pages.link_repeat": REVIEWERS, "review.link_repeat": REVIEWERS, "review.repeat_suggestions": REVIEWERS,
    # Owners mark their actions done; re-planning an action is a supervisor's call.
    "pages.actions_list": SIGNED_IN, "pages.edit_action": REVIEWERS, "pages.action_done": ACTION_WORKERS,
    "review.update_action": REVIEWERS, "review.mark_done": ACTION_WORKERS,
    "pages.action_effectiveness": REVIEWERS, "review.effectiveness": REVIEWERS,
    "pages.conflicts_list": REVIEWERS, "pages.conflict_resolve": REVIEWERS,
    "pages.trail": REVIEWERS,
    # checklists and the programme
    "pages.checklist_list": REVIEWERS, "pages.checklist_create": REVIEWERS, "pages.checklist": REVIEWERS,
    "pages.checklist_delete": REVIEWERS, "pages.checklist_details": REVIEWERS,
    "pages.checklist_export": REVIEWERS, "pages.checklist_new_version": REVIEWERS,
    "pages.checklist_publish": REVIEWERS, "pages.checklist_retire": REVIEWERS,
    "pages.checklist_reviewed": REVIEWERS, "pages.checklist_diff": REVIEWERS, "pages.checklist_import": REVIEWERS,
    "pages.question_add": REVIEWERS, "pages.question_edit": REVIEWERS, "pages.question_delete": REVIEWERS,
    "pages.question_up": REVIEWERS, "pages.question_down": REVIEWERS,
    "pages.programme_list": REVIEWERS, "pages.programme_auditors": REVIEWERS, "pages.programme_audit": REVIEWERS,
    "pages.programme_assign": REVIEWERS, "pages.programme_remove": REVIEWERS,
    "pages.programme_reschedule": REVIEWERS, "pages.programme_calendar": REVIEWERS,
    "pages.programme_generate": REVIEWERS, "pages.programme_plan": REVIEWERS,
    "pages.qualification_set": REVIEWERS, "pages.qualification_delete": REVIEWERS,
    "pages.coverage_page": REVIEWERS, "pages.coverage_csv": REVIEWERS,
    "programme.list_audits": REVIEWERS, "programme.plan": REVIEWERS, "programme.assign": REVIEWERS,
    "programme.reschedule": REVIEWERS, "programme.suggestions": REVIEWERS,
    "programme.export": REVIEWERS, "programme.import_file": REVIEWERS,
    "pages.programme_areas": REVIEWERS, "pages.programme_area_update": REVIEWERS,
    # the organisation: sites, areas and people (admins)
    "organisation.list_sites": ADMIN, "organisation.create_site": ADMIN, "organisation.get_site": ADMIN,
    "organisation.change_site": ADMIN, "organisation.list_areas": ADMIN, "organisation.create_area": ADMIN,
    "organisation.get_area": ADMIN, "organisation.change_area": ADMIN, "organisation.list_users": ADMIN,
    "organisation.create_user": ADMIN, "organisation.get_user": ADMIN, "organisation.change_user": ADMIN,
    "organisation.send_link": ADMIN,
    # an area by the short code on its QR label: anyone signed in (every device holds the areas);
    # the label sheet: reviewers, for the sites they cover
    "organisation.area_by_code": SIGNED_IN, "pages.area_labels": REVIEWERS,
    "pages.org_sites": ADMIN, "pages.org_site_create": ADMIN, "pages.org_site_update": ADMIN,
    "pages.org_site_retire": ADMIN, "pages.org_areas": ADMIN, "pages.org_area_create": ADMIN, "pages.org_area": ADMIN,
    "pages.org_area_update": ADMIN, "pages.org_area_retire": ADMIN, "pages.people_list": ADMIN,
    "pages.person_add": ADMIN, "pages.person_new": ADMIN, "pages.person": ADMIN, "pages.person_update": ADMIN, "pages.person_active": ADMIN,
    "pages.person_link": ADMIN, "pages.org_import": ADMIN, "pages.org_import_run": ADMIN,
    "pages.org_import_template": ADMIN, "pages.org_export": ADMIN,
    "pages.setup": ADMIN, "pages.setup_checklist": ADMIN, "pages.account_timezone": SIGNED_IN,
    # notifications: each person's own; webhooks and polled events: admins; a calendar feed: its secret
    "notify.list_notifications": SIGNED_IN, "notify.mark_read": SIGNED_IN, "notify.get_preferences": SIGNED_IN,
    "notify.set_preference": SIGNED_IN, "notify.new_calendar": SIGNED_IN, "notify.revoke_calendar": SIGNED_IN,
    "pages.notifications": SIGNED_IN, "pages.notifications_read": SIGNED_IN,
    "pages.notifications_preferences": SIGNED_IN, "pages.notifications_calendar": SIGNED_IN,
    "pages.calendar_feed": PUBLIC,
    "notify.list_webhooks": {"admin"}, "notify.create_webhook": {"admin"}, "notify.get_webhook": {"admin"},
    "notify.list_deliveries": {"admin"}, "notify.resend_delivery": {"admin"}, "notify.list_events": {"admin"},
    "pages.webhooks_list": {"admin"}, "pages.webhook_page": {"admin"}, "pages.webhook_switch": {"admin"},
    "pages.webhook_resend": {"admin"},
    # sending an audit's report: whoever may see the audit (the loader decides)
    "notify.send_report": AUDIT_VIEWERS, "pages.audit_send_report": AUDIT_VIEWERS,
    # objectives: the one in the world is owned by staff
    "upkeep.list_objectives": SIGNED_IN, "upkeep.create_objective": REVIEWERS,
    "upkeep.get_objective": OBJECTIVE_OWNERS, "upkeep.add_measurement": OBJECTIVE_OWNERS,
    "upkeep.update_objective": REVIEWERS, "upkeep.retire_objective": REVIEWERS,
    "pages.objectives_list": SIGNED_IN, "pages.objective_create": REVIEWERS,
    "pages.objective_page": OBJECTIVE_OWNERS, "pages.objective_compute": OBJECTIVE_OWNERS,
    "pages.objective_retire": REVIEWERS,
    "upkeep.get_readiness": REVIEWERS, "pages.readiness_page": REVIEWERS,
    # management reviews: the one in the world is chaired by the supervisor; its output action is staff's
    "upkeep.list_reviews": REVIEWERS, "upkeep.open_review": REVIEWERS, "upkeep.get_review": REVIEWERS,
    "upkeep.update_review": REVIEWERS, "upkeep.add_review_action": REVIEWERS, "upkeep.sign_off_review": REVIEWERS,
    "upkeep.review_pack": REVIEWERS, "upkeep.review_action_done": ACTION_WORKERS,
    "pages.management_reviews_list": REVIEWERS, "pages.management_review_page": REVIEWERS,
    "pages.management_review_action": REVIEWERS, "pages.management_review_sign_off": REVIEWERS,
    "pages.review_action_done": ACTION_WORKERS,
    "upkeep.evidence_pack": REVIEWERS,
    # controlled documents: everyone reads released revisions; supervisors and admins manage them
    "documents.list_documents": SIGNED_IN, "documents.get_document": SIGNED_IN,
    "documents.revision_file": SIGNED_IN, "documents.register": REVIEWERS, "documents.add_revision": REVIEWERS,
    "documents.approve": REVIEWERS, "documents.reviewed": REVIEWERS,
    "documents.ask_acknowledgement": REVIEWERS, "documents.acknowledgements": REVIEWERS,
    "documents.acknowledge": SIGNED_IN, "documents.pending": SIGNED_IN,
    "pages.document_ask_acknowledgement": REVIEWERS, "pages.document_acknowledge": SIGNED_IN,
    "pages.documents_list": SIGNED_IN, "pages.document": SIGNED_IN, "pages.document_new": REVIEWERS,
    "pages.document_revise": REVIEWERS, "pages.document_approve": REVIEWERS, "pages.document_reviewed": REVIEWERS,
    # competence: the matrix and training records, for reviewers (of their sites)
    "competence.list_competences": REVIEWERS, "competence.create": REVIEWERS, "competence.add_requirement": REVIEWERS,
    "competence.add_record": REVIEWERS, "competence.record_training": REVIEWERS, "competence.matrix": REVIEWERS,
    "competence.matrix_csv": REVIEWERS, "competence.matrix_xlsx": REVIEWERS,
    "pages.competence_matrix": REVIEWERS, "pages.competence_add": REVIEWERS, "pages.competence_require": REVIEWERS,
    "pages.competence_record": REVIEWERS, "pages.competence_training": REVIEWERS,
}


# What a GET shows when it answers 200: a page's heading (its first <h1>, or its <title> when
# it has none), filled in from the world's records; for anything else, the media type. A page
# drawn empty, the wrong page or an error page sent with 200 fails the walk, and so does a new
# GET route until someone says here what it shows.
SHOWS: dict[str, str] = {
    "pages.login": "Sign in to Gemba", "pages.welcome": "Choose your password", "pages.dashboard": "Dashboard", "pages.audits": "Audits",
    "pages.audit": "{template_name}", "pages.audit_evidence": "Evidence: {template_name}, {area_label}",
    "pages.findings": "Findings", "pages.finding": "{finding_title}", "pages.finding_evidence": "Evidence: {finding_title}",
    "pages.actions_list": "Corrective actions", "pages.edit_action": "Edit corrective action",
    "pages.review_queue": "Review queue", "pages.conflicts_list": "Conflicts", "pages.trail": "Audit trail",
    "pages.checklist_list": "Checklists", "pages.checklist": "{template_name}", "pages.question_edit": "Question 1",
    "pages.checklist_diff": "{template_name}: v1 → v1", "pages.checklist_export": "application/json",
    "pages.programme_list": "Audit programme", "pages.programme_calendar": "Audit programme: ",
    "pages.programme_audit": "{area_label}", "pages.programme_auditors": "Auditors and competence",
    "pages.programme_areas": "Areas: risk and frequency", "pages.coverage_page": "Clause coverage",
    "pages.coverage_csv": "text/csv", "pwa.static_file": "Gemba field app", "pwa.service_worker": "text/javascript",
    "static": "text/css", "health.healthz": "application/json", "api-docs.openapi_json": "application/json",
    "reports.findings_csv": "text/csv", "reports.actions_csv": "text/csv",
    "reports.findings_xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "reports.actions_xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "reports.audit_report": "application/pdf", "reports.evidence_pack": "application/zip",
    "photos.PhotoByHash": "image/jpeg",
    "pages.account": "Account", "account.list_sessions": "application/json", "account.list_tokens": "application/json",
    "auth.me": "application/json", "sync.bootstrap": "application/json", "sync.pull": "application/json",
    "sync.snapshot": "application/json",
    "review.my_actions": "application/json", "review.queue": "application/json",
    "review.repeat_suggestions": "application/json", "programme.list_audits": "application/json",
    "programme.suggestions": "application/json", "programme.export": "application/json",
    "organisation.list_sites": "application/json", "organisation.get_site": "application/json",
    "organisation.list_areas": "application/json", "organisation.get_area": "application/json",
    "organisation.list_users": "application/json", "organisation.get_user": "application/json",
    "organisation.area_by_code": "application/json", "pages.area_labels": "QR labels for areas",
    "pages.org_sites": "Sites", "pages.org_areas": "Areas", "pages.org_area": "{area_label}",
    "pages.people_list": "People", "pages.person_new": "Add a person", "pages.person": "{user_name}", "pages.org_import": "Import sites, areas and people",
    "pages.org_import_template": "text/csv", "pages.org_export": "text/csv",
    "pages.setup": "Set up your organisation",
    "pages.notifications": "Notifications", "pages.webhooks_list": "Webhooks", "pages.webhook_page": "Webhook",
    "pages.calendar_feed": "text/calendar", "notify.list_notifications": "application/json",
    "notify.get_preferences": "application/json", "notify.list_webhooks": "application/json",
    "notify.get_webhook": "application/json", "notify.list_deliveries": "application/json",
    "notify.list_events": "application/json",
    "upkeep.list_objectives": "application/json", "upkeep.get_objective": "application/json",
    "pages.objectives_list": "Objectives", "pages.objective_create": "Set an objective",
    "pages.objective_page": "{objective_title}",
    "upkeep.get_readiness": "application/json", "pages.readiness_page": "Readiness: could an auditor turn up today?",
    "upkeep.list_reviews": "application/json", "upkeep.get_review": "application/json",
    "upkeep.review_pack": "application/pdf", "pages.management_reviews_list": "Management reviews",
    "pages.management_review_page": "Management review {review_period}",
    "upkeep.evidence_pack": "application/zip",
    "documents.list_documents": "application/json", "documents.get_document": "application/json",
    "documents.revision_file": "application/pdf", "pages.documents_list": "Documents",
    "documents.acknowledgements": "application/json", "documents.pending": "application/json",
    "pages.document": "{document_number}", "pages.document_new": "Register a document",
    "competence.list_competences": "application/json", "competence.matrix": "application/json",
    "competence.matrix_csv": "text/csv",
    "competence.matrix_xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pages.competence_matrix": "Competence",
}
HEADING, TITLE = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S), re.compile(r"<title>(.*?)</title>", re.S)

# Sign-in answers 401 to an empty form: that is its job, not a refusal.
SIGN_IN_FORMS = {"auth.login", "pages.login"}
ENDPOINT_VALUES = {"static": {"filename": "register.css"}}
ENDPOINT_QUERY = {"pages.checklist_diff": "?old={template_id}&new={template_id}",
                  "upkeep.evidence_pack": "?from=2026-01-01&to=2026-12-31"}


def _url(rule, values) -> str:
    def fill(match):
        name = match.group(2)
        if name not in values:
            raise KeyError(f"no world value for <{name}> in {rule.rule}")
        return str(values[name])

    return re.sub(r"<(?:([a-z]+):)?([a-z0-9_]+)>", fill, rule.rule)


def _shows(response, endpoint: str, values) -> str | None:
    """Say what is wrong with what a 200 answer to a GET shows, or None when it is what SHOWS expects."""
    if endpoint not in SHOWS:
        return "nothing in SHOWS says what this route shows"
    expected = SHOWS[endpoint].format(**values)
    if response.mimetype != "text/html":
        return None if response.mimetype == expected else f"sends {response.mimetype}, not {expected}"
    html = response.get_data(as_text=True)
    found = HEADING.search(html) or TITLE.search(html)
    heading = " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""
    return None if heading.startswith(expected) else f"is headed {heading!r}, not {expected!r}"


def _allowed(endpoint: str, method: str) -> set[str]:
    entry = ACCESS[endpoint]
    return entry[method] if isinstance(entry, dict) else entry


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"OPTIONS"}):
            if method == "HEAD" and "GET" in rule.methods and not (
                isinstance(ACCESS.get(rule.endpoint), dict) and "HEAD" in ACCESS[rule.endpoint]
            ):
                continue
            yield rule, method


def test_every_route_has_an_access_rule(app):
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ACCESS))
    assert not missing, f"decide who may use these routes and add them to ACCESS: {missing}"
    stale = sorted(set(ACCESS) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"ACCESS names routes that no longer exist: {stale}"


def test_every_route_declares_who_may_call_it(app):
    silent = sorted(
        f"{method} {rule.rule} [{rule.endpoint}]"
        for rule in app.url_map.iter_rules() if rule.endpoint not in security.FRAMEWORK_PUBLIC
        for method in rule.methods - {"OPTIONS"}
        if access.declared(app.view_functions[rule.endpoint], method) is None
    )
    assert not silent, "put @allow(...) on these routes:\n" + "\n".join(silent)


def test_a_route_that_declares_nothing_is_refused_to_everyone(database_url, tmp_path, make):
    app = create_app(app_config(database_url, tmp_path))

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    with app.app_context():
        admin = make.user("admin")
        db.session.commit()
        client = app.test_client()
        assert client.get("/forgotten").status_code == 403
        AuthActions(client).login(admin)
        response = client.get("/forgotten")
        assert response.status_code == 403 and b"secret" not in response.data


def test_options_is_flasks_own_answer_on_every_route_never_a_refusal(app, client, caplog):
    """OPTIONS runs no view and reads no body: Flask answers with the Allow header. It was a
    403 and an error in the log on class-based routes (the fuzzer sent it)."""
    from werkzeug.routing import IntegerConverter, UUIDConverter
    checked = 0
    for rule in app.url_map.iter_rules():
        if "OPTIONS" not in rule.methods or rule.endpoint in security.FRAMEWORK_PUBLIC:
            continue
        values = {name: (uuid.uuid4() if isinstance(converter, UUIDConverter)
                         else 7 if isinstance(converter, IntegerConverter) else "a" * 64)
                  for name, converter in rule._converters.items()}
        path = app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)
        response = client.options(path)
        assert response.status_code == 200 and response.headers["Allow"] and response.data == b"", path
        checked += 1
    assert checked > 100
    assert "declares no access" not in caplog.text


def test_allow_names_only_permissions_about_the_role():
    with pytest.raises(ValueError):
        access.allow("audit.view")  # needs the audit: that is the loader's job
    assert access.allow("audit.review")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_status_it_must(app, world, role):
    people, values = world
    client = app.test_client()
    auth = AuthActions(client)
    if role != "anonymous":
        assert auth.login(people[role]).status_code == 200
    wrong = []
    for rule, method in _routes(app):
        if rule.endpoint in {"auth.logout", "pages.logout"}:
            continue  # would end this walk's session; covered in test_auth
        url = _url(rule, values | ENDPOINT_VALUES.get(rule.endpoint, {}))
        url += ENDPOINT_QUERY.get(rule.endpoint, "").format(**values)
        response = client.open(url, method=method, headers=auth.headers(), follow_redirects=False)
        status = response.status_code
        allowed = role in _allowed(rule.endpoint, method)
        api = url.startswith("/api/")
        if status >= 500:
            ok = False
        elif allowed:
            refused = {403} if rule.endpoint in SIGN_IN_FORMS else {401, 403}
            ok = status not in refused and not (status == 302 and "/login" in response.headers.get("Location", ""))
            # A GET of a record the role may see must find it.
            ok = ok and not (method == "GET" and status == 404)
            # ...and show what it is.
            if ok and method == "GET" and status == 200 and (problem := _shows(response, rule.endpoint, values)):
                wrong.append(f"{method} {url} [{rule.endpoint}] {problem}")
        elif role == "anonymous":
            ok = status == 401 if api else (status == 302 and "/login" in response.headers["Location"])
        else:
            ok = status in (403, 404)
        if not ok:
            wrong.append(f"{method} {url} [{rule.endpoint}] -> {status}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_unknown_ids_are_404_not_500(app, world, auth):
    people, values = world
    auth.login(people["admin"])
    unknown = dict(values, session_id=uuid.uuid4(), site_id=uuid.uuid4(), user_id=uuid.uuid4(), area_id=uuid.uuid4(),
                   token_id=uuid.uuid4(), audit_id=uuid.uuid4(), action_id=uuid.uuid4(), finding_id=uuid.uuid4(),
                   template_id=uuid.uuid4(), question_id=uuid.uuid4(), conflict_id=uuid.uuid4(),
                   qualification_id=uuid.uuid4(), objective_id=uuid.uuid4(), review_id=uuid.uuid4(),
                   review_action_id=uuid.uuid4(), webhook_id=uuid.uuid4(), delivery_id=uuid.uuid4(),
                   document_id=uuid.uuid4(), competence_id=uuid.uuid4(), sha256="0" * 64,
                   filename="no-such-file.js", secret="no-such-link", code="ZZZZZZ", kind="nothing", token="no-such-calendar")
    wrong = []
    for rule, method in _routes(app):
        if method != "GET" or not rule.arguments:
            continue
        response = auth.client.get(_url(rule, unknown))
        if response.status_code != 404:
            wrong.append(f"GET {_url(rule, unknown)} -> {response.status_code}")
    assert not wrong, "\n".join(wrong)
