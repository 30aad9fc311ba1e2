"""Forms of the objectives, readiness and management-review pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..fieldrules import LIMITS
from .forms import FilterForm

DIRECTIONS = [SelectChoice("at_least", "at least"), SelectChoice("at_most", "at most")]


class ObjectiveForm(FlaskForm):
    title = StringField("Objective", validators=[DataRequired("Say what the objective is."), Length(max=LIMITS["title"])])
    standard = StringField("Standard", default="ISO 9001", validators=[Optional(), Length(max=LIMITS["standard"])])
    clause = StringField("Clause", default="6.2", validators=[Optional(), Length(max=LIMITS["clause"])])
    owner = SelectField("Owner", choices=[])
    source = SelectField("Measured by", choices=[])
    source_days = IntegerField("N days (for NCs open longer than N days)", validators=[Optional(), NumberRange(1, 3650)])
    direction = SelectField("Target", choices=DIRECTIONS)
    target_value = DecimalField("Target value", validators=[DataRequired("Give the target as a number.")])
    unit = StringField("Unit", description="%, NCs, days, kWh ...", validators=[Optional(), Length(max=LIMITS["clause"])])
    every_months = IntegerField("Measured every (months)", default=1, validators=[NumberRange(1, 12)])
    due_date = DateField("Due date", validators=[Optional()])
    area = SelectField("Site or area", choices=[], validators=[Optional()])


class MeasurementForm(FlaskForm):
    value = DecimalField("Value", validators=[DataRequired("Enter the value.")])
    measured_on = DateField("Measured on", validators=[DataRequired("Say which day.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=LIMITS["text"])])


class ObjectiveFilterForm(FilterForm):
    standard = StringField("Standard", validators=[Optional(), Length(max=LIMITS["standard"])])
    site = SelectField("Site", choices=[], validators=[Optional()])


class ReadinessFilterForm(FilterForm):
    standard = SelectField("Standard", choices=[], validators=[Optional()])
    site = SelectField("Site", choices=[], validators=[Optional()])


class ReviewOpenForm(FlaskForm):
    period_start = DateField("Period from", validators=[DataRequired("Give the period's first day.")])
    period_end = DateField("Period to", validators=[DataRequired("Give the period's last day.")])
    standard = SelectField("Standard", choices=[], validators=[Optional()])
    site = SelectField("Site", choices=[], validators=[Optional()])


class ReviewRecordForm(FlaskForm):
    held_on = DateField("Held on", validators=[Optional()])
    attendees = TextAreaField("Attendees", description="One per line.", validators=[Optional(), Length(max=4000)])
    context_changes = TextAreaField("Changes in external and internal issues", validators=[Optional(), Length(max=LIMITS["text"])])
    customer_feedback = TextAreaField("Customer satisfaction and feedback", validators=[Optional(), Length(max=LIMITS["text"])])
    supplier_performance = TextAreaField("Performance of external providers", validators=[Optional(), Length(max=LIMITS["text"])])
    resources = TextAreaField("Adequacy of resources", validators=[Optional(), Length(max=LIMITS["text"])])
    risks_opportunities = TextAreaField("Actions on risks and opportunities", validators=[Optional(), Length(max=LIMITS["text"])])
    decisions = TextAreaField("Decisions", validators=[Optional(), Length(max=LIMITS["text"])])


class ReviewActionForm(FlaskForm):
    title = StringField("Action", validators=[DataRequired("Say what is to be done."), Length(max=LIMITS["title"])])
    owner = SelectField("Owner", choices=[])
    due_date = DateField("Due date", validators=[DataRequired("Give a due date.")])


class SignOffForm(FlaskForm):
    no_outputs_confirmed = BooleanField("There are no outputs: that really is the outcome")
