"""The programme: impartial, qualified, rotating auditors and a plan from frequencies."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.errors import Invalid, NotAllowed, StateError
from server.extensions import db
from server.models import Audit, AuditStatus, Change, CompetenceRecord
from server.services import programme
from tests.syncops import FieldDevice, statuses

TODAY = date(2026, 3, 2)  # a Monday


@pytest.fixture
def quality(supervisor):
    return supervisor


@pytest.fixture
def template(make):
    return make.template(standard="ISO 9001:2015")


@pytest.fixture
def area(make):
    return make.area(name="Paint shop")


def qualified(make, quality, name, standard="ISO 9001", expires=None, **overrides):
    user = make.user("auditor", name=name, **overrides)
    programme.set_qualification(quality, user, standard, expires)
    return user


# --- impartiality and competence on every path -------------------------------------------

def test_planning_refuses_the_auditors_home_area(make, quality, template, area):
    insider = qualified(make, quality, "Insider", home_area=area)
    with pytest.raises(NotAllowed) as refused:
        programme.plan_audit(quality, template, area, TODAY, insider)
    assert refused.value.code == "impartiality" and "works in" in refused.value.message
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 0


def test_planning_refuses_an_area_the_auditor_is_responsible_for(make, quality, template, area):
    owner = qualified(make, quality, "Owner")
    area.responsible_id = owner.id
    with pytest.raises(NotAllowed) as refused:
        programme.plan_audit(quality, template, area, TODAY, owner)
    assert refused.value.code == "impartiality" and "responsible" in refused.value.message


def test_reassigning_checks_impartiality_and_state(make, quality, template, area):
    outsider = qualified(make, quality, "Outsider")
    insider = qualified(make, quality, "Insider", home_area=area)
    audit = programme.plan_audit(quality, template, area, TODAY, outsider)
    with pytest.raises(NotAllowed):
        programme.assign(quality, audit, insider)
    assert audit.auditor_id == outsider.id
    programme.assign(quality, audit, None)
    assert audit.auditor_id is None and audit.version == 2
    audit.status = AuditStatus.IN_PROGRESS
    with pytest.raises(StateError):
        programme.assign(quality, audit, outsider)


def test_an_auditor_must_be_qualified_on_the_day(make, quality, template, area):
    lapsing = qualified(make, quality, "Lapsing", expires=TODAY + timedelta(days=10))
    safety_only = qualified(make, quality, "Safety only", standard="ISO 45001")
    assert programme.plan_audit(quality, template, area, TODAY + timedelta(days=10), lapsing)
    with pytest.raises(Invalid):
        programme.plan_audit(quality, template, area, TODAY + timedelta(days=11), lapsing)
    with pytest.raises(Invalid):
        programme.plan_audit(quality, template, area, TODAY, safety_only)
    audit = programme.plan_audit(quality, template, area, TODAY, None)
    with pytest.raises(Invalid):
        programme.assign(quality, audit, make.user("staff"))


def test_rescheduling_past_a_qualification_expiry_is_refused(make, quality, template, area):
    lapsing = qualified(make, quality, "Lapsing", expires=TODAY + timedelta(days=10))
    audit = programme.plan_audit(quality, template, area, TODAY, lapsing)
    with pytest.raises(Invalid):
        programme.reschedule(quality, audit, TODAY + timedelta(days=30))
    programme.reschedule(quality, audit, TODAY + timedelta(days=5))
    assert audit.planned_date == TODAY + timedelta(days=5)


def test_the_sync_push_path_rejects_an_auditor_auditing_their_own_work(make, quality, template, area):
    owner = make.user("auditor")
    area.responsible_id = owner.id
    tablet = FieldDevice(owner)
    own = tablet.op("audit", template_id=str(template.id), area_id=str(area.id), status="in_progress")
    result = tablet.push([own])
    assert statuses(result) == ["rejected"]
    assert result.results[0]["code"] == "impartiality"
    assert "responsible" in result.results[0]["reason"]
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 0


def test_the_sync_push_path_cannot_reassign_an_audit(make, quality, template, area):
    other_area = make.area()
    auditor = qualified(make, quality, "Ada")
    colleague = qualified(make, quality, "Ben")
    audit = programme.plan_audit(quality, template, area, TODAY, auditor)
    db.session.commit()
    tablet = FieldDevice(auditor)
    moved = tablet.op("audit", audit.id, base_version=1, area_id=str(other_area.id))
    handed_on = tablet.op("audit", audit.id, base_version=1, auditor_id=str(colleague.id))
    result = tablet.push([moved, handed_on])
    assert statuses(result) == ["rejected", "rejected"]
    db.session.expire_all()
    audit = db.session.get(Audit, audit.id)
    assert (audit.area_id, audit.auditor_id) == (area.id, auditor.id)


# --- rotation ----------------------------------------------------------------------------

def test_rotation_ranks_who_audited_the_area_least_recently_first(make, quality, template, area):
    recent = qualified(make, quality, "Recent")
    longago = qualified(make, quality, "Long ago")
    never_busy = qualified(make, quality, "Never, busy")
    never_free = qualified(make, quality, "Never, free")
    expired = qualified(make, quality, "Expired", expires=TODAY - timedelta(days=1))
    qualified(make, quality, "Insider", home_area=area)
    elsewhere = make.area(name="Dispatch")
    make.audit(template, area, recent, planned_date=TODAY - timedelta(days=60), status=AuditStatus.APPROVED)
    make.audit(template, area, recent, planned_date=TODAY - timedelta(days=400), status=AuditStatus.APPROVED)
    make.audit(template, area, longago, planned_date=TODAY - timedelta(days=300), status=AuditStatus.APPROVED)
    make.audit(template, area, expired, planned_date=TODAY - timedelta(days=900), status=AuditStatus.APPROVED)
    for n in range(2):
        make.audit(template, elsewhere, never_busy, planned_date=TODAY + timedelta(days=n))
    make.audit(template, elsewhere, longago, planned_date=TODAY + timedelta(days=9))
    # A rejected audit is no visit.
    make.audit(template, area, never_free, planned_date=TODAY - timedelta(days=5), status=AuditStatus.REJECTED)

    result = programme.suggest_auditors(area, template, TODAY)

    assert [s.user.name for s in result.ranked] == ["Never, free", "Never, busy", "Long ago", "Recent"]
    assert [s.rank for s in result.ranked] == [1, 2, 3, 4]
    by_name = {s.user.name: s for s in result.ranked}
    assert by_name["Recent"].last_here == TODAY - timedelta(days=60)
    assert (by_name["Never, busy"].open_audits, by_name["Never, free"].open_audits) == (2, 0)
    refused = {i.user.name: i.reason for i in result.ineligible}
    assert set(refused) == {"Expired", "Insider"}
    assert "expired" in refused["Expired"] and "works in" in refused["Insider"]


def test_auditor_history_counts_audits_by_area(make, quality, template, area):
    ada = qualified(make, quality, "Ada")
    make.audit(template, area, ada, planned_date=TODAY - timedelta(days=90), status=AuditStatus.APPROVED)
    make.audit(template, area, ada, planned_date=TODAY - timedelta(days=30), status=AuditStatus.SUBMITTED)
    make.audit(template, area, ada, planned_date=TODAY + timedelta(days=30))  # planned: not history yet
    _, rows = programme.auditor_history()
    assert rows[0].by_area[area.id] == (2, TODAY - timedelta(days=30))


# --- the plan ----------------------------------------------------------------------------

def test_the_plan_follows_each_areas_frequency(make, quality, template):
    quarterly = make.area(name="Paint", audit_every_months=3)
    twice = make.area(name="Machining", audit_every_months=6)
    yearly = make.area(name="Office", audit_every_months=12)
    slots = programme.plan_slots(template, TODAY, 12)
    per_area = {}
    for slot in slots:
        per_area.setdefault(slot.area.name, []).append(slot.planned_date)
    assert {name: len(days) for name, days in per_area.items()} == {"Paint": 4, "Machining": 2, "Office": 1}
    assert [d.month for d in per_area["Paint"]] == [3, 6, 9, 12]
    assert [(d.year, d.month) for d in per_area["Machining"]] == [(2026, 3), (2026, 9)]
    every_day = [d for days in per_area.values() for d in days]
    assert all(TODAY <= d < date(2027, 3, 2) and d.weekday() < 5 for d in every_day)
    # Areas due in the same month are spread over its weeks.
    march = sorted(d for d in every_day if d.month == 3)
    assert len(set(march)) == 3
    assert quarterly and twice and yearly


def test_the_plan_starts_from_the_last_audit(make, quality, template):
    area = make.area(audit_every_months=6)
    make.audit(template, area, None, planned_date=date(2026, 1, 15), status=AuditStatus.APPROVED)
    slots = programme.plan_slots(template, TODAY, 12)
    assert [(s.planned_date.year, s.planned_date.month) for s in slots] == [(2026, 7), (2027, 1)]


def test_generating_the_plan_assigns_impartial_rotating_auditors_and_is_repeatable(make, quality, template):
    areas = [make.area(name=f"Area {n}", audit_every_months=4) for n in range(4)]
    ada = qualified(make, quality, "Ada", home_area=areas[0])
    ben = qualified(make, quality, "Ben", home_area=areas[1])
    areas[2].responsible_id = ada.id
    slots = programme.generate_plan(quality, template, TODAY, 12)

    assert len(slots) == 12
    audits = db.session.scalars(select(Audit)).all()
    assert len(audits) == 12 and all(a.status == AuditStatus.PLANNED for a in audits)
    for audit in audits:
        assert audit.auditor is not None
        assert audit.auditor.home_area_id != audit.area_id and audit.area.responsible_id != audit.auditor_id
    load = {ada.id: 0, ben.id: 0}
    for audit in audits:
        load[audit.auditor_id] += 1
    assert abs(load[ada.id] - load[ben.id]) <= 4  # area 2 can only go to Ben, area 0 to Ben, area 1 to Ada
    # Rotation: in area 3, which both may audit, they take turns.
    in_area_3 = [a.auditor_id for a in sorted(audits, key=lambda a: a.planned_date) if a.area_id == areas[3].id]
    assert in_area_3[0] != in_area_3[1] and in_area_3[1] != in_area_3[2]
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.entity == "audit")) == 12

    assert programme.generate_plan(quality, template, TODAY, 12) == []
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 12


def test_a_slot_no_one_may_take_stays_unassigned(make, quality, template):
    area = make.area(audit_every_months=12)
    qualified(make, quality, "Insider", home_area=area)
    [slot] = programme.generate_plan(quality, template, TODAY, 12)
    assert slot.audit.auditor_id is None and "No impartial" in slot.skipped


def test_plan_length_is_bounded(quality, template):
    with pytest.raises(Invalid):
        programme.generate_plan(quality, template, TODAY, 60)


def test_only_planners_plan(make, template, area):
    with pytest.raises(NotAllowed):
        programme.plan_audit(make.user("auditor"), template, area, TODAY)


# --- reading the programme ---------------------------------------------------------------

def test_overdue_audits_are_past_their_date_and_not_submitted(make, template, area):
    late = make.audit(template, area, None, planned_date=TODAY - timedelta(days=1))
    started = make.audit(template, area, None, planned_date=TODAY - timedelta(days=9), status=AuditStatus.IN_PROGRESS)
    make.audit(template, area, None, planned_date=TODAY - timedelta(days=9), status=AuditStatus.SUBMITTED)
    make.audit(template, area, None, planned_date=TODAY)
    assert {a.id for a in programme.overdue_audits(TODAY)} == {late.id, started.id}


def test_the_dashboard_lists_the_ten_most_overdue_audits_of_all(make, template, area, quality):
    from server.services import dashboard

    statuses_ = [AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.RETURNED]
    late = [make.audit(template, area, None, planned_date=TODAY - timedelta(days=days), status=statuses_[days % 3])
            for days in (3, 14, 1, 9, 30, 2, 7, 21, 5, 11, 4, 8)]
    make.audit(template, area, None, planned_date=TODAY - timedelta(days=40), status=AuditStatus.SUBMITTED)
    make.audit(template, area, None, planned_date=TODAY - timedelta(days=50), status=AuditStatus.APPROVED)
    make.audit(template, area, None, planned_date=TODAY)
    db.session.flush()
    board = dashboard.dashboard(quality, TODAY)
    most_overdue = sorted(late, key=lambda a: (a.planned_date, a.created_at))[:10]
    assert [a.id for a in board.overdue_audits] == [a.id for a in most_overdue]
    assert board.overdue_audit_count == 12


def test_the_month_calendar_puts_audits_on_their_days(make, template, area):
    audit = make.audit(template, area, None, planned_date=date(2026, 3, 17))
    make.audit(template, area, None, planned_date=date(2026, 5, 1))
    month = programme.month_calendar(2026, 3)
    assert month.title == "March 2026" and month.weeks[0][0][0] == date(2026, 2, 23)
    days = {day: audits for week in month.weeks for day, audits in week}
    assert days[date(2026, 3, 17)] == [audit]
    assert sum(len(a) for a in days.values()) == 1
    assert (month.previous, month.next) == (date(2026, 2, 1), date(2026, 4, 1))


def test_removing_a_planned_audit_tells_devices(make, quality, template, area):
    audit = programme.plan_audit(quality, template, area, TODAY, None)
    audit_id = audit.id
    programme.remove_planned(quality, audit)
    assert db.session.get(Audit, audit_id) is None
    assert db.session.scalar(select(Change).where(Change.entity_id == str(audit_id), Change.deleted.is_(True)))


def test_expiring_qualifications_are_listed_soonest_first(make, quality):
    soon = qualified(make, quality, "Soon", expires=TODAY + timedelta(days=20))
    gone = qualified(make, quality, "Gone", expires=TODAY - timedelta(days=3))
    qualified(make, quality, "Later", expires=TODAY + timedelta(days=200))
    qualified(make, quality, "Forever")
    assert [q.user for q in programme.expiring_qualifications(TODAY)] == [gone, soon]
    programme.set_qualification(quality, soon, "iso 9001:2015", TODAY + timedelta(days=400))  # renewal, same family
    assert db.session.scalar(select(func.count()).select_from(CompetenceRecord).where(CompetenceRecord.user_id == soon.id)) == 1
    assert [q.user for q in programme.expiring_qualifications(TODAY)] == [gone]


def test_standard_families():
    assert programme.standard_family("ISO 9001:2015") == "ISO 9001"
    assert programme.standard_family(" iso 45001 ") == "ISO 45001"


def test_plan_audit_takes_a_client_id(quality, template, area):
    audit_id = uuid.uuid4()
    assert programme.plan_audit(quality, template, area, TODAY, None, audit_id=audit_id).id == audit_id


def test_area_risk_and_frequency_are_validated_and_read_back(make, quality, template):
    area = make.area(name="Paint")
    programme.set_area_plan(quality, area, "high", 3)
    assert (area.risk_level, area.audit_every_months) == ("high", 3)
    for risk, months in (("extreme", 3), ("high", 0), ("high", 48), ("high", True)):
        with pytest.raises(Invalid):
            programme.set_area_plan(quality, area, risk, months)
    make.audit(template, area, None, planned_date=TODAY - timedelta(days=100), status=AuditStatus.APPROVED)
    make.audit(template, area, None, planned_date=date.today() + timedelta(days=10))
    [plan] = programme.area_plans(date.today())
    assert plan.last_audited == TODAY - timedelta(days=100)
    assert plan.next_planned == date.today() + timedelta(days=10)
    assert plan.due == programme.add_months(TODAY - timedelta(days=100), 3)


def test_only_auditors_get_qualifications(make, quality):
    with pytest.raises(Invalid):
        programme.set_qualification(quality, make.user("staff"), "ISO 9001", None)
    with pytest.raises(Invalid):
        programme.set_qualification(quality, make.user("auditor"), "", None)
