"""Clause coverage on a fixture history: last audit, result, gaps, CSV."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from server.extensions import db
from server.models import (
    AuditStatus,
    FindingKind,
    Question,
    QuestionKind,
    Response,
    Template,
    TemplateStatus,
)
from server.services import coverage

TODAY = date(2026, 6, 15)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def template(make):
    """Three clauses: 7.1.5 and 8.2 yes/no questions, 10.2 a pass/fail question."""
    template = Template(name="QMS", standard="ISO 9001:2015", status=TemplateStatus.PUBLISHED)
    for position, (clause, kind, finding) in enumerate([
        ("7.1.5", QuestionKind.YES_NO_NA, ["no"]),
        ("8.2", QuestionKind.YES_NO_NA, ["no"]),
        ("10.2", QuestionKind.PASS_FAIL, ["fail"]),
        ("", QuestionKind.TEXT, []),
    ], start=1):
        template.questions.append(Question(section="S", position=position, text=f"Q{position}", kind=kind,
                                           clause=clause, finding_answers=finding))
    db.session.add(template)
    db.session.flush()
    return template


def audited(make, template, area, auditor, day, answers, status=AuditStatus.APPROVED):
    audit = make.audit(template, area, auditor, planned_date=day - timedelta(days=1), status=status,
                       submitted_at=at(day))
    for question, value in zip(template.questions, answers):
        db.session.add(Response(audit_id=audit.id, question_id=question.id, value=value))
    db.session.flush()
    return audit


@pytest.fixture
def history(make, template):
    """Paint: audited twice (the newer wins), Dispatch: 14 months ago, Office: never."""
    paint, dispatch, office = make.area(name="Paint"), make.area(name="Dispatch"), make.area(name="Office")
    auditor = make.user("auditor")
    old = audited(make, template, paint, auditor, TODAY - timedelta(days=200), ["no", "yes", "pass", "notes"])
    make.finding(paint, auditor, audit_id=old.id, clause="7.1.5", kind=FindingKind.MAJOR_NC)
    new = audited(make, template, paint, auditor, TODAY - timedelta(days=30), ["yes", "na", "fail", "notes"])
    make.finding(paint, auditor, audit_id=new.id, question_id=template.questions[2].id, clause="10.2",
                 kind=FindingKind.MINOR_NC)
    make.finding(paint, auditor, audit_id=new.id, question_id=template.questions[2].id, clause="10.2",
                 kind=FindingKind.OBSERVATION)
    stale = audited(make, template, dispatch, auditor, TODAY - timedelta(days=430), ["yes", "no", "pass", None])
    # Audits that do not count: planned, returned, and another standard's.
    make.audit(template, office, auditor, planned_date=TODAY + timedelta(days=3))
    audited(make, template, office, auditor, TODAY - timedelta(days=5), ["yes", "yes", "pass", ""], status=AuditStatus.RETURNED)
    safety = make.template(standard="ISO 45001:2018", questions=2)
    audited(make, safety, office, auditor, TODAY - timedelta(days=5), ["yes", "pass"])
    return {"paint": paint, "dispatch": dispatch, "office": office, "old": old, "new": new, "stale": stale}


def test_the_matrix_shows_the_last_covering_audit_and_its_result(template, history):
    m = coverage.matrix("ISO 9001:2015", today=TODAY)
    paint, dispatch, office = history["paint"], history["dispatch"], history["office"]
    assert m.standard == "ISO 9001" and m.clauses == ["7.1.5", "8.2", "10.2"]
    assert [a.name for a in m.areas] == ["Dispatch", "Office", "Paint"]

    calibration = m.cell(paint, "7.1.5")
    assert (calibration.last, calibration.result, calibration.audit_id) == (TODAY - timedelta(days=30), "conforming", history["new"].id)
    # N/A in the newer audit: the clause was last really looked at in the older one.
    emergency = m.cell(paint, "8.2")
    assert (emergency.last, emergency.result, emergency.audit_id) == (TODAY - timedelta(days=200), "conforming", history["old"].id)
    improvement = m.cell(paint, "10.2")
    assert improvement.result == "minor_nc"  # the worst of the findings raised against it
    assert not any(m.is_gap(paint, c) for c in m.clauses)

    assert m.cell(dispatch, "8.2").result == "issue"  # answered "no", no finding raised
    assert all(m.is_gap(dispatch, c) for c in m.clauses)  # older than the 12-month cycle
    assert m.cell(dispatch, "8.2").gap
    assert all(m.cell(office, c) is None and m.is_gap(office, c) for c in m.clauses)
    assert m.gap_count == 6


def test_a_longer_cycle_closes_old_gaps(template, history):
    m = coverage.matrix("ISO 9001", today=TODAY, cycle_months=18)
    assert not m.is_gap(history["dispatch"], "7.1.5")


def test_the_other_standard_has_its_own_matrix(template, history):
    m = coverage.matrix("ISO 45001", today=TODAY)
    assert not m.is_gap(history["office"], m.clauses[0])
    assert coverage.standards() == ["ISO 45001", "ISO 9001"]


def test_clauses_sort_numerically():
    assert sorted(["10.2", "4.1", "8.1.2", "8.10", "8.2", "7.1.5"], key=coverage.clause_key) == [
        "4.1", "7.1.5", "8.1.2", "8.2", "8.10", "10.2"]


def test_the_csv_has_a_row_per_area_and_clause_with_gaps_marked(template, history, make):
    make.area(name="=HYPERLINK(evil)")
    text = coverage.to_csv(coverage.matrix("ISO 9001", today=TODAY))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4 * 3
    paint = {r["clause"]: r for r in rows if r["area"] == "Paint"}
    assert paint["10.2"] | {} == {"standard": "ISO 9001", "site": "Test site", "area": "Paint", "clause": "10.2",
                                  "last_audited": (TODAY - timedelta(days=30)).isoformat(), "result": "minor_nc",
                                  "audit_id": str(history["new"].id), "gap": "no"}
    assert [r["gap"] for r in rows if r["area"] == "Dispatch"] == ["yes"] * 3
    assert {r["area"] for r in rows if r["area"].startswith("'")} == {"'=HYPERLINK(evil)"}


def test_older_audits_fill_what_newer_ones_left_open(make, template):
    area = make.area(name="Stores")
    auditor = make.user("auditor")
    newest = audited(make, template, area, auditor, TODAY - timedelta(days=10), ["yes", "na", "na", None])
    middle = audited(make, template, area, auditor, TODAY - timedelta(days=100), ["no", "yes", "na", None])
    oldest = audited(make, template, area, auditor, TODAY - timedelta(days=500), ["yes", "no", "fail", None])
    m = coverage.matrix("ISO 9001", today=TODAY)
    assert {c: m.cell(area, c).audit_id for c in m.clauses} == {"7.1.5": newest.id, "8.2": middle.id, "10.2": oldest.id}
    assert m.cell(area, "10.2").result == "issue" and m.cell(area, "10.2").gap
    assert [m.is_gap(area, c) for c in m.clauses] == [False, False, True]


def test_clauses_that_are_not_numbers_sort_after_the_numbered_ones():
    mixed = ["10.2", "A.5", "4.1", "45001:8.1.2", "6.1.2", "8.1"]
    assert sorted(mixed, key=coverage.clause_key) == ["4.1", "6.1.2", "8.1", "10.2", "45001:8.1.2", "A.5"]


def test_an_area_whose_latest_audits_leave_a_clause_open_reads_further_back(make, template, monkeypatch):
    monkeypatch.setattr(coverage, "LATEST", 2)  # only two audits per area are read up front
    area, auditor = make.area(name="Paint"), make.user("auditor")
    oldest = audited(make, template, area, auditor, TODAY - timedelta(days=90), ["yes", "yes", "pass", "x"])
    audited(make, template, area, auditor, TODAY - timedelta(days=60), ["yes", "na", "pass", "x"])
    audited(make, template, area, auditor, TODAY - timedelta(days=30), ["yes", "na", "na", "x"])
    m = coverage.matrix("ISO 9001", today=TODAY)
    assert m.cell(area, "8.2").audit_id == oldest.id  # the third audit back, read after the first two
    assert not any(m.is_gap(area, c) for c in m.clauses)
