"""The audit PDF, the evidence pack and the register exports, read back with standard tools."""

import csv
import hashlib
import io
import subprocess
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from server.extensions import db
from server.models import FindingKind, FindingStatus, PhotoState, PhotoSubject, QuestionKind, Response
from server.services import evidence
from tests.register_helpers import jpeg, store_photo, submitted_audit


@pytest.fixture
def report_audit(make):
    """A submitted audit with two stored photos, one expected, and a finding with an action."""
    auditor = make.user("auditor", name="Ada Lindqvist")
    audit = submitted_audit(auditor=auditor)
    first = db.session.query(Response).filter_by(audit_id=audit.id).first()
    photos = [store_photo(jpeg((200, 30, 30)), auditor), store_photo(jpeg((30, 30, 200)), auditor)]
    missing = store_photo(b"never uploaded", state=PhotoState.EXPECTED)
    evidence.link_photos(auditor, PhotoSubject.RESPONSE, first.id, [photos[0].sha256, missing.sha256])
    finding = make.finding(audit.area, auditor, audit_id=audit.id, title="Calibration sticker expired on gauge 7",
                           kind=FindingKind.MAJOR_NC, clause="7.1.5")
    evidence.link_photos(auditor, PhotoSubject.FINDING, finding.id, [photos[1].sha256])
    make.action(finding, make.user("staff", name="Olive Owner"), plan="Recalibrate all gauges on line 2",
                whys=[{"why": "Why expired?", "because": "No recall list."}], root_cause="No calibration recall list")
    return {"audit": audit, "photos": photos, "missing": missing, "finding": finding, "auditor": auditor}


@pytest.fixture
def as_supervisor(signed_in, supervisor):
    return signed_in(supervisor)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Hashes are wrapped to fit under thumbnails; join lines so they read whole again.
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_has_the_cover_answers_findings_actions_and_every_photo_hash(report_audit, as_supervisor):
    audit = report_audit["audit"]
    response = as_supervisor.client.get(f"/api/audits/{audit.id}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    flat = text.replace("\n", "")
    assert "Audit report" in text and "Ada Lindqvist" in text and "75%" in text
    assert "Calibration sticker expired on gauge 7" in text
    assert "Recalibrate all gauges on line 2" in text and "Olive Owner" in text
    assert "note for 1" in text
    for photo in report_audit["photos"] + [report_audit["missing"]]:
        assert photo.sha256 in flat
    assert "expected evidence" in text
    assert "1, of which 0 repeat earlier findings" in text
    assert len(PdfReader(io.BytesIO(response.data)).pages) >= 2


def test_the_evidence_pack_verifies_with_sha256sum(report_audit, as_supervisor, tmp_path):
    audit = report_audit["audit"]
    response = as_supervisor.client.get(f"/api/audits/{audit.id}/evidence-pack")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    stored = {f"photos/{p.sha256}.jpg" for p in report_audit["photos"]}
    assert stored | {"report.pdf", "SHA256SUMS", "EXPECTED.txt"} == names
    # Each original is the exact bytes, so its file name is its own hash.
    for name in stored:
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == name[7:-4]
    assert report_audit["missing"].sha256 in (tmp_path / "EXPECTED.txt").read_text()
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(names) - 1
    # And a changed byte is caught.
    photo = tmp_path / sorted(stored)[0]
    photo.write_bytes(photo.read_bytes()[:-1] + b"\x00")
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=tmp_path, capture_output=True).returncode != 0


def test_reports_follow_who_may_see_the_audit(report_audit, auth, make, commit):
    other_auditor = make.user("auditor")
    commit()
    auth.login(other_auditor)
    audit = report_audit["audit"]
    assert auth.client.get(f"/api/audits/{audit.id}/report.pdf").status_code == 403
    assert auth.client.get(f"/api/audits/{audit.id}/evidence-pack").status_code == 403
    assert auth.client.get("/api/audits/00000000-0000-4000-8000-000000000000/report.pdf").status_code == 404
    auth.client.post("/api/auth/logout", headers=auth.headers())
    auth.login(report_audit["auditor"])  # the audit's own auditor may
    assert auth.client.get(f"/api/audits/{audit.id}/report.pdf").status_code == 200


