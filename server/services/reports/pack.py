"""An audit's evidence pack: a ZIP a certification auditor can check with standard tools.

`sha256sum -c SHA256SUMS` verifies the PDF and every original photo, and each photo's
file name is its own SHA-256, the hash the device computed when it was taken.
"""

import hashlib
import tempfile
import zipfile

from ...models import Audit, Photo, PhotoState, User, utcnow
from ...storage import MissingObject, object_key, photo_store
from .collect import EXTENSIONS, collect
from .exports import SPOOL_BYTES
from .pdf import render_pdf


def pack_name(audit: Audit) -> str:
    day = (audit.submitted_at or audit.created_at).date().isoformat()
    return f"audit-{day}-{str(audit.id)[:8]}"


def evidence_pack(user: User, audit: Audit):
    """A ZIP of the PDF, every original photo and a SHA256SUMS file, as a spooled file.

    Photos are stored, not deflated: they are compressed already. A photo referenced
    but not uploaded is listed in EXPECTED.txt, so its absence is stated, not hidden.
    """
    report = collect(user, audit)
    pdf = render_pdf(report)
    store = photo_store()
    sums = [(hashlib.sha256(pdf).hexdigest(), "report.pdf")]
    expected = []
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.pdf", pdf)
        for photo in report.evidence.photos.values():
            name = f"photos/{photo.sha256}.{EXTENSIONS.get(photo.content_type or '', 'bin')}"
            if photo.state != PhotoState.STORED:
                expected.append(photo)
                continue
            digest = hashlib.sha256()
            try:
                with store.open(object_key("original", photo.sha256)) as source, \
                        archive.open(zipfile.ZipInfo(name, _zip_time(photo)), "w", force_zip64=True) as target:
                    while chunk := source.read(1024 * 1024):
                        digest.update(chunk)
                        target.write(chunk)
            except MissingObject:
                expected.append(photo)
                continue
            sums.append((digest.hexdigest(), name))
        if expected:
            lines = ["Photos referenced in this audit whose bytes have not reached the register yet.",
                     "Each is named by the SHA-256 the device computed; its file will carry that hash.", ""]
            lines += [f"{p.sha256}  {', '.join(report.evidence.used_in.get(p.sha256, []))}" for p in expected]
            text = ("\n".join(lines) + "\n").encode()
            archive.writestr("EXPECTED.txt", text)
            sums.append((hashlib.sha256(text).hexdigest(), "EXPECTED.txt"))
        archive.writestr("SHA256SUMS", "".join(f"{digest}  {name}\n" for digest, name in sums))
    spool.seek(0)
    return spool


def _zip_time(photo: Photo) -> tuple:
    when = photo.uploaded_at or photo.created_at or utcnow()
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


