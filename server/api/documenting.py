"""One way for an API module to document the error answers its routes share."""

from collections.abc import Callable, Iterable

from flask_smorest import Blueprint


def documenting(blp: Blueprint, answers: Iterable[tuple[int, str]]) -> Callable:
    """A decorator adding each (status, description) in `answers` to a route's OpenAPI responses."""
    answers = tuple(answers)

    def documented(func):
        for status, description in answers:
            func = blp.alt_response(status, description=description)(func)
        return func

    return documented
