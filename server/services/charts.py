"""Dashboard charts, drawn on the server as SVG.

The register's Content-Security-Policy allows no inline script or style, so the charts
are plain SVG with presentation attributes (fill, stroke): they render without
JavaScript, print, and carry <title> elements for screen readers and tooltips.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape

from markupsafe import Markup
from sqlalchemy import case, func, literal, select

from ..extensions import db
from ..models import ActionStatus, Area, CorrectiveAction, Finding, User
from ..permissions import scope_actions, scope_findings

# Okabe-Ito: tells apart for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
TOP = 6
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP_PAD, BOTTOM = 44, 12, 16, 56


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


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _bucket(column, months: list[date]):
    """A CASE expression naming the month a timestamp falls in (portable SQL), and the start."""
    whens = [
        ((column >= _midnight(m)) & (column < _midnight(_next_month(m))), m.strftime("%Y-%m"))
        for m in months
    ]
    return case(*whens, else_=literal(None)), _midnight(months[0])


def _label(month: str) -> str:
    return date.fromisoformat(month + "-01").strftime("%b")


# ---- queries ---------------------------------------------------------------------------


def _findings_by(user: User, months: list[date], key_column, join=None) -> dict[str, dict[str, int]]:
    bucket, start = _bucket(Finding.received_at, months)
    query = select(key_column, bucket.label("month"), func.count()).where(Finding.received_at >= start, scope_findings(user))
    if join is not None:
        query = query.join(*join)
    rows = db.session.execute(query.group_by(key_column, bucket)).all()
    result: dict[str, dict[str, int]] = {}
    for key, month, count in rows:
        if month:
            result.setdefault(key or "no clause", {})[month] = count
    return result


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


def _actions_flow(user: User, months: list[date]) -> dict[str, dict[str, int]]:
    opened_bucket, start = _bucket(CorrectiveAction.created_at, months)
    closed_bucket, _ = _bucket(CorrectiveAction.done_at, months)
    opened = dict(db.session.execute(
        select(opened_bucket, func.count()).where(CorrectiveAction.created_at >= start, scope_actions(user))
        .group_by(opened_bucket)
    ).all())
    closed = dict(db.session.execute(
        select(closed_bucket, func.count()).where(CorrectiveAction.done_at >= start, scope_actions(user))
        .group_by(closed_bucket)
    ).all())
    return {"opened": {k: v for k, v in opened.items() if k}, "completed": {k: v for k, v in closed.items() if k}}


def _overdue_trend(user: User, months: list[date], today: date) -> dict[str, int]:
    """Actions overdue at the end of each month (today for this month), in one query."""
    columns = []
    for first in months:
        # Due before the month's end (before today for this month), and still open then
        # (this month: still open now).
        end_day = min(_next_month(first), today)
        end = _midnight(min(_next_month(first), today + timedelta(days=1)))
        overdue_then = (
            (CorrectiveAction.due_date < end_day)
            & (CorrectiveAction.created_at < end)
            & ((CorrectiveAction.done_at.is_(None)) | (CorrectiveAction.done_at >= end))
            & (CorrectiveAction.status != ActionStatus.NOT_EFFECTIVE)
        )
        columns.append(func.coalesce(func.sum(case((overdue_then, 1), else_=0)), 0))
    row = db.session.execute(
        select(*columns).where(CorrectiveAction.due_date < today, scope_actions(user))
    ).one()
    return {m.strftime("%Y-%m"): int(v) for m, v in zip(months, row, strict=True)}


# ---- drawing ---------------------------------------------------------------------------


def _frame(title: str, key: str, body: list[str], legend: list[tuple[str, str]]) -> Markup:
    legend_svg = []
    x = LEFT
    for colour, name in legend:
        legend_svg.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 8}" font-size="12" fill="#111">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
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


def dashboard_charts(user: User, today: date | None = None) -> list[Chart]:
    """The four dashboard charts over the last twelve months, scoped to what `user` may see."""
    today = today or date.today()
    months = months_back(today)
    labels = [m.strftime("%Y-%m") for m in months]
    by_clause = _top(_findings_by(user, months, Finding.clause))
    area_label = Area.site + literal(" / ") + Area.name
    by_area = _top(_findings_by(user, months, area_label, join=(Area, Area.id == Finding.area_id)))
    flow = _actions_flow(user, months)
    overdue = _overdue_trend(user, months, today)
    return [
        stacked_columns("clause", "Findings by clause, last 12 months", labels, by_clause),
        stacked_columns("area", "Findings by area, last 12 months", labels, by_area),
        grouped_columns("actions", "Corrective actions opened and completed per month", labels, flow),
        line("overdue", "Overdue actions at each month end", labels, overdue, "overdue"),
    ]
