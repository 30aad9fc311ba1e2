"""Sites, areas and people over JSON, for integrations (an HR system pushing people). Admins only,
but for looking an area up by the short code on its QR label (anyone signed in).

Each create answers 201 with the record and its `id`; every change is in the trail.
"""

from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..errors import Invalid
from ..extensions import db
from ..models import Area, Site, User
from ..schemas.organisation import (
    AreaByCodeSchema,
    AreaChangeSchema,
    AreaCreateSchema,
    AreaListSchema,
    AreaQuerySchema,
    AreaSchema,
    InvitationSchema,
    PersonChangeSchema,
    PersonCreatedSchema,
    PersonCreateSchema,
    PersonListSchema,
    PersonQuerySchema,
    PersonSchema,
    SiteChangeSchema,
    SiteCreateSchema,
    SiteListSchema,
    SiteQuerySchema,
    SiteSchema,
)
from ..services import invitations, organisation, people
from .documenting import documenting

blp = Blueprint("organisation", __name__, url_prefix="/api", description="Sites, areas and people (admins)")

COMMON = ((401, "Not signed in"), (403, "Not an admin"), (404, "No such record"),
          (422, "A field is not valid (the reason is in `fields`)"))

documented = documenting(blp, COMMON)


def _paged(key: str, query, args) -> dict:
    page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
    return {key: page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


def _record(model, record_id, field: str, message: str):
    """The record a body names by id; an unknown id is the field's problem (422), not a 404."""
    if record_id is None:
        return None
    record = db.session.get(model, record_id)
    if record is None:
        raise Invalid(message, {field: ["There is no such record."]})
    return record


def _sites(ids, message: str) -> list[Site]:
    sites = [db.session.get(Site, site_id) for site_id in dict.fromkeys(ids)]
    if any(site is None for site in sites):
        raise Invalid(message, {"site_ids": ["There is no such site."]})
    return sites


def _changes(data: dict, *names) -> dict:
    return {name: data[name] for name in names if name in data}


# --- sites ---------------------------------------------------------------------------------

@blp.route("/sites")
@allow("admin.organisation")
@blp.arguments(SiteQuerySchema, location="query")
@blp.response(200, SiteListSchema)
@documented
def list_sites(args):
    """Sites by name; retired ones only with include_retired."""
    return _paged("sites", organisation.site_query(args["q"], args["include_retired"]), args)


@blp.route("/sites", methods=["POST"])
@allow("admin.organisation")
@blp.arguments(SiteCreateSchema)
@blp.response(201, SiteSchema)
@documented
def create_site(data):
    """Add a site with the time zone its days are counted in."""
    site = organisation.create_site(current_user, data["name"], data["timezone"])
    db.session.commit()
    return site


@blp.route("/sites/<uuid:site_id>")
@allow("admin.organisation")
@blp.response(200, SiteSchema)
@documented
def get_site(site_id):
    return organisation.get_site(site_id)


@blp.route("/sites/<uuid:site_id>", methods=["PATCH"])
@allow("admin.organisation")
@blp.arguments(SiteChangeSchema)
@blp.response(200, SiteSchema)
@blp.alt_response(409, description="Retiring a site whose areas have open work (code open_work says what)")
@documented
def change_site(data, site_id):
    """Rename a site, change its time zone, retire it (with its areas) or bring it back."""
    site = organisation.update_site(current_user, organisation.get_site(site_id),
                                    **_changes(data, "name", "timezone", "retired", "even_with_open_work"))
    db.session.commit()
    return site


# --- areas ---------------------------------------------------------------------------------

@blp.route("/areas")
@allow("admin.organisation")
@blp.arguments(AreaQuerySchema, location="query")
@blp.response(200, AreaListSchema)
@documented
def list_areas(args):
    """Areas by site and name, narrowed by site, risk or part of the name."""
    query = organisation.area_query(args["site_id"], args["q"], args["include_retired"], args["risk_level"])
    return _paged("areas", query, args)


@blp.route("/areas/code/<code>")
@allow(SIGNED_IN)
@blp.response(200, AreaByCodeSchema)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(404, description="No area has this code")
@blp.alt_response(422, description="Not an area code (code bad_area_code)")
def area_by_code(code):
    """The area whose QR label carries `code` (any case; spaces and dashes ignored).

    Every signed-in person's device holds the areas already (bootstrap); this answers the
    same for integrations and for a label scanned by another program. Retired areas are
    found, marked `retired`.
    """
    return organisation.find_area_by_code(code)


@blp.route("/areas", methods=["POST"])
@allow("admin.organisation")
@blp.arguments(AreaCreateSchema)
@blp.response(201, AreaSchema)
@documented
def create_area(data):
    """Add an area to a site, with who answers for it, its risk and how often it is audited."""
    message = "The area is not valid."
    site = _record(Site, data["site_id"], "site_id", message)
    responsible = _record(User, data["responsible_id"], "responsible_id", message)
    area = organisation.create_area(current_user, site, data["name"], responsible=responsible,
                                    risk_level=data["risk_level"], audit_every_months=data["audit_every_months"])
    db.session.commit()
    return area


@blp.route("/areas/<uuid:area_id>")
@allow("admin.organisation")
@blp.response(200, AreaSchema)
@documented
def get_area(area_id):
    return organisation.get_area(area_id)


@blp.route("/areas/<uuid:area_id>", methods=["PATCH"])
@allow("admin.organisation")
@blp.arguments(AreaChangeSchema)
@blp.response(200, AreaSchema)
@blp.alt_response(409, description="Retiring an area with open work (code open_work says what is open)")
@documented
def change_area(data, area_id):
    """Rename, move, change who answers for it, its risk or frequency; retire it or bring it back."""
    area = organisation.get_area(area_id)
    changes = _changes(data, "name", "risk_level", "audit_every_months", "retired", "even_with_open_work")
    message = f"The area {area.label} is not valid."
    if "site_id" in data:
        changes["site"] = _record(Site, data["site_id"], "site_id", message)
    if "responsible_id" in data:
        changes["responsible"] = _record(User, data["responsible_id"], "responsible_id", message)
    organisation.update_area(current_user, area, **changes)
    db.session.commit()
    return area


# --- people --------------------------------------------------------------------------------

def _invitation(delivery) -> dict:
    return {"purpose": delivery.link.purpose, "sent": delivery.sent, "expires_at": delivery.link.row.expires_at,
            "problem": delivery.problem}


@blp.route("/users")
@allow("admin.users")
@blp.arguments(PersonQuerySchema, location="query")
@blp.response(200, PersonListSchema)
@documented
def list_users(args):
    """People by name, narrowed by part of the name or email, role, site, home area, active."""
    query = people.user_query(args["q"], args["role"], args["site_id"], args["area_id"], args["active"])
    return _paged("users", query, args)


@blp.route("/users", methods=["POST"])
@allow("admin.users")
@blp.arguments(PersonCreateSchema)
@blp.response(201, PersonCreatedSchema)
@documented
def create_user(data):
    """Add a person and email them an invitation: a single-use link to set their password.

    `invitation.sent` false (with `problem`) when the email could not go; the person is
    added either way and `POST /api/users/<id>/invitation` sends it again.
    """
    message = "The person could not be added."
    home = _record(Area, data["home_area_id"], "home_area_id", message)
    user = people.add_person(current_user, data["email"], data["name"], data["role"], home,
                             _sites(data["site_ids"], message))
    link = invitations.issue(current_user, user) if data["send_invitation"] else None
    db.session.commit()
    delivered = invitations.deliver([link], inviter=current_user) if link else []
    user.invitation = _invitation(delivered[0]) if delivered else None
    return user


@blp.route("/users/<uuid:user_id>")
@allow("admin.users")
@blp.response(200, PersonSchema)
@documented
def get_user(user_id):
    return people.get_user(user_id)


@blp.route("/users/<uuid:user_id>", methods=["PATCH"])
@allow("admin.users")
@blp.arguments(PersonChangeSchema)
@blp.response(200, PersonSchema)
@documented
def change_user(data, user_id):
    """Change a person's name, role, home area or sites; `active: false` deactivates them
    (their sessions and tokens end at once; their records stay theirs)."""
    user = people.get_user(user_id)
    message = f"{user.name} could not be changed."
    changes = _changes(data, "name", "role", "active")
    if "home_area_id" in data:
        changes["home_area"] = _record(Area, data["home_area_id"], "home_area_id", message)
    if "site_ids" in data:
        changes["sites"] = _sites(data["site_ids"], message)
    people.update_person(current_user, user, **changes)
    db.session.commit()
    return user


@blp.route("/users/<uuid:user_id>/invitation", methods=["POST"])
@allow("admin.users")
@blp.response(200, InvitationSchema)
@documented
def send_link(user_id):
    """Email a new single-use link: an invitation to someone without a password yet, else a
    password reset. Older unused links of theirs stop working."""
    link = invitations.issue(current_user, people.get_user(user_id))
    db.session.commit()
    return _invitation(invitations.deliver([link], inviter=current_user)[0])
