"""Forms of the competence page: filters, a competence, a requirement, a person's record, a training session."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..fieldrules import LIMITS
from ..models import Role
from .forms import FilterForm

ROLE_OPTIONS = [SelectChoice("", "Any role")] + [SelectChoice(r.value, r.value) for r in Role]


class MatrixFilterForm(FilterForm):
    site = SelectField("Site", choices=[], validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()])


class CompetenceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the competence."), Length(max=LIMITS["name"])])
    validity_months = IntegerField("Valid for (months; empty: for good)",
                                   validators=[Optional(), NumberRange(min=1, max=240)])


class RequirementForm(FlaskForm):
    competence = SelectField("Competence", choices=[], validators=[DataRequired("Choose the competence.")])
    role = SelectField("Role", choices=ROLE_OPTIONS, validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()])


class RecordForm(FlaskForm):
    person = SelectField("Person", choices=[], validators=[DataRequired("Choose the person.")])
    competence = SelectField("Competence", choices=[], validators=[DataRequired("Choose the competence.")])
    gained_on = DateField("Gained on", validators=[DataRequired("Say when it was gained.")])
    expires_on = DateField("Expires on (empty: from the validity)", validators=[Optional()])
    assessed_by = SelectField("Assessed by", choices=[], validators=[Optional()])
    file = FileField("Certificate (optional)")


class TrainingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Name the session."), Length(max=LIMITS["title"])])
    held_on = DateField("Held on", validators=[DataRequired("Say when it was held.")])
    trainer = SelectField("Trainer", choices=[], validators=[Optional()])
    attendees = SelectMultipleField("Attendees", choices=[], validators=[DataRequired("Choose the attendees.")])
    competences = SelectMultipleField("Competences granted", choices=[],
                                      validators=[DataRequired("Choose what it grants.")])
