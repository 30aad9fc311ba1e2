"""Forms of the review, corrective action and trail pages.

Each form carries the CSRF token; the services re-check every rule, so the validators
here only give a person a quick, clear message next to the field.
"""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..fieldrules import LIMITS, carried_why
from ..models import ActionStatus
from .forms import FilterForm, enum_options

TEXT = LIMITS["text"]
COMMENT = LIMITS["comment"]
REASON = LIMITS["reason"]  # room for the label the server puts before a decision's reason
WHY = LIMITS["why"]


class ApproveForm(FlaskForm):
    comment = TextAreaField("Comment for the auditor (optional)", validators=[Optional(), Length(max=COMMENT)])


class ReturnForm(FlaskForm):
    comment = TextAreaField("What should the auditor fix?", validators=[
        DataRequired("Say what the auditor should fix."), Length(max=COMMENT)])


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting", validators=[DataRequired("Give a reason."), Length(max=REASON)])


class ReopenForm(FlaskForm):
    reason = TextAreaField("Reason for reopening", validators=[DataRequired("Give a reason."), Length(max=REASON)])


class TriageForm(FlaskForm):
    decision = RadioField("Decision", choices=[
        SelectChoice("accept", "Accept: it needs corrective action"), SelectChoice("reject", "Reject: not a finding")],
        validators=[DataRequired("Choose accept or reject.")])
    reason = TextAreaField("Comment or reason (required to reject)", validators=[Optional(), Length(max=REASON)])

    def validate_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValueError("Give the reason for rejecting.")


class RepeatForm(FlaskForm):
    repeat_of = SelectField("Repeat of", choices=[], validators=[DataRequired("Choose the earlier finding.")])


class WhyForm(Form):
    why = StringField("Why?", validators=[Optional(), Length(max=WHY)])
    because = StringField("Because", validators=[Optional(), Length(max=WHY)])


class ActionForm(FlaskForm):
    containment = TextAreaField("Containment (what was done straight away)", validators=[Optional(), Length(max=TEXT)])
    whys = FieldList(FormField(WhyForm), min_entries=5, max_entries=5)
    root_cause = TextAreaField("Root cause", validators=[DataRequired("Name the root cause."), Length(max=TEXT)])
    plan = TextAreaField("Action plan", validators=[DataRequired("Say what will be done."), Length(max=TEXT)])
    owner = SelectField("Owner", choices=[], validators=[DataRequired("Choose an owner.")])
    due_date = DateField("Due date", validators=[DataRequired("Choose a due date.")])
    effectiveness_due = DateField("Check effectiveness on or after", validators=[Optional()])

    def validate_whys(self, field):
        # A step with a because and no why takes its why from the step before (fieldrules.whys).
        filled = [((s.why.data or "").strip(), (s.because.data or "").strip()) for s in field]
        steps, before = [], None
        for why, because in filled:
            if not why and because and before:
                why = carried_why(before)
            if bool(why) != bool(because):
                raise ValidationError("Each step needs both a why and a because.")
            if because:
                before = because
            steps.append(why and because)
        if not any(steps):
            raise ValidationError("Ask why at least once to get to the root cause.")

    def plan_data(self) -> dict:
        return {
            "containment": self.containment.data,
            "whys": [{"why": step.why.data or "", "because": step.because.data or ""} for step in self.whys],
            "root_cause": self.root_cause.data,
            "plan": self.plan.data,
            "owner_id": self.owner.data,
            "due_date": self.due_date.data,
            "effectiveness_due": self.effectiveness_due.data,
        }


class DoneForm(FlaskForm):
    note = TextAreaField("What was done (optional)", validators=[Optional(), Length(max=TEXT)])


class EffectivenessForm(FlaskForm):
    result = RadioField("Did the action work?", choices=[
        SelectChoice("effective", "Effective: the problem has not come back"),
        SelectChoice("not_effective", "Not effective: open a new action")], validators=[DataRequired("Choose a result.")])
    note = TextAreaField("Evidence of the check", validators=[Optional(), Length(max=TEXT)])
    next_plan = TextAreaField("New action plan (when not effective)", validators=[Optional(), Length(max=TEXT)])
    next_due_date = DateField("New due date (when not effective)", validators=[Optional()])

    def validate_note(self, field):
        if self.result.data == "not_effective" and not (field.data or "").strip():
            raise ValueError("Say why the action did not work.")


class ActionFilterForm(FilterForm):
    status = SelectField("Status", choices=enum_options(ActionStatus) + [SelectChoice("overdue")], validators=[Optional()])
    owner = SelectField("Owner", choices=[], validators=[Optional()])


class TrailFilterForm(FilterForm):
    actor = SelectField("Who", choices=[], validators=[Optional()])
    entity = SelectField("Record", choices=[SelectChoice("", "Any")] + [SelectChoice(e) for e in (
        "audit", "finding", "action", "user", "comment", "photo", "conflict", "template", "response")],
        validators=[Optional()])
    action = StringField("Action starts with", validators=[Optional(), Length(max=60)])
    entity_id = StringField("Record id", validators=[Optional(), Length(max=64)])
    since = DateField("From", validators=[Optional()])
    until = DateField("To (inclusive)", validators=[Optional()])
