"""The objectives, readiness and management-review pages of the register."""

from datetime import date, timedelta

from server.extensions import db
from server.models import ManagementReview, Objective


def test_set_an_objective_measure_it_and_see_the_trend(register, supervisor, auditor, area):
    pages = register(supervisor)
    pages.get("/objectives/new")
    response = pages.post("/objectives/new", {
        "title": "Audits done on time", "standard": "ISO 9001", "clause": "6.2", "owner": str(auditor.id),
        "source": "manual", "direction": "at_least", "target_value": "95", "unit": "%", "every_months": "1",
        "area": f"area:{area.id}",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    objective = db.session.query(Objective).one()
    assert objective.area_id == area.id and objective.site_id == area.site_id
    url = f"/objectives/{objective.id}"
    pages.get(url)
    day = (date.today() - timedelta(days=1)).isoformat()
    assert pages.post(url, {"value": "90", "measured_on": day}).status_code == 302
    page = pages.text(url)
    assert "Off track" in page and '<svg' in page and 'class="measurement"' in page
    listed = pages.text("/objectives")
    assert 'data-status="off_track"' in listed and "Audits done on time" in listed
    pages.get(url)
    assert pages.post(f"{url}/retire").status_code == 302
    assert "Audits done on time" not in pages.text("/objectives").split("<h1>")[1].split("</table>")[0]
    assert "Retired" in pages.text(url)


def test_a_bad_objective_is_shown_back_with_reasons(register, supervisor):
    pages = register(supervisor)
    pages.get("/objectives/new")
    response = pages.post("/objectives/new", {"title": "", "target_value": "x", "owner": "", "source": "manual",
                                              "direction": "at_least", "every_months": "1"})
    assert response.status_code == 422
    assert db.session.query(Objective).count() == 0


def test_the_owner_is_reminded_on_the_dashboard(register, auditor):
    objective = Objective(title="Repeat findings down", owner_id=auditor.id, target_value=2, unit="findings",
                          direction="at_most")
    db.session.add(objective)
    page = register(auditor).text("/dashboard")
    assert "Your objectives to measure" in page and "Repeat findings down" in page


def test_a_management_review_through_the_register(register, supervisor, staff):
    owner = register(staff)  # first: clients share the test's `g`, where a rendered CSRF token lingers
    pages = register(supervisor)
    pages.get("/management-reviews")
    start, end = date.today() - timedelta(days=90), date.today() - timedelta(days=1)
    opened = pages.post("/management-reviews", {"period_start": start.isoformat(), "period_end": end.isoformat()})
    assert opened.status_code == 302, opened.get_data(as_text=True)[:3000]
    url = opened.headers["Location"]
    review = db.session.query(ManagementReview).one()
    pages.get(url)
    assert pages.post(url, {"attendees": "Quality manager\nPlant manager", "decisions": "Keep going.",
                            "customer_feedback": "No complaints."}).status_code == 302
    pages.get(url)
    refused = pages.post(f"{url}/actions", {"title": "", "owner": "", "due_date": ""})
    assert refused.status_code == 422
    added = pages.post(f"{url}/actions", {"title": "Audit the supplier", "owner": str(staff.id),
                                          "due_date": (date.today() + timedelta(days=30)).isoformat()})
    assert added.status_code == 302
    pages.get(url)
    assert pages.post(f"{url}/sign-off", {}).status_code == 302
    page = pages.text(url)
    assert "Signed off by" in page and "Audit the supplier" in page and "No complaints." in page
    db.session.expire_all()
    assert db.session.get(ManagementReview, review.id).status == "signed_off"
    mine = owner.text("/actions?owner=me&status=open")
    assert "Your actions from management reviews" in mine and "Audit the supplier" in mine
