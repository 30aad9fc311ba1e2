"""The sign-off at submission: drawn signatures stored as PNG photos, checked by the server,
shown in the register and the PDF; and annotated photos kept beside their originals."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Audit,
    AuditSignature,
    AuditStatus,
    Photo,
    PhotoLink,
    PhotoState,
    PhotoSubject,
    Response,
    Role,
    utcnow,
)
from server.services import evidence
from tests import images
from tests.syncops import FieldDevice, wire


def signature_png(seed: int) -> bytes:
    """A drawn signature as the field app sends it: black strokes on white, PNG."""
    image = Image.new("RGBA", (300, 100), "white")
    ImageDraw.Draw(image).line([(10, 80), (60 + seed, 20), (120, 70), (200 + seed, 30)], fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@pytest.fixture
def field(make, signed_in):
    """An auditor with an in-progress audit whose every question is answered, signed in."""
    site_area = make.area()
    auditor = make.user(Role.AUDITOR, home_area=make.area(), name="Ada Lindqvist")
    template = make.template(questions=2)
    audit = make.audit(template, site_area, auditor, status=AuditStatus.IN_PROGRESS, started_at=utcnow())
    for q in template.questions:
        value = {"yes_no_na": "yes", "pass_fail": "pass"}.get(q.kind, "yes")
        db.session.add(Response(audit_id=audit.id, question_id=q.id, value=value, answered_at=utcnow(),
                                answered_by_id=auditor.id))
    db.session.flush()
    client = signed_in(auditor)
    return {"auditor": auditor, "audit": audit, "client": client, "area": site_area}


def upload(client, data: bytes, content_type: str = "image/png") -> str:
    sha = images.sha(data)
    response = client.put(f"/api/photos/{sha}", data=data, content_type=content_type)
    assert response.status_code == 201, response.json
    return sha


def push(field, **fields) -> dict:
    device = FieldDevice(field["auditor"])
    op = device.op("audit", field["audit"].id, field["audit"].version, status="submitted", **fields)
    response = field["client"].post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]})
    assert response.status_code == 200, response.json
    return response.json["results"][0]


def both_signed(field, auditor_sha, auditee_sha, **changes) -> list[dict]:
    now = utcnow()
    return [
        {"role": "auditor", "name": "Ada Lindqvist", "signed_at": iso(now - timedelta(minutes=1)), "sha256": auditor_sha},
        {"role": "auditee", "name": "Ben Okafor", "signed_at": iso(now), "sha256": auditee_sha} | changes,
    ]


def test_a_submission_keeps_both_signatures_as_png_photos_linked_like_evidence(field):
    auditor_sha, auditee_sha = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    signatures = both_signed(field, auditor_sha, auditee_sha)

    result = push(field, signatures=signatures)

    assert result["status"] == "applied", result
    db.session.expire_all()
    audit = db.session.get(Audit, field["audit"].id)
    assert audit.status == AuditStatus.SUBMITTED
    kept = {s.role: s for s in audit.signatures}
    assert {r: (s.signer_name, s.photo_sha256) for r, s in kept.items()} == {
        "auditor": ("Ada Lindqvist", auditor_sha), "auditee": ("Ben Okafor", auditee_sha)}
    # Each drawing is a photo linked to its signature, standing on the auditor's upload.
    for signature in kept.values():
        link = db.session.scalar(select(PhotoLink).where(PhotoLink.subject == PhotoSubject.SIGNATURE,
                                                         PhotoLink.subject_id == signature.id))
        assert link.photo_sha256 == signature.photo_sha256 and link.proven
        photo = db.session.get(Photo, signature.photo_sha256)
        assert photo.content_type == "image/png"
        # The time it was signed is the drawing's capture time.
        assert abs((photo.taken_at - signature.signed_at).total_seconds()) < 1


def test_the_pull_carries_the_sign_off_with_the_audit(field):
    auditor_sha, auditee_sha = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, auditor_sha, auditee_sha))["status"] == "applied"

    pulled = field["client"].client.get("/api/sync/pull?cursor=0&limit=500").json["changes"]

    audit = next(c for c in pulled if c["entity"] == "audit" and c["id"] == str(field["audit"].id))
    assert sorted((s["role"], s["name"], s["sha256"]) for s in audit["fields"]["signatures"]) == [
        ("auditee", "Ben Okafor", auditee_sha), ("auditor", "Ada Lindqvist", auditor_sha)]


def test_the_auditee_may_decline_with_a_reason(field):
    auditor_sha = upload(field["client"], signature_png(1))
    signatures = both_signed(field, auditor_sha, "0" * 64)[:1]

    result = push(field, signatures=signatures, unsigned_reason="Left before the closing meeting.")

    assert result["status"] == "applied", result
    audit = db.session.get(Audit, field["audit"].id)
    db.session.refresh(audit)
    assert [s.role for s in audit.signatures] == ["auditor"]
    assert audit.unsigned_reason == "Left before the closing meeting."


def test_a_signature_whose_drawing_has_not_arrived_is_expected_evidence(field):
    """Offline-first: the submit may reach the server before the drawing's bytes."""
    later = images.sha(signature_png(9))
    auditee_sha = upload(field["client"], signature_png(2))

    result = push(field, signatures=both_signed(field, later, auditee_sha))

    assert result["status"] == "applied", result
    assert db.session.get(Photo, later).state == PhotoState.EXPECTED


