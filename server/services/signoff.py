"""The sign-off of an audit: the auditor and the auditee sign on the device when it is submitted.

Each signature is a drawing, sent as a PNG photo: its bytes go up like any photo
(`/api/photos/<sha>/upload`), and an `AuditSignature` row names the signer, their role and
the time, linked to the drawing by a `PhotoLink` (subject "signature") so the photo rules
(possession, who may see it, expected until its bytes arrive) hold for signatures too.

The rule: a submission that carries signatures carries the auditor's, and the auditee's or
a reason why the auditee did not sign. A submission without any (a field app from before
sign-off, or an integration) is accepted and shown as not signed: refusing it would leave
an old device's queued submission stuck for good.
"""

from datetime import timedelta

from sqlalchemy import delete

from ..errors import Invalid
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Audit, AuditSignature, Photo, PhotoLink, PhotoState, PhotoSubject, SignatureRole, User, utcnow
from . import evidence, trail

MAX_SIGNATURES = len(SignatureRole)
# A device clock may be a little behind the server's: a signature a day before the audit
# was started is a wrong clock, not a sign-off.
CLOCK_SLACK = timedelta(days=1)


def check_signatures(audit: Audit, signatures, unsigned_reason) -> tuple[list[dict], str]:
    """Return the signatures as [{role, name, signed_at, sha256}] and the reason, checked.

    :raise Invalid: not a list of at most one signature per role; a name missing or over
      LIMITS["name"]; a time not ISO with an offset, before the audit or in the future; a
      hash that is not a SHA-256 or names a stored photo that is not a PNG; no auditor's
      signature; no auditee's signature and no reason.
    """
    errors = FieldErrors()
    if not isinstance(signatures, list) or len(signatures) > MAX_SIGNATURES:
        raise Invalid("The sign-off is not valid.",
                      {"signatures": [f"At most {MAX_SIGNATURES} signatures: one for each of auditor and auditee."]})
    earliest = (audit.started_at or audit.created_at or utcnow()) - CLOCK_SLACK
    cleaned = []
    for index, given in enumerate(signatures):
        field = f"signatures.{index}"
        if not isinstance(given, dict):
            errors.add(field, "Each signature is {role, name, signed_at, sha256}.")
            continue
        role = errors.one_of(f"{field}.role", given.get("role"), SignatureRole)
        name = errors.text(f"{field}.name", given.get("name"), "name", required=True, label="The signer's name")
        signed_at = errors.moment(f"{field}.signed_at", given.get("signed_at"), utcnow(), earliest=earliest,
                                  label="A signature")
        sha = errors.sha256(f"{field}.sha256", given.get("sha256"))
        if sha is not None:
            photo = db.session.get(Photo, sha)
            if photo is not None and photo.state == PhotoState.STORED and photo.content_type != "image/png":
                errors.add(f"{field}.sha256", "A signature must be a PNG drawing, not another kind of photo.")
        cleaned.append({"role": role, "name": name, "signed_at": signed_at, "sha256": sha})
    roles = [s["role"] for s in cleaned if s["role"]]
    if len(set(roles)) < len(roles):
        errors.add("signatures", "At most one signature per role.")
    hashes = [s["sha256"] for s in cleaned if s["sha256"]]
    if len(set(hashes)) < len(hashes):
        errors.add("signatures", "Each person signs with their own drawing.")
    if SignatureRole.AUDITOR not in roles and "signatures" not in errors:
        errors.add("signatures", "The auditor must sign to submit.")
    reason = errors.text("unsigned_reason", unsigned_reason, "reason")
    if SignatureRole.AUDITEE not in roles and not reason:
        errors.add("unsigned_reason", "The auditee signs, or say why they did not.")
    errors.raise_if_any("The sign-off is not valid.")
    return cleaned, "" if SignatureRole.AUDITEE in roles else reason


def record_signatures(user: User, audit: Audit, signatures: list[dict], unsigned_reason: str,
                      device_id=None) -> list[AuditSignature]:
    """Keep the checked sign-off of `audit`, replacing one given at an earlier submission
    (an audit sent back and submitted again is signed again). Flushes."""
    old = list(audit.signatures)
    if old:
        db.session.execute(delete(PhotoLink).where(PhotoLink.subject == PhotoSubject.SIGNATURE,
                                                   PhotoLink.subject_id.in_([s.id for s in old])))
        for signature in old:
            audit.signatures.remove(signature)
        db.session.flush()
    kept = []
    for given in signatures:
        evidence.expect_photo(given["sha256"])
        signature = AuditSignature(role=given["role"], signer_name=given["name"], signed_at=given["signed_at"],
                                   photo_sha256=given["sha256"], recorded_by_id=user.id)
        audit.signatures.append(signature)
        db.session.flush()
        evidence.link_photos(user, PhotoSubject.SIGNATURE, signature.id, [given["sha256"]])
        kept.append(signature)
    # The drawing was made when it was signed: that is its capture time.
    evidence.note_capture_times({s["sha256"]: s["signed_at"] for s in signatures}, [s["sha256"] for s in signatures])
    audit.unsigned_reason = unsigned_reason
    trail.record(user, "audit.signed", "audit", audit.id, {
        "signatures": [{"role": s["role"], "name": s["name"], "signed_at": s["signed_at"].isoformat(),
                        "sha256": s["sha256"]} for s in signatures],
        "unsigned_reason": unsigned_reason,
    }, device_id=device_id)
    return kept

