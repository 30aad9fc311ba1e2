"""One rule per field, whichever path brings the value: a sync op, the API or a register form."""

from datetime import date

import pytest

from server.errors import Invalid
from server.extensions import db
from server.fieldrules import LIMITS, MAX_WHYS, FieldErrors
from server.models import CorrectiveAction
from tests.register_helpers import RegisterPages, page_tokens
from tests.syncops import FieldDevice

WHY = LIMITS["why"]


def steps(length: int, count: int = 1) -> list[dict]:
    return [{"why": "w" * length, "because": "b" * length} for _ in range(count)]


@pytest.mark.parametrize(("value", "problem"), [
    (steps(WHY), None),
    (steps(WHY + 1), "per why"),
    (steps(10, MAX_WHYS), None),
    (steps(10, MAX_WHYS + 1), f"At most {MAX_WHYS} whys"),
    ([{"why": "Why?", "because": ""}], "both a why and a because"),
    ([{"why": 3, "because": "x"}], "as text"),
    ("why", "must be a list"),
    ([], "at least once"),
])
def test_the_five_whys_rule(value, problem):
    errors = FieldErrors()
    errors.whys("whys", value)
    if problem is None:
        assert not errors
    else:
        assert problem in " ".join(errors.fields["whys"])


def test_text_is_stripped_and_held_to_its_kind_limit():
    errors = FieldErrors()
    assert errors.text("title", "  Guard  ", "title") == "Guard"
    errors.text("clause", "9" * (LIMITS["clause"] + 1), "clause")
    errors.text("plan", "", required=True, label="The plan")
    errors.text("note", 12)
    with pytest.raises(Invalid) as refused:
        errors.raise_if_any("Not valid.")
    assert set(refused.value.fields) == {"clause", "plan", "note"}
    assert refused.value.fields["plan"] == ["The plan is required."]


@pytest.fixture
def planned(make, commit):
    supervisor, owner = make.user("supervisor"), make.user("staff")
    finding = make.finding(make.area(), make.user("staff"))
    action = make.action(finding, owner)
    commit()
    return supervisor, owner, finding, action


def _by_sync(owner, action, whys) -> bool:
    device = FieldDevice(owner)
    result = device.push([device.op("action", action.id, base_version=action.version, whys=whys)])
    return result.results[0]["status"] == "applied"


def _by_api(auth, supervisor, owner, action, whys) -> bool:
    auth.login(supervisor)
    plan = {"whys": whys, "root_cause": "Cause", "plan": "Plan", "owner_id": str(owner.id),
            "due_date": date.today().isoformat()}
    response = auth.put(f"/api/actions/{action.id}", json=plan)
    assert response.status_code in (200, 422), response.json
    return response.status_code == 200


def _by_form(client, supervisor, owner, finding, whys) -> bool:
    assert RegisterPages(client).sign_in(supervisor).status_code == 302
    url = f"/findings/{finding.id}"
    token = page_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    data = {"csrf_token": token, "root_cause": "Cause", "plan": "Plan", "owner": str(owner.id),
            "due_date": date.today().isoformat()}
    for index, step in enumerate(whys):
        data |= {f"whys-{index}-why": step["why"], f"whys-{index}-because": step["because"]}
    response = client.post(f"{url}/actions", data=data)
    assert response.status_code in (302, 422)
    return response.status_code == 302


@pytest.mark.parametrize("path", ["sync", "api", "form"])
@pytest.mark.parametrize(("length", "accepted"), [(WHY, True), (WHY + 1, False)])
def test_a_why_has_one_limit_on_every_path(planned, auth, client, path, length, accepted):
    supervisor, owner, finding, action = planned
    whys = steps(length)
    if path == "sync":
        assert _by_sync(owner, action, whys) is accepted
    elif path == "api":
        assert _by_api(auth, supervisor, owner, action, whys) is accepted
    else:
        assert _by_form(client, supervisor, owner, finding, whys) is accepted
    db.session.expire_all()
    stored = db.session.scalars(db.select(CorrectiveAction)).all()
    assert any(a.whys == whys for a in stored) is accepted
