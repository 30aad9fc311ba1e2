"""Dashboard charts: server-drawn SVG that the strict CSP allows, with the right numbers."""

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import ChartSnapshot
from server.services import charts
from tests.register_helpers import RegisterPages


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_months_back_ends_with_this_month():
    months = charts.months_back(date(2026, 3, 15))
    assert len(months) == 12
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1)


def test_charts_count_findings_by_clause_and_area_and_the_overdue_trend(app, make):
    supervisor = make.user("supervisor")
    area = make.area(name="Paint shop")
    staff = make.user("staff")
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=10)
    for _ in range(3):
        make.finding(area, staff, clause="8.5.1", received_at=at(today))
    make.finding(area, staff, clause="7.1.5", received_at=at(last_month))
    make.finding(area, staff, clause="7.1.5", received_at=at(today - timedelta(days=500)))  # outside 12 months
    finding = make.finding(area, staff)
    make.action(finding, staff, due_date=last_month - timedelta(days=5), created_at=at(last_month - timedelta(days=9)))
    by_key = {c.key: c for c in charts.dashboard_charts(supervisor, today)}
    clause_svg = str(by_key["clause"].svg)
    assert f"8.5.1, {today:%b %Y}: 3" in clause_svg
    assert f"7.1.5, {last_month:%b %Y}: 1" in clause_svg
    assert f"Test site / Paint shop, {today:%b %Y}: 4" in str(by_key["area"].svg)  # 3 + the one with the action
    overdue_svg = str(by_key["overdue"].svg)
    assert f"overdue, {last_month:%b %Y}: 1" in overdue_svg and f"overdue, {today:%b %Y}: 1" in overdue_svg
    assert f"opened, {(last_month - timedelta(days=9)):%b %Y}: 1" in str(by_key["actions"].svg)


def test_svg_has_no_script_and_no_style_attributes(app, make):
    supervisor = make.user("supervisor")
    make.finding(make.area(), make.user("staff"), title="<script>alert(1)</script>", clause="<b>x</b>")
    for chart in charts.dashboard_charts(supervisor):
        svg = str(chart.svg)
        assert "<script" not in svg and not re.search(r"\sstyle=", svg)
        assert svg.startswith("<svg") and 'role="img"' in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in str(charts.dashboard_charts(supervisor)[0].svg)


def test_dashboard_page_shows_the_charts(client, make, commit):
    supervisor = make.user("supervisor")
    staff = make.user("staff")
    finding = make.finding(make.area(), staff, clause="8.5.1")
    make.action(finding, staff, due_date=date.today() - timedelta(days=3))
    commit()
    assert RegisterPages(client).sign_in(supervisor).status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert page.count("<svg") >= 4
    assert "Findings by clause, last 12 months" in page and "Overdue actions at each month end" in page


def test_past_months_come_from_a_snapshot_and_this_month_is_counted_live(app, make):
    supervisor = make.user("supervisor")
    area, staff = make.area(), make.user("staff")
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=5)
    make.finding(area, staff, clause="8.5.1", received_at=at(last_month))
    late = make.finding(area, staff, clause="8.5.1", received_at=at(last_month))
    make.action(late, staff, due_date=last_month, created_at=at(last_month - timedelta(days=3)))
    months = charts.months_back(today)
    first = charts.register_figures(supervisor, today)
    assert first == charts.live_figures(supervisor, today, months)
    # This month moves: a new finding, a new action, one done.
    make.finding(area, staff, clause="7.2", received_at=at(today))
    done = make.action(late, staff, due_date=today, created_at=at(today))
    done.done_at, done.status = at(today), "done"
    db.session.flush()
    second = charts.register_figures(supervisor, today)
    assert second == charts.live_figures(supervisor, today, months)  # the snapshot path adds up the same
    # A past month is final: a record back-dated into it now is not recounted.
    make.finding(area, staff, clause="9.9", received_at=at(last_month))
    assert "9.9" not in charts.register_figures(supervisor, today)["clause"]
    assert "9.9" in charts.live_figures(supervisor, today, months)["clause"]


def test_a_supervisor_of_one_site_charts_that_site_whoever_views_first(app, make):
    here, there = make.area(site="Leeds"), make.area(site="York")
    staff = make.user("staff")
    limited, colleague, admin = make.user("supervisor"), make.user("supervisor"), make.user("admin")
    limited.sites = [here.site]
    colleague.sites = [here.site]
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=5)
    for area in (here, there, there):
        make.finding(area, staff, clause="8.5.1", received_at=at(last_month))
        make.finding(area, staff, clause="7.2", received_at=at(today))
    # Work of their own elsewhere is not the site they review: not in their charts.
    elsewhere = make.finding(there, limited, clause="4.4", received_at=at(today))
    make.action(elsewhere, limited, due_date=last_month, created_at=at(last_month))
    make.action(make.finding(here, staff, clause="8.7", received_at=at(last_month)), staff,
                due_date=last_month, created_at=at(last_month))
    db.session.flush()
    months = charts.months_back(today)
    last, this = f"{last_month:%Y-%m}", f"{today:%Y-%m}"

    def drawn(figures):  # what the charts show: a zero and a missing month draw the same
        return {name: {k: ({m: n for m, n in v.items() if n} if isinstance(v, dict) else v) for k, v in series.items()
                       if v} for name, series in figures.items()}

    # The month's first view is the one-site supervisor's: it counts their site only.
    mine = drawn(charts.register_figures(limited, today))
    assert mine["clause"]["8.5.1"] == {last: 1} and mine["clause"]["7.2"] == {this: 1}
    assert "4.4" not in mine["clause"] and set(mine["area"]) == {str(here.id)}
    assert mine["opened"] == {last: 1}
    # The whole organisation's snapshot is its own, not the site's.
    everything = drawn(charts.register_figures(admin, today))
    assert everything == drawn(charts.live_figures(admin, today, months))
    assert everything["clause"]["8.5.1"] == {last: 3} and everything["opened"] == {last: 2}
    # Read again from the snapshots, and by a colleague of the same site: the same figures.
    assert drawn(charts.register_figures(limited, today)) == mine
    assert drawn(charts.register_figures(colleague, today)) == mine
    assert drawn(charts.register_figures(admin, today)) == everything
    assert db.session.scalar(select(func.count()).select_from(ChartSnapshot)) == 2
    # Given York too, the supervisor's charts count both sites (a snapshot of their own).
    limited.sites = [here.site, there.site]
    db.session.flush()
    assert drawn(charts.register_figures(limited, today)) == everything
