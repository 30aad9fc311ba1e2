"""Pull without HTTP: only what the user may see, each record once, in pages that resume."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Change, Finding, PhotoSubject, Response, TemplateStatus
from server.services import actions, conflicts, evidence, feed, programme, sync
from tests.register_helpers import jpeg, store_photo
from tests.syncops import SHA_A, FieldDevice


def keys(page) -> set[tuple[str, str]]:
    return {(c["entity"], c["id"]) for c in page.changes}


def everything(user, limit: int = 500) -> list[dict]:
    changes, cursor = [], 0
    while True:
        page = sync.pull(user, cursor, limit)
        changes.extend(page.changes)
        cursor = page.cursor
        if not page.more:
            return changes


@pytest.fixture
def org(make):
    """Two staff, two auditors, a supervisor; each with something of their own in the feed."""
    area = make.area()
    people = {
        "staff": make.user("staff", home_area=area),
        "staff2": make.user("staff", home_area=area),
        "auditor": make.user("auditor"),
        "auditor2": make.user("auditor"),
        "supervisor": make.user("supervisor"),
    }
    template = make.template()
    draft = make.template(status=TemplateStatus.DRAFT, name="Draft checklist")
    feed.publish("template", template.id, 1)
    feed.publish("template", draft.id, 1)
    audits = {name: make.audit(template, area, people[name]) for name in ("auditor", "auditor2")}
    for name, audit in audits.items():
        feed.publish("audit", audit.id, 1, area_id=area.id, user_id=people[name].id)
    devices = {name: FieldDevice(user) for name, user in people.items()}
    findings = {}
    for name in ("staff", "staff2"):
        record = uuid.uuid4()
        devices[name].push([devices[name].finding(area, record_id=record, title=f"{name}'s finding", photos=[SHA_A])])
        findings[name] = record
    answers = {}
    for name, audit in audits.items():
        op = devices[name].response(audit, template.questions[0], "yes")
        devices[name].push([op])
        answers[name] = op["id"]
    comment = uuid.uuid4()
    devices["supervisor"].push([devices["supervisor"].op("comment", comment, finding_id=str(findings["staff"]),
                                                         body="Which press?")])
    db.session.commit()
    return {"area": area, "people": people, "template": template, "draft": draft, "audits": audits,
            "findings": findings, "answers": answers, "comment": comment, "devices": devices}


def test_staff_see_their_own_findings_the_comments_on_them_and_published_checklists(org):
    seen = {(c["entity"], c["id"]) for c in everything(org["people"]["staff"])}
    assert seen == {
        ("template", str(org["template"].id)),
        ("finding", str(org["findings"]["staff"])),
        ("comment", str(org["comment"])),
    }


def test_auditors_see_their_audits_and_answers_but_not_anyone_elses(org):
    seen = {(c["entity"], c["id"]) for c in everything(org["people"]["auditor"])}
    assert ("audit", str(org["audits"]["auditor"].id)) in seen
    assert ("response", org["answers"]["auditor"]) in seen
    assert ("audit", str(org["audits"]["auditor2"].id)) not in seen
    assert ("response", org["answers"]["auditor2"]) not in seen
    assert not any(entity == "finding" for entity, _ in seen)
    assert ("template", str(org["draft"].id)) not in seen


def test_supervisors_see_everything_but_drafts(org):
    seen = {(c["entity"], c["id"]) for c in everything(org["people"]["supervisor"])}
    assert {("finding", str(f)) for f in org["findings"].values()} <= seen
    assert {("audit", str(a.id)) for a in org["audits"].values()} <= seen
    assert {("response", r) for r in org["answers"].values()} <= seen
    assert ("template", str(org["draft"].id)) not in seen


def test_changes_carry_the_record_as_it_is_now(org):
    [finding] = [c for c in everything(org["people"]["staff"]) if c["entity"] == "finding"]
    assert finding["deleted"] is False and finding["version"] == 1
    assert finding["fields"]["title"] == "staff's finding"
    assert finding["fields"]["photos"] == [SHA_A]
    assert finding["fields"]["raised_by_id"] == str(org["people"]["staff"].id)
    [template] = [c for c in everything(org["people"]["staff"]) if c["entity"] == "template"]
    assert len(template["fields"]["questions"]) == 4


def test_several_changes_of_one_record_in_a_page_collapse_to_the_latest(org):
    staff, device = org["people"]["staff"], org["devices"]["staff"]
    record = org["findings"]["staff"]
    device.push([device.op("finding", record, base_version=1, title="v2")])
    device.push([device.op("finding", record, base_version=2, title="v3")])
    changes = [c for c in everything(staff) if c["entity"] == "finding"]
    assert len(changes) == 1
    assert (changes[0]["version"], changes[0]["fields"]["title"]) == (3, "v3")


def test_pages_resume_from_the_cursor_and_say_when_there_is_more(org):
    supervisor = org["people"]["supervisor"]
    total = everything(supervisor)
    pages, cursor = [], 0
    while True:
        page = sync.pull(supervisor, cursor, 2)
        assert len(page.changes) <= 2
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            break
    assert len(pages) > 2
    assert all(p.more for p in pages[:-1])
    paged = [(c["entity"], c["id"]) for p in pages for c in p.changes]
    assert set(paged) == {(c["entity"], c["id"]) for c in total}  # a record changed later shows again later
    assert pages[-1].cursor == db.session.scalar(select(func.max(Change.seq)))
    assert sync.pull(supervisor, pages[-1].cursor, 2).changes == []


def test_the_cursor_moves_past_changes_the_user_may_not_see(org):
    staff = org["people"]["staff"]
    last = db.session.scalar(select(func.max(Change.seq)))
    page = sync.pull(staff, 0, 100)
    assert page.cursor == last and page.more is False
    other = org["devices"]["staff2"]
    other.push([other.finding(org["area"], title="Not yours")])
    later = sync.pull(staff, page.cursor, 100)
    assert later.changes == [] and later.cursor > page.cursor


def test_a_deleted_record_comes_as_a_tombstone_to_those_it_concerned(org):
    staff = org["people"]["staff"]
    cursor = sync.pull(staff, 0, 500).cursor
    gone = uuid.uuid4()
    feed.publish("finding", gone, 4, user_id=staff.id, deleted=True)
    feed.publish("finding", uuid.uuid4(), 2, user_id=org["people"]["staff2"].id, deleted=True)
    db.session.commit()
    page = sync.pull(staff, cursor, 500)
    assert page.changes == [{"entity": "finding", "id": str(gone), "version": 4, "deleted": True, "fields": None}]


def test_open_conflicts_reach_supervisors_and_the_person_whose_edit_was_held(org):
    supervisor, staff = org["people"]["supervisor"], org["people"]["staff"]
    record = org["findings"]["staff"]
    office = FieldDevice(supervisor)
    office.push([office.op("finding", record, base_version=1, title="Supervisor's title")])
    device = org["devices"]["staff"]
    device.push([device.op("finding", record, base_version=1, title="Staff title")])
    [conflict] = conflicts.open_conflicts(supervisor)

    for user in (supervisor, staff):
        held = [c for c in everything(user) if c["entity"] == "conflict"]
        assert [c["id"] for c in held] == [str(conflict.id)]
        assert held[0]["fields"]["device_value"] == "Staff title"
    assert not [c for c in everything(org["people"]["auditor"]) if c["entity"] == "conflict"]


def test_corrective_actions_reach_their_owner_with_the_finding_title_and_no_one_else(org, make):
    staff, staff2 = org["people"]["staff"], org["people"]["staff2"]
    finding = db.session.get(Finding, org["findings"]["staff2"])  # raised by someone else
    action = make.action(finding, staff, plan="Fit a guard to press 4")
    actions.publish_action(action)
    db.session.commit()
    [change] = [c for c in everything(staff) if c["entity"] == "action"]
    assert change["id"] == str(action.id)
    fields = change["fields"]
    assert (fields["finding_title"], fields["plan"], fields["status"]) == ("staff2's finding", "Fit a guard to press 4", "open")
    assert fields["due_date"] == action.due_date.isoformat() and fields["owner_id"] == str(staff.id)
    assert not any(c["entity"] == "action" for c in everything(staff2))
    assert not any(c["entity"] == "action" for c in everything(org["people"]["auditor"]))

    # Marked done from the owner's device: the next pull carries the new state.
    device = org["devices"]["staff"]
    [result] = device.push([device.op("action", action.id, base_version=action.version, done=True,
                                      done_note="Guard fitted")]).results
    assert result["status"] == "applied", result
    db.session.commit()
    [change] = [c for c in everything(staff) if c["entity"] == "action"]
    assert (change["fields"]["status"], change["fields"]["done_note"]) == ("done", "Guard fitted")
    assert change["fields"]["done_at"]


def test_an_audit_given_to_another_auditor_leaves_the_former_auditors_device(org, make):
    supervisor = org["people"]["supervisor"]
    template, area = org["template"], org["area"]
    former, successor = make.user("auditor", name="Former"), make.user("auditor", name="Successor")
    for auditor in (former, successor):
        programme.set_qualification(supervisor, auditor, "ISO 9001", None)
    audit = programme.plan_audit(supervisor, template, area, date.today() + timedelta(days=7), former)
    db.session.commit()
    cursors = {user.id: sync.pull(user, 0, 500).cursor
               for user in (former, successor, supervisor, org["people"]["auditor2"])}
    assert any(c["id"] == str(audit.id) for c in everything(former))

    programme.assign(supervisor, audit, successor)
    db.session.commit()

    def after(user):
        return [c for c in sync.pull(user, cursors[user.id], 500).changes if c["id"] == str(audit.id)]

    assert after(former) == [{"entity": "audit", "id": str(audit.id), "version": audit.version,
                              "deleted": True, "fields": None}]
    [given] = after(successor)
    assert not given["deleted"] and given["fields"]["auditor_id"] == str(successor.id)
    [seen] = after(supervisor)
    assert not seen["deleted"]  # the office still sees it
    assert not after(org["people"]["auditor2"])


def test_an_action_given_to_another_owner_leaves_the_former_owners_device(org, make):
    supervisor, staff, staff2 = org["people"]["supervisor"], org["people"]["staff"], org["people"]["staff2"]
    finding = db.session.get(Finding, org["findings"]["staff2"])  # raised by staff2
    plan = {"whys": [{"why": "Why no guard?", "because": "None was ordered"}], "root_cause": "No guard on order",
            "plan": "Fit a guard", "due_date": date.today() + timedelta(days=14)}
    action = actions.plan_action(supervisor, finding, plan | {"owner_id": staff.id})
    db.session.commit()
    assert {"action", "finding"} <= {c["entity"] for c in everything(staff)}
    cursor = sync.pull(staff, 0, 500).cursor
    successor = make.user("staff")

    actions.update_plan(supervisor, action, plan | {"owner_id": successor.id})
    db.session.commit()

    dropped = {(c["entity"], c["id"]): c["deleted"] for c in sync.pull(staff, cursor, 500).changes}
    assert dropped == {("action", str(action.id)): True, ("finding", str(finding.id)): True}
    assert {(c["entity"], c["deleted"]) for c in everything(successor) if c["id"] in (str(action.id), str(finding.id))} \
        == {("action", False), ("finding", False)}
    # The finding's own raiser keeps it.
    assert any(c["id"] == str(finding.id) and not c["deleted"] for c in everything(staff2))



def test_pull_sends_exactly_the_photos_a_person_may_fetch(make, client, auth, commit):
    """Who may see a photo is one rule: what pull sends a person is what GET /api/photos serves them."""
    area = make.area()
    raiser, owner, stranger = make.user("staff"), make.user("staff"), make.user("staff")
    auditor = make.user("auditor")
    finding = make.finding(area, raiser)
    action = make.action(finding, owner)
    audit = make.audit(make.template(), make.area(), auditor, status="in_progress")
    response = Response(audit_id=audit.id, question_id=audit.template.questions[0].id, value="yes")
    db.session.add(response)
    photos = [store_photo(jpeg(colour)) for colour in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    for subject, record, photo in ((PhotoSubject.FINDING, finding, photos[0]), (PhotoSubject.ACTION, action, photos[1]),
                                   (PhotoSubject.RESPONSE, response, photos[2])):
        db.session.flush()
        evidence.link_photos(None, subject, record.id, [photo.sha256])
        feed.publish("photo", photo.sha256, 1)
    commit()
    for person in (raiser, owner, stranger, auditor):
        pulled = {c["id"] for c in everything(person) if c["entity"] == "photo" and not c["deleted"]}
        auth.login(person)
        served = {p.sha256 for p in photos if client.get(f"/api/photos/{p.sha256}?size=original").status_code == 200}
        client.post("/api/auth/logout", headers=auth.headers())
        assert pulled == served, person.email
    # The raiser sees the action's evidence on their finding, as the register shows it.
    assert photos[1].sha256 in {c["id"] for c in everything(raiser) if c["entity"] == "photo"}
