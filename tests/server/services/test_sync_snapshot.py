"""Snapshot: a new device's first sync is what the person may see now, paged, then pulls from its position."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.errors import DomainError
from server.extensions import db
from server.models import Change, Finding, FindingStatus, utcnow
from server.services import sync
from tests.syncops import FieldDevice


def take(user, limit=500, **kwargs):
    """A whole snapshot: {(entity, id): change}, the position, and the pages it took."""
    out, token, pages = {}, None, 0
    while True:
        page = sync.snapshot(user, token, limit, **kwargs)
        pages += 1
        for change in page.changes:
            assert (change["entity"], change["id"]) not in out  # a stable order: each record once
            out[(change["entity"], change["id"])] = change
        if not page.more:
            return out, page.position, pages
        token = page.token


def replay(user, **kwargs):
    """What today's app builds from the feed: pull from 0, dropping tombstones."""
    store, cursor = {}, 0
    while True:
        page = sync.pull(user, cursor, 500, **kwargs)
        for change in page.changes:
            key = (change["entity"], change["id"])
            if change["deleted"]:
                store.pop(key, None)
            else:
                store[key] = change
        cursor = page.cursor
        if not page.more:
            return store, cursor


@pytest.fixture
def world(make, template):
    north, south = make.area(site="North"), make.area(site="South")
    people = {"staff": make.user("staff", home_area=north), "other": make.user("staff"),
              "auditor": make.user("auditor"), "supervisor": make.user("supervisor"),
              "north_sup": make.user("supervisor", sites=[north.site])}
    audit = make.audit(template, north, people["auditor"])
    from server.services import feed

    feed.publish("template", template.id, 1)
    feed.publish("audit", audit.id, 1)
    for name in ("staff", "other"):
        device = FieldDevice(people[name])
        device.push([device.finding(area, title=f"{name} in {area.name}") for area in (north, south)])
    device = FieldDevice(people["auditor"])
    device.push([device.response(audit, template.questions[0], "yes")])
    db.session.commit()
    return {"north": north, "south": south, "people": people, "audit": audit}


@pytest.mark.parametrize("who", ["staff", "auditor", "supervisor", "north_sup"])
def test_a_snapshot_holds_what_replaying_the_feed_holds(world, who):
    user = world["people"][who]
    snap, position, _ = take(user)
    store, _ = replay(user)
    assert snap == store
    assert position == db.session.scalar(select(func.max(Change.seq)))


def test_pages_resume_from_their_token_in_a_stable_order(world):
    supervisor = world["people"]["supervisor"]
    whole, _, _ = take(supervisor)
    paged, position, pages = take(supervisor, limit=2)
    assert paged == whole and pages > 3
    # Interrupted after two pages: a later call with the saved token goes on from there.
    first = sync.snapshot(supervisor, None, 2)
    second = sync.snapshot(supervisor, first.token, 2)
    rest, token = {}, second.token
    while token:
        page = sync.snapshot(supervisor, token, 2)
        rest |= {(c["entity"], c["id"]): c for c in page.changes}
        token = page.token
    got = {(c["entity"], c["id"]) for c in first.changes + second.changes} | set(rest)
    assert got == set(whole)


def test_a_change_made_during_the_snapshot_comes_in_the_pull_after_it(world):
    staff = world["people"]["staff"]
    first = sync.snapshot(staff, None, 1)
    device = FieldDevice(staff)
    record = uuid.uuid4()
    device.push([device.finding(world["north"], record_id=record, title="Made meanwhile")])
    token, position = first.token, first.position
    while token:
        page = sync.snapshot(staff, token, 1)
        token = page.token
    pulled = sync.pull(staff, position, 500)
    assert ("finding", str(record)) in {(c["entity"], c["id"]) for c in pulled.changes}


