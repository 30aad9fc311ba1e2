"""Forms of the document register: register a document, add a revision, buttons that change its state."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..fieldrules import LIMITS
from ..models import DocumentType, Role
from ..services.doctypes import ACCEPTED_TEXT

TYPE_LABELS = {
    DocumentType.PROCEDURE: "Procedure", DocumentType.WORK_INSTRUCTION: "Work instruction",
    DocumentType.FORM: "Form", DocumentType.POLICY: "Policy", DocumentType.RECORD_TEMPLATE: "Record template",
}


class DocumentForm(FlaskForm):
    number = StringField("Number", description='For example "WI-014"',
                         validators=[DataRequired("Give the document a number."), Length(max=LIMITS["document_number"])])
    title = StringField("Title", validators=[DataRequired("Give the document a title."), Length(max=LIMITS["title"])])
    type = SelectField("Type", choices=[SelectChoice(t.value, label) for t, label in TYPE_LABELS.items()])
    owner = SelectField("Owner", choices=[], validate_choice=False)
    review_every_months = IntegerField("Review every (months)", default=12,
                                       validators=[Optional(), NumberRange(min=1, max=120)])
    file = FileField("File", description=ACCEPTED_TEXT, validators=[FileRequired("Choose the file.")])
    change_note = TextAreaField("Note", validators=[Optional(), Length(max=LIMITS["change_note"])])


class RevisionForm(FlaskForm):
    file = FileField("File of the next revision", description=ACCEPTED_TEXT,
                     validators=[FileRequired("Choose the file.")])
    change_note = TextAreaField("What changed", validators=[Optional(), Length(max=LIMITS["change_note"])])


class DocumentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Number or title", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=[SelectChoice("", "Any"), SelectChoice("draft", "draft"),
                                            SelectChoice("in_review", "in review"),
                                            SelectChoice("approved", "approved"), SelectChoice("obsolete", "obsolete")],
                         validators=[Optional()])


class AcknowledgementForm(FlaskForm):
    roles = SelectMultipleField("Roles asked", choices=[SelectChoice(r.value, r.value) for r in Role],
                                validators=[Optional()])
    areas = SelectMultipleField("Home areas asked", choices=[], validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.roles.data and not self.areas.data:
            self.roles.errors = list(self.roles.errors) + ["Choose the roles or the areas to ask."]
            return False
        return True
