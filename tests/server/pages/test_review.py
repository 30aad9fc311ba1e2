"""The supervisor's workflows through the register's forms, the way a browser submits them."""

from datetime import date, timedelta

import pytest

from server.extensions import db
from server.models import ActionStatus, Audit, AuditStatus, CorrectiveAction, Finding, FindingStatus, PhotoState, PhotoSubject
from server.services import evidence
from tests.register_helpers import jpeg, page_tokens, store_photo, submitted_audit


@pytest.fixture
def supervisor(make):
    return make.user("supervisor", name="Quinn Patel")


@pytest.fixture
def browser(register, supervisor):
    return register(supervisor)


def test_review_queue_lists_work_and_links_each_item(browser, make, commit):
    audit = submitted_audit()
    finding = make.finding(audit.area, make.user("staff"), title="Oil on the floor")
    commit()
    page = browser.get("/review").get_data(as_text=True)
    assert f"/audits/{audit.id}" in page and f"/findings/{finding.id}" in page
    assert "sync conflicts to resolve" in page
    assert 'href="/review"' in page  # in the register nav


def test_return_with_a_comment_then_approve_after_resubmission_then_reopen(browser, commit):
    audit = submitted_audit()
    commit()
    url = f"/audits/{audit.id}"
    empty = browser.post_form(url, f"{url}/return", "return", comment="")
    assert empty.status_code == 422
    assert "Say what the auditor should fix." in empty.get_data(as_text=True)
    returned = browser.post_form(url, f"{url}/return", "return", comment="Photo of the label on Q2, please.")
    assert returned.status_code == 302
    db.session.expire_all()
    audit = db.session.get(Audit, audit.id)
    assert audit.status == AuditStatus.RETURNED
    assert "Photo of the label on Q2, please." in browser.get(url).get_data(as_text=True)
    # The auditor resubmits (the field app does this through sync).
    audit.status = AuditStatus.SUBMITTED
    audit.bump(["status"])
    commit()
    approved = browser.post_form(url, f"{url}/approve", "approve", comment="")
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Audit, audit.id).status == AuditStatus.APPROVED
    page = browser.get(url).get_data(as_text=True)
    assert "locked" in page and "Approve audit" not in page
    no_reason = browser.post_form(url, f"{url}/reopen", "reopen", reason=" ")
    assert no_reason.status_code == 422
    assert browser.post_form(url, f"{url}/reopen", "reopen", reason="Complaint came in").status_code == 302
    db.session.expire_all()
    assert db.session.get(Audit, audit.id).status == AuditStatus.RETURNED


def test_a_stale_decision_shows_the_state_error_on_the_page(browser, commit):
    audit = submitted_audit()
    commit()
    url = f"/audits/{audit.id}"
    html = browser.get(url).get_data(as_text=True)
    token = page_tokens(html)["reject-csrf_token"]
    assert browser.post_form(url, f"{url}/approve", "approve").status_code == 302
    # A second tab still shows the reject form from before the approval.
    stale = browser.client.post(f"{url}/reject", data={"reject-csrf_token": token, "reject-reason": "nope"})
    assert stale.status_code == 409
    assert "cannot become rejected" in stale.get_data(as_text=True)


def test_a_finding_from_triage_to_verified_closure_through_the_pages(browser, make, commit):
    area = make.area()
    owner = make.user("staff", name="Olive Owner")
    finding = make.finding(area, make.user("staff"), title="Eye wash bottle expired")
    commit()
    url = f"/findings/{finding.id}"
    assert browser.post_form(url, f"{url}/triage", decision="reject").status_code == 422
    assert browser.post_form(url, f"{url}/triage", decision="accept").status_code == 302
    today = date.today().isoformat()
    whys = {"whys-0-why": "Why expired?", "whys-0-because": "Nobody checks the date.",
            "whys-1-why": "Why nobody?", "whys-1-because": "Not on any checklist."}
    incomplete = browser.post_form(url, f"{url}/actions", root_cause="", plan="Add to the weekly walk",
                           owner=str(owner.id), due_date=today, **whys)
    assert incomplete.status_code == 422
    assert "Name the root cause." in incomplete.get_data(as_text=True)
    no_whys = browser.post_form(url, f"{url}/actions", root_cause="No check", plan="Add it", owner=str(owner.id),
                        due_date=today)
    assert no_whys.status_code == 422
    assert "Ask why at least once" in no_whys.get_data(as_text=True)
    planned = browser.post_form(url, f"{url}/actions", containment="Bottle replaced", root_cause="Not on any checklist",
                        plan="Add eye wash dates to the weekly walk", owner=str(owner.id), due_date=today,
                        effectiveness_due=today, **whys)
    assert planned.status_code == 302, planned.get_data(as_text=True)[:2000]
    action = db.session.query(CorrectiveAction).one()
    assert [s["because"] for s in action.whys] == ["Nobody checks the date.", "Not on any checklist."]
    prefix = f"done-{action.id.hex[:8]}"
    assert browser.post_form(url, f"/actions/{action.id}/done", prefix, note="On the walk sheet now").status_code == 302
    prefix = f"check-{action.id.hex[:8]}"
    assert browser.post_form(url, f"/actions/{action.id}/effectiveness", prefix, result="not_effective").status_code == 422
    assert browser.post_form(url, f"/actions/{action.id}/effectiveness", prefix, result="effective",
                     note="Checked on three walks").status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.CLOSED
    assert db.session.get(CorrectiveAction, action.id).status == ActionStatus.EFFECTIVE
    assert "closed" in browser.get(url).get_data(as_text=True)


