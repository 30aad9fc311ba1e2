"""Who may call a route: one decorator, on every page and API route, checked before the body is read.

    @bp.route("/programme")
    @allow("programme.plan")
    def programme_list(): ...

`allow(action)` names a role-level permission from `permissions.RULES` (a rule about who
the caller is, not about a record), or `SIGNED_IN`, or `PUBLIC`. `security.check_access`
runs before the view and before any input is parsed, so a refused caller learns 401 or
403 and never what the body should have looked like. A route that declares nothing is
refused for everyone: deny by default. Rules about a record (its owner, its status, the
caller's sites) are checked by the `get_x(user, id)` loaders and the services.
"""

from collections.abc import Callable

from .permissions import ROLE_ACTIONS

PUBLIC = "public"
SIGNED_IN = "signed_in"


def allow(action: str) -> Callable:
    """Declare who may call the decorated view (or MethodView method)."""
    if action not in ROLE_ACTIONS and action not in (PUBLIC, SIGNED_IN):
        raise ValueError(f"allow({action!r}): not a role-level permission, SIGNED_IN or PUBLIC")

    def mark(view: Callable) -> Callable:
        view.access = action
        return view

    return mark


def declared(view_function, method: str) -> str | None:
    """The access a route's view declared for `method`, or None when it declared nothing."""
    view_class = getattr(view_function, "view_class", None)
    if view_class is None:
        return getattr(view_function, "access", None)
    handler = getattr(view_class, method.lower(), None)
    if handler is None and method == "HEAD":
        handler = getattr(view_class, "get", None)
    return getattr(handler, "access", None)
