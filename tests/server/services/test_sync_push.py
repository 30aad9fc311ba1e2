"""Push without HTTP: exactly once, in seq order, rejected ops never block, conflicts kept."""

import dataclasses
import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.errors import NotAllowed
from server.extensions import db
from server.models import (
    AuditStatus,
    Change,
    Conflict,
    Device,
    Event,
    Finding,
    FindingStatus,
    Photo,
    PhotoState,
    PhotoSubject,
    Response,
    SyncOp,
    utcnow,
)
from server.services import evidence, photos, trail
from server.services.sync import ENTITIES
from tests.register_helpers import jpeg
from tests.syncops import SHA_A, SHA_B, FieldDevice, row_counts, statuses


@pytest.fixture
def phone(staff):
    return FieldDevice(staff)


def test_a_finding_op_raises_the_finding_with_feed_and_trail(phone, area, staff):
    op = phone.finding(area, title="Spill kit empty", photos=[SHA_A], clause="8.1")
    result = phone.push([op])

    assert statuses(result) == ["applied"]
    assert result.results[0]["version"] == 1 and result.last_seq == 1
    finding = db.session.get(Finding, uuid.UUID(op["id"]))
    assert (finding.title, finding.raised_by_id, finding.status) == ("Spill kit empty", staff.id, FindingStatus.OPEN)
    assert finding.received_at >= finding.raised_at - timedelta(seconds=5)
    assert evidence.photos_of(PhotoSubject.FINDING, finding.id) == [SHA_A]
    assert db.session.get(Photo, SHA_A).state == PhotoState.EXPECTED  # not uploaded yet: expected evidence
    change = db.session.scalar(select(Change).where(Change.entity == "finding"))
    assert (change.entity_id, change.area_id, change.user_id) == (op["id"], area.id, staff.id)
    event = db.session.scalar(select(Event).where(Event.action == "finding.raised"))
    assert event.device_id == phone.id and event.actor_id == staff.id


def test_a_replayed_batch_is_all_duplicate_and_adds_no_rows(phone, area):
    ops = [phone.finding(area, title=f"Finding {i}") for i in range(5)]
    first = phone.push(ops)
    before = row_counts()

    again = phone.push(ops)

    assert statuses(first) == ["applied"] * 5
    assert statuses(again) == ["duplicate"] * 5
    assert [r["original_status"] for r in again.results] == ["applied"] * 5
    assert [r["version"] for r in again.results] == [r["version"] for r in first.results]
    assert row_counts() == before
    assert again.last_seq == 5


def test_a_lost_answer_is_answered_again_from_the_stored_result(phone, area):
    ops = [phone.finding(area), phone.finding(area, kind="not-a-kind")]
    phone.push(ops)  # committed; the device never heard the answer
    db.session.expire_all()

    replay = phone.push(ops)

    assert statuses(replay) == ["duplicate", "duplicate"]
    assert [r["original_status"] for r in replay.results] == ["applied", "rejected"]
    assert replay.results[1]["fields"] == {"kind": ["Must be one of major_nc, minor_nc, observation, improvement."]}
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_a_batch_rolled_back_by_the_server_is_applied_in_full_on_retry(phone, area):
    db.session.commit()
    ops = [phone.finding(area), phone.finding(area)]
    phone.push(ops, commit=False)
    db.session.rollback()  # the server died before committing

    result = phone.push(ops)

    assert statuses(result) == ["applied", "applied"]
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 2


def test_a_seq_gap_stops_processing_and_last_seq_says_where_to_resume(phone, area):
    ops = [phone.finding(area, title=f"F{i}") for i in range(1, 6)]
    result = phone.push([ops[0], ops[1], ops[3], ops[4]])

    assert statuses(result) == ["applied", "applied"]
    assert [r["op_id"] for r in result.results] == [str(ops[0]["op_id"]), str(ops[1]["op_id"])]
    assert result.last_seq == 2
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 2

    resumed = phone.push(ops[2:])

    assert statuses(resumed) == ["applied"] * 3 and resumed.last_seq == 5
    titles = db.session.scalars(select(Finding.title).order_by(Finding.title)).all()
    assert titles == ["F1", "F2", "F3", "F4", "F5"]


def test_ops_are_applied_in_seq_order_whatever_order_they_arrive_in(phone, area):
    record = uuid.uuid4()
    create = phone.finding(area, record_id=record, title="first")
    edit = phone.op("finding", record, title="second")
    result = phone.push([edit, create])

    assert [r["op_id"] for r in result.results] == [str(create["op_id"]), str(edit["op_id"])]
    assert statuses(result) == ["applied", "applied"]
    assert db.session.get(Finding, record).title == "second"


