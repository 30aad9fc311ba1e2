"""A management review's pack as a PDF: cover, each input with its figures and charts, the outputs.

Drawn from the review's frozen inputs, so the pack of a signed-off review reads the same
whenever it is downloaded.
"""

import io

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from ...models import ManagementReview
from .pdf import _facts, _p, _styles, _when

GRID = TableStyle([
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
])


def _table(header: list[str], rows: list[list], widths=None) -> Table:
    table = Table([header] + [[str(c) for c in row] for row in rows] if rows else [header, ["none"] + [""] * (len(header) - 1)],
                  colWidths=widths, hAlign="LEFT", repeatRows=1)
    table.setStyle(GRID)
    return table


def _bars(title: str, labels: list[str], values: list[float]) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 150 * mm, 42 * mm
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#1f5fa8")
    drawing.add(chart)
    drawing.add(String(12 * mm, 56 * mm, title, fontSize=9))
    return drawing


def review_pdf(review: ManagementReview, notes_labels: dict[str, str]) -> bytes:
    styles = _styles()
    inputs = review.inputs or {}
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Management review {review.period_start} to {review.period_end}",
                            author="Gemba", subject=f"Management review {review.id}")
    story: list = [
        _p("Management review", styles["title"]),
        _facts([
            ("Period", f"{review.period_start.isoformat()} to {review.period_end.isoformat()}"),
            ("Standard", review.standard or "all"),
            ("Site", review.site.name if review.site else "the whole organisation"),
            ("Held on", _when(review.held_on)),
            ("Chair", review.chair.name if review.chair else ""),
            ("Attendees", ", ".join(review.attendees or []) or "-"),
            ("Inputs assembled", _when(review.assembled_at)),
            ("Status", "signed off " + _when(review.signed_off_at) if review.signed_off_at else "draft, not signed off"),
        ], styles),
        Spacer(1, 4 * mm),
    ]
    previous = inputs.get("previous_actions", {})
    counts = previous.get("counts", {})
    story += [_p("1. Actions from previous reviews", styles["h1"]),
              _p(f"{counts.get('total', 0)} actions: {counts.get('done', 0)} done, {counts.get('open', 0)} open, "
                 f"{counts.get('overdue', 0)} overdue.", styles["body"]),
              _table(["Action", "Owner", "Due", "Status"],
                     [[a["title"], a["owner"], a["due_date"], a["status"] + (" (overdue)" if a["overdue"] else "")]
                      for a in previous.get("actions", [])], [80 * mm, 35 * mm, 25 * mm, 30 * mm])]
    results = inputs.get("audit_results", {})
    kinds = results.get("findings_by_kind", {})
    story += [_p("2. Audit results", styles["h1"]),
              _p(f"Programme: {results.get('done', 0)} of {results.get('planned', 0)} planned audits done "
                 f"({results.get('done_on_time', 0)} on time).", styles["body"]),
              _bars("Findings in the period by kind", [k.replace("_", " ") for k in kinds], [float(v) for v in kinds.values()]),
              _table(["Clause", "Findings"], [[c["clause"], c["count"]] for c in results.get("findings_by_clause", [])],
                     [40 * mm, 30 * mm])]
    ncs = inputs.get("nonconformities", {})
    story += [_p("3. Nonconformities and corrective actions", styles["h1"]),
              _facts([("NCs raised in the period", str(ncs.get("raised", 0))),
                      ("Open major / minor NCs", f"{ncs.get('open_major', 0)} / {ncs.get('open_minor', 0)}"),
                      ("Actions opened / completed", f"{ncs.get('actions_opened', 0)} / {ncs.get('actions_completed', 0)}"),
                      ("Actions overdue", str(ncs.get("actions_overdue", 0))),
                      ("Checked effective / not effective",
                       f"{ncs.get('checked_effective', 0)} / {ncs.get('checked_not_effective', 0)}")], styles)]
    objectives = inputs.get("objectives", {}).get("objectives", [])
    story += [_p("4. Objectives", styles["h1"]),
              _table(["Objective", "Target", "Latest", "Status"],
                     [[o["title"], f"{o['direction'].replace('_', ' ')} {o['target_value']:g} {o['unit']}",
                       "-" if o["latest"] is None else f"{o['latest']:g} ({o['measured_on']})", o["status"].replace("_", " ")]
                      for o in objectives], [75 * mm, 35 * mm, 35 * mm, 25 * mm])]
    story += [_p("5. Repeat findings", styles["h1"]),
              _p(f"{inputs.get('repeat_findings', 0)} findings in the period repeat an earlier one.", styles["body"]),
              _p("6. Coverage gaps", styles["h1"]),
              _table(["Standard", "Area x clause pairs", "Not audited in 12 months"],
                     [[g["standard"], g["pairs"], g["gaps"]] for g in inputs.get("coverage_gaps", [])])]
    story.append(_p("7. The chair's inputs", styles["h1"]))
    for key, label in notes_labels.items():
        story += [_p(label, styles["h2"]), _p((review.notes or {}).get(key) or "-", styles["body"])]
    story += [_p("Outputs", styles["h1"]), _p("Decisions", styles["h2"]), _p(review.decisions or "-", styles["body"]),
              _p("Actions", styles["h2"]),
              _table(["Action", "Owner", "Due", "Status"],
                     [[a.title, a.owner.name if a.owner else "", a.due_date.isoformat(), a.status] for a in review.actions],
                     [80 * mm, 35 * mm, 25 * mm, 30 * mm])]
    doc.build(story)
    return out.getvalue()

