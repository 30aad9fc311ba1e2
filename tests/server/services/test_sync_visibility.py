"""After any mix of operations, each device holds exactly what a fresh snapshot of its person holds.

Hypothesis draws a sequence of operations that move what people may see - raising
findings, planning actions and giving them to another owner, moving a finding to another
site, reassigning planned audits, answering, commenting, a new home area, a site taken
away from a supervisor and given back - interleaved with devices syncing. Each device
starts from a snapshot and then only pulls (taking a new snapshot when told to reset),
keeping what it receives the way the field app does. At the end every device syncs once
more and its store must equal a fresh snapshot of what its person may see.
"""

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import DomainError
from server.extensions import db
from server.models import Audit, CorrectiveAction, Finding
from server.services import actions, feed, findings, programme, sync
from tests.syncops import FieldDevice

PEOPLE = ("staff_a", "staff_b", "auditor_x", "auditor_y", "sup_all", "sup_north", "admin")
RAISERS = ("staff_a", "staff_b", "auditor_x", "sup_north")
OWNERS = ("staff_a", "staff_b", "auditor_x")
AUDITORS = ("auditor_x", "auditor_y")
KINDS = ("raise", "plan", "owner", "move", "comment", "assign", "answer", "home", "sites", "sync")


def snapshot_of(user) -> tuple[dict, int, str]:
    store, token = {}, None
    while True:
        page = sync.snapshot(user, token, 7)  # small pages: paging is part of what is tested
        store |= {(c["entity"], c["id"]): c for c in page.changes}
        if not page.more:
            return store, page.position, page.scope
        token = page.token


class Device:
    """A device's store as the field app keeps it: snapshot first, then pulls."""

    def __init__(self, user):
        self.user = user
        self.store, self.cursor, self.scope = snapshot_of(user)

    def sync(self):
        while True:
            page = sync.pull(self.user, self.cursor, 5, scope=self.scope)
            if page.reset:
                self.store, self.cursor, self.scope = snapshot_of(self.user)
                continue
            for change in page.changes:
                key = (change["entity"], change["id"])
                if change["deleted"]:
                    self.store.pop(key, None)
                else:
                    self.store[key] = change
            self.cursor = page.cursor
            if not page.more:
                return


@pytest.fixture
def world(make, commit, template):
    north_1, north_2 = make.area(site="North", name="Press shop"), make.area(site="North", name="Paint shop")
    south = make.area(site="South", name="Stores")
    people = {
        "staff_a": make.user("staff", home_area=north_1), "staff_b": make.user("staff", home_area=south),
        "auditor_x": make.user("auditor", home_area=south), "auditor_y": make.user("auditor", home_area=south),
        "sup_all": make.user("supervisor"), "sup_north": make.user("supervisor", sites=[north_1.site]),
        "admin": make.user("admin"),
    }
    for name in AUDITORS:
        programme.set_qualification(people["admin"], people[name], template.standard, None)
    feed.publish("template", template.id, 1)
    for area in (north_1, north_2, north_1, north_2, south, north_1):
        audit = make.audit(template, area, people["auditor_x"], planned_date=date.today() + timedelta(days=7))
        feed.publish("audit", audit.id, 1)
    commit()
    return {"areas": [north_1, north_2, south], "people": people, "template": template,
            "north": north_1.site, "south": south.site}


PLAN = {"whys": [{"why": "Why?", "because": "Because"}], "root_cause": "Cause", "plan": "Fix it",
        "due_date": date.today() + timedelta(days=14)}
OPS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=14)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=OPS)
def test_each_device_holds_what_a_fresh_snapshot_holds(world, ops):
    people, areas = world["people"], world["areas"]
    admin = people["admin"]
    people["sup_north"].sites = [world["north"]]
    db.session.commit()
    devices = {name: Device(user) for name, user in people.items()}
    pushers = {name: FieldDevice(user) for name, user in people.items()}

    def pick(rows, index):
        return rows[index % len(rows)] if rows else None

    for kind, i, j in ops:
        try:
            if kind == "raise":
                name = RAISERS[i % len(RAISERS)]
                pushers[name].push([pushers[name].finding(pick(areas, j), title=f"{kind} {i} {j}")])
            elif kind == "plan":
                finding = pick(db.session.query(Finding).order_by(Finding.id).all(), i)
                if finding is not None:
                    actions.plan_action(admin, finding, PLAN | {"owner_id": people[pick(OWNERS, j)].id})
            elif kind == "owner":
                action = pick(db.session.query(CorrectiveAction).order_by(CorrectiveAction.id).all(), i)
                if action is not None:
                    actions.update_plan(admin, action, PLAN | {"owner_id": people[pick(OWNERS, j)].id})
            elif kind == "move":
                finding = pick(db.session.query(Finding).order_by(Finding.id).all(), i)
                if finding is not None:
                    findings.edit_finding(admin, finding, {"area_id": pick(areas, j).id}, finding.version)
            elif kind == "comment":
                finding = pick(db.session.query(Finding).order_by(Finding.id).all(), i)
                if finding is not None:
                    device = pushers["admin"]
                    device.push([device.op("comment", uuid.uuid4(), finding_id=str(finding.id), body=f"Note {j}")])
            elif kind == "assign":
                audit = pick(db.session.query(Audit).filter_by(status="planned").order_by(Audit.id).all(), i)
                if audit is not None:
                    programme.assign(admin, audit, people[pick(AUDITORS, j)])
            elif kind == "answer":
                audit = pick(db.session.query(Audit).order_by(Audit.id).all(), i)
                if audit is not None and audit.auditor is not None:
                    name = next(n for n in AUDITORS if people[n].id == audit.auditor_id)
                    question = pick(world["template"].questions, j)
                    pushers[name].push([pushers[name].response(audit, question, "yes")])
            elif kind == "home":
                people["staff_a"].home_area_id = pick(areas, j).id
            elif kind == "sites":
                sup = people["sup_north"]
                sup.sites = [world["north"]] if len(sup.sites) == 2 else [world["north"], world["south"]]
            elif kind == "sync":
                devices[pick(PEOPLE, i)].sync()
            db.session.commit()
        except DomainError:
            db.session.rollback()

    for name, device in devices.items():
        device.sync()
        fresh, _, _ = snapshot_of(device.user)
        assert device.store == fresh, name
