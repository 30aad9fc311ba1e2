"""Forms of the register pages. Filters are GET forms and carry no CSRF token.

Options of a select are `SelectChoice(value, label)`: WTForms 3.3 deprecates the
(value, label) tuples and 3.4 drops them.
"""

from collections.abc import Callable, Iterable

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..fieldrules import LIMITS
from ..models import AuditStatus, FindingKind, FindingStatus


def enum_options(enum, blank: str = "Any") -> list[SelectChoice]:
    """List an enum's members as options, after a blank one that means "no filter"."""
    return [SelectChoice("", blank)] + [SelectChoice(item.value, item.value.replace("_", " ")) for item in enum]


def record_options(blank: str, records: Iterable, label: Callable = lambda record: record.name) -> list[SelectChoice]:
    """List records as options keyed by id, after a blank one saying what choosing none means."""
    return [SelectChoice("", blank)] + [SelectChoice(str(record.id), label(record)) for record in records]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        if hasattr(self, "area"):
            self.area.choices = record_options("Any", areas, label=lambda area: area.label)


class AuditFilterForm(FilterForm):
    status = SelectField("Status", choices=enum_options(AuditStatus), validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()], validate_choice=True)


class FindingFilterForm(FilterForm):
    status = SelectField("Status", choices=enum_options(FindingStatus) + [SelectChoice("open_any", "any open")],
                         validators=[Optional()])
    kind = SelectField("Kind", choices=enum_options(FindingKind), validators=[Optional()])
    area = SelectField("Area", choices=[], validators=[Optional()])
    clause = StringField("Clause", validators=[Optional(), Length(max=LIMITS["clause"])])
    q = StringField("Title contains", validators=[Optional(), Length(max=100)])
