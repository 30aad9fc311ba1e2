"""Dashboard charts, drawn on the server as SVG.

The register's Content-Security-Policy allows no inline script or style, so the charts
are plain SVG with presentation attributes (fill, stroke): they render without
JavaScript, print, and carry <title> elements for screen readers and tooltips.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from html import escape

from markupsafe import Markup
from sqlalchemy import Date, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import ActionStatus, Area, ChartSnapshot, CorrectiveAction, Finding, User, utcnow
from ..permissions import is_reviewer, scope_actions, scope_areas, scope_findings, sites_in_scope

# Okabe-Ito: tells apart for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
TOP = 6
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP_PAD, BOTTOM = 44, 12, 16, 56
LEGEND_ROW = 18


@dataclass
class Chart:
    key: str
    title: str
    svg: Markup
    empty: bool


def months_back(today: date, count: int = 12) -> list[date]:
    """The first days of the last `count` months, oldest first, this month last."""
    year, month = today.year, today.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(firsts))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _month(column):
    """The "YYYY-MM" (UTC) of a timestamp or date column, computed by the database."""
    if db.session.get_bind().dialect.name == "postgresql":
        if isinstance(column.type, Date):
            return func.to_char(column, "YYYY-MM")
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)  # SQLite keeps UTC text


def _label(month: str) -> str:
    return date.fromisoformat(month + "-01").strftime("%b")


# ---- queries ---------------------------------------------------------------------------


def _finding_scope(user: User | None):
    """The findings a user's charts count: a reviewer's are those of the sites they review
    (every site for a whole-organisation reviewer), anyone else's those they may see."""
    if user is None:
        return true()
    return scope_areas(user, Finding.area_id) if is_reviewer(user) else scope_findings(user)


def _action_scope(user: User | None):
    if user is None:
        return true()
    if not is_reviewer(user):
        return scope_actions(user)
    if sites_in_scope(user) is None:
        return true()
    return CorrectiveAction.finding_id.in_(select(Finding.id).where(scope_areas(user, Finding.area_id)))


def _findings_by_clause_and_area(user: User | None, months: list[date]) -> tuple[dict, dict]:
    """Findings received per month by clause and by area id.

    Two small grouped queries (a few hundred rows each) read the covering index
    ix_finding_received_clause_area; grouping by clause and area together would hand
    thousands of rows to Python instead.
    """
    month = _month(Finding.received_at)
    window = (Finding.received_at >= _midnight(months[0]), _finding_scope(user))
    series = []
    for key in (Finding.clause, Finding.area_id):
        rows = db.session.execute(select(key, month, func.count()).where(*window).group_by(key, month)).all()
        grouped: dict = {}
        for name, in_month, count in rows:
            grouped.setdefault(name, {})[in_month] = count
        series.append(grouped)
    return series[0], series[1]


def _top(series: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    ranked = sorted(series.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    if len(ranked) <= TOP:
        return dict(ranked)
    kept, rest = dict(ranked[:TOP - 1]), {}
    for _, months in ranked[TOP - 1:]:
        for month, count in months.items():
            rest[month] = rest.get(month, 0) + count
    kept["other"] = rest
    return kept


def _actions_by_month(user: User | None, today: date):
    """Every action as (created month, done month, due month, due before today, not effective) counts.

    One grouped scan of the actions serves both action charts; the groups are few (months
    cubed at most), so the tallies are made here.
    """
    created, done = _month(CorrectiveAction.created_at), _month(CorrectiveAction.done_at)
    due = _month(CorrectiveAction.due_date)
    due_past = CorrectiveAction.due_date < today
    not_effective = CorrectiveAction.status == ActionStatus.NOT_EFFECTIVE
    start = _midnight(months_back(today)[0])
    # Actions created and done before the window show in no chart.
    relevant = (CorrectiveAction.done_at.is_(None)) | (CorrectiveAction.done_at >= start) | (CorrectiveAction.created_at >= start)
    return db.session.execute(
        select(created, done, due, due_past, not_effective, func.count())
        .where(relevant, _action_scope(user))
        .group_by(created, done, due, due_past, not_effective)
    ).all()


def _actions_flow(rows, keys: list[str]) -> dict[str, dict[str, int]]:
    opened: dict[str, int] = {}
    completed: dict[str, int] = {}
    window = set(keys)
    for created_in, done_in, _, _, _, count in rows:
        if created_in in window:
            opened[created_in] = opened.get(created_in, 0) + count
        if done_in in window:
            completed[done_in] = completed.get(done_in, 0) + count
    return {"opened": opened, "completed": completed}


def _overdue_trend(rows, keys: list[str]) -> dict[str, int]:
    """Actions overdue at the end of each month (now, for this month).

    Overdue at a past month's end: due in or before that month, created by then, not done
    by then. This month: due before today and not done yet.
    """
    current = keys[-1]
    trend = {}
    for key in keys:
        trend[key] = sum(
            count for created_in, done_in, due_in, due_past, not_effective, count in rows
            if not not_effective and due_in is not None and created_in <= key
            and (due_past if key == current else due_in <= key)
            and (done_in is None or (done_in > key and key != current))
        )
    return trend


# ---- drawing ---------------------------------------------------------------------------


def _frame(title: str, key: str, body: list[str], legend: list[tuple[str, str]]) -> Markup:
    """Wrap a chart's shapes in an <svg>, with a legend that wraps onto more rows as needed."""
    legend_svg = []
    x, row = LEFT, 0
    for colour, name in legend:
        width = 24 + int(6.6 * len(name))
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        y = HEIGHT - 18 + row * LEGEND_ROW
        legend_svg.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 10}" font-size="12" fill="#111">{escape(name)}</text>'
        )
        x += width
    height = HEIGHT + row * LEGEND_ROW
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart" '
        f'role="img" aria-labelledby="chart-{key}-title">'
        f'<title id="chart-{key}-title">{escape(title)}</title>'
        + "".join(body) + "".join(legend_svg) + "</svg>"
    )


