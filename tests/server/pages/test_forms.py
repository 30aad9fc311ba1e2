"""The register pages' forms: every select offers WTForms SelectChoice options.

WTForms 3.3 warns about (value, label) tuples only when a form class declares them; a view
that sets `form.x.choices` to tuples is silent until 3.4 drops them. This walk renders every
page and looks at the options of each form the page was drawn with.
"""

from flask import template_rendered
from wtforms import Form, SelectChoice
from wtforms.fields.choices import SelectFieldBase

from tests.conftest import AuthActions
from tests.server.test_access import ENDPOINT_QUERY, ENDPOINT_VALUES, _routes, _url


def _forms(value):
    if isinstance(value, Form):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _forms(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _forms(item)


def test_every_select_on_every_page_offers_select_choices(app, world):
    people, values = world
    auth = AuthActions(app.test_client())
    assert auth.login(people["admin"]).status_code == 200
    drawn = []

    def keep(sender, template, context, **extra):
        drawn.append((template.name, context))

    with template_rendered.connected_to(keep, app):
        for rule, method in _routes(app):
            if method == "GET" and rule.endpoint.startswith("pages."):
                url = _url(rule, values | ENDPOINT_VALUES.get(rule.endpoint, {}))
                auth.client.get(url + ENDPOINT_QUERY.get(rule.endpoint, "").format(**values))
    selects = [(name, form.__class__.__name__, field.name, field.choices)
               for name, context in drawn for form in _forms(list(context.values()))
               for field in form if isinstance(field, SelectFieldBase)]
    assert len(selects) > 10, "the walk drew too few forms to say anything"
    old_style = [(page, form, field) for page, form, field, choices in selects
                 if not all(isinstance(choice, SelectChoice) for choice in choices or [])]
    assert old_style == []
