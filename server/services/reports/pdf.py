"""An audit's report as a PDF, drawn with reportlab (pure Python: no system library)."""

import io
import json
from datetime import date, datetime
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from PIL import ImageOps
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ...extensions import db
from ...models import Audit, CorrectiveAction, Photo, PhotoState, PhotoSubject, User, utcnow
from ...storage import MissingObject, object_key, photo_store
from .. import audits, checklists
from .collect import AuditReport, collect, person_name

THUMB_EDGE = 320


def _styles():
    sheet = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=sheet["Title"], fontSize=20, spaceAfter=12),
        "h1": ParagraphStyle("h1", parent=sheet["Heading1"], fontSize=15, spaceBefore=8, spaceAfter=6, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=sheet["Heading2"], fontSize=12, spaceBefore=8, spaceAfter=4, keepWithNext=1),
        "body": ParagraphStyle("body", parent=sheet["BodyText"], fontSize=9.5, leading=12),
        "small": ParagraphStyle("small", parent=sheet["BodyText"], fontSize=7.5, leading=9, textColor=colors.HexColor("#444444")),
        "mono": ParagraphStyle("mono", parent=sheet["BodyText"], fontName="Courier", fontSize=7, leading=8.5),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _when(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _answer(value) -> str:
    if value is None or value == "" or value == []:
        return "not answered"
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(map(str, value))  # a multiple choice: the options chosen
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def thumbnail(photo: Photo) -> bytes | None:
    """The stored thumbnail of a photo, made from the original if the thumbnail is missing."""
    store = photo_store()
    try:
        return store.get(object_key("thumb", photo.sha256))
    except MissingObject:
        pass
    try:
        with store.open(object_key("original", photo.sha256)) as original:
            image = PILImage.open(original)
            image.draft("RGB", (THUMB_EDGE, THUMB_EDGE))
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((THUMB_EDGE, THUMB_EDGE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
            return out.getvalue()
    except (MissingObject, OSError, ValueError, PILImage.DecompressionBombError):
        return None


def _photo_cells(photos: list[Photo], styles, edge=38 * mm) -> Table | None:
    cells = []
    for photo in photos:
        data = thumbnail(photo) if photo.state == PhotoState.STORED else None
        if data:
            reader = ImageReader(io.BytesIO(data))
            width, height = reader.getSize()
            scale = min(edge / width, edge / height)
            picture = Image(io.BytesIO(data), width=width * scale, height=height * scale)
            caption = f"SHA-256 {photo.sha256}"
        else:
            label = "expected evidence (not uploaded yet)" if photo.state != PhotoState.STORED else "photo unreadable"
            picture = Table([[_p(label, styles["small"])]], colWidths=[edge], rowHeights=[edge * 0.6])
            picture.setStyle(TableStyle([
                ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#8a4b00")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]))
            caption = f"SHA-256 {photo.sha256}"
        cells.append(Table([[picture], [Paragraph(_wrap_hash(caption), styles["mono"])]], colWidths=[edge + 2 * mm]))
    if not cells:
        return None
    per_row = 4
    rows = [cells[i:i + per_row] + [""] * (per_row - len(cells[i:i + per_row])) for i in range(0, len(cells), per_row)]
    table = Table(rows, colWidths=[edge + 4 * mm] * per_row, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _wrap_hash(text: str) -> str:
    # Break the 64 hex digits so they fit under a thumbnail.
    if text.startswith("SHA-256 "):
        digest = text[8:]
        return "SHA-256<br/>" + "<br/>".join(digest[i:i + 22] for i in range(0, len(digest), 22))
    return escape(text)


def _facts(rows: list[tuple[str, str]], styles) -> Table:
    table = Table([[_p(k, styles["small"]), _p(v, styles["body"])] for k, v in rows], colWidths=[40 * mm, 130 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
    ]))
    return table


def render_pdf(report: AuditReport) -> bytes:
    """Draw the audit report: cover, score, answers by section, findings, photo register."""
    audit = report.audit
    styles = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=f"Audit report: {audit.template.name} - {audit.area.label}", author="Gemba",
        subject=f"Audit {audit.id}",
    )
    response_photos = {r.id: report.evidence.by_subject.get((PhotoSubject.RESPONSE, r.id), [])
                       for r in report.responses.values()}
    every_question = audit.template.questions
    shown = audits.shown_questions(every_question, report.responses)
    answered = audits.answered_questions(every_question, report.responses, response_photos, shown)
    story = [
        _p("Audit report", styles["title"]),
        _p(f"{audit.template.name} (version {audit.template.version}, {audit.template.standard})", styles["h2"]),
        Spacer(1, 4 * mm),
        _facts([
            ("Area", audit.area.label),
            ("Auditor", person_name(audit.auditor)),
            ("Planned", _when(audit.planned_date)),
            ("Started", _when(audit.started_at)),
            ("Submitted", _when(audit.submitted_at)),
            ("Status", audit.status.replace("_", " ")),
            ("Reviewed by", f"{person_name(audit.reviewed_by)} on {_when(audit.reviewed_at)}" if audit.reviewed_by_id else "-"),
            ("Score", f"{audit.score:.0f}%" if audit.score is not None else "not scored"),
            ("Answered", f"{len(answered)} of {sum(shown.values())} questions"
                         + (f" ({len(shown) - sum(shown.values())} not applicable: hidden by earlier answers)"
                            if not all(shown.values()) else "")),
            ("Findings", f"{len(report.findings)}, of which {sum(1 for f in report.findings if f.repeat_of_id)} repeat earlier findings"),
            ("Photos", f"{len(report.evidence.stored)} stored, {len(report.evidence.expected)} expected"),
            ("Audit id", str(audit.id)),
            ("Generated", _when(utcnow())),
        ], styles),
    ]
    if audit.summary:
        story += [Spacer(1, 4 * mm), _p("Summary", styles["h2"]), _p(audit.summary, styles["body"])]
    story.append(PageBreak())
    story.append(_p("Answers", styles["h1"]))
    for section, questions in audit.template.sections:
        story.append(_p(section, styles["h2"]))
        for q in questions:
            r = report.responses.get(q.id)
            head = f"{q.position}. " + (f"[{q.clause}] " if q.clause else "") + q.text
            block = [_p(head, styles["body"])]
            answer = _answer(r.value if r else None)
            if q.id in answered and (r is None or r.value in (None, "")):
                answer = "photo evidence"
            line = f"Answer: {answer}"
            if r and r.note:
                line += f" - note: {r.note}"
            if not shown[q.id]:  # an answer given before it was hidden counts for nothing
                line = f"Not applicable: hidden because {checklists.hidden_because(q, every_question)}"
            elif r and r.answered_at:
                by = db.session.get(User, r.answered_by_id) if r.answered_by_id else None
                line += f" ({by.name + ', ' if by else ''}{_when(r.answered_at)})"
            block.append(_p(line, styles["small"]))
            photos = report.evidence.by_subject.get((PhotoSubject.RESPONSE, r.id), []) if r else []
            grid = _photo_cells(photos, styles)
            if grid is not None:
                block.append(grid)
            block.append(Spacer(1, 2 * mm))
            story.append(KeepTogether(block))
    story.append(_p("Findings", styles["h1"]))
    if not report.findings:
        story.append(_p("No findings were raised in this audit.", styles["body"]))
    for f in report.findings:
        block = [_p(f"{f.title}", styles["h2"]), _facts([
            ("Kind", f.kind.replace("_", " ")),
            ("Status", f.status.replace("_", " ") + (f" - {f.status_reason}" if f.status_reason else "")),
            ("Clause", f.clause or "-"),
            ("Raised by", f"{person_name(f.raised_by)}, seen {_when(f.raised_at)}, received {_when(f.received_at)}"),
            ("Location", f.location or "-"),
            ("Repeat of", f.repeat_of.title + f" ({_when(f.repeat_of.received_at)})" if f.repeat_of else "-"),
            ("Description", f.description or "-"),
        ], styles)]
        grid = _photo_cells(report.evidence.by_subject.get((PhotoSubject.FINDING, f.id), []), styles)
        if grid is not None:
            block.append(grid)
        story.append(KeepTogether(block))
        for n, a in enumerate(f.actions, 1):
            whys = "; ".join(f"why? {s.get('why', '')} - because {s.get('because', '')}" for s in (a.whys or []))
            story.append(_p(f"Corrective action {n}", styles["body"]))
            story.append(_facts([
                ("Status", a.status.replace("_", " ")),
                ("Owner", person_name(a.owner)),
                ("Due", _when(a.due_date)),
                ("Containment", a.containment or "-"),
                ("Five whys", whys or "-"),
                ("Root cause", a.root_cause or "-"),
                ("Plan", a.plan or "-"),
                ("Done", f"{_when(a.done_at)} {a.done_note}".strip() if a.done_at else "-"),
                ("Effectiveness", _effectiveness(a)),
            ], styles))
            grid = _photo_cells(report.evidence.by_subject.get((PhotoSubject.ACTION, a.id), []), styles)
            if grid is not None:
                story.append(grid)
    if report.comments:
        story.append(_p("Review conversation", styles["h1"]))
        for c in report.comments:
            story.append(_p(f"{person_name(c.author)}, {_when(c.created_at)}: {c.body}", styles["body"]))
    story.append(_p("Photo register", styles["h1"]))
    story.append(_p("The SHA-256 of every photo, computed from the bytes the device sent.", styles["small"]))
    rows = [[_p(h, styles["small"]) for h in ("SHA-256", "State", "Used in", "Taken", "Uploaded")]]
    for photo in report.evidence.photos.values():
        rows.append([
            Paragraph(photo.sha256, styles["mono"]),
            _p("stored" if photo.state == PhotoState.STORED else "expected evidence", styles["small"]),
            _p(", ".join(report.evidence.used_in.get(photo.sha256, [])), styles["small"]),
            _p(_when(photo.taken_at), styles["small"]),
            _p(f"{_when(photo.uploaded_at)} {person_name(photo.uploaded_by) if photo.uploaded_by_id else ''}", styles["small"]),
        ])
    if len(rows) == 1:
        story.append(_p("No photos.", styles["body"]))
    else:
        table = Table(rows, colWidths=[62 * mm, 22 * mm, 34 * mm, 28 * mm, 28 * mm], repeatRows=1)
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
        ]))
        story.append(table)
    doc.build(story, onFirstPage=_footer(audit), onLaterPages=_footer(audit))
    return out.getvalue()


def _effectiveness(action: CorrectiveAction) -> str:
    if not action.effectiveness_result:
        return f"check due {_when(action.effectiveness_due)}"
    parts = [action.effectiveness_result.replace("_", " ")]
    if action.effectiveness_by_id:
        parts.append(f"checked by {person_name(action.effectiveness_by)} on {_when(action.effectiveness_at)}")
    if action.effectiveness_note:
        parts.append(action.effectiveness_note)
    return " - ".join(parts)


def _footer(audit: Audit):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(18 * mm, 9 * mm, f"Gemba audit report - {audit.area.label} - audit {audit.id}")
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"page {doc.page}")
        canvas.restoreState()
    return draw


def audit_pdf(user: User, audit: Audit) -> bytes:
    """The PDF report of `audit`. :raise NotAllowed: unless `user` may view it."""
    return render_pdf(collect(user, audit))


