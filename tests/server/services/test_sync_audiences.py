"""Audiences: a pull reads only what is addressed to the person, and visibility changes reach them."""

import uuid
from contextlib import contextmanager

from sqlalchemy import event, func, select

from server.extensions import db
from server.models import Change, ChangeAudience, Finding
from server.services import findings, sync
from server.services.sync import audiences
from tests.syncops import FieldDevice


@contextmanager
def statements():
    seen = []
    engine = db.engine

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def everything(user, cursor=0, **kwargs):
    out = {}
    while True:
        page = sync.pull(user, cursor, 500, **kwargs)
        for change in page.changes:
            out[(change["entity"], change["id"])] = change
        cursor = page.cursor
        if not page.more:
            return out, cursor


def test_a_pull_with_nothing_new_reads_no_one_elses_changes(make):
    area = make.area()
    staff, others = make.user("staff", home_area=area), [make.user("staff") for _ in range(3)]
    mine = FieldDevice(staff)
    mine.push([mine.finding(area, title="Mine")])
    _, cursor = everything(staff)
    for person in others:
        device = FieldDevice(person)
        device.push([device.finding(area, title=f"Not yours {n}") for n in range(20)])
    with statements() as seen:
        page = sync.pull(staff, cursor, 200)
    assert page.changes == [] and page.more is False
    assert page.cursor == db.session.scalar(select(func.max(Change.seq)))
    # The head, and one index range per audience of the person (all, user:): no feed scan.
    assert len(seen) <= 3, seen
    addressed = db.session.scalar(select(func.count()).select_from(ChangeAudience)
                                  .where(ChangeAudience.audience == audiences.user(staff.id)))
    assert addressed == 1


def test_a_finding_moved_to_another_site_leaves_the_first_sites_supervisor(make):
    north, south = make.area(site="North"), make.area(site="South")
    staff = make.user("staff")
    north_sup = make.user("supervisor", sites=[north.site])
    south_sup = make.user("supervisor", sites=[south.site])
    admin = make.user("admin")
    device = FieldDevice(staff)
    record = uuid.uuid4()
    device.push([device.finding(north, record_id=record, title="Guard")])
    key = ("finding", str(record))
    before_north, north_cursor = everything(north_sup)
    before_south, south_cursor = everything(south_sup)
    assert not before_north[key]["deleted"] and key not in before_south

    finding = db.session.get(Finding, record)
    findings.edit_finding(admin, finding, {"area_id": south.id}, finding.version)
    db.session.commit()

    after_north, _ = everything(north_sup, north_cursor)
    after_south, _ = everything(south_sup, south_cursor)
    assert after_north[key]["deleted"] is True
    assert after_south[key]["deleted"] is False and after_south[key]["fields"]["area_id"] == str(south.id)
    # Only the change itself went to the former site; the next one does not.
    findings.edit_finding(admin, finding, {"title": "Guard, again"}, finding.version)
    db.session.commit()
    assert key not in everything(north_sup, north_cursor + 10**6)[0]
    assert everything(staff)[0][key]["fields"]["title"] == "Guard, again"


def test_a_site_taken_away_tells_the_device_to_take_a_new_snapshot(make):
    north, south = make.area(site="North"), make.area(site="South")
    supervisor = make.user("supervisor", sites=[north.site, south.site])
    page = sync.pull(supervisor, 0, 10)
    scope = page.scope
    assert sync.pull(supervisor, page.cursor, 10, scope=scope).reset is False

    supervisor.sites = [north.site]
    db.session.commit()

    told = sync.pull(supervisor, page.cursor, 10, scope=scope)
    assert told.reset is True and told.changes == [] and told.cursor == page.cursor
    assert told.scope != scope


def test_a_working_set_of_sites_reads_only_their_changes(make):
    north, south = make.area(site="North"), make.area(site="South")
    staff, supervisor = make.user("staff"), make.user("supervisor")
    device = FieldDevice(staff)
    device.push([device.finding(north, title="North"), device.finding(south, title="South")])
    seen, _ = everything(supervisor, sites=[north.site_id])
    assert {c["fields"]["title"] for c in seen.values() if c["entity"] == "finding"} == {"North"}
    seen, _ = everything(supervisor, areas=[south.id])
    assert {c["fields"]["title"] for c in seen.values() if c["entity"] == "finding"} == {"South"}
