"""People as an admin manages them: add (with an invitation), change role, home area and
sites, deactivate and reactivate, and the filtered list of everyone.

Passwords, signing in and what deactivation ends live in `accounts`; the links that let
a person set a password in `invitations`.
"""

import uuid

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import Invalid, NotFound
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Area, Role, Site, User
from ..models.accounts import user_site
from ..permissions import require
from . import accounts, trail
from .organisation import UNSET


def get_user(user_id) -> User:
    """:raise NotFound: no such person."""
    user = db.session.get(User, user_id) if isinstance(user_id, uuid.UUID) else None
    if user is None:
        raise NotFound("There is no such person.")
    return user


def user_query(text: str | None = None, role: str | None = None, site_id: uuid.UUID | None = None,
               area_id: uuid.UUID | None = None, active: bool | None = None) -> Select:
    """Everyone, by name, narrowed by any of: name or email containing `text`, role, a site
    they work at, their home area, active or not."""
    query = select(User).options(selectinload(User.sites), selectinload(User.home_area)).order_by(User.name, User.email)
    if text:
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if role:
        query = query.where(User.role == role)
    if site_id:
        query = query.where(exists().where(user_site.c.user_id == User.id, user_site.c.site_id == site_id))
    if area_id:
        query = query.where(User.home_area_id == area_id)
    if active is not None:
        query = query.where(User.active.is_(active))
    return query


def _check_home_area(errors: FieldErrors, area: Area | None, current_id=None) -> None:
    if area is not None and area.retired_at is not None and area.id != current_id:
        errors.add("home_area_id", f"{area.label} is retired.")


def _check_sites(errors: FieldErrors, sites: list[Site], current=()) -> None:
    current_ids = {site.id for site in current}
    for site in sites:
        if site.retired_at is not None and site.id not in current_ids:
            errors.add("site_ids", f"{site.name} is retired.")


def _active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True)))


def add_person(actor: User | None, email: str, name: str, role: str, home_area: Area | None = None,
               sites: list[Site] = ()) -> User:
    """Add a person without a password: an invitation (see `invitations.issue`) lets them set one.

    :raise Invalid: a bad or taken email, an unknown role, a retired area or site.
    """
    if actor is not None:
        require(actor, "admin.users")
    errors = FieldErrors()
    name = errors.text("name", name, "name", required=True, label="A name")
    _check_home_area(errors, home_area)
    _check_sites(errors, list(sites))
    user = None
    try:
        if not errors:
            user = accounts.create_user(email, role, None, name=name, home_area=home_area, actor=actor)
    except Invalid as exc:
        for field, messages in (exc.fields or {}).items():
            for message in messages:
                errors.add(field, message)
    errors.raise_if_any("The person could not be added.")
    if sites:
        user.sites = list(sites)
        db.session.flush()
        trail.record(actor, "user.changed", "user", user.id, {"sites": [[], sorted(s.name for s in sites)]})
    return user


def update_person(actor: User | None, user: User, *, name=UNSET, role=UNSET, home_area=UNSET, sites=UNSET,
                  active=UNSET) -> User:
    """Change a person's name, role, home area or sites; deactivate or reactivate them.

    Deactivating ends their sessions and tokens at once (`accounts.set_active`); their
    records stay theirs. The last active admin can be neither demoted nor deactivated.
    :raise Invalid: a field's value, or a change that would leave no admin.
    """
    if actor is not None:
        require(actor, "admin.users")
    errors = FieldErrors()
    changes = {}
    if name is not UNSET:
        name = errors.text("name", name, "name", required=True, label="A name")
        if name and name != user.name:
            changes["name"] = [user.name, name]
    if role is not UNSET and role != user.role:
        if errors.one_of("role", role, Role):
            if user.role == Role.ADMIN and user.active and _active_admins() <= 1:
                errors.add("role", "This is the last admin; make someone else an admin first.")
            elif actor is not None and actor.id == user.id:
                errors.add("role", "You cannot change your own role; ask another admin.")
            else:
                changes["role"] = [user.role, role]
    if home_area is not UNSET and (home_area.id if home_area else None) != user.home_area_id:
        _check_home_area(errors, home_area, user.home_area_id)
        changes["home_area"] = [user.home_area.label if user.home_area else None,
                                home_area.label if home_area else None]
    if sites is not UNSET:
        sites = list(sites)
        _check_sites(errors, sites, user.sites)
        if {s.id for s in sites} != {s.id for s in user.sites}:
            changes["sites"] = [sorted(s.name for s in user.sites), sorted(s.name for s in sites)]
    if active is not UNSET and not active and user.active and user.role == Role.ADMIN and _active_admins() <= 1:
        errors.add("active", "This is the last admin; make someone else an admin first.")
    errors.raise_if_any(f"{user.name} could not be changed.")
    if "name" in changes:
        user.name = name
    if "role" in changes:
        user.role = role
    if "home_area" in changes:
        user.home_area_id = home_area.id if home_area else None
        user.home_area = home_area
    if "sites" in changes:
        user.sites = sites
    if changes:
        db.session.flush()
        trail.record(actor, "user.changed", "user", user.id, changes)
    if active is not UNSET:
        accounts.set_active(actor, user, bool(active))
    return user
