"""Forms of the register pages. Filters are GET forms and carry no CSRF token."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..fieldrules import LIMITS
from ..models import AuditStatus, FindingKind, FindingStatus


def _choices(enum, blank="Any"):
    return [("", blank)] + [(item.value, item.value.replace("_", " ")) for item in enum]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        if hasattr(self, "area"):
            self.area.choices = [("", "Any")] + [(str(a.id), a.label) for a in areas]


class AuditFilterForm(FilterForm):
    status = SelectField("Status", choices=_choices(AuditStatus), validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()], validate_choice=True)


class FindingFilterForm(FilterForm):
    status = SelectField("Status", choices=_choices(FindingStatus) + [("open_any", "any open")], validators=[Optional()])
    kind = SelectField("Kind", choices=_choices(FindingKind), validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()])
    clause = StringField("Clause", validators=[Optional(), Length(max=LIMITS["clause"])])
    q = StringField("Title contains", validators=[Optional(), Length(max=100)])
