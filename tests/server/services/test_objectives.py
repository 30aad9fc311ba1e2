"""Objectives: status from the latest measurements, each computed measure against a hand-counted history."""

from datetime import UTC, date, datetime, timedelta

import pytest

from server.errors import Invalid, NotAllowed
from server.extensions import db
from server.models import (
    ActionStatus,
    AuditStatus,
    Direction,
    FindingKind,
    FindingStatus,
    Measurement,
    Objective,
    Response,
)
from server.services import objectives
from server.services.objectives import Scope

TODAY = date(2026, 6, 15)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def objective(values, direction=Direction.AT_LEAST, target=90.0) -> Objective:
    o = Objective(title="KPI", target_value=target, direction=direction, every_months=1,
                  created_at=at(date(2026, 1, 1)))
    o.measurements = [Measurement(value=v, measured_on=date(2026, 1, 1) + timedelta(days=30 * i))
                      for i, v in enumerate(values)]
    return o


@pytest.mark.parametrize(("values", "direction", "expected"), [
    ([], Direction.AT_LEAST, "unmeasured"),
    ([95], Direction.AT_LEAST, "on_track"),
    ([92, 95], Direction.AT_LEAST, "on_track"),
    ([98, 91], Direction.AT_LEAST, "at_risk"),  # meets the target, but slipping
    ([70, 85], Direction.AT_LEAST, "at_risk"),  # misses it, but climbing
    ([85, 80], Direction.AT_LEAST, "off_track"),
    ([85, 85], Direction.AT_LEAST, "off_track"),
    ([3], Direction.AT_MOST, "on_track"),  # target at most 90
    ([95, 100], Direction.AT_MOST, "off_track"),
    ([120, 100], Direction.AT_MOST, "at_risk"),
])
def test_status_from_the_latest_measurement_and_its_step(values, direction, expected):
    assert objectives.status(objective(values, direction)) == expected


def test_a_measurement_is_due_every_period_and_late_after_half_a_month():
    o = objective([95])  # measured 2026-01-01, monthly
    assert objectives.next_due(o) == date(2026, 2, 1)
    assert not objectives.is_stale(o, date(2026, 2, 16))
    assert objectives.is_stale(o, date(2026, 2, 17))
    assert objectives.is_stale(objective([]), date(2026, 1, 2))


def test_audits_done_on_time(app, make, template, area, auditor):
    def audit(planned, status, submitted=None):
        make.audit(template, area, auditor, planned_date=planned, status=status,
                   submitted_at=at(submitted) if submitted else None)

    audit(days_ago(100), AuditStatus.APPROVED, days_ago(100))  # on time
    audit(days_ago(50), AuditStatus.SUBMITTED, days_ago(52))  # early: on time
    audit(days_ago(40), AuditStatus.SUBMITTED, days_ago(30))  # late
    audit(days_ago(10), AuditStatus.PLANNED)  # overdue, not done
    audit(days_ago(20), AuditStatus.REJECTED, days_ago(20))  # rejected: not counted
    audit(days_ago(400), AuditStatus.APPROVED, days_ago(400))  # before the year
    audit(TODAY + timedelta(days=5), AuditStatus.PLANNED)  # not due yet
    assert objectives.audits_on_time(Scope(), TODAY, None) == 50.0
    other = make.area(site="Elsewhere")
    assert objectives.audits_on_time(Scope(site_id=other.site_id), TODAY, None) is None
    assert objectives.audits_on_time(Scope(standard="ISO 9001"), TODAY, None) == 50.0
    assert objectives.audits_on_time(Scope(standard="ISO 14001"), TODAY, None) is None


def test_open_major_ncs_and_ncs_older_than_n_days(app, make, area, staff):
    elsewhere = make.area(site="Elsewhere")
    make.finding(area, staff, kind=FindingKind.MAJOR_NC, received_at=at(days_ago(40)))
    make.finding(area, staff, kind=FindingKind.MAJOR_NC, status=FindingStatus.ACTION_PLANNED, received_at=at(days_ago(5)))
    make.finding(area, staff, kind=FindingKind.MAJOR_NC, status=FindingStatus.CLOSED, received_at=at(days_ago(90)))
    make.finding(area, staff, kind=FindingKind.MINOR_NC, received_at=at(days_ago(31)))
    make.finding(area, staff, kind=FindingKind.OBSERVATION, received_at=at(days_ago(200)))
    make.finding(elsewhere, staff, kind=FindingKind.MAJOR_NC, received_at=at(days_ago(60)))
    assert objectives.open_major_ncs(Scope(), TODAY, None) == 3
    assert objectives.open_major_ncs(Scope(site_id=area.site_id), TODAY, None) == 2
    assert objectives.open_major_ncs(Scope(area_id=elsewhere.id), TODAY, None) == 1
    # open NCs received before 30 days ago: the 40-day major, the 31-day minor, the 60-day major elsewhere
    assert objectives.ncs_older_than(Scope(), TODAY, 30) == 3
    assert objectives.ncs_older_than(Scope(), TODAY, 35) == 2
    assert objectives.ncs_older_than(Scope(site_id=area.site_id), TODAY, 30) == 2


