"""Photo evidence as the API shows it."""

import marshmallow as ma


class PhotoSchema(ma.Schema):
    sha256 = ma.fields.String(dump_only=True, metadata={"description": "SHA-256 of the original bytes"})
    state = ma.fields.String(dump_only=True, metadata={"description": "expected or stored"})
    content_type = ma.fields.String(dump_only=True, metadata={"description": "Type of the original, from its bytes"})
    byte_size = ma.fields.Integer(dump_only=True)
    width = ma.fields.Integer(dump_only=True, metadata={"description": "Upright width in pixels"})
    height = ma.fields.Integer(dump_only=True, metadata={"description": "Upright height in pixels"})
    taken_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True, metadata={"description": "EXIF capture time"})
    uploaded_by_id = ma.fields.UUID(dump_only=True, allow_none=True)
    uploaded_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class PhotoQuerySchema(ma.Schema):
    size = ma.fields.String(
        load_default="display",
        validate=ma.validate.OneOf(["thumb", "display", "original"]),
        metadata={"description": "thumb (<= 320 px), display (<= 2048 px) or original (the bytes as sent)"},
    )