def _axes(months: list[str], top_value: int) -> tuple[list[str], float, float]:
    plot_h = HEIGHT - TOP_PAD - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    step = plot_w / len(months)
    scale = plot_h / top_value if top_value else 0
    parts = [f'<line x1="{LEFT}" y1="{TOP_PAD + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP_PAD + plot_h}" stroke="#767676"/>']
    for tick in _ticks(top_value):
        y = TOP_PAD + plot_h - tick * scale
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#4a4a4a">{tick}</text>')
    for i, month in enumerate(months):
        x = LEFT + step * i + step / 2
        parts.append(f'<text x="{x:.1f}" y="{TOP_PAD + plot_h + 16}" font-size="11" text-anchor="middle" fill="#4a4a4a">{_label(month)}</text>')
    return parts, step, scale


def _ticks(top_value: int) -> list[int]:
    if top_value <= 0:
        return [0]
    raw = top_value / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = max(1, int(-(-raw // magnitude)) * magnitude)
    return list(range(0, top_value + 1, step))


def stacked_columns(key: str, title: str, months: list[str], series: dict[str, dict[str, int]]) -> Chart:
    totals = [sum(s.get(m, 0) for s in series.values()) for m in months]
    top_value = max(totals, default=0)
    parts, step, scale = _axes(months, top_value)
    base_y = HEIGHT - BOTTOM
    legend = []
    heights = [0.0] * len(months)
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        legend.append((colour, name))
        for i, month in enumerate(months):
            count = values.get(month, 0)
            if not count:
                continue
            h = count * scale
            x = LEFT + step * i + step * 0.15
            y = base_y - heights[i] - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                f'<title>{escape(name)}, {_label(month)} {month[:4]}: {count}</title></rect>'
            )
            heights[i] += h
    return Chart(key, title, _frame(title, key, parts, legend), empty=top_value == 0)


def grouped_columns(key: str, title: str, months: list[str], series: dict[str, dict[str, int]]) -> Chart:
    top_value = max((v for s in series.values() for v in s.values()), default=0)
    parts, step, scale = _axes(months, top_value)
    base_y = HEIGHT - BOTTOM
    width = step * 0.8 / max(1, len(series))
    legend = []
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        legend.append((colour, name))
        for i, month in enumerate(months):
            count = values.get(month, 0)
            if not count:
                continue
            h = count * scale
            x = LEFT + step * i + step * 0.1 + width * index
            parts.append(
                f'<rect x="{x:.1f}" y="{base_y - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
                f'<title>{escape(name)}, {_label(month)} {month[:4]}: {count}</title></rect>'
            )
    return Chart(key, title, _frame(title, key, parts, legend), empty=top_value == 0)


def line(key: str, title: str, months: list[str], values: dict[str, int], name: str) -> Chart:
    top_value = max(values.values(), default=0)
    parts, step, scale = _axes(months, top_value)
    base_y = HEIGHT - BOTTOM
    points = [(LEFT + step * i + step / 2, base_y - values.get(m, 0) * scale) for i, m in enumerate(months)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    colour = PALETTE[5]
    parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    for (x, y), month in zip(points, months, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
            f'<title>{escape(name)}, {_label(month)} {month[:4]}: {values.get(month, 0)}</title></circle>'
        )
    return Chart(key, title, _frame(title, key, parts, [(colour, name)]), empty=top_value == 0)


def live_figures(user: User | None, today: date, months: list[date]) -> dict:
    """Count every chart's figures for `months` from the records, as `user` may see them (None: all)."""
    keys = [m.strftime("%Y-%m") for m in months]
    by_clause, by_area = _findings_by_clause_and_area(user, months)
    rows = _actions_by_month(user, today)
    flow = _actions_flow(rows, keys)
    return {
        "clause": by_clause,
        "area": {str(area_id): counts for area_id, counts in by_area.items()},
        "opened": flow["opened"],
        "completed": flow["completed"],
        "overdue": _overdue_trend(rows, keys),
    }


def _this_month(user: User, today: date) -> dict:
    """The current month's figures for the places `user` reviews: small range queries only."""
    first = today.replace(day=1)
    key = first.strftime("%Y-%m")
    since = _midnight(first)
    figures: dict = {"clause": {}, "area": {}}
    for name, column in (("clause", Finding.clause), ("area", Finding.area_id)):
        for value, count in db.session.execute(
            select(column, func.count()).where(Finding.received_at >= since, _finding_scope(user)).group_by(column)
        ):
            figures[name][str(value) if name == "area" else value] = {key: count}
    in_scope = _action_scope(user)
    count = lambda *where: db.session.scalar(  # noqa: E731
        select(func.count()).select_from(CorrectiveAction).where(in_scope, *where))
    figures["opened"] = {key: count(CorrectiveAction.created_at >= since)}
    figures["completed"] = {key: count(CorrectiveAction.done_at >= since)}
    figures["overdue"] = {key: count(CorrectiveAction.status == ActionStatus.OPEN, CorrectiveAction.due_date < today)}
    return figures


def _merge(past: dict, current: dict) -> dict:
    merged = {}
    for name in ("clause", "area"):
        series = {k: dict(v) for k, v in past.get(name, {}).items()}
        for key, counts in current[name].items():
            series.setdefault(key, {}).update(counts)
        merged[name] = series
    for name in ("opened", "completed", "overdue"):
        merged[name] = dict(past.get(name, {})) | current[name]
    return merged


def _past_only(figures: dict, keys: set[str]) -> dict:
    result = {}
    for name in ("clause", "area"):
        result[name] = {k: {m: n for m, n in v.items() if m in keys} for k, v in figures[name].items()}
        result[name] = {k: v for k, v in result[name].items() if v}
    for name in ("opened", "completed", "overdue"):
        result[name] = {m: n for m, n in figures[name].items() if m in keys}
    return result


def _snapshot_key(user: User, past_keys: list[str]) -> str:
    """The snapshot's key: its window, and for a reviewer of some sites which sites
    ("2025-12..2026-10" for every site, "2025-12..2026-10@<digest of the site ids>")."""
    window = f"{past_keys[0]}..{past_keys[-1]}"
    sites = sites_in_scope(user)
    if sites is None:
        return window
    digest = hashlib.sha256(",".join(sorted(str(site) for site in sites)).encode()).hexdigest()[:20]
    return f"{window}@{digest}"


def register_figures(user: User, today: date) -> dict:
    """The charts' figures; for a reviewer past months come from a snapshot of the sites they review.

    The first view in a month by a reviewer of a given set of sites (every site, or some)
    counts the whole window and adds the snapshot for that set (the dashboard view
    commits it); two workers doing so at once count the same numbers, and the second
    insert is skipped. The current month is counted live, for the same sites.
    """
    months = months_back(today)
    if not is_reviewer(user):
        return live_figures(user, today, months)
    past_keys = [m.strftime("%Y-%m") for m in months[:-1]]
    key = _snapshot_key(user, past_keys)
    snapshot = db.session.get(ChartSnapshot, key)
    if snapshot is not None:
        return _merge(snapshot.figures, _this_month(user, today))
    figures = live_figures(user, today, months)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(ChartSnapshot).values(
        window=key, figures=_past_only(figures, set(past_keys)), computed_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["window"]))
    return figures


def dashboard_charts(user: User, today: date | None = None) -> list[Chart]:
    """The four dashboard charts over the last twelve months, scoped to what `user` may see."""
    today = today or date.today()
    labels = [m.strftime("%Y-%m") for m in months_back(today)]
    figures = register_figures(user, today)
    area_ids = [uuid.UUID(a) for a in figures["area"]]
    names = {str(a.id): a.label for a in db.session.scalars(select(Area).where(Area.id.in_(area_ids)))} if area_ids else {}
    by_area = {names.get(area_id, "removed area"): counts for area_id, counts in figures["area"].items()}
    by_clause = {(clause or "no clause"): counts for clause, counts in figures["clause"].items()}
    flow = {"opened": figures["opened"], "completed": figures["completed"]}
    return [
        stacked_columns("clause", "Findings by clause, last 12 months", labels, _top(by_clause)),
        stacked_columns("area", "Findings by area, last 12 months", labels, _top(by_area)),
        grouped_columns("actions", "Corrective actions opened and completed per month", labels, flow),
        line("overdue", "Overdue actions at each month end", labels, figures["overdue"], "overdue"),
    ]