def test_an_app_without_sign_off_still_submits_and_is_shown_unsigned(field, signed_in, make):
    result = push(field)

    assert result["status"] == "applied", result
    audit = db.session.get(Audit, field["audit"].id)
    db.session.refresh(audit)
    assert audit.status == AuditStatus.SUBMITTED and audit.signatures == []
    page = signed_in(make.user(Role.SUPERVISOR)).client.get(f"/audits/{audit.id}")
    assert page.status_code == 200
    assert "Not signed: submitted from a field app without sign-off." in page.text


def _hostile(field, case: str):
    """The sign-off of one refused case, with the uploads it needs."""
    client = field["client"]
    a, b = upload(client, signature_png(1)), upload(client, signature_png(2))
    good = both_signed(field, a, b)
    now = utcnow()
    cases = {
        "name too long": lambda: both_signed(field, a, b, name="N" * 201),
        "name empty": lambda: both_signed(field, a, b, name="   "),
        "name not text": lambda: both_signed(field, a, b, name=42),
        "time in the future": lambda: both_signed(field, a, b, signed_at=iso(now + timedelta(days=3))),
        "time before the audit": lambda: both_signed(field, a, b, signed_at=iso(now - timedelta(days=400))),
        "time without offset": lambda: both_signed(field, a, b, signed_at="2026-12-01T10:00:00"),
        "time not a time": lambda: both_signed(field, a, b, signed_at="yesterday"),
        "hash not a hash": lambda: both_signed(field, a, b, sha256="not-a-hash"),
        "unknown role": lambda: both_signed(field, a, b, role="witness"),
        "two auditors": lambda: both_signed(field, a, b, role="auditor"),
        "same drawing twice": lambda: both_signed(field, a, a),
        "three signatures": lambda: good + [good[1]],
        "no auditor": lambda: good[1:],
        "no auditee and no reason": lambda: good[:1],
        "a jpeg, not a png drawing": lambda: both_signed(field, a, upload(client, images.jpeg(), "image/jpeg")),
        "not a list": lambda: {"role": "auditor"},
        "a list of text": lambda: ["auditor"],
        "missing keys": lambda: [{"role": "auditor"}],
    }
    return cases[case]()


@pytest.mark.parametrize("case", [
    "name too long", "name empty", "name not text", "time in the future", "time before the audit",
    "time without offset", "time not a time", "hash not a hash", "unknown role", "two auditors",
    "same drawing twice", "three signatures", "no auditor", "no auditee and no reason",
    "a jpeg, not a png drawing", "not a list", "a list of text", "missing keys",
])
def test_a_bad_sign_off_rejects_the_submission_and_nothing_is_kept(field, case):
    signatures = _hostile(field, case)

    result = push(field, signatures=signatures)

    assert result["status"] == "rejected", result
    assert result["code"] != "server_error"
    assert result["fields"], result
    db.session.expire_all()
    assert db.session.get(Audit, field["audit"].id).status == AuditStatus.IN_PROGRESS
    assert db.session.scalars(select(AuditSignature)).all() == []