def test_a_supervisor_device_holds_its_sites_open_items_and_the_last_days(world):
    supervisor = world["people"]["supervisor"]
    staff = world["people"]["staff"]
    device = FieldDevice(staff)
    old_closed, old_open = uuid.uuid4(), uuid.uuid4()
    device.push([device.finding(world["north"], record_id=old_closed, title="Closed long ago"),
                 device.finding(world["north"], record_id=old_open, title="Open for long")])
    long_ago = utcnow() - timedelta(days=400)
    db.session.execute(update(Finding).where(Finding.id.in_([old_closed, old_open])).values(updated_at=long_ago))
    db.session.execute(update(Finding).where(Finding.id == old_closed)
                       .values(status=FindingStatus.CLOSED, updated_at=long_ago))
    db.session.commit()
    snap, _, _ = take(supervisor, sites=[world["north"].site_id], days=90)
    titles = {c["fields"]["title"] for c in snap.values() if c["entity"] == "finding"}
    assert titles == {"staff in " + world["north"].name, "other in " + world["north"].name, "Open for long"}
    everything, _, _ = take(supervisor, sites=[world["north"].site_id], days=3650)
    assert ("finding", str(old_closed)) in everything
    # The raiser's own device holds it whatever its age.
    assert ("finding", str(old_closed)) in take(staff)[0]
    # A site-limited supervisor cannot choose a site they do not review.
    limited, _, _ = take(world["people"]["north_sup"], sites=[world["south"].site_id])
    assert not [c for c in limited.values() if c["entity"] == "finding"]


def test_a_bad_token_is_refused():
    with pytest.raises(DomainError):
        sync.snapshot(None, "not-a-token", 10)


def test_a_page_of_findings_skips_none_when_one_person_owns_several_actions_of_a_finding(make, commit):
    # Ids in a known order: the owner's actions repeat finding 1 before finding 2, and
    # finding 2 sorts before the owner's own findings 3 and 4.
    area = make.area()
    owner, raiser = make.user("staff"), make.user("staff")
    ids = [uuid.UUID(int=n) for n in range(1, 5)]
    several = make.finding(area, raiser, id=ids[0], title="Three actions")
    one = make.finding(area, raiser, id=ids[1], title="One action")
    for _ in range(3):
        make.action(several, owner)
    make.action(one, owner)
    for record_id in ids[2:]:
        make.finding(area, owner, id=record_id, title="Their own")
    commit()
    held, token = [], None
    while True:
        page = sync.snapshot(owner, token, 2)
        held += [c["id"] for c in page.changes if c["entity"] == "finding"]
        if not page.more:
            break
        token = page.token
    assert held == [str(record_id) for record_id in ids]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 12, 13, 30, 500])
def test_pages_of_audits_are_filled_with_whole_audits(make, commit, limit):
    """An audit comes with all its answers in one page; a page of audits ends only where
    the next audit and its answers would not fit, and holds more than `limit` records only
    when it is one audit larger than a page. Audits of many sizes, so that the batches the
    audits are read in (snapshot.AUDIT_BATCH, then what the room left suggests) end at
    every point of a page."""
    from server.models import Response

    sizes = [0, 3, 1, 11, 0, 2, 5, 0, 0, 4, 12, 1, 6, 0, 3, 9, 2, 2, 0, 7, 1]
    template = make.template(questions=max(sizes))
    area, auditor = make.area(), make.user("auditor")
    audits = {}
    for n, size in enumerate(sizes):
        audit = make.audit(template, area, auditor, id=uuid.UUID(int=n + 1))
        for question in template.questions[:size]:
            db.session.add(Response(audit_id=audit.id, question_id=question.id, value="yes"))
        audits[str(audit.id)] = size
    commit()
    pages, token = [], None
    while True:
        page = sync.snapshot(auditor, token, limit)
        pages.append(page.changes)
        if not page.more:
            break
        token = page.token
    whole, _, _ = take(auditor)
    assert {(c["entity"], c["id"]) for changes in pages for c in changes} == set(whole)
    assert [c["id"] for changes in pages for c in changes if c["entity"] == "audit"] == list(audits)  # by id, each once
    assert sum(c["entity"] == "response" for changes in pages for c in changes) == sum(sizes)
    order = list(audits)
    for n, changes in enumerate(pages):
        held = [c["id"] for c in changes if c["entity"] == "audit"]
        answers = [c for c in changes if c["entity"] == "response"]
        assert sorted(c["fields"]["audit_id"] for c in answers) == sorted(
            a for a in held for _ in range(audits[a]))  # every answer of these audits, no others
        if len(changes) > limit:
            assert len(held) == 1 and len(changes) == 1 + audits[held[0]]
        following = pages[n + 1] if n + 1 < len(pages) else []
        if held and following and following[0]["entity"] == "audit":
            # The page stopped in the audits: the next audit would not have fitted.
            nxt = order[order.index(held[-1]) + 1]
            assert following[0]["id"] == nxt
            assert len(changes) + 1 + audits[nxt] > limit
