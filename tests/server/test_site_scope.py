"""A supervisor limited to some sites sees, reviews and plans only there; admins see every site."""

import pytest

from server.models import Conflict
from server.permissions import can, reviews, scope_actions, scope_audits, scope_findings
from server.extensions import db
from server.services import audit_review, conflicts, feed, listings
from server.services.sync import pull


@pytest.fixture
def org(make):
    leeds, hull = make.site("Leeds"), make.site("Hull", "Europe/London")
    leeds_area, hull_area = make.area(site=leeds), make.area(site=hull)
    people = {
        "leeds_supervisor": make.user("supervisor", sites=[leeds]),
        "any_supervisor": make.user("supervisor"),
        "admin": make.user("admin", sites=[leeds]),  # an admin's sites never narrow them
        "auditor": make.user("auditor"),
        "staff": make.user("staff"),
    }
    template = make.template()
    records = {}
    for name, area in (("leeds", leeds_area), ("hull", hull_area)):
        audit = make.audit(template, area, people["auditor"], status="submitted")
        finding = make.finding(area, people["staff"])
        action = make.action(finding, people["staff"])
        conflict = Conflict(entity="finding", entity_id=str(finding.id), field="title", server_value="a",
                            device_value="b", base_version=1, server_version=2, area_id=area.id)
        db.session.add(conflict)
        db.session.flush()
        for kind, record in (("audit", audit), ("finding", finding), ("action", action), ("conflict", conflict)):
            feed.publish(kind, record.id, 1, area_id=area.id)
        records[name] = {"audit": audit, "finding": finding, "action": action, "conflict": conflict}
    return people, records


SEES = {
    # person: the sites whose records they review
    "leeds_supervisor": {"leeds"},
    "any_supervisor": {"leeds", "hull"},
    "admin": {"leeds", "hull"},
    "auditor": set(),
    "staff": set(),
}
ACTIONS = {"audit": "audit.review", "finding": "finding.triage", "action": "action.assign", "conflict": "conflict.resolve"}


@pytest.mark.parametrize("person", SEES)
@pytest.mark.parametrize("site", ["leeds", "hull"])
@pytest.mark.parametrize("kind", ACTIONS)
def test_reviewing_a_record_needs_its_site(org, person, site, kind):
    people, records = org
    assert can(people[person], ACTIONS[kind], records[site][kind]) is (site in SEES[person])


@pytest.mark.parametrize("person", ["leeds_supervisor", "any_supervisor", "admin"])
def test_lists_queues_and_pull_hold_only_the_sites_in_scope(org, person):
    people, records = org
    user = people[person]
    ids = {site: {kind: r.id for kind, r in rows.items()} for site, rows in records.items()}
    visible_sites = SEES[person]
    audits = {a.id for a in db.session.scalars(listings.audit_query(user))}
    findings = {f.id for f in db.session.scalars(listings.finding_query(user))}
    queue = audit_review.queue(user)
    open_conflicts = {c.id for c in conflicts.open_conflicts(user)}
    pulled = {(c["entity"], c["id"]) for c in pull(user, 0, 500).changes}
    for site in ("leeds", "hull"):
        inside = site in visible_sites
        assert (ids[site]["audit"] in audits) is inside
        assert (ids[site]["finding"] in findings) is inside
        assert (records[site]["audit"] in queue.audits) is inside
        assert (ids[site]["conflict"] in open_conflicts) is inside
    assert queue.audit_count == len(visible_sites)
    for site in ("leeds", "hull"):
        for kind in ("audit", "finding", "action", "conflict"):
            assert ((kind, str(ids[site][kind])) in pulled) is (site in visible_sites), (site, kind)


def test_a_scoped_supervisor_still_sees_what_is_tied_to_them_elsewhere(org, make):
    people, records = org
    supervisor = people["leeds_supervisor"]
    hull_finding = records["hull"]["finding"]
    mine = make.finding(hull_finding.area, supervisor)
    assert can(supervisor, "finding.view", mine) and not reviews(supervisor, mine)
    assert not can(supervisor, "finding.triage", mine)
    assert mine.id in {f.id for f in db.session.scalars(listings.finding_query(supervisor))}


def test_scopes_and_rules_agree(org):
    people, records = org
    for user in people.values():
        for rows in records.values():
            audits = db.session.scalars(db.select(rows["audit"].__class__).where(scope_audits(user))).all()
            assert (rows["audit"] in audits) is can(user, "audit.view", rows["audit"])
            findings = db.session.scalars(db.select(rows["finding"].__class__).where(scope_findings(user))).all()
            assert (rows["finding"] in findings) is can(user, "finding.view", rows["finding"])
            actions = db.session.scalars(db.select(rows["action"].__class__).where(scope_actions(user))).all()
            assert (rows["action"] in actions) is can(user, "action.view", rows["action"])
