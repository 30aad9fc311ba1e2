"""The objectives, readiness and management-review pages of the register."""

from datetime import date, timedelta

from server.extensions import db
from server.models import Objective


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
