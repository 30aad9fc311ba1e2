"""Who may change a decided thing: a triaged finding's classification, an audit's sign-off.

- Once a supervisor has triaged (accepted) a finding, only reviewers change its kind, area,
  clause or title; the raiser's op is rejected with the reason, whatever else it carries.
- Segregation of duties: whoever audited an audit may not approve, return or reject it,
  reviewer or not.
"""

import pytest
from sqlalchemy import select

from server.errors import NotAllowed
from server.extensions import db
from server.models import AuditStatus, Finding, FindingStatus, Role
from server.services import audit_review, findings
from tests.register_helpers import submitted_audit
from tests.syncops import FieldDevice, wire


@pytest.fixture
def accepted(make, commit):
    area, other_area = make.area(), make.area()
    raiser = make.user(Role.STAFF, home_area=area)
    supervisor = make.user(Role.SUPERVISOR)
    finding = make.finding(area, raiser, title="Guard missing on press 4")
    audit_review.accept_finding(supervisor, finding)
    commit()
    return {"raiser": raiser, "supervisor": supervisor, "finding": finding, "other_area": other_area}


RECLASSIFY = {
    "kind": "observation",
    "title": "Nothing much",
    "clause": "4.1",
    "area_id": None,  # filled with the other area
}


def _change(accepted, name):
    return {name: str(accepted["other_area"].id) if name == "area_id" else RECLASSIFY[name]}


@pytest.mark.parametrize("name", sorted(RECLASSIFY))
def test_the_raiser_cannot_reclassify_a_triaged_finding_through_a_push(accepted, signed_in, name):
    finding, raiser = accepted["finding"], accepted["raiser"]
    before = {field: getattr(finding, field) for field in RECLASSIFY}
    device = FieldDevice(raiser)
    op = device.op("finding", finding.id, finding.version, **_change(accepted, name))
    auth = signed_in(raiser)

    response = auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]})

    assert response.status_code == 200, response.json
    [result] = response.json["results"]
    assert result["status"] == "rejected" and result["code"] == "forbidden"
    assert "only a reviewer" in result["reason"]
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert {field: getattr(finding, field) for field in RECLASSIFY} == before
    assert finding.status == FindingStatus.OPEN and finding.triaged_at is not None


def test_the_raiser_may_still_add_detail_and_resend_unchanged_fields(accepted):
    finding, raiser = accepted["finding"], accepted["raiser"]
    edit = findings.edit_finding(raiser, finding, {"description": "Seen again on the night shift.",
                                                   "title": finding.title, "kind": finding.kind},
                                 finding.version)
    assert edit.changed == ["description"]


def test_before_triage_the_raiser_may_reclassify(make, commit):
    area = make.area()
    raiser = make.user(Role.STAFF, home_area=area)
    finding = make.finding(area, raiser)
    edit = findings.edit_finding(raiser, finding, {"kind": "observation", "title": "Door ajar"}, finding.version)
    assert sorted(edit.changed) == ["kind", "title"]


def test_a_reviewer_may_reclassify_a_triaged_finding(accepted):
    finding = accepted["finding"]
    edit = findings.edit_finding(accepted["supervisor"], finding, {"kind": "major_nc", "clause": "8.5.1"},
                                 finding.version)
    assert sorted(edit.changed) == ["clause", "kind"]


def test_the_service_refuses_the_raiser_with_the_reason(accepted):
    with pytest.raises(NotAllowed) as refused:
        findings.edit_finding(accepted["raiser"], accepted["finding"], {"title": "Something else"},
                              accepted["finding"].version)
    assert "triaged" in refused.value.message


# --- segregation of duties ---------------------------------------------------------------

@pytest.fixture
def own_audit(make, commit):
    supervisor = make.user(Role.SUPERVISOR)
    audit = submitted_audit(auditor=supervisor)
    other = make.user(Role.SUPERVISOR)
    commit()
    return audit, supervisor, other


@pytest.mark.parametrize(("verb", "body"), [("approve", {}), ("return", {"comment": "Add Q2's photo."}),
                                            ("reject", {"reason": "Wrong area."})])
def test_a_reviewer_cannot_decide_on_their_own_audit(own_audit, signed_in, verb, body):
    audit, supervisor, other = own_audit
    mine = signed_in(supervisor)
    response = mine.post(f"/api/audits/{audit.id}/{verb}", json=body)
    assert response.status_code == 403
    assert "segregation of duties" in response.json["error"]["message"]
    assert db.session.get(type(audit), audit.id).status == AuditStatus.SUBMITTED
    # another reviewer may
    theirs = signed_in(other)
    assert theirs.post(f"/api/audits/{audit.id}/{verb}", json=body).status_code == 200


def test_the_services_refuse_it_too_and_the_audit_page_offers_no_decision(own_audit, register):
    audit, supervisor, _ = own_audit
    for decide in (lambda: audit_review.approve(supervisor, audit),
                   lambda: audit_review.return_audit(supervisor, audit, "fix"),
                   lambda: audit_review.reject(supervisor, audit, "no")):
        with pytest.raises(NotAllowed):
            decide()
    page = register(supervisor).text(f"/audits/{audit.id}")
    assert "Review decision" not in page


def test_an_admin_who_audited_may_not_approve_either(make, commit):
    admin = make.user(Role.ADMIN)
    audit = submitted_audit(auditor=admin)
    commit()
    with pytest.raises(NotAllowed):
        audit_review.approve(admin, audit)
    assert db.session.scalar(select(type(audit).status).where(type(audit).id == audit.id)) == AuditStatus.SUBMITTED