def test_actions_closed_on_time_and_effective_first_time(app, make, area, staff):
    a, b, c, d = (make.finding(area, staff) for _ in range(4))
    make.action(a, staff, due_date=days_ago(60), status=ActionStatus.EFFECTIVE, done_at=at(days_ago(61)),
                created_at=at(days_ago(90)), effectiveness_at=at(days_ago(20)), effectiveness_result="effective")
    make.action(b, staff, due_date=days_ago(50), status=ActionStatus.NOT_EFFECTIVE, done_at=at(days_ago(45)),
                created_at=at(days_ago(80)), effectiveness_at=at(days_ago(15)), effectiveness_result="not_effective")
    make.action(b, staff, due_date=days_ago(5), status=ActionStatus.EFFECTIVE, done_at=at(days_ago(6)),
                created_at=at(days_ago(15)), effectiveness_at=at(days_ago(1)), effectiveness_result="effective")
    make.action(c, staff, due_date=days_ago(3), status=ActionStatus.OPEN, created_at=at(days_ago(30)))
    make.action(d, staff, due_date=TODAY + timedelta(days=10), status=ActionStatus.OPEN, created_at=at(days_ago(2)))
    # due in the year to today: a (on time), b1 (late), b2 (on time), c (open, late) -> 2 of 4
    assert objectives.actions_on_time(Scope(), TODAY, None) == 50.0
    # first actions checked: a effective, b's first not effective -> 1 of 2
    assert objectives.effective_first_time(Scope(), TODAY, None) == 50.0
    assert objectives.effective_first_time(Scope(), days_ago(18), None) == 100.0  # only a's check by then


def test_repeat_findings_in_the_year(app, make, area, staff):
    first = make.finding(area, staff, received_at=at(days_ago(500)))
    make.finding(area, staff, repeat_of_id=first.id, received_at=at(days_ago(400)))
    make.finding(area, staff, repeat_of_id=first.id, received_at=at(days_ago(100)))
    make.finding(area, staff, repeat_of_id=first.id, received_at=at(days_ago(3)))
    make.finding(area, staff, received_at=at(days_ago(3)))
    assert objectives.repeat_findings(Scope(), TODAY, None) == 2


def test_programme_coverage(app, make, template, auditor):
    one, two = make.area(site="Works"), make.area(site="Works")
    audit = make.audit(template, one, auditor, status=AuditStatus.SUBMITTED, submitted_at=at(days_ago(30)),
                       planned_date=days_ago(30))
    questions = sorted(template.questions, key=lambda q: q.position)
    db.session.add_all([Response(audit_id=audit.id, question_id=questions[0].id, value="yes"),
                        Response(audit_id=audit.id, question_id=questions[1].id, value="pass"),
                        Response(audit_id=audit.id, question_id=questions[2].id, value="na")])
    db.session.flush()
    works = Scope(site_id=one.site_id)
    # 2 areas x 4 clauses (7.1-7.4); "na" does not cover 7.3, so 7.1 and 7.2 in one area: 2 of 8
    assert objectives.programme_coverage(works, TODAY, None) == 25.0
    assert objectives.programme_coverage(Scope(area_id=one.id), TODAY, None) == 50.0
    assert objectives.programme_coverage(works, TODAY + timedelta(days=400), None) == 0.0


def _data(owner, **overrides):
    return {"title": "Actions closed on time", "standard": "ISO 9001", "clause": "6.2", "owner_id": str(owner.id),
            "target_value": 90, "unit": "%", "direction": "at_least", "every_months": 1} | overrides


