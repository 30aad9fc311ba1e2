"""Repeat findings: suggested from the same clause and area within the window, linked by a supervisor."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Finding, FindingStatus, utcnow
from server.services import dashboard, repeats
from tests.register_helpers import events


@pytest.fixture
def setting(make):
    return {"area": make.area(), "other_area": make.area(), "staff": make.user("staff"),
            "supervisor": make.user("supervisor")}


def finding(make, setting, days_ago: int, title: str, clause: str = "8.5.1", area=None, **overrides) -> Finding:
    when = utcnow() - timedelta(days=days_ago)
    return make.finding(area or setting["area"], setting["staff"], title=title, clause=clause,
                        received_at=when, raised_at=when, **overrides)


def test_suggests_same_clause_and_area_within_the_window_most_alike_first(app, make, setting):
    alike = finding(make, setting, 30, "Fire door wedged open at goods in")
    unlike = finding(make, setting, 20, "Label missing on solvent drum")
    finding(make, setting, 10, "Fire door wedged open at goods in", clause="7.1")  # other clause
    finding(make, setting, 10, "Fire door wedged open at goods in", area=setting["other_area"])  # other area
    finding(make, setting, 400, "Fire door wedged open at goods in")  # outside the 365-day window
    finding(make, setting, 5, "Fire door wedged open", status=FindingStatus.REJECTED)  # rejected is no precedent
    new = finding(make, setting, 0, "Fire door wedged open again at goods in")
    suggestions = repeats.suggest(setting["supervisor"], new)
    assert [s.finding.id for s in suggestions] == [alike.id, unlike.id]
    assert suggestions[0].similarity > 0.8 > suggestions[1].similarity


def test_the_window_is_configurable(app, make, setting):
    earlier = finding(make, setting, 60, "Fire door wedged open")
    new = finding(make, setting, 0, "Fire door wedged open")
    assert [s.finding.id for s in repeats.suggest(setting["supervisor"], new)] == [earlier.id]
    app.config["REPEAT_WINDOW_DAYS"] = 30
    assert repeats.suggest(setting["supervisor"], new) == []


def test_without_a_clause_only_similar_text_is_suggested(app, make, setting):
    alike = finding(make, setting, 3, "Forklift parked in walkway", clause="")
    finding(make, setting, 3, "Eye wash station empty", clause="")
    new = finding(make, setting, 0, "Forklift parked in the walkway", clause="")
    assert [s.finding.id for s in repeats.suggest(setting["supervisor"], new)] == [alike.id]


def test_linking_a_repeat_through_the_api_flags_and_counts_it(auth, make, setting, commit):
    earlier = finding(make, setting, 30, "Fire door wedged open")
    new = finding(make, setting, 0, "Fire door wedged open again")
    commit()
    auth.login(setting["supervisor"])
    suggested = auth.client.get(f"/api/findings/{new.id}/repeat-suggestions").json["suggestions"]
    assert [s["id"] for s in suggested] == [str(earlier.id)]
    response = auth.post(f"/api/findings/{new.id}/repeat", json={"repeat_of_id": str(earlier.id)})
    assert response.status_code == 200
    assert response.json["repeat_of_id"] == str(earlier.id)
    assert events("finding.repeat_linked", new.id)[0].changes["repeat_of_id"] == [None, str(earlier.id)]
    assert dashboard.dashboard(setting["supervisor"]).repeat_count == 1
    assert repeats.repeat_counts() == {"total": 1, "open": 1}
    page = auth.client.get(f"/findings/{new.id}").get_data(as_text=True)
    assert "badge-repeat" in page and "Repeat of" in page


@pytest.mark.parametrize("which", ["itself", "newer"])
def test_a_repeat_must_be_an_earlier_finding(auth, make, setting, commit, which):
    earlier = finding(make, setting, 30, "Fire door wedged open")
    new = finding(make, setting, 0, "Fire door wedged open again")
    commit()
    auth.login(setting["supervisor"])
    target, of = (new, new) if which == "itself" else (earlier, new)
    response = auth.post(f"/api/findings/{target.id}/repeat", json={"repeat_of_id": str(of.id)})
    assert response.status_code == 422
    assert db.session.get(Finding, target.id).repeat_of_id is None


def test_staff_cannot_link_repeats(auth, make, setting, commit):
    earlier = finding(make, setting, 30, "Fire door wedged open")
    new = finding(make, setting, 0, "Fire door wedged open again")
    commit()
    auth.login(setting["staff"])
    assert auth.post(f"/api/findings/{new.id}/repeat", json={"repeat_of_id": str(earlier.id)}).status_code == 403
