"""The register pages: signing in through the form, the dashboard, lists and details."""

import re
from datetime import date, timedelta

import pytest

from server.models import (
    ActionStatus,
    AuditStatus,
    FindingKind,
    FindingStatus,
    Response,
)
from tests.factories import PASSWORD
from tests.register_helpers import RegisterPages

@pytest.fixture
def pages(register, supervisor):
    return register(supervisor)


def rows(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr>")


# --- signing in --------------------------------------------------------------------------

def test_sign_in_through_the_form_lands_on_the_dashboard(client, supervisor):
    response = RegisterPages(client).sign_in(supervisor)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/", follow_redirects=True).request.path == "/dashboard"


def test_wrong_password_shows_the_form_again(client, supervisor):
    response = RegisterPages(client).sign_in(supervisor, password="not the password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # still anonymous


def test_the_login_form_needs_its_csrf_token(client, supervisor):

    response = client.post("/login", data={"email": supervisor.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_anonymous_visitors_are_sent_to_login_and_back(client, supervisor):
    response = client.get("/findings?kind=major_nc")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    back = RegisterPages(client).sign_in(supervisor, next_url="/findings%3Fkind%3Dmajor_nc")
    assert back.headers["Location"] == "/findings?kind=major_nc"


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "%2F%2Fevil.example", "/%5Cevil.example",
])
def test_next_cannot_redirect_off_site(client, supervisor, target):
    response = RegisterPages(client).sign_in(supervisor, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location == "/"


def test_sign_out_needs_csrf_and_ends_the_session(pages):
    assert pages.client.post("/logout").status_code == 400
    pages.get("/dashboard")
    assert pages.post("/logout").status_code == 302
    assert pages.get("/dashboard").status_code == 302


# --- dashboard ---------------------------------------------------------------------------

def test_dashboard_shows_the_counts(pages, make, commit):
    area = make.area(name="Paint shop")
    staff = make.user()
    auditor = make.user("auditor")
    for kind in (FindingKind.MAJOR_NC, FindingKind.MINOR_NC, FindingKind.MINOR_NC):
        make.finding(area, staff, kind=kind)
    make.finding(area, staff, kind=FindingKind.OBSERVATION, status=FindingStatus.CLOSED)
    late = make.finding(area, staff, title="Guard missing on saw")
    make.action(late, staff, due_date=date.today() - timedelta(days=3))
    make.action(late, staff, due_date=date.today() - timedelta(days=3), status=ActionStatus.DONE)
    template = make.template()
    make.audit(template, area, auditor, planned_date=date.today())
    make.audit(template, area, auditor, status=AuditStatus.SUBMITTED)
    commit()
    html = pages.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<span class="n">4</span> open findings', html)
    assert re.search(r'<span class="n">1</span> overdue actions', html)
    assert re.search(r'<span class="n">1</span> audits awaiting review', html)
    assert "Guard missing on saw" in html
    assert "Test site / Paint shop" in html
    assert "No audit is planned for this month." not in html


def test_dashboard_is_not_for_staff(client, make, commit):
    staff = make.user()
    commit()
    RegisterPages(client).sign_in(staff)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/", follow_redirects=True).request.path == "/findings"


# --- lists -------------------------------------------------------------------------------

def test_audits_list_filters_and_paginates(pages, make, commit, app):
    size = app.config["PAGE_SIZE"]
    paint, dispatch = make.area(name="Paint"), make.area(name="Dispatch")
    auditor = make.user("auditor")
    template = make.template(questions=1)
    for n in range(size + 3):
        make.audit(template, paint, auditor, planned_date=date.today() + timedelta(days=n))
    make.audit(template, dispatch, auditor, status=AuditStatus.APPROVED)
    commit()
    first = pages.get("/audits").get_data(as_text=True)
    assert rows(first) == size and f"Page 1 of 2 · {size + 4} in all" in first
    second = pages.get("/audits?page=2").get_data(as_text=True)
    assert rows(second) == 4
    approved = pages.get("/audits?status=approved").get_data(as_text=True)
    assert rows(approved) == 1 and "Dispatch" in approved
    in_paint = pages.get(f"/audits?area={paint.id}&page=2").get_data(as_text=True)
    assert rows(in_paint) == 3


def test_findings_list_filters_and_paginates(pages, make, commit, app):
    size = app.config["PAGE_SIZE"]
    area, other = make.area(), make.area()
    staff = make.user()
    for n in range(size + 2):
        make.finding(area, staff, title=f"Leak {n}", clause="8.1.2")
    make.finding(other, staff, kind=FindingKind.MAJOR_NC, title="Blocked exit", clause="8.2")
    make.finding(other, staff, kind=FindingKind.MAJOR_NC, title="Old exit", clause="8.2", status=FindingStatus.CLOSED)
    commit()
    first = pages.get("/findings").get_data(as_text=True)
    assert rows(first) == size
    assert rows(pages.get("/findings?page=2").get_data(as_text=True)) == 4
    majors = pages.get("/findings?kind=major_nc&status=open_any").get_data(as_text=True)
    assert rows(majors) == 1 and "Blocked exit" in majors and "Old exit" not in majors
    assert rows(pages.get("/findings?clause=8.2").get_data(as_text=True)) == 2
    assert rows(pages.get("/findings?q=leak%201").get_data(as_text=True)) == 11  # Leak 1, Leak 10..19
    assert rows(pages.get(f"/findings?area={other.id}&status=closed").get_data(as_text=True)) == 1


LIST_HEADINGS = {"/audits": "<h1>Audits</h1>", "/findings": "<h1>Findings</h1>", "/actions": "<h1>Corrective actions</h1>",
                 "/programme": "<h1>Audit programme</h1>", "/trail": "<h1>Audit trail</h1>"}


@pytest.mark.parametrize("query", [
    "status=bogus", "area=not-a-uuid", "area=00000000-0000-0000-0000-000000000000", "page=abc", "page=-3",
    "page=999999", "kind=nonsense", "clause=" + "x" * 500, "q=%27%3B--", "status=open_any&page=0",
    "page=99999999999999999999", "page=%C2%B2",
])
@pytest.mark.parametrize("path", list(LIST_HEADINGS))
def test_bad_filter_values_do_not_break_the_lists(pages, make, commit, path, query):
    make.finding(make.area(), make.user())
    commit()
    response = pages.get(f"{path}?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert LIST_HEADINGS[path] in html and "</form>" in html  # the list with its filter, not an empty page


# --- detail pages ------------------------------------------------------------------------

def test_audit_page_shows_answers_findings_and_comments(pages, make, commit):
    from server.extensions import db

    area, auditor = make.area(), make.user("auditor", name="Ada Auditor")
    template = make.template(questions=4)
    audit = make.audit(template, area, auditor, status=AuditStatus.SUBMITTED, score=75.0)
    db.session.add(Response(audit_id=audit.id, question_id=template.questions[0].id, value="no", note="Two gauges overdue"))
    make.finding(area, auditor, audit_id=audit.id, title="Gauges out of calibration")
    make.comment(make.user("supervisor"), "Please add the gauge IDs.", audit_id=audit.id)
    commit()
    html = pages.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "Ada Auditor" in html and "1 of 4 answered" in html and "75%" in html
    assert "Two gauges overdue" in html and "Gauges out of calibration" in html and "Please add the gauge IDs." in html


def test_finding_page_shows_actions_and_comments(pages, make, commit):
    area, staff = make.area(), make.user(name="Sam Staff")
    finding = make.finding(area, staff, title="Frayed sling", description="Cut edges on the webbing")
    make.action(finding, staff, whys=[{"why": "Why frayed?", "because": "No pre-use check"}], root_cause="Untrained")
    make.comment(staff, "Sling destroyed.", finding_id=finding.id)
    commit()
    html = pages.get(f"/findings/{finding.id}").get_data(as_text=True)
    for text in ("Frayed sling", "Cut edges on the webbing", "Sam Staff", "Why frayed?", "No pre-use check", "Sling destroyed."):
        assert text in html


def test_unknown_records_are_404_pages(pages):
    missing = "00000000-0000-0000-0000-000000000000"
    assert pages.get(f"/audits/{missing}").status_code == 404
    assert pages.get(f"/findings/{missing}").status_code == 404
    assert pages.get("/findings/not-a-uuid").status_code == 404


def test_staff_cannot_open_another_users_finding(client, make, commit):
    area = make.area()
    me, someone = make.user(), make.user()
    mine = make.finding(area, me, title="My finding")
    theirs = make.finding(area, someone, title="Their finding")
    commit()
    RegisterPages(client).sign_in(me)
    opened = client.get(f"/findings/{mine.id}")
    assert opened.status_code == 200 and "<h1>My finding</h1>" in opened.get_data(as_text=True)
    refused = client.get(f"/findings/{theirs.id}")
    assert refused.status_code in (403, 404)
    assert "Their finding" not in refused.get_data(as_text=True)
    listed = client.get("/findings").get_data(as_text=True)
    assert "My finding" in listed and "Their finding" not in listed


def test_auditors_see_only_their_own_audits(client, make, commit):
    area = make.area()
    me, other = make.user("auditor"), make.user("auditor")
    template = make.template(questions=1)
    theirs = make.audit(template, area, other)
    mine = make.audit(template, area, me, planned_date=date.today() + timedelta(days=1))
    commit()
    RegisterPages(client).sign_in(me)
    opened = client.get(f"/audits/{mine.id}")
    assert opened.status_code == 200 and f"<h1>{template.name} <small>" in opened.get_data(as_text=True)
    assert client.get(f"/audits/{theirs.id}").status_code in (403, 404)
    assert rows(client.get("/audits").get_data(as_text=True)) == 1