@pytest.fixture
def register_rows(make):
    area, other = make.area(name="Paint shop"), make.area(name="Dispatch")
    staff = make.user("staff")
    rows = {
        "open_major": make.finding(area, staff, title="Solvent drum unlabelled", kind=FindingKind.MAJOR_NC, clause="8.5.2"),
        "closed_major": make.finding(area, staff, title="Old spill", kind=FindingKind.MAJOR_NC, status=FindingStatus.CLOSED),
        "minor_elsewhere": make.finding(other, staff, title="=HYPERLINK(\"http://evil\")", kind=FindingKind.MINOR_NC),
    }
    owner = make.user("staff", name="Olive Owner")
    rows["late"] = make.action(rows["open_major"], owner, due_date=date.today() - timedelta(days=3), plan="Label drums")
    rows["fine"] = make.action(rows["minor_elsewhere"], owner, due_date=date.today() + timedelta(days=3), plan="Sweep")
    rows["area"] = area
    return rows


def test_findings_csv_honours_the_list_filters(register_rows, as_supervisor):
    response = as_supervisor.client.get(f"/api/findings/export.csv?status=open_any&kind=major_nc&area={register_rows['area'].id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["title"] for r in table] == ["Solvent drum unlabelled"]
    assert table[0]["clause"] == "8.5.2" and table[0]["open_actions"] == "1"
    everything = list(csv.DictReader(io.StringIO(as_supervisor.client.get("/api/findings/export.csv").get_data(as_text=True))))
    assert len(everything) == 3
    # A cell that a spreadsheet would run as a formula is kept as text.
    assert "'=HYPERLINK(\"http://evil\")" in [r["title"] for r in everything]


def test_findings_xlsx_honours_the_list_filters(register_rows, as_supervisor):
    response = as_supervisor.client.get("/api/findings/export.xlsx?kind=major_nc")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    header, body = values[0], values[1:]
    titles = sorted(row[header.index("title")] for row in body)
    assert titles == ["Old spill", "Solvent drum unlabelled"]


def test_actions_exports_honour_their_filters(register_rows, as_supervisor):
    overdue = list(csv.DictReader(io.StringIO(
        as_supervisor.client.get("/api/actions/export.csv?status=overdue").get_data(as_text=True))))
    assert [r["plan"] for r in overdue] == ["Label drums"]
    assert overdue[0]["overdue"] == "True" and overdue[0]["owner"] == "Olive Owner"
    sheet = load_workbook(io.BytesIO(as_supervisor.client.get("/api/actions/export.xlsx").data)).active
    assert sheet.max_row == 3  # header + two actions


def test_a_bad_filter_is_a_clean_422(as_supervisor):
    response = as_supervisor.client.get("/api/findings/export.csv?status=nonsense")
    assert response.status_code == 422
    assert "status" in response.json["error"]["fields"]


def test_staff_export_only_what_they_may_see(register_rows, auth, make, commit):
    stranger = make.user("staff")
    commit()
    auth.login(stranger)
    table = list(csv.DictReader(io.StringIO(auth.client.get("/api/findings/export.csv").get_data(as_text=True))))
    assert table == []


def test_list_pages_link_to_exports_with_their_filters(register_rows, as_supervisor):
    page = as_supervisor.client.get("/findings?kind=major_nc&status=open_any").get_data(as_text=True)
    assert "/api/findings/export.csv?" in page and "kind=major_nc" in page.split("/api/findings/export.csv?")[1][:80]
    actions_page = as_supervisor.client.get("/actions?status=overdue").get_data(as_text=True)
    assert "/api/actions/export.xlsx?status=overdue" in actions_page


def test_a_photo_question_answered_with_a_photo_counts_as_answered(make, as_supervisor):
    auditor = make.user("auditor")
    audit = submitted_audit(auditor=auditor)
    last = max(audit.template.questions, key=lambda q: q.position)
    last.kind = QuestionKind.PHOTO
    response = db.session.query(Response).filter_by(audit_id=audit.id, question_id=last.id).one()
    response.value = None
    photo = store_photo(jpeg((10, 120, 10)), auditor)
    photo.taken_at = None  # the device's re-encoded bytes carry no EXIF time
    evidence.link_photos(auditor, PhotoSubject.RESPONSE, response.id, [photo.sha256])
    evidence.note_capture_times(evidence.capture_times({photo.sha256: "2026-12-01T09:15:00+01:00"}), [photo.sha256])
    db.session.commit()
    page = as_supervisor.client.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "4 of 4 answered" in page and "Not answered" not in page and "Photo evidence" in page
    assert "Taken 2026-12-01 08:15 UTC" in page  # the time the device sent
    text = pdf_text(as_supervisor.client.get(f"/api/audits/{audit.id}/report.pdf").data)
    assert "4 of 4 questions" in text and "Answer: photo evidence" in text and "not answered" not in text
    assert "2026-12-01 08:15\nUTC" in text  # the photo register's "Taken" column