def test_a_seq_reused_by_another_op_is_rejected_without_being_stored(phone, area):
    phone.push([phone.finding(area)])
    impostor = phone.finding(area)
    impostor["seq"] = 1

    result = phone.push([impostor])

    assert statuses(result) == ["rejected"] and result.results[0]["code"] == "seq_reused"
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 1


def test_a_rejected_op_counts_as_processed_and_does_not_block_the_next(phone, area):
    ops = [
        phone.finding(area, title="Good one"),
        phone.finding(area, title=""),
        phone.finding(area, area_id=str(uuid.uuid4())),
        phone.finding(area, unknown_field="x"),
        phone.finding(area, title="Also good"),
    ]
    result = phone.push(ops)

    assert statuses(result) == ["applied", "rejected", "rejected", "rejected", "applied"]
    assert result.last_seq == 5
    assert result.results[1]["fields"] == {"title": ["Required."]}
    assert result.results[2]["fields"] == {"area_id": ["There is no such area."]}
    assert "unknown_field" in result.results[3]["fields"]
    assert set(db.session.scalars(select(Finding.title))) == {"Good one", "Also good"}
    assert db.session.scalar(select(func.count()).select_from(SyncOp).where(SyncOp.status == "rejected")) == 3


def test_a_rejected_op_leaves_nothing_behind(phone, area, make):
    auditor = make.user("auditor")
    other = make.audit(make.template(), area, auditor)
    before = row_counts()

    result = phone.push([phone.finding(area, audit_id=str(other.id), photos=[SHA_B])])

    assert statuses(result) == ["rejected"]
    assert result.results[0]["fields"] == {"audit_id": ["Only the audit's auditor may raise findings from it."]}
    after = row_counts()
    assert after["Finding"] == before["Finding"] and after["Change"] == before["Change"]
    assert after["Event"] == before["Event"]
    assert db.session.get(Photo, SHA_B) is None


def test_a_device_belongs_to_the_first_user_who_pushes_with_it(phone, area, make):
    phone.push([phone.finding(area)])
    thief = FieldDevice(make.user("staff"), device_id=phone.id)
    thief.seq = 1

    with pytest.raises(NotAllowed) as refused:
        thief.push([thief.finding(area)])

    assert refused.value.code == "device_owner"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1
    assert db.session.get(Device, phone.id).last_seq == 1


def test_a_repeated_op_inside_one_batch_is_a_duplicate(phone, area):
    op = phone.finding(area)
    result = phone.push([op, op])
    assert statuses(result) == ["applied", "duplicate"]
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_a_finding_id_taken_by_someone_else_is_rejected_not_overwritten(phone, area, make):
    other = make.user("staff")
    taken = make.finding(area, other, title="Theirs")
    result = phone.push([phone.finding(area, record_id=taken.id, title="Mine")])
    assert statuses(result) == ["rejected"] and result.results[0]["code"] == "forbidden"
    assert db.session.get(Finding, taken.id).title == "Theirs"


def test_a_finding_in_the_future_is_refused(phone, area):
    result = phone.push([phone.finding(area, raised_at=(utcnow() + timedelta(days=3)).isoformat())])
    assert result.results[0]["fields"] == {"raised_at": ["Lies in the future; check the device clock."]}


# ---------------------------------------------------------------- conflicts

def test_edits_of_different_fields_from_two_devices_merge(phone, area, supervisor):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="Leak at valve", description="")])
    office = FieldDevice(supervisor)

    a = phone.push([phone.op("finding", record, base_version=1, description="Drips every 5 s")])
    b = office.push([office.op("finding", record, base_version=1, location="Boiler house")])

    assert statuses(a) == statuses(b) == ["applied"]
    finding = db.session.get(Finding, record)
    assert (finding.description, finding.location, finding.version) == ("Drips every 5 s", "Boiler house", 3)
    assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0