def test_editing_an_action_keeps_its_whys(browser, make, commit):
    finding = make.finding(make.area(), make.user("staff"))
    owner = make.user("staff")
    action = make.action(finding, owner, whys=[{"why": "Why A?", "because": "B"}], root_cause="R")
    commit()
    form = browser.get(f"/actions/{action.id}/edit").get_data(as_text=True)
    assert 'value="Why A?"' in form
    response = browser.post_form(f"/actions/{action.id}/edit", f"/actions/{action.id}/edit",
                         **{"whys-0-why": "Why A?", "whys-0-because": "B"}, root_cause="R", plan="Better plan",
                         owner=str(owner.id), due_date=(date.today() + timedelta(days=3)).isoformat())
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CorrectiveAction, action.id).plan == "Better plan"


def test_link_a_suggested_repeat_from_the_finding_page(browser, make, commit):
    from server.models import utcnow

    area, staff = make.area(), make.user("staff")
    earlier = make.finding(area, staff, title="Fire door wedged open", received_at=utcnow() - timedelta(days=40))
    new = make.finding(area, staff, title="Fire door wedged open again")
    commit()
    url = f"/findings/{new.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "Fire door wedged open" in page and "% alike" in page
    assert browser.post_form(url, f"{url}/repeat", repeat_of=str(earlier.id)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, new.id).repeat_of_id == earlier.id


def test_my_actions_for_an_owner(register, make):
    owner = make.user("staff")
    finding = make.finding(make.area(), make.user("staff"), title="Ladder tag missing")
    make.action(finding, owner, plan="Tag all ladders", due_date=date.today() - timedelta(days=1))
    make.action(finding, make.user("staff"), plan="Someone else's")
    page = register(owner).get("/my-actions", follow_redirects=True).get_data(as_text=True)
    assert "Tag all ladders" in page and "overdue" in page and "Someone else" not in page


def test_evidence_gallery_shows_stored_and_expected_photos(browser, make, commit):
    audit = submitted_audit()
    uploader = audit.auditor
    stored = store_photo(jpeg(), uploader)
    expected = store_photo(b"still on the tablet", state=PhotoState.EXPECTED)
    finding = make.finding(audit.area, uploader, audit_id=audit.id)
    evidence.link_photos(uploader, PhotoSubject.FINDING, finding.id, [stored.sha256, expected.sha256])
    commit()
    for url in (f"/findings/{finding.id}/evidence", f"/audits/{audit.id}/evidence"):
        page = browser.get(url).get_data(as_text=True)
        assert stored.sha256 in page and expected.sha256 in page
        assert f"/api/photos/{stored.sha256}?size=thumb" in page
        assert f"/api/photos/{stored.sha256}?size=original" in page
        assert "Expected evidence" in page and uploader.name in page
        assert f"/api/photos/{expected.sha256}?size=thumb" not in page


def test_staff_see_no_review_forms(register, make):
    staff = make.user("staff")
    finding = make.finding(make.area(), staff)
    pages = register(staff)
    page = pages.get(f"/findings/{finding.id}").get_data(as_text=True)
    assert 'id="triage"' not in page and "Plan a corrective action" not in page
    response = pages.post(f"/findings/{finding.id}/triage", {"decision": "accept"})
    assert response.status_code == 403
