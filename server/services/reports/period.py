"""The period evidence pack: one ZIP for an external auditor, streamed as it is written.

For a date range (and optionally a standard and a site): the programme planned against
done, every audit report, the findings and corrective-action registers as CSV, the
management reviews, the objectives with their measurements, the readiness page as it
stands and the trail's verification, each listed in `SHA256SUMS` at the root so that
`sha256sum -c SHA256SUMS` checks the lot. Files are written one at a time into a ZIP
that goes to the client as it grows, so a year of reports never sits in memory at once.
"""

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ...errors import Invalid, NotAllowed
from ...extensions import db
from ...models import (
    Area,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Finding,
    ManagementReview,
    Site,
    Template,
    User,
    utcnow,
)
from ...permissions import require, reviews, scope_audits, scope_findings
from .. import actions, listings, management_reviews, objectives, readiness, trail
from ..programme import standard_family
from .exports import ACTION_COLUMNS, FINDING_COLUMNS, _safe, action_rows, finding_rows
from .pack import pack_name
from .pdf import audit_pdf
from .review_pdf import review_pdf

MAX_DAYS = 3 * 366
DONE = (AuditStatus.SUBMITTED, AuditStatus.APPROVED)


class _Pipe(io.RawIOBase):
    """A write-only, unseekable file: what zipfile writes is collected until the generator takes it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _csv(columns: list[str], rows) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe(value) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class PeriodPack:
    """What a pack covers, checked before the first byte is sent (so a bad request is a 4xx, not a torn ZIP)."""

    def __init__(self, user: User, start, end, standard: str | None = None, site_id=None) -> None:
        require(user, "readiness.view")
        if start is None or end is None:
            raise Invalid("Give the period.", {"from": ["Required."], "to": ["Required."]})
        if end < start:
            raise Invalid("The period ends before it starts.", {"to": ["On or after from."]})
        if (end - start).days > MAX_DAYS:
            raise Invalid("A pack covers at most three years.", {"to": ["At most three years after from."]})
        if site_id is not None:
            site = db.session.get(Site, site_id)
            if site is None:
                raise Invalid("There is no such site.", {"site_id": ["There is no such site."]})
            if not reviews(user, site):
                raise NotAllowed("You do not review that site.")
        self.user, self.start, self.end, self.site_id = user, start, end, site_id
        self.standard = standard_family(standard) if standard else ""
        self.since, self.until = _midnight(start), _midnight(end + timedelta(days=1))
        self.sums: list[tuple[str, str]] = []

    @property
    def filename(self) -> str:
        return f"evidence-{self.start.isoformat()}-to-{self.end.isoformat()}.zip"

    # -- what goes in -----------------------------------------------------------------

    def _area_clause(self, column):
        if self.site_id:
            return column.in_(select(Area.id).where(Area.site_id == self.site_id))
        return None

    def _template_ids(self) -> list[uuid.UUID] | None:
        if not self.standard:
            return None
        return [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == self.standard]

    def _audits(self):
        query = select(Audit).where(scope_audits(self.user), Audit.planned_date >= self.start, Audit.planned_date <= self.end)
        if (clause := self._area_clause(Audit.area_id)) is not None:
            query = query.where(clause)
        if (ids := self._template_ids()) is not None:
            query = query.where(Audit.template_id.in_(ids))
        return query.order_by(Audit.planned_date, Audit.id)

    def _reported_audit_ids(self) -> list[uuid.UUID]:
        """Audits done in the period (submitted or approved, by submission day), whatever day they were planned."""
        query = select(Audit.id).where(scope_audits(self.user), Audit.status.in_(DONE),
                                       Audit.submitted_at >= self.since, Audit.submitted_at < self.until)
        if (clause := self._area_clause(Audit.area_id)) is not None:
            query = query.where(clause)
        if (ids := self._template_ids()) is not None:
            query = query.where(Audit.template_id.in_(ids))
        return list(db.session.scalars(query.order_by(Audit.submitted_at, Audit.id)))

    def _findings(self):
        query = listings.finding_query(self.user).where(Finding.received_at >= self.since, Finding.received_at < self.until)
        if (clause := self._area_clause(Finding.area_id)) is not None:
            query = query.where(clause)
        return query.order_by(None).order_by(Finding.received_at, Finding.id)

    def _actions(self):
        in_period = select(Finding.id).where(scope_findings(self.user), Finding.received_at >= self.since,
                                             Finding.received_at < self.until)
        if (clause := self._area_clause(Finding.area_id)) is not None:
            in_period = in_period.where(clause)
        query = actions.action_query(self.user).where(
            CorrectiveAction.finding_id.in_(in_period)
            | ((CorrectiveAction.created_at >= self.since) & (CorrectiveAction.created_at < self.until)))
        return query

    def _programme_rows(self):
        for audit in db.session.scalars(self._audits().execution_options(yield_per=500)):
            done = audit.status in DONE
            on_time = done and audit.submitted_at is not None and audit.submitted_at.date() <= audit.planned_date
            yield [audit.id, audit.planned_date.isoformat(), audit.area.label, audit.template.name, audit.template.standard,
                   audit.auditor.name if audit.auditor else "", audit.status,
                   audit.submitted_at.isoformat(timespec="seconds") if audit.submitted_at else "",
                   "yes" if done else "no", "yes" if on_time else "no"]

    def _objective_rows(self):
        query = objectives.objective_query(self.user, site_id=self.site_id, standard=self.standard or None)
        for o in db.session.scalars(query):
            status = objectives.status(o)
            target = f"{o.direction} {o.target_value:g} {o.unit}".strip()
            values = [m for m in o.measurements if self.start <= m.measured_on <= self.end] or [None]
            for m in values:
                yield [o.id, o.title, o.standard, o.clause, o.owner.name if o.owner else "", target, o.source, status,
                       m.measured_on.isoformat() if m else "", f"{m.value:g}" if m else "", "computed" if m and m.computed else ""]

    def _reviews(self) -> list[ManagementReview]:
        query = select(ManagementReview).where(ManagementReview.period_end >= self.start,
                                               ManagementReview.period_start <= self.end)
        if self.site_id:
            query = query.where((ManagementReview.site_id == self.site_id) | ManagementReview.site_id.is_(None))
        if self.standard:
            query = query.where(ManagementReview.standard.in_(["", self.standard]))
        return [r for r in db.session.scalars(query.order_by(ManagementReview.period_end)) if reviews(self.user, r)]

    # -- writing --------------------------------------------------------------------

    def _member(self, archive: zipfile.ZipFile, name: str, parts, pipe: _Pipe) -> Iterator[bytes]:
        """Write one file from `parts` (bytes or an iterator of bytes), hashing as it goes."""
        digest = hashlib.sha256()
        info = zipfile.ZipInfo(name, utcnow().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as target:
            for chunk in ([parts] if isinstance(parts, bytes) else parts):
                digest.update(chunk)
                target.write(chunk)
                if pipe.chunks:
                    yield pipe.take()
        self.sums.append((digest.hexdigest(), name))
        yield pipe.take()

    def stream(self) -> Iterator[bytes]:
        pipe = _Pipe()
        archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED)
        planned = done = on_time = 0
        columns = ["audit_id", "planned_date", "area", "checklist", "standard", "auditor", "status", "submitted_at",
                   "done", "on_time"]

        def counted():
            nonlocal planned, done, on_time
            for row in self._programme_rows():
                planned += 1
                done += row[8] == "yes"
                on_time += row[9] == "yes"
                yield row

        yield from self._member(archive, "programme.csv", _csv(columns, counted()), pipe)
        reports = []
        for audit_id in self._reported_audit_ids():
            audit = db.session.get(Audit, audit_id)
            name = f"audits/{pack_name(audit)}.pdf"
            reports.append(name)
            yield from self._member(archive, name, audit_pdf(self.user, audit), pipe)
            db.session.expire(audit)
        yield from self._member(archive, "findings.csv", _csv(FINDING_COLUMNS, finding_rows(self._findings())), pipe)
        yield from self._member(archive, "corrective-actions.csv", _csv(ACTION_COLUMNS, action_rows(self._actions())), pipe)
        for review in self._reviews():
            stem = f"management-reviews/{review.period_start.isoformat()}-to-{review.period_end.isoformat()}-{str(review.id)[:8]}"
            yield from self._member(archive, f"{stem}.json",
                                    json.dumps(management_reviews.to_dict(review), indent=2, sort_keys=True).encode(), pipe)
            yield from self._member(archive, f"{stem}.pdf", review_pdf(review, management_reviews.NOTE_FIELDS), pipe)
        yield from self._member(archive, "objectives.csv", _csv(
            ["objective_id", "title", "standard", "clause", "owner", "target", "measured_by", "status_now",
             "measured_on", "value", "how"], self._objective_rows()), pipe)
        ready = readiness.readiness(self.user, self.standard or None, self.site_id)
        yield from self._member(archive, "readiness.json", json.dumps(
            ready.as_dict() | {"as_of": utcnow().isoformat(timespec="seconds")}, indent=2).encode(), pipe)
        bad = trail.verify_chain()
        verdict = ("The audit trail's hash chain holds: every event hashes as recorded and links to the one before.\n"
                   if bad is None else f"The audit trail's hash chain is BROKEN at event {bad.id} ({bad.action}).\n")
        yield from self._member(archive, "trail-verification.txt",
                                f"Checked {utcnow().isoformat(timespec='seconds')}\n{verdict}".encode(), pipe)
        summary = (f"Evidence pack {self.start.isoformat()} to {self.end.isoformat()}"
                   f"{' - ' + self.standard if self.standard else ''}\n"
                   f"Made by Gemba for {self.user.name} on {utcnow().isoformat(timespec='seconds')}\n\n"
                   f"Programme: {done} of {planned} planned audits done ({on_time} on time); see programme.csv.\n"
                   f"Audit reports: {len(reports)} in audits/.\n"
                   "Registers: findings.csv, corrective-actions.csv. Objectives: objectives.csv.\n"
                   "Management reviews: management-reviews/. Readiness as it stands: readiness.json.\n"
                   "Trail: trail-verification.txt.\n\nCheck every file with: sha256sum -c SHA256SUMS\n")
        yield from self._member(archive, "README.txt", summary.encode(), pipe)
        sums = "".join(f"{digest}  {name}\n" for digest, name in self.sums).encode()
        archive.writestr("SHA256SUMS", sums)
        archive.close()
        yield pipe.take()
