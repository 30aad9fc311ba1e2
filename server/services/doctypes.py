"""What a document file is, from its bytes alone (never the name or the client's Content-Type).

Accepted: PDF; Office Open XML (DOCX, XLSX, PPTX); OpenDocument (ODT, ODS, ODP); JPEG,
PNG, WebP images; plain UTF-8 text. Refused as active content: HTML, SVG and XML that a
browser would run, and macro-enabled Office or OpenDocument files (their macros would run
on the reader's machine). Anything else is refused as not a document type we keep.
"""

import io
import zipfile
from typing import BinaryIO, NamedTuple

from ..errors import DomainError

HEAD = 4096


class UnsupportedDocumentType(DomainError):
    status = 415
    code = "unsupported_media_type"


class ActiveContent(UnsupportedDocumentType):
    """HTML, SVG, scripts or macros: they would run in the reader's browser or office program."""

    code = "active_content"


class Detected(NamedTuple):
    content_type: str
    extension: str
    # Served inline only when a browser shows it without running anything of the file's own.
    download_only: bool


ACCEPTED_TEXT = "PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, JPEG, PNG, WebP or plain text"

OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
}
ODF = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
# Markup a browser would render and run (scripts, event handlers), found near the start of a text file.
ACTIVE_MARKERS = (b"<!doctype html", b"<html", b"<svg", b"<script", b"<?xml", b"<iframe", b"<body", b"<head",
                  b"<object", b"<embed", b"<meta", b"<a ", b"<img", b"<div", b"<!--")


def detect(stream: BinaryIO) -> Detected:
    """Say what the file in `stream` is (it is read, then rewound).

    :raise ActiveContent: HTML, SVG, script markup or macro-enabled office files.
    :raise UnsupportedDocumentType: anything else not accepted.
    """
    stream.seek(0)
    head = stream.read(HEAD)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return Detected("application/pdf", "pdf", False)
        if head.startswith(b"\xff\xd8\xff"):
            return Detected("image/jpeg", "jpg", False)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return Detected("image/png", "png", False)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return Detected("image/webp", "webp", False)
        if head.startswith(b"PK\x03\x04"):
            return _zip_document(stream)
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise UnsupportedDocumentType(
                "Legacy binary Office files (.doc, .xls) can carry macros that cannot be checked: "
                "save it as DOCX, XLSX or PDF.")
        return _text(head)
    finally:
        stream.seek(0)


def _zip_document(stream: BinaryIO) -> Detected:
    try:
        archive = zipfile.ZipFile(stream)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsupportedDocumentType(f"The file is a damaged archive; accepted are {ACCEPTED_TEXT}.") from None
    lowered = [name.lower() for name in names]
    if "[content_types].xml" in lowered:
        types = archive.read(names[lowered.index("[content_types].xml")])[:200_000].lower()
        if any(name.endswith("vbaproject.bin") for name in lowered) or b"macroenabled" in types \
                or b"vnd.ms-office.vbaproject" in types or b"activex" in types:
            raise ActiveContent("Macro-enabled Office files are not kept: save it without macros (DOCX, XLSX).")
        for prefix, (content_type, extension) in OOXML.items():
            if any(name.startswith(prefix) for name in lowered):
                return Detected(content_type, extension, True)
    if "mimetype" in lowered:
        mimetype = archive.read(names[lowered.index("mimetype")])[:100].decode("ascii", "replace").strip()
        if mimetype in ODF:
            if any(name.startswith(("basic/", "scripts/")) for name in lowered):
                raise ActiveContent("OpenDocument files with macros are not kept: save it without macros.")
            return Detected(mimetype, ODF[mimetype], True)
    raise UnsupportedDocumentType(f"This archive is not a document; accepted are {ACCEPTED_TEXT}.")


def _text(head: bytes) -> Detected:
    if b"\x00" in head:
        raise UnsupportedDocumentType(f"This kind of file is not accepted; accepted are {ACCEPTED_TEXT}.")
    text = head.removeprefix(b"\xef\xbb\xbf")
    try:
        io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", errors="strict").read()
    except UnicodeDecodeError as exc:
        if exc.start < len(text) - 4:  # a multi-byte character cut at the end of the head is fine
            raise UnsupportedDocumentType(
                f"This kind of file is not accepted; accepted are {ACCEPTED_TEXT}.") from None
    lowered = text.lower()
    if any(marker in lowered for marker in ACTIVE_MARKERS):
        raise ActiveContent("HTML, SVG and XML pages are not kept: a browser would run what they contain. "
                            "Upload a PDF instead.")
    return Detected("text/plain; charset=utf-8", "txt", True)