def test_the_same_field_changed_on_both_sides_is_a_conflict_with_both_values(phone, area, supervisor):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="Leak at valve")])
    office = FieldDevice(supervisor)
    office.push([office.op("finding", record, base_version=1, title="Leak at valve V-12")])

    result = phone.push([phone.op("finding", record, base_version=1, title="Leak at valve 12", location="Boiler")])

    assert statuses(result) == ["conflict"]
    [held] = result.results[0]["conflicts"]
    assert (held["field"], held["server_value"], held["device_value"]) == ("title", "Leak at valve V-12", "Leak at valve 12")
    finding = db.session.get(Finding, record)
    assert finding.title == "Leak at valve V-12"  # the server value stays
    assert finding.location == "Boiler"  # the other field merged
    conflict = db.session.scalar(select(Conflict))
    assert (conflict.entity, conflict.entity_id, conflict.field) == ("finding", str(record), "title")
    assert (conflict.server_value, conflict.device_value, conflict.status) == ("Leak at valve V-12", "Leak at valve 12", "open")
    assert (conflict.base_version, conflict.device_id, conflict.op_id) == (1, phone.id, result.results[0] and conflict.op_id)
    assert db.session.scalar(select(Change).where(Change.entity == "conflict")).entity_id == str(conflict.id)


def test_the_same_value_on_both_sides_is_no_conflict(phone, area, supervisor):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="Leak")])
    office = FieldDevice(supervisor)
    office.push([office.op("finding", record, base_version=1, title="Leak at V-12")])
    result = phone.push([phone.op("finding", record, base_version=1, title="Leak at V-12")])
    assert statuses(result) == ["applied"]
    assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0


def test_queued_edits_without_a_base_follow_the_devices_own_previous_op(phone, area):
    record = uuid.uuid4()
    ops = [phone.finding(area, record_id=record, title="one"), phone.op("finding", record, title="two")]
    first = phone.push(ops)
    later = phone.push([phone.op("finding", record, title="three")])
    assert statuses(first) == ["applied", "applied"] and statuses(later) == ["applied"]
    assert db.session.get(Finding, record).title == "three"


def test_a_stale_edit_cannot_reopen_a_closed_finding(phone, area, supervisor):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record)])
    finding = db.session.get(Finding, record)
    finding.status = FindingStatus.CLOSED
    finding.bump(["status"])
    db.session.commit()
    office = FieldDevice(supervisor)

    staff_edit = phone.push([phone.op("finding", record, base_version=1, title="Still broken")])
    reopen = office.push([office.op("finding", record, base_version=1, status="open")])

    assert statuses(staff_edit) == ["rejected"] and statuses(reopen) == ["rejected"]
    assert reopen.results[0]["code"] == "state"
    assert db.session.get(Finding, record).status == FindingStatus.CLOSED


def test_staff_cannot_triage_their_own_finding(phone, area):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record)])
    result = phone.push([phone.op("finding", record, base_version=1, status="closed")])
    assert statuses(result) == ["rejected"] and result.results[0]["code"] == "forbidden"


# ---------------------------------------------------------------- audits and answers

@pytest.fixture
def audit(make, template, area, auditor):
    return make.audit(template, area, auditor)


@pytest.fixture
def tablet(auditor):
    return FieldDevice(auditor)


def answers(tablet, audit, template, values=("yes", "pass", 4, "All labelled")):
    return [tablet.response(audit, q, v) for q, v in zip(template.questions, values)]


def test_an_audit_is_started_answered_and_submitted_with_a_score(tablet, audit, template):
    start = tablet.op("audit", audit.id, base_version=1, status="in_progress")
    given = answers(tablet, audit, template, ("yes", "fail", 4, "ok"))
    submit = tablet.op("audit", audit.id, status="submitted", summary="Tidy, one gap")
    result = tablet.push([start, *given, submit])

    assert statuses(result) == ["applied"] * 6
    db.session.refresh(audit)
    assert audit.status == AuditStatus.SUBMITTED and audit.started_at and audit.submitted_at
    assert audit.summary == "Tidy, one gap"
    assert audit.score == pytest.approx(100 * (1 + 0 + 0.8) / 3, abs=0.1)


def test_answering_a_planned_audit_starts_it(tablet, audit, template):
    result = tablet.push(answers(tablet, audit, template)[:1])
    assert statuses(result) == ["applied"]
    db.session.refresh(audit)
    assert audit.status == AuditStatus.IN_PROGRESS


def test_submit_is_refused_while_required_questions_are_open(tablet, audit, template):
    given = answers(tablet, audit, template, ("yes", "pass"))
    result = tablet.push([*given, tablet.op("audit", audit.id, status="submitted")])
    assert statuses(result) == ["applied", "applied", "rejected"]
    assert set(result.results[2]["fields"]) == {str(q.id) for q in template.questions[2:]}
    db.session.refresh(audit)
    assert audit.status == AuditStatus.IN_PROGRESS


