"""Who may call an API route: sign-in and the role's permission, checked before anything else."""

import functools

from flask import current_app
from flask_login import current_user

from ..permissions import require


def permitted(action: str | None = None):
    """Check sign-in and the role's permission before the body is even parsed.

    So a refused caller learns 401 or 403, never what the body should have looked like.
    The service checks again on the record itself (ownership, status).
    """
    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if action:
                require(current_user, action)
            return view(*args, **kwargs)
        return checked
    return decorate
