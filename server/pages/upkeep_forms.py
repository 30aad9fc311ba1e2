"""Forms of the objectives, readiness and management-review pages."""

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
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
