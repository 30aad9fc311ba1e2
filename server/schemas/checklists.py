"""The checklist file format ("gemba-checklist/1"), shared by import, export and the demo.

A checklist travels between sites as one JSON document:

    {"format": "gemba-checklist/1", "name", "standard", "description",
     "review_due": "YYYY-MM-DD" | null, "review_due_days": N (only when review_due is absent),
     "questions": [{"section", "text", "guidance", "kind", "options", "required",
                    "clause", "finding_answers", "photo_answers",
                    "weight"?, "show_if"?: {"question": N, "values": [...]}}, ...],
     "scoring"?: {"deductions": {"major_nc": 10, "minor_nc": 5, ...}}}

`weight`, `show_if` and `scoring` came later and are optional, so files written before them
still import (weight 1, always shown, answers alone scored). A show-if names an earlier
question by its number in the file (1 = the first).

The schema checks shapes and types; which answers make sense for which kind of question
is a rule of the checklist service (`services.checklists.question_errors`).
"""

import marshmallow as ma

from ..models import QuestionKind
from .shapes import Day, text_field

FORMAT = "gemba-checklist/1"
MAX_QUESTIONS = 500


class AnswerValue(ma.fields.Field):
    """An answer as a device sends it: a short string or a number."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ma.ValidationError("An answer must be a string or a number.")
        if isinstance(value, str) and len(value) > 200:
            raise ma.ValidationError("An answer is at most 200 characters.")
        return value


class ShowIfFileSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    question = ma.fields.Integer(required=True, strict=True, metadata={"description": "An earlier question's number"})
    values = ma.fields.List(AnswerValue(), required=True, validate=ma.validate.Length(min=1, max=50))


class ScoringFileSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    deductions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(allow_nan=False), load_default=dict)


class QuestionFileSchema(ma.Schema):
    class Meta:
        ordered = True

    section = text_field("name", required=True)
    text = text_field("question", required=True)
    guidance = text_field("guidance", load_default="")
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in QuestionKind]))
    options = ma.fields.List(AnswerValue(), load_default=list, validate=ma.validate.Length(max=50))
    required = ma.fields.Boolean(load_default=True)
    clause = text_field("clause", load_default="")
    finding_answers = ma.fields.List(AnswerValue(), load_default=list, validate=ma.validate.Length(max=50))
    photo_answers = ma.fields.List(AnswerValue(), load_default=list, validate=ma.validate.Length(max=50))
    weight = ma.fields.Float(load_default=1, allow_nan=False)
    show_if = ma.fields.Nested(ShowIfFileSchema, load_default=None, allow_none=True)


class ChecklistFileSchema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE

    format = ma.fields.String(required=True, validate=ma.validate.Equal(FORMAT, error=f"Only {FORMAT} files can be read."))
    name = text_field("name", required=True)
    standard = text_field("standard", required=True)
    description = text_field("guidance", load_default="")
    review_due = Day(allow_none=True, load_default=None)
    review_due_days = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=3650))
    questions = ma.fields.List(
        ma.fields.Nested(QuestionFileSchema), required=True, validate=ma.validate.Length(min=1, max=MAX_QUESTIONS)
    )
    scoring = ma.fields.Nested(ScoringFileSchema, load_default=None, allow_none=True)
