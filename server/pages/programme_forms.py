"""Forms of the checklist builder, the programme and the coverage pages.

Every state-changing form carries the CSRF token (FlaskForm); filters are GET forms
without one. The services re-check every rule; validators here only give a quick,
clear message next to the field.
"""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..fieldrules import LIMITS
from ..models import AuditStatus, QuestionKind, RiskLevel
from ..services import documents
from .forms import FilterForm, enum_options, record_options

KIND_LABELS = {
    QuestionKind.YES_NO_NA: "Yes / no / N/A",
    QuestionKind.PASS_FAIL: "Pass / fail",
    QuestionKind.SCORE: "Score (a range of whole numbers)",
    QuestionKind.CHOICE: "Choice (one of a list)",
    QuestionKind.MULTI_CHOICE: "Multiple choice (any of a list)",
    QuestionKind.NUMBER: "Number",
    QuestionKind.TEXT: "Text",
    QuestionKind.DATE: "Date",
    QuestionKind.PHOTO: "Photo",
}
LINES_HELP = "One per line."


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class ChecklistForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the checklist a name."), Length(max=LIMITS["name"])])
    standard = StringField("Standard", default="ISO 9001:2015",
                           validators=[DataRequired("Name the standard."), Length(max=LIMITS["standard"])])
    description = TextAreaField("Description", validators=[Optional(), Length(max=LIMITS["guidance"])])
    review_due = DateField("Review due", validators=[Optional()])
    # The scoring rule: points each finding raised in the audit takes off its score.
    deduct_major_nc = FloatField("Points off per major nonconformity", validators=[Optional(), NumberRange(0, 100)])
    deduct_minor_nc = FloatField("Points off per minor nonconformity", validators=[Optional(), NumberRange(0, 100)])
    deduct_observation = FloatField("Points off per observation", validators=[Optional(), NumberRange(0, 100)])
    deduct_improvement = FloatField("Points off per improvement", validators=[Optional(), NumberRange(0, 100)])

    DEDUCTIONS = ("major_nc", "minor_nc", "observation", "improvement")

    def scoring(self) -> dict:
        return {"deductions": {kind: getattr(self, f"deduct_{kind}").data or 0 for kind in self.DEDUCTIONS}}

    def show_scoring(self, scoring: dict | None) -> None:
        for kind in self.DEDUCTIONS:
            getattr(self, f"deduct_{kind}").data = ((scoring or {}).get("deductions") or {}).get(kind)


