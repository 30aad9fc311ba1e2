"""Sites, areas and people at the API edge (shape only; the rules are in the services)."""

import marshmallow as ma

from ..models import RiskLevel, Role
from .shapes import Strict, text_field

RISKS = [r.value for r in RiskLevel]
ROLES = [r.value for r in Role]


class PageQuery(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class PageSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "How many match the filters, over all pages."})
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()


# --- sites ---------------------------------------------------------------------------------

class SiteSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    timezone = ma.fields.String(metadata={"description": "IANA time zone, e.g. Europe/London."})
    created_at = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True)


class SiteCreateSchema(Strict):
    name = text_field("name", required=True)
    timezone = ma.fields.String(load_default="UTC", validate=ma.validate.Length(max=64),
                                metadata={"description": "IANA time zone name (default UTC)."})


class SiteChangeSchema(Strict):
    name = text_field("name")
    timezone = ma.fields.String(validate=ma.validate.Length(max=64))
    retired = ma.fields.Boolean(metadata={"description": "true retires the site and its areas; false brings it back."})
    even_with_open_work = ma.fields.Boolean(load_default=False, metadata={
        "description": "Retire even though its areas have open work (else 409 open_work says what is open)."})


class SiteQuerySchema(PageQuery):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    include_retired = ma.fields.Boolean(load_default=False)


class SiteListSchema(PageSchema):
    sites = ma.fields.List(ma.fields.Nested(SiteSchema))


# --- areas ---------------------------------------------------------------------------------

class AreaSchema(ma.Schema):
    id = ma.fields.UUID()
    site_id = ma.fields.UUID()
    site = ma.fields.String(attribute="site.name")
    name = ma.fields.String()
    label = ma.fields.String(metadata={"description": "Site / area"})
    code = ma.fields.String(metadata={"description": "The short code on the area's QR label (6 characters, never changes)"})
    responsible_id = ma.fields.UUID(allow_none=True)
    risk_level = ma.fields.String()
    audit_every_months = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True)


class AreaByCodeSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    site_id = ma.fields.UUID()
    site = ma.fields.String(attribute="site.name")
    name = ma.fields.String()
    label = ma.fields.String(metadata={"description": "Site / area"})
    retired = ma.fields.Function(lambda area: area.retired_at is not None,
                                 metadata={"description": "Retired: kept in history, offered for no new work"})


class AreaCreateSchema(Strict):
    site_id = ma.fields.UUID(required=True)
    name = text_field("name", required=True)
    responsible_id = ma.fields.UUID(load_default=None, allow_none=True)
    risk_level = ma.fields.String(load_default=RiskLevel.MEDIUM.value, metadata={"enum": RISKS})
    audit_every_months = ma.fields.Integer(load_default=12, metadata={"description": "1 to 60."})


class AreaChangeSchema(Strict):
    site_id = ma.fields.UUID(metadata={"description": "Move the area to another site."})
    name = text_field("name")
    responsible_id = ma.fields.UUID(allow_none=True)
    risk_level = ma.fields.String(metadata={"enum": RISKS})
    audit_every_months = ma.fields.Integer()
    retired = ma.fields.Boolean(metadata={"description": "true retires it (kept in history, offered for no new work)."})
    even_with_open_work = ma.fields.Boolean(load_default=False, metadata={
        "description": "Retire even with open work (else 409 open_work says what is open)."})


class AreaQuerySchema(PageQuery):
    site_id = ma.fields.UUID(load_default=None)
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    risk_level = ma.fields.String(load_default=None, validate=ma.validate.OneOf(RISKS))
    include_retired = ma.fields.Boolean(load_default=False)


class AreaListSchema(PageSchema):
    areas = ma.fields.List(ma.fields.Nested(AreaSchema))


# --- people --------------------------------------------------------------------------------

class PersonSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    home_area_id = ma.fields.UUID(allow_none=True)
    site_ids = ma.fields.Function(lambda user: [str(site.id) for site in user.sites])
    active = ma.fields.Boolean()
    has_password = ma.fields.Boolean(metadata={"description": "false until they accept their invitation."})
    created_at = ma.fields.DateTime()


class PersonCreateSchema(Strict):
    email = ma.fields.String(required=True, validate=ma.validate.Length(max=254))
    name = text_field("name", required=True)
    role = ma.fields.String(required=True, metadata={"enum": ROLES})
    home_area_id = ma.fields.UUID(load_default=None, allow_none=True)
    site_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=1000))
    send_invitation = ma.fields.Boolean(load_default=True, metadata={
        "description": "Email a single-use link to set a password (default true)."})


class PersonChangeSchema(Strict):
    name = text_field("name")
    role = ma.fields.String(metadata={"enum": ROLES})
    home_area_id = ma.fields.UUID(allow_none=True)
    site_ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(max=1000))
    active = ma.fields.Boolean(metadata={"description": "false deactivates: their sessions and tokens end at once."})


class PersonQuerySchema(PageQuery):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                         metadata={"description": "Part of the name or email."})
    role = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ROLES))
    site_id = ma.fields.UUID(load_default=None)
    area_id = ma.fields.UUID(load_default=None, metadata={"description": "Home area."})
    active = ma.fields.Boolean(load_default=None, allow_none=True)


class PersonListSchema(PageSchema):
    users = ma.fields.List(ma.fields.Nested(PersonSchema))


class InvitationSchema(ma.Schema):
    purpose = ma.fields.String(metadata={"enum": ["invitation", "reset"]})
    sent = ma.fields.Boolean()
    expires_at = ma.fields.DateTime()
    problem = ma.fields.String(allow_none=True, metadata={"description": "Why the email did not go, when it did not."})


class PersonCreatedSchema(PersonSchema):
    invitation = ma.fields.Nested(InvitationSchema, allow_none=True)