def test_an_answer_that_calls_for_a_photo_blocks_submit_until_it_has_one(tablet, audit, template):
    question = template.questions[0]
    question.photo_answers = ["no"]
    db.session.commit()
    ops = answers(tablet, audit, template, ("no", "pass", 3, "x"))
    refused = tablet.push([*ops, tablet.op("audit", audit.id, status="submitted")])
    response_id = ops[0]["id"]
    link = tablet.op("photo_link", subject="response", subject_id=response_id, sha256=SHA_A)
    accepted = tablet.push([link, tablet.op("audit", audit.id, status="submitted")])

    assert statuses(refused)[-1] == "rejected"
    assert "needs a photo" in refused.results[-1]["fields"][str(question.id)][0]
    assert statuses(accepted) == ["applied", "applied"]
    assert evidence.photos_of(PhotoSubject.RESPONSE, uuid.UUID(response_id)) == [SHA_A]


def test_a_submitted_audit_is_read_only_to_its_auditor(tablet, audit, template):
    tablet.push([*answers(tablet, audit, template), tablet.op("audit", audit.id, status="submitted")])
    late = tablet.push([tablet.response(audit, template.questions[0], "no")])
    assert statuses(late) == ["rejected"] and "until it is submitted" in late.results[0]["reason"]


@pytest.mark.parametrize(("position", "value", "ok"), [
    (0, "yes", True), (0, "na", True), (0, "maybe", False), (0, True, False),
    (1, "pass", True), (1, "no", False),
    (2, 0, True), (2, 5, True), (2, 5.5, False), (2, -1, False), (2, "3", False),
    (3, "free text", True), (3, 12, False),
])
def test_answers_are_checked_against_the_question_kind(tablet, audit, template, position, value, ok):
    result = tablet.push([tablet.response(audit, template.questions[position], value)])
    assert statuses(result) == ["applied" if ok else "rejected"]


def test_choice_number_and_date_answers(make, area, auditor):
    template = make.template(questions=0)
    from server.models import Question, QuestionKind

    for position, (kind, options) in enumerate([(QuestionKind.CHOICE, ["red", "amber"]), (QuestionKind.NUMBER, []),
                                                (QuestionKind.DATE, [])], start=1):
        template.questions.append(Question(section="S", position=position, text=kind, kind=kind, options=options))
    db.session.flush()
    audit = make.audit(template, area, auditor)
    tablet = FieldDevice(auditor)
    choice, number, day = template.questions
    result = tablet.push([
        tablet.response(audit, choice, "amber"), tablet.response(audit, number, 12.5),
        tablet.response(audit, day, "2026-02-30"), tablet.response(audit, day, "2026-02-27"),
        tablet.response(audit, choice, "green"),
    ])
    assert statuses(result) == ["applied", "applied", "rejected", "applied", "rejected"]


def test_someone_elses_audit_cannot_be_answered(audit, template, make):
    stranger = FieldDevice(make.user("auditor"))
    result = stranger.push([stranger.response(audit, template.questions[0], "yes"),
                            stranger.op("audit", audit.id, status="in_progress")])
    assert statuses(result) == ["rejected", "rejected"]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_question_from_another_checklist_is_refused(tablet, audit, make):
    other = make.template()
    result = tablet.push([tablet.response(audit, other.questions[0], "yes")])
    assert result.results[0]["fields"] == {"question_id": ["This question is not part of the audit's checklist."]}


def test_two_devices_answering_one_question_conflict_instead_of_overwriting(audit, template, auditor):
    first, second = FieldDevice(auditor), FieldDevice(auditor)
    question = template.questions[0]
    a = first.push([first.response(audit, question, "yes")])
    b = second.push([second.response(audit, question, "no", note="Seen at 10:00")])

    assert statuses(a) == ["applied"] and statuses(b) == ["conflict"]
    response = db.session.scalar(select(Response))
    assert (response.value, response.note) == ("yes", "Seen at 10:00")
    conflict = db.session.scalar(select(Conflict))
    assert (conflict.entity, conflict.field, conflict.server_value, conflict.device_value) == ("response", "value", "yes", "no")


