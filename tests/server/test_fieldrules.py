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


# Which rule each kind of text column is written under (the services' `errors.text(..., kind)`).
# A column narrower than its rule's limit passes on SQLite, which ignores lengths, and is a
# 500 on PostgreSQL ("value too long"): the fuzzer once found sites and areas named 200 characters.
COLUMN_RULES = {"name": "name", "signer_name": "name", "section": "name", "title": "title", "clause": "clause",
                "standard": "standard", "location": "location", "url": "url", "number": "document_number",
                "change_note": "change_note", "unit": "clause"}
# Columns of those names no person writes: the name of the trail's verification bookmark.
INTERNAL = {"trail_verified.name"}


def test_every_text_column_holds_the_longest_value_its_rule_lets_through():
    narrow = []
    checked = 0
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            rule = COLUMN_RULES.get(column.name)
            length = getattr(column.type, "length", None)
            if rule is None or length is None or f"{table.name}.{column.name}" in INTERNAL:
                continue
            checked += 1
            if length < LIMITS[rule]:
                narrow.append(f"{table.name}.{column.name}: {length} < LIMITS[{rule!r}] {LIMITS[rule]}")
    assert narrow == []
    assert checked >= 20  # the rules above still name real columns


@pytest.mark.parametrize("path", ["/api/sites", "/api/areas"])
def test_a_place_named_as_long_as_the_rule_allows_is_added_and_one_longer_is_refused(signed_in, admin, area, path):
    client = signed_in(admin)
    body = {"site_id": str(area.site_id)} if path == "/api/areas" else {"timezone": "UTC"}
    ok = client.post(path, json=body | {"name": "N" * LIMITS["name"]})
    assert ok.status_code == 201, ok.json
    refused = client.post(path, json=body | {"name": "M" * (LIMITS["name"] + 1)})
    assert refused.status_code == 422 and "name" in refused.json["error"]["fields"]


@pytest.mark.parametrize(("value", "kept"), [("1900-01-01", date(1900, 1, 1)), ("2199-12-31", date(2199, 12, 31)),
                                             ("1899-12-31", None), ("2200-01-01", None), (date(1, 1, 1), None),
                                             ("9999-12-31", None), ("31/01/2026", None)])
def test_a_date_is_a_day_of_the_range_every_path_takes(value, kept):
    errors = FieldErrors()
    assert errors.date("due_date", value) == kept
    assert bool(errors.fields) is (kept is None)
