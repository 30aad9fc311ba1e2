"""Forms of the organisation pages: sites, areas and people."""

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..fieldrules import LIMITS
from ..models import RiskLevel, Role
from .forms import FilterForm, enum_options, record_options

ZONES = [SelectChoice(zone, zone) for zone in sorted(available_timezones()) if "/" in zone or zone == "UTC"]
ROLE_OPTIONS = [SelectChoice(role.value, role.value) for role in Role]
RISK_OPTIONS = [SelectChoice(risk.value, risk.value) for risk in RiskLevel]


class SiteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=LIMITS["name"])])
    timezone = SelectField("Time zone", choices=ZONES, default="UTC")


class RetireForm(FlaskForm):
    retired = BooleanField("Retire")  # unticked: bring it back
    even_with_open_work = BooleanField("Retire even with open work")


class AreaForm(FlaskForm):
    site = SelectField("Site", choices=[], validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=LIMITS["name"])])
    responsible = SelectField("Responsible person (a supervisor or admin)", choices=[], validators=[Optional()])
    risk_level = SelectField("Risk", choices=RISK_OPTIONS, default=RiskLevel.MEDIUM.value)
    audit_every_months = IntegerField("Audit every (months)", default=12, validators=[DataRequired(), NumberRange(1, 60)])

    def offer(self, sites, people) -> "AreaForm":
        self.site.choices = record_options("Choose a site", sites)
        self.responsible.choices = record_options("Nobody yet", people)
        return self


class AreaFilterForm(FilterForm):
    # ids of their own: the add-an-area form on the same page has a "site" and a "name" too
    site = SelectField("Site", choices=[], validators=[Optional()], id="filter-site")
    q = StringField("Name contains", validators=[Optional(), Length(max=100)], id="filter-q")
    retired = BooleanField("Show retired", id="filter-retired")


class LabelFilterForm(FilterForm):
    site = SelectField("Site", choices=[], validators=[Optional()])


class PersonForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=LIMITS["name"])])
    role = SelectField("Role", choices=ROLE_OPTIONS, default=Role.STAFF.value)
    home_area = SelectField("Home area", choices=[], validators=[Optional()])
    sites = SelectMultipleField("Sites they work at", choices=[], validators=[Optional()])

    def offer(self, areas, sites) -> "PersonForm":
        self.home_area.choices = record_options("None", areas, label=lambda area: area.label)
        self.sites.choices = [SelectChoice(str(site.id), site.name) for site in sites]
        return self


class PersonChangeForm(PersonForm):
    email = None  # an email is who someone is; change it by adding them again


class PeopleFilterForm(FilterForm):
    q = StringField("Name or email contains", validators=[Optional(), Length(max=100)])
    role = SelectField("Role", choices=enum_options(Role), validators=[Optional()])
    site = SelectField("Site", choices=[], validators=[Optional()])
    state = SelectField("State", choices=[SelectChoice("", "Any"), SelectChoice("active", "active"),
                                          SelectChoice("inactive", "deactivated")], validators=[Optional()])


class ImportForm(FlaskForm):
    kind = SelectField("What the file holds", choices=[SelectChoice("areas", "areas (and their sites)"),
                                                       SelectChoice("users", "people")])
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])
    invite = BooleanField("Email invitations to people added", default=True)


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token."""