def test_an_adhoc_audit_is_created_for_an_area_not_the_auditors_own(tablet, template, area, auditor):
    audit_id = uuid.uuid4()
    own = tablet.op("audit", template_id=str(template.id), area_id=str(auditor.home_area_id), status="in_progress")
    fine = tablet.op("audit", audit_id, template_id=str(template.id), area_id=str(area.id), status="in_progress")
    result = tablet.push([own, fine])

    assert statuses(result) == ["rejected", "applied"]
    assert result.results[0]["code"] == "impartiality"
    from server.models import Audit

    audit = db.session.get(Audit, audit_id)
    assert (audit.auditor_id, audit.status, audit.planned_date) == (auditor.id, AuditStatus.IN_PROGRESS, None)


def test_staff_cannot_start_an_adhoc_audit(phone, template, area):
    result = phone.push([phone.op("audit", template_id=str(template.id), area_id=str(area.id))])
    assert statuses(result) == ["rejected"]


# ---------------------------------------------------------------- comments, actions, photos

def test_staff_comment_on_their_own_finding_but_not_on_others(phone, area, make):
    record = uuid.uuid4()
    theirs = make.finding(area, make.user("staff"))
    result = phone.push([
        phone.finding(area, record_id=record),
        phone.op("comment", finding_id=str(record), body="Photo added of the label"),
        phone.op("comment", finding_id=str(theirs.id), body="Me too"),
        phone.op("comment", body="Nowhere"),
    ])
    assert statuses(result) == ["applied", "applied", "rejected", "rejected"]


def test_an_action_owner_reports_progress_and_done_from_the_field(phone, area, staff, make):
    finding = make.finding(area, make.user("staff"), status=FindingStatus.ACTION_PLANNED)
    action = make.action(finding, staff)
    stranger = FieldDevice(make.user("staff"))
    whys = [{"why": "Door wedged", "because": "Too heavy"}]

    result = phone.push([
        phone.op("action", action.id, base_version=1, containment="Door closed", whys=whys, root_cause="Heavy door"),
        phone.op("action", action.id, done=True, done_note="Closer fitted"),
    ])
    refused = stranger.push([stranger.op("action", action.id, base_version=1, plan="Nothing")])

    assert statuses(result) == ["applied", "applied"] and statuses(refused) == ["rejected"]
    db.session.refresh(action)
    assert (action.containment, action.root_cause, action.whys, action.status) == ("Door closed", "Heavy door", whys, "done")
    db.session.refresh(finding)
    assert finding.status == FindingStatus.ACTION_DONE


def test_a_photo_link_adds_expected_evidence_to_a_finding(phone, area):
    record = uuid.uuid4()
    result = phone.push([
        phone.finding(area, record_id=record, photos=[SHA_A]),
        phone.op("photo_link", subject="finding", subject_id=str(record), sha256=SHA_B),
        phone.op("photo_link", subject="finding", subject_id=str(record), sha256="not-a-hash"),
    ])
    assert statuses(result) == ["applied", "applied", "rejected"]
    assert evidence.photos_of(PhotoSubject.FINDING, record) == [SHA_A, SHA_B]
    assert result.results[1]["version"] == 2


def test_an_op_that_meets_a_server_bug_is_rejected_and_does_not_block_the_queue(phone, area, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setitem(ENTITIES, "comment", dataclasses.replace(ENTITIES["comment"], apply=broken))
    result = phone.push([phone.op("comment", body="x"), phone.finding(area)])
    assert statuses(result) == ["rejected", "applied"]
    assert result.results[0]["code"] == "server_error"


def test_upper_case_record_ids_are_the_same_record(phone, area):
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="one")])
    edit = phone.op("finding", str(record).upper(), title="two")
    later = phone.op("finding", record, title="three")
    result = phone.push([edit, later])
    assert statuses(result) == ["applied", "applied"]
    assert db.session.get(Finding, record).title == "three"


# ---------------------------------------------------------------- one pass or one savepoint per op

def _fieldwork(device, audit, template, refused: bool) -> list[dict]:
    """Start, two answers, a finding from a question and an edit of it; with one bad answer between."""
    first, second = template.questions[:2]
    finding_id = uuid.uuid4()
    ops = [device.op("audit", audit.id, base_version=1, status="in_progress"),
           device.response(audit, first, "yes", note="Labels in place")]
    if refused:
        ops.append(device.response(audit, first, "purple"))
    ops += [device.response(audit, second, "fail"),
            device.finding(audit.area, record_id=finding_id, audit_id=str(audit.id), question_id=str(second.id),
                           title="Gauge out of calibration", clause="7.1.5"),
            device.op("finding", finding_id, description="Sticker expired in May")]
    return ops