class QuestionForm(FlaskForm):
    section = StringField("Section", validators=[DataRequired("Name the section."), Length(max=LIMITS["name"])])
    text = TextAreaField("Question", validators=[DataRequired("Write the question."), Length(max=LIMITS["question"])])
    guidance = TextAreaField("Guidance for the auditor", validators=[Optional(), Length(max=LIMITS["guidance"])])
    kind = SelectField("Kind of answer", choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    options = TextAreaField("Options (choice: the choices; score: lowest and highest; number: optional lowest and highest)",
                            description=LINES_HELP, validators=[Optional(), Length(max=4000)])
    required = BooleanField("An answer is required", default=True)
    clause = StringField("Clause", description="For example 8.5.1", validators=[Optional(), Length(max=LIMITS["clause"])])
    finding_answers = TextAreaField("Answers that call for a finding", description=LINES_HELP,
                                    validators=[Optional(), Length(max=2000)])
    photo_answers = TextAreaField("Answers that require a photo", description=LINES_HELP,
                                  validators=[Optional(), Length(max=2000)])
    weight = FloatField("Weight in the score", default=1, description="What its points count for; 0: not scored.",
                        validators=[Optional(), NumberRange(0, 100)])
    show_if = SelectField("Show only when", choices=[], validate_choice=False, validators=[Optional()],
                          description="An earlier question; leave empty to always show this one.")
    show_if_values = TextAreaField("…is answered", description="One answer per line (a multiple choice: any of them chosen).",
                                   validators=[Optional(), Length(max=2000)])
    show_if_section = BooleanField("Apply this show-if to the whole section")
    # Checked by the service (only a current approved revision may be cited), not here.
    document_revision_id = SelectField("Checks against document", choices=[], validate_choice=False,
                                       validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document_revision_id.choices = [SelectChoice("", "No document")] + [
            SelectChoice(str(r.id), f"{r.label}: {r.document.title}") for r in documents.citable_revisions()]

    def offer_sources(self, template, before: int | None = None) -> None:
        """List the questions a show-if may test: those of `template` before position `before`."""
        self.show_if.choices = [SelectChoice("", "Always show")] + [
            SelectChoice(str(q.id), f"{q.position}. {q.text[:80]}") for q in template.questions
            if before is None or q.position < before]

    def cite(self, revision) -> None:
        """Show `revision` as chosen, listing it even when it is no longer current (the service then refuses it)."""
        if revision is None:
            return
        if all(choice.value != str(revision.id) for choice in self.document_revision_id.choices):
            self.document_revision_id.choices.append(SelectChoice(str(revision.id), f"{revision.label} ({revision.status})"))
        self.document_revision_id.data = str(revision.id)


class ImportForm(FlaskForm):
    file = FileField("Checklist file (.json)")
    text = TextAreaField("Or paste the JSON", validators=[Optional(), Length(max=2_000_000)])


class ReviewedForm(FlaskForm):
    review_due = DateField("Next review due", validators=[DataRequired("Pick the next review date.")])


class PlanAuditForm(FlaskForm):
    template = SelectField("Checklist", choices=[], validators=[DataRequired("Choose a checklist.")])
    area = SelectField("Area", choices=[], validators=[DataRequired("Choose an area.")])
    planned_date = DateField("Planned date", validators=[DataRequired("Pick a date.")])
    auditor = SelectField("Auditor", choices=[], validators=[Optional()])


class GenerateForm(FlaskForm):
    template = SelectField("Checklist", choices=[], validators=[DataRequired("Choose a checklist.")])
    start = DateField("From", validators=[DataRequired("Pick the first day of the plan.")])
    months = IntegerField("Months", default=12, validators=[DataRequired(), NumberRange(min=1, max=24)])
    assign = BooleanField("Assign the best-ranked impartial, qualified auditor to each audit", default=True)


class AssignForm(FlaskForm):
    auditor = SelectField("Auditor", choices=[], validators=[Optional()])


class QuickAssignForm(FlaskForm):
    """One click on a suggestion: the auditor travels in a hidden field."""

    auditor = HiddenField()


class RescheduleForm(FlaskForm):
    planned_date = DateField("New planned date", validators=[DataRequired("Pick a date.")])


class QualificationForm(FlaskForm):
    user = SelectField("Auditor", choices=[], validators=[DataRequired("Choose an auditor.")])
    standard = StringField("Standard", default="ISO 9001", validators=[DataRequired("Name the standard."), Length(max=LIMITS["standard"])])
    gained_on = DateField("Qualified from (leave empty if not known)", validators=[Optional()])
    expires_on = DateField("Expires on (leave empty if it does not expire)", validators=[Optional()])


class ProgrammeFilterForm(FilterForm):
    month = StringField("Month (YYYY-MM)", validators=[Optional(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message="Use YYYY-MM.")])
    status = SelectField("Status", choices=enum_options(AuditStatus),
                         validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()])
    auditor = SelectField("Auditor", choices=[], validators=[Optional()])
    unassigned = BooleanField("Only audits without an auditor")

    def __init__(self, *args, auditors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.auditor.choices = record_options("Any", auditors)


class CoverageFilterForm(FilterForm):
    standard = SelectField("Standard", choices=[], validators=[Optional()])
    cycle = IntegerField("Programme cycle (months)", default=12, validators=[Optional(), NumberRange(min=1, max=60)])


class AreaPlanForm(FlaskForm):
    risk_level = SelectField("Risk", choices=[SelectChoice(r.value) for r in RiskLevel])
    audit_every_months = IntegerField("Audit every (months)", validators=[
        DataRequired("Say how often."), NumberRange(min=1, max=36, message="Between 1 and 36 months.")])
