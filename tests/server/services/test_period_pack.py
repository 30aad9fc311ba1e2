"""The period evidence pack: streamed, complete, and every file checks with `sha256sum -c SHA256SUMS`."""

import io
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta

from server.models import AuditStatus, FindingKind
from server.services import management_reviews, objectives

TODAY = date.today()


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_the_pack_verifies_with_sha256sum(app, make, signed_in, template, area, auditor, staff, supervisor, tmp_path):
    done = make.audit(template, area, auditor, planned_date=TODAY - timedelta(days=40), status=AuditStatus.APPROVED,
                      submitted_at=at(TODAY - timedelta(days=39)))
    make.audit(template, area, auditor, planned_date=TODAY - timedelta(days=10))  # planned, not done
    make.audit(template, area, auditor, planned_date=TODAY - timedelta(days=900), status=AuditStatus.APPROVED,
               submitted_at=at(TODAY - timedelta(days=900)))  # outside the period
    finding = make.finding(area, staff, kind=FindingKind.MAJOR_NC, audit_id=done.id, received_at=at(TODAY - timedelta(days=39)))
    make.action(finding, staff)
    make.finding(area, staff, title="=cmd|' /C calc'!A0", received_at=at(TODAY - timedelta(days=3)))
    goal = objectives.create_objective(supervisor, {"title": "On time", "owner_id": str(staff.id), "target_value": 90})
    objectives.record_measurement(staff, goal, 80, TODAY - timedelta(days=5))
    review = management_reviews.open_review(supervisor, TODAY - timedelta(days=60), TODAY - timedelta(days=1))
    management_reviews.sign_off(supervisor, review, no_outputs_confirmed=True)
    auth = signed_in(supervisor)
    start = (TODAY - timedelta(days=365)).isoformat()
    response = auth.client.get(f"/api/evidence-pack?from={start}&to={TODAY.isoformat()}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    body = response.get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert names[-1] == "SHA256SUMS"
    audit_reports = [n for n in names if n.startswith("audits/")]
    assert len(audit_reports) == 1 and audit_reports[0].endswith(".pdf")
    assert {"programme.csv", "findings.csv", "corrective-actions.csv", "objectives.csv", "readiness.json",
            "trail-verification.txt", "README.txt"} <= set(names)
    assert sum(1 for n in names if n.startswith("management-reviews/")) == 2
    listed = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert len(listed) == len(names) - 1
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    programme = (tmp_path / "programme.csv").read_text().splitlines()
    assert len(programme) == 3  # header + the two audits planned in the year
    assert "'=cmd" in (tmp_path / "findings.csv").read_text()  # a formula stays text
    assert "1 of 2 planned audits done" in (tmp_path / "README.txt").read_text()
    assert "holds" in (tmp_path / "trail-verification.txt").read_text()


def test_a_bad_period_is_refused_before_anything_is_sent(app, signed_in, supervisor, staff):
    auth = signed_in(supervisor)
    assert auth.client.get("/api/evidence-pack?from=2026-05-01&to=2026-01-01").status_code == 422
    assert auth.client.get("/api/evidence-pack?from=2020-01-01&to=2026-01-01").status_code == 422
    assert auth.client.get("/api/evidence-pack?to=2026-01-01").status_code == 422
    assert signed_in(staff).client.get("/api/evidence-pack?from=2026-01-01&to=2026-02-01").status_code == 403