def test_a_refused_op_sends_the_batch_one_op_at_a_time_with_the_same_outcome(make, template, area):
    # A batch of good ops is applied in one pass; one refused op makes the engine go back and
    # apply the batch op by op. Both must leave the same rows, results and trail behind.
    runs = {}
    for refused in (False, True):
        auditor = make.user("auditor", home_area=make.area())
        audit = make.audit(template, area, auditor)
        db.session.commit()
        device = FieldDevice(auditor)
        before = row_counts()
        result = device.push(_fieldwork(device, audit, template, refused))
        after = row_counts()
        runs[refused] = {
            "results": [(r["status"], r.get("version")) for r in result.results if r["status"] != "rejected"],
            "rows": {name: after[name] - before[name] for name in after},
            "last_seq": result.last_seq,
        }
        finding = db.session.scalar(select(Finding).where(Finding.audit_id == audit.id))
        assert (finding.title, finding.description, finding.version) == (
            "Gauge out of calibration", "Sticker expired in May", 2)
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.audit_id == audit.id)) == 2

    assert runs[False]["results"] == runs[True]["results"]
    assert [s for s, _ in runs[True]["results"]] == ["applied"] * 5
    assert runs[True]["last_seq"] == runs[False]["last_seq"] + 1 == 6
    assert runs[True]["rows"] == runs[False]["rows"] | {"SyncOp": runs[False]["rows"]["SyncOp"] + 1}
    assert trail.verify_chain() is None


def test_a_photo_keeps_the_capture_time_the_device_sent_with_its_record(phone, area, staff):
    record = uuid.uuid4()
    data = jpeg((10, 200, 10))  # no EXIF time, like a photo re-encoded on the device
    sha = hashlib.sha256(data).hexdigest()
    taken = "2026-12-01T09:15:30+01:00"
    result = phone.push([
        phone.finding(area, record_id=record, photos=[sha], photo_taken={sha: taken, SHA_B: taken}),
        phone.finding(area, photos=[SHA_A], photo_taken={SHA_A: "yesterday"}),
        phone.finding(area, photos=[SHA_A], photo_taken={SHA_A: (utcnow() + timedelta(days=3)).isoformat()}),
        phone.op("photo_link", subject="finding", subject_id=str(record), sha256=SHA_B, taken_at="2026-11-30T08:00:00Z"),
    ])
    assert statuses(result) == ["applied", "rejected", "rejected", "applied"]
    assert result.results[1]["fields"] == {"photo_taken": ["Use a time with its offset, like 2026-12-01T10:15:00Z."]}
    assert result.results[2]["fields"] == {"photo_taken": ["A photo cannot have been taken before 2000 or in the future."]}
    assert db.session.get(Photo, sha).taken_at.isoformat() == "2026-12-01T08:15:30+00:00"
    # Only photos the record holds take a time from it: SHA_B's came with its own link.
    assert db.session.get(Photo, SHA_B).taken_at.isoformat() == "2026-11-30T08:00:00+00:00"
    photo, _ = photos.intake(staff, sha, data, "image/jpeg")  # the bytes arrive later
    db.session.commit()
    assert photo.state == PhotoState.STORED and photo.taken_at.isoformat() == "2026-12-01T08:15:30+00:00"


def test_the_person_who_raised_a_finding_edits_and_withdraws_it_until_it_is_triaged(phone, area, make):
    record, other = uuid.uuid4(), uuid.uuid4()
    result = phone.push([
        phone.finding(area, record_id=record, title="Oil on floor"),
        phone.op("finding", record, 1, title="Oil on the floor by press 2", location="Line 3"),
        phone.op("finding", record, 2, status="rejected"),
        phone.op("finding", record, 3, title="After withdrawing"),
        phone.finding(area, record_id=other),
        phone.op("finding", other, 1, status="closed"),
    ])
    assert statuses(result) == ["applied", "applied", "applied", "rejected", "applied", "rejected"]
    finding = db.session.get(Finding, record)
    assert (finding.title, finding.location, finding.status) == ("Oil on the floor by press 2", "Line 3", "rejected")
    assert finding.status_reason == "Withdrawn by the person who raised it."
    assert result.results[5]["code"] == "forbidden"  # only a withdrawal, never other triage
    # Once a supervisor has taken it up, it is theirs: no more withdrawing.
    taken = db.session.get(Finding, other)
    taken.status = FindingStatus.ACTION_PLANNED
    db.session.commit()
    late = phone.push([phone.op("finding", other, None, status="rejected", status_reason="Not a problem")])
    assert statuses(late) == ["rejected"] and late.results[0]["code"] == "forbidden"
