"""Resolving conflicts: the server's value stays, or the device's is applied like any edit."""

import uuid

import pytest
from sqlalchemy import select

from server.errors import NotAllowed, StateError
from server.extensions import db
from server.models import Change, ConflictStatus, Event, Finding, FindingStatus, Response
from server.services import conflicts
from tests.syncops import FieldDevice


@pytest.fixture
def held(make):
    """A finding whose title a supervisor and a phone both changed from version 1."""
    area = make.area()
    staff, supervisor = make.user("staff"), make.user("supervisor")
    phone, office = FieldDevice(staff), FieldDevice(supervisor)
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="Original")])
    office.push([office.op("finding", record, base_version=1, title="From the office")])
    phone.push([phone.op("finding", record, base_version=1, title="From the phone")])
    [conflict] = conflicts.open_conflicts(supervisor)
    return {"conflict": conflict, "supervisor": supervisor, "staff": staff, "record": record}


def test_keeping_the_server_value_closes_the_conflict_and_changes_nothing(held):
    finding = db.session.get(Finding, held["record"])
    version = finding.version
    conflicts.resolve(held["supervisor"], held["conflict"], "server")
    assert (finding.title, finding.version) == ("From the office", version)
    assert held["conflict"].status == ConflictStatus.RESOLVED and held["conflict"].resolution == "server"
    assert conflicts.open_conflicts(held["supervisor"]) == []


def test_taking_the_device_value_applies_it_with_version_feed_and_trail(held):
    finding = db.session.get(Finding, held["record"])
    version = finding.version
    conflicts.resolve(held["supervisor"], held["conflict"], "device")
    assert (finding.title, finding.version) == ("From the phone", version + 1)
    assert db.session.scalar(select(Change).where(Change.entity == "finding").order_by(Change.seq.desc())).version == version + 1
    assert db.session.scalar(select(Event).where(Event.action == "conflict.resolved")).changes["choice"] == "device"


def test_a_conflict_is_resolved_once(held):
    conflicts.resolve(held["supervisor"], held["conflict"], "server")
    with pytest.raises(StateError):
        conflicts.resolve(held["supervisor"], held["conflict"], "device")


def test_only_supervisors_resolve_conflicts(held):
    with pytest.raises(NotAllowed):
        conflicts.resolve(held["staff"], held["conflict"], "device")
    with pytest.raises(NotAllowed):
        conflicts.open_conflicts(held["staff"])


def test_the_device_value_cannot_reopen_a_closed_finding(held):
    finding = db.session.get(Finding, held["record"])
    finding.status = FindingStatus.CLOSED
    with pytest.raises(StateError):
        conflicts.resolve(held["supervisor"], held["conflict"], "device")
    assert finding.title == "From the office"


def test_a_response_conflict_can_take_the_device_answer(make):
    area, auditor, supervisor = make.area(), make.user("auditor"), make.user("supervisor")
    template = make.template()
    audit = make.audit(template, area, auditor)
    first, second = FieldDevice(auditor), FieldDevice(auditor)
    first.push([first.response(audit, template.questions[0], "yes")])
    second.push([second.response(audit, template.questions[0], "no")])
    [conflict] = conflicts.open_conflicts(supervisor)
    conflicts.resolve(supervisor, conflict, "device")
    assert db.session.scalar(select(Response.value)) == "no"
