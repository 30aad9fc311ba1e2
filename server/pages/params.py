"""Read what a register page's request asks for: ids, the list page, the areas a form offers."""

from flask import request

from ..extensions import db
from ..models import Area
from ..services import organisation


MAX_PAGE = 100_000  # far past any list's end; a larger number would overflow the database's OFFSET


def page_number() -> int:
    """Return the list page the query string asks for; anything but a positive whole number is page 1."""
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to str.isdigit, not to int()
        return 1
    return min(max(int(value), 1), MAX_PAGE)


def areas_in_order() -> list[Area]:
    """Return every area, by site then name, as the filter and planning forms list them."""
    return db.session.scalars(organisation.areas_in_order()).all()