def test_signatures_come_only_with_a_submission(field):
    a = upload(field["client"], signature_png(1))
    device = FieldDevice(field["auditor"])
    op = device.op("audit", field["audit"].id, field["audit"].version, summary="x",
                   signatures=both_signed(field, a, a)[:1])
    result = field["client"].post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]}).json
    assert result["results"][0]["status"] == "rejected"
    assert "signatures" in result["results"][0]["fields"]


def test_submitting_again_after_a_return_replaces_the_sign_off(field):
    a1, b1 = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, a1, b1))["status"] == "applied"
    audit = db.session.get(Audit, field["audit"].id)
    db.session.refresh(audit)
    audit.status = AuditStatus.RETURNED
    audit.bump(["status"])
    db.session.commit()
    a2 = upload(field["client"], signature_png(3))

    result = push(field, signatures=both_signed(field, a2, b1)[:1], unsigned_reason="On leave.")

    assert result["status"] == "applied", result
    db.session.expire_all()
    audit = db.session.get(Audit, field["audit"].id)
    assert [(s.role, s.photo_sha256) for s in audit.signatures] == [("auditor", a2)]
    assert not db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == a1,
                                                          PhotoLink.subject == PhotoSubject.SIGNATURE)).all()


def test_the_signature_is_seen_by_whoever_sees_the_audit_and_no_one_else(field, signed_in, make):
    a, b = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, a, b))["status"] == "applied"
    # A supervisor of the audit's site only: they see it through the signature's link.
    reviewer = signed_in(make.user(Role.SUPERVISOR, sites=[field["area"].site]))
    stranger = signed_in(make.user(Role.STAFF, home_area=make.area()))

    assert stranger.client.get(f"/api/photos/{a}?size=thumb").status_code == 404
    assert reviewer.client.get(f"/api/photos/{a}?size=thumb").status_code == 200


def test_the_register_and_the_pdf_show_the_sign_off(field, signed_in, make):
    a, b = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, a, b))["status"] == "applied"
    supervisor = signed_in(make.user(Role.SUPERVISOR))

    page = supervisor.client.get(f"/audits/{field['audit'].id}").text
    pdf = supervisor.client.get(f"/api/audits/{field['audit'].id}/report.pdf")

    assert 'alt="Signature of Ada Lindqvist (auditor)"' in page
    assert 'alt="Signature of Ben Okafor (auditee)"' in page
    assert f"/api/photos/{a}?size=display" in page
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    flat = text.replace("\n", "")
    assert "Sign-off" in text
    assert "Auditor: Ada Lindqvist, signed" in text and "Auditee: Ben Okafor, signed" in text
    assert a in flat and b in flat
    # The signature images are drawn in the PDF (cover page), beside the evidence thumbnails.
    cover = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert len(cover.images) == 2


# ---------------------------------------------------------------- annotated photos

@pytest.fixture
def staff(make, signed_in):
    area = make.area()
    person = make.user(Role.STAFF, home_area=area)
    finding = make.finding(area, person)
    return {"user": person, "finding": finding, "client": signed_in(person), "area": area}


def push_finding(staff, **fields) -> dict:
    device = FieldDevice(staff["user"])
    op = device.op("finding", staff["finding"].id, staff["finding"].version, **fields)
    response = staff["client"].post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]})
    assert response.status_code == 200, response.json
    return response.json["results"][0]


def test_an_annotated_copy_is_kept_beside_its_original_and_shown_first(staff, signed_in, make):
    original = upload(staff["client"], images.jpeg(80, 60), "image/jpeg")
    annotated = upload(staff["client"], images.jpeg(80, 61), "image/jpeg")

    result = push_finding(staff, photos=[original, annotated], photo_annotates={annotated: original})

    assert result["status"] == "applied", result
    assert db.session.get(Photo, annotated).annotates_sha256 == original
    assert db.session.get(Photo, original).annotates_sha256 is None
    # Both are evidence of the finding.
    assert evidence.photos_of(PhotoSubject.FINDING, staff["finding"].id) == [original, annotated]
    supervisor = signed_in(make.user(Role.SUPERVISOR))
    page = supervisor.client.get(f"/findings/{staff['finding'].id}").text
    # One tile: the annotated copy shown, the original reachable from it.
    assert page.index(f"/api/photos/{annotated}?size=thumb") < page.index(f"/api/photos/{original}?size=display")
    assert f"/api/photos/{original}?size=thumb" not in page
    assert "Annotated on the device" in page
    # The pull tells other devices which photo the copy annotates.
    pulled = supervisor.client.get("/api/sync/pull?cursor=0&limit=500").json["changes"]
    photo = next(c for c in pulled if c["entity"] == "photo" and c["id"] == annotated)
    assert photo["fields"]["annotates"] == original


