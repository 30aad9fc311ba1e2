"""The register's lists as CSV and XLSX, streamed row by row."""

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import CorrectiveAction, Finding
from .collect import person_name

# Exports and packs build in memory up to this size, then spill to a temporary file.
SPOOL_BYTES = 32 * 1024 * 1024

FINDING_COLUMNS = [
    "id", "received_at", "raised_at", "kind", "status", "clause", "area", "title", "description",
    "location", "raised_by", "audit_id", "repeat_of_id", "actions", "open_actions", "closed_at", "status_reason",
]
ACTION_COLUMNS = [
    "id", "finding_id", "finding", "area", "clause", "owner", "due_date", "status", "overdue", "containment",
    "five_whys", "root_cause", "plan", "done_at", "done_note", "effectiveness_due", "effectiveness_result",
    "effectiveness_by", "effectiveness_at", "created_at",
]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, bool)):
        return value
    return str(value)


def _safe(value):
    # A cell starting with =, +, - or @ is a formula to a spreadsheet: keep it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def finding_rows(query) -> Iterator[list]:
    query = query.options(selectinload(Finding.actions))
    for f in db.session.scalars(query.execution_options(yield_per=500)):
        open_actions = sum(1 for a in f.actions if a.status == "open")
        yield [_cell(v) for v in (
            f.id, f.received_at, f.raised_at, f.kind, f.status, f.clause, f.area.label, f.title, f.description,
            f.location, f.raised_by.name, f.audit_id, f.repeat_of_id, len(f.actions), open_actions, f.closed_at,
            f.status_reason,
        )]


def action_rows(query, today: date | None = None) -> Iterator[list]:
    today = today or date.today()
    query = query.options(joinedload(CorrectiveAction.effectiveness_by))
    for a in db.session.scalars(query.execution_options(yield_per=500)):
        overdue = a.status == "open" and a.due_date is not None and a.due_date < today
        whys = " | ".join(f"{s.get('why', '')} -> {s.get('because', '')}" for s in (a.whys or []))
        yield [_cell(v) for v in (
            a.id, a.finding_id, a.finding.title, a.finding.area.label, a.finding.clause, person_name(a.owner), a.due_date,
            a.status, overdue, a.containment, whys, a.root_cause, a.plan, a.done_at, a.done_note,
            a.effectiveness_due, a.effectiveness_result, person_name(a.effectiveness_by) if a.effectiveness_by_id else "",
            a.effectiveness_at, a.created_at,
        )]


def csv_stream(columns: list[str], rows: Iterator[list]) -> Iterator[str]:
    """CSV text in chunks, header first, so a large export never sits in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_safe(c) for c in columns])  # headers may be names people typed (competences)
    for n, row in enumerate(rows, 1):
        writer.writerow([_safe(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(sheet_title: str, columns: list[str], rows: Iterator[list]):
    """An XLSX workbook (write-only, so rows stream to disk) as a spooled file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append([_safe(c) for c in columns])
    for row in rows:
        sheet.append([_safe(v) for v in row])
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(spool)
    spool.seek(0)
    return spool
