"""Run a posted register form through its service: commit it, or put the service's reasons back on the form."""

from collections.abc import Callable
from typing import Any, NamedTuple

from flask import flash

from ..errors import DomainError
from ..extensions import db

# A service names the record it was given ("template_id"); the page's form calls the field by what it picks.
FIELD_FOR = {"template_id": "template", "area_id": "area", "auditor_id": "auditor", "owner_id": "owner", "site_id": "site"}


class Submission(NamedTuple):
    saved: bool
    result: Any = None
    status: int = 422


def show_errors(form, exc: DomainError) -> None:
    """Put a service's per-field messages next to the form's fields; flash the message if none found a place."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        target = getattr(form, FIELD_FOR.get(name, name), None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
            placed = True
    if exc.code == "impartiality" and hasattr(form, "auditor"):
        form.auditor.errors = list(form.auditor.errors) + [exc.message]
        placed = True
    if not placed:
        flash(exc.message)


def submit(form, call: Callable[[], Any], catch: type[DomainError] = DomainError) -> Submission:
    """Validate the posted form and run the service call; commit what it did, or roll it back.

    Return saved with the call's result, or not saved with the status to answer: 422 for a form
    that does not validate, the domain error's own status (its reasons shown on the form) otherwise.
    Domain errors other than `catch` go on to the error handlers.
    """
    if not form.validate_on_submit():
        return Submission(False)
    try:
        result = call()
    except catch as exc:
        db.session.rollback()
        show_errors(form, exc)
        return Submission(False, status=exc.status)
    db.session.commit()
    return Submission(True, result, 200)