def test_set_measure_and_replace_a_days_value(app, make, supervisor, staff, area):
    o = objectives.create_objective(supervisor, _data(staff, area_id=str(area.id)))
    assert o.site_id == area.site_id
    objectives.record_measurement(staff, o, 80, date.today() - timedelta(days=31))
    objectives.record_measurement(staff, o, "85.5", date.today())
    objectives.record_measurement(staff, o, 95, date.today())  # same day: replaces
    assert [m.value for m in o.measurements] == [80, 95]
    assert objectives.status(o) == "on_track"
    stranger = make.user("staff")
    with pytest.raises(NotAllowed):
        objectives.record_measurement(stranger, o, 1, date.today())
    with pytest.raises(NotAllowed):
        objectives.create_objective(staff, _data(staff))
    with pytest.raises(Invalid) as refused:
        objectives.record_measurement(staff, o, "lots", date.today() + timedelta(days=1))
    assert set(refused.value.fields) == {"value", "measured_on"}


def test_bad_objectives_are_refused_field_by_field(app, supervisor, staff):
    with pytest.raises(Invalid) as refused:
        objectives.create_objective(supervisor, _data(staff, title="", target_value="high", direction="up",
                                                      every_months=13, source="guesswork", owner_id="nobody"))
    assert set(refused.value.fields) == {"title", "target_value", "direction", "every_months", "source", "owner_id"}


def test_a_computed_objective_measures_itself(app, make, supervisor, area, staff):
    make.finding(area, staff, kind=FindingKind.MAJOR_NC)
    o = objectives.create_objective(supervisor, _data(supervisor, source="open_major_ncs", target_value=0,
                                                      direction="at_most", unit="NCs"))
    measurement = objectives.measure_now(supervisor, o)
    assert (measurement.value, measurement.computed) == (1.0, True)
    assert objectives.status(o) == "off_track"
    days = objectives.create_objective(supervisor, _data(supervisor, source="ncs_older_than"))
    assert days.source_days == 30


def test_owner_is_reminded_of_a_due_measurement(app, supervisor, staff):
    o = objectives.create_objective(supervisor, _data(staff))
    assert objectives.due_for(staff) == [o]
    objectives.record_measurement(staff, o, 95, date.today())
    assert objectives.due_for(staff) == []


def test_trend_chart_draws_each_measurement_and_the_target(app):
    svg = str(objectives.trend_chart(objective([85, 92, 95])))
    assert svg.startswith("<svg") and svg.count('class="measurement"') == 3 and 'class="target"' in svg
    assert svg.count('fill="#b00020"') == 1  # the one below target


def test_the_api_sets_measures_and_lists(app, make, auth, commit, supervisor, staff):
    commit()
    auth.login(supervisor)
    created = auth.post("/api/objectives", json=_data(staff))
    assert created.status_code == 201, created.json
    oid = created.json["id"]
    bad = auth.post(f"/api/objectives/{oid}/measurements", json={"value": "x"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"value", "measured_on"}
    day = (date.today() - timedelta(days=1)).isoformat()
    added = auth.post(f"/api/objectives/{oid}/measurements", json={"value": 70, "measured_on": day})
    assert added.status_code == 201 and added.json["value"] == 70
    listed = auth.client.get("/api/objectives").json
    assert [o["status"] for o in listed["objectives"]] == ["off_track"]
    assert listed["objectives"][0]["latest"] == {"value": 70.0, "measured_on": day}
    assert {m["key"] for m in listed["metrics"]} >= {"audits_on_time", "programme_coverage"}


def test_an_objective_changes_and_retires_and_keeps_its_history(app, make, signed_in, supervisor, staff, area):
    o = objectives.create_objective(supervisor, _data(staff))
    objectives.record_measurement(staff, o, 80, date.today())
    objectives.update_objective(supervisor, o, {"target_value": 75, "area_id": str(area.id)})
    assert (o.target_value, o.area_id, o.site_id, o.title) == (75.0, area.id, area.site_id, "Actions closed on time")
    assert objectives.status(o) == "on_track" and len(o.measurements) == 1
    with pytest.raises(Invalid):
        objectives.update_objective(supervisor, o, {"direction": "sideways"})
    with pytest.raises(NotAllowed):
        objectives.update_objective(staff, o, {"target_value": 1})
    auth = signed_in(supervisor)
    changed = auth.post(f"/api/objectives/{o.id}", json={"title": "Actions closed in time"})
    assert changed.status_code == 200 and changed.json["title"] == "Actions closed in time"
    assert auth.post(f"/api/objectives/{o.id}/retire").status_code == 200
    assert auth.client.get("/api/objectives").json["objectives"] == []
    assert auth.post(f"/api/objectives/{o.id}", json={"title": "x"}).status_code == 409
