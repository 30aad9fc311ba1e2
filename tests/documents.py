"""Document files for tests, made here: a PDF, office files with and without macros, active content."""

import hashlib
import io
import os
import zipfile


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf(text: str = "Procedure", pad: int = 0) -> bytes:
    """A small PDF; `pad` random bytes in a comment make it unique and as large as wanted."""
    filler = os.urandom(pad).hex().encode() if pad else b""
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " + text.encode() + b" " + filler
            + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx(text: str = "Work instruction") -> bytes:
    return _zip({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                               b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": f"<w:document><w:body><w:p><w:t>{text}</w:t></w:p></w:body></w:document>".encode(),
    })


def docm() -> bytes:
    return _zip({
        "[Content_Types].xml": b'<Types><Override PartName="/word/document.xml" ContentType="application/'
                               b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
        "word/document.xml": b"<w:document/>",
        "word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro",
    })


def odt_with_macros() -> bytes:
    return _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>",
                 "Basic/Standard/Module1.xml": b"<script:module/>"})


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
