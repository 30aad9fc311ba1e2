"""Due and planned dates are the site's local day; times in the register name the site's zone."""

from datetime import datetime, timedelta, timezone

from server.extensions import db
from server.pages import when
from server.services import actions, organisation, programme


def test_an_action_is_overdue_from_its_sites_midnight_not_the_servers(app, make):
    ahead = make.area(site=make.site("Kiritimati", "Pacific/Kiritimati"))  # UTC+14
    behind = make.area(site=make.site("Pago Pago", "Pacific/Pago_Pago"))  # UTC-11
    admin = make.user("admin")
    # 25 hours apart, Kiritimati's date is always one or two days after Pago Pago's.
    due = organisation.local_today("Pacific/Kiritimati") - timedelta(days=1)
    late = make.action(make.finding(ahead, admin, title="Ahead"), admin, due_date=due)
    make.action(make.finding(behind, admin, title="Behind"), admin, due_date=due)
    db.session.flush()
    overdue = db.session.scalars(actions.action_query(admin, overdue=True)).all()
    assert [a.id for a in overdue] == [late.id]
    assert actions.overdue_count(admin) == 1


def test_a_day_before_the_earliest_sites_date_is_overdue_on_every_site(app, make):
    # The earliest local date needs no site test; the later ones keep theirs.
    ahead = make.area(site=make.site("Kiritimati", "Pacific/Kiritimati"))
    behind = make.area(site=make.site("Pago Pago", "Pacific/Pago_Pago"))
    admin = make.user("admin")
    long_ago = organisation.local_today("Pacific/Pago_Pago") - timedelta(days=1)
    between = organisation.local_today("Pacific/Kiritimati") - timedelta(days=1)
    expected = {make.action(make.finding(area, admin, title=f"{area.site.name} long ago"), admin, due_date=long_ago).id
                for area in (ahead, behind)}
    expected.add(make.action(make.finding(ahead, admin, title="Ahead, between"), admin, due_date=between).id)
    make.action(make.finding(behind, admin, title="Behind, between"), admin, due_date=between)
    db.session.flush()
    assert {a.id for a in db.session.scalars(actions.action_query(admin, overdue=True))} == expected
    assert actions.overdue_count(admin) == 3


def test_a_planned_audit_is_late_from_its_sites_midnight(app, make, template):
    ahead = make.area(site=make.site("Kiritimati", "Pacific/Kiritimati"))
    behind = make.area(site=make.site("Pago Pago", "Pacific/Pago_Pago"))
    day = organisation.local_today("Pacific/Kiritimati") - timedelta(days=1)
    late = make.audit(template, ahead, None, planned_date=day)
    make.audit(template, behind, None, planned_date=day)
    assert [a.id for a in db.session.scalars(programme.overdue_query())] == [late.id]


def test_times_are_shown_in_the_sites_zone_with_the_zone_named(app, make):
    tokyo = make.site("Osaka", "Asia/Tokyo")
    moment = datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)
    assert when(moment, tokyo) == "2026-12-07 08:30 Asia/Tokyo"
    assert when(moment, make.area(site=tokyo)) == "2026-12-07 08:30 Asia/Tokyo"
    assert when(moment) == "2026-12-06 23:30 UTC"
    assert when(moment, tokyo, time=False) == "2026-12-07 Asia/Tokyo"
    assert when(None) == "–"


def test_a_retired_area_takes_no_new_audits_and_a_site_limited_supervisor_plans_only_on_their_sites(app, make, template):
    import pytest

    from server.errors import Invalid, NotAllowed

    leeds, york = make.area(site="Leeds"), make.area(site="York")
    supervisor = make.user("supervisor")
    supervisor.sites = [leeds.site]
    day = organisation.local_today(leeds) + timedelta(days=7)
    assert programme.plan_audit(supervisor, template, leeds, day).area_id == leeds.id
    with pytest.raises(NotAllowed):
        programme.plan_audit(supervisor, template, york, day)
    organisation.update_area(None, leeds, retired=True, even_with_open_work=True)
    with pytest.raises(Invalid):
        programme.plan_audit(make.user("admin"), template, leeds, day)