def test_the_pdf_shows_the_annotated_copy_first_and_names_the_original(make, signed_in):
    from tests.register_helpers import store_photo, submitted_audit  # noqa: PLC0415
    auditor = make.user(Role.AUDITOR)
    audit = submitted_audit(auditor=auditor)
    first = db.session.scalars(select(Response).where(Response.audit_id == audit.id)).first()
    original = store_photo(images.jpeg(80, 60), auditor)
    annotated = store_photo(images.jpeg(80, 61), auditor)
    annotated.annotates_sha256 = original.sha256
    evidence.link_photos(auditor, PhotoSubject.RESPONSE, first.id, [original.sha256, annotated.sha256])
    supervisor = signed_in(make.user(Role.SUPERVISOR))

    pdf = supervisor.client.get(f"/api/audits/{audit.id}/report.pdf")

    flat = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert "Annotatedonthedevice;original" in flat.replace(" ", "")
    answers = flat[flat.index("Answers"):flat.index("Photo register")]
    assert answers.index(annotated.sha256) < answers.index(original.sha256)


@pytest.mark.parametrize("case", ["not among the photos", "itself", "a chain", "another original later"])
def test_a_bad_annotation_is_rejected(staff, case):
    x = upload(staff["client"], images.jpeg(80, 60), "image/jpeg")
    y = upload(staff["client"], images.jpeg(80, 61), "image/jpeg")
    z = upload(staff["client"], images.jpeg(80, 62), "image/jpeg")
    if case == "another original later":
        assert push_finding(staff, photos=[x, y], photo_annotates={y: x})["status"] == "applied"
        fields = {"photos": [x, y, z], "photo_annotates": {y: z}}
    else:
        fields = {
            "not among the photos": {"photos": [x], "photo_annotates": {y: x}},
            "itself": {"photos": [x], "photo_annotates": {x: x}},
            "a chain": {"photos": [x, y, z], "photo_annotates": {y: x, z: y}},
        }[case]

    result = push_finding(staff, **fields)

    assert result["status"] == "rejected", result
    assert "photo_annotates" in result["fields"]
    if case != "another original later":
        assert db.session.get(Photo, y).annotates_sha256 is None
    else:
        assert db.session.get(Photo, y).annotates_sha256 == x


def test_annotations_of_an_unknown_shape_are_refused_per_op(staff):
    result = push_finding(staff, photos=[], photo_annotates=["a" * 64])
    assert result["status"] == "rejected" and result["code"] != "server_error"
    assert "photo_annotates" in result["fields"]


def test_a_photo_link_op_cannot_attach_a_drawing_to_a_signature(field):
    a, b = upload(field["client"], signature_png(1)), upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, a, b))["status"] == "applied"
    signature = db.session.scalars(select(AuditSignature)).first()
    device = FieldDevice(field["auditor"])
    op = device.op("photo_link", subject="signature", subject_id=str(signature.id), sha256=images.sha(signature_png(5)))

    result = field["client"].post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]}).json

    assert result["results"][0]["status"] == "rejected"
    assert "subject" in result["results"][0]["fields"]


def test_a_drawing_that_arrives_later_as_a_jpeg_is_not_shown_as_a_signature(field, signed_in, make):
    jpeg = images.jpeg(70, 30)
    auditee_sha = upload(field["client"], signature_png(2))
    assert push(field, signatures=both_signed(field, images.sha(jpeg), auditee_sha))["status"] == "applied"
    upload(field["client"], jpeg, "image/jpeg")  # the bytes come after the submission, and are no drawing
    supervisor = signed_in(make.user(Role.SUPERVISOR))

    page = supervisor.client.get(f"/audits/{field['audit'].id}").text
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
        supervisor.client.get(f"/api/audits/{field['audit'].id}/report.pdf").data)).pages)

    assert "The file sent as this signature is not a PNG drawing" in page
    assert 'alt="Signature of Ada Lindqvist (auditor)"' not in page
    assert 'alt="Signature of Ben Okafor (auditee)"' in page
    assert "not a PNG drawing" in text
