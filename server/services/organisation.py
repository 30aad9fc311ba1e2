"""The organisation: sites (each with its time zone) and the areas within them."""

from zoneinfo import available_timezones

from sqlalchemy import Select, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Area, RiskLevel, Site, User, utcnow
from ..permissions import require
from . import trail


def areas_in_order(include_retired: bool = False) -> Select:
    """Areas by site name, then area name: how every list and form offers them."""
    query = select(Area).join(Area.site).order_by(Site.name, Area.name)
    if not include_retired:
        query = query.where(Area.retired_at.is_(None))
    return query


def sites_in_order(include_retired: bool = False) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if not include_retired:
        query = query.where(Site.retired_at.is_(None))
    return list(db.session.scalars(query))


def find_site(name: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.name == (name or "").strip()))


def find_area(label: str) -> Area:
    """Find an area by its name, or by "site / name" when names repeat across sites.

    :raise NotFound: no such area. :raise Invalid: the name is on several sites.
    """
    if "/" in label:
        site, name = (part.strip() for part in label.split("/", 1))
        area = db.session.scalar(select(Area).join(Area.site).where(Site.name == site, Area.name == name))
    else:
        areas = db.session.scalars(select(Area).where(Area.name == label.strip())).all()
        if len(areas) > 1:
            raise Invalid(f"Several areas are called {label!r}; use 'site / name'.")
        area = areas[0] if areas else None
    if area is None:
        raise NotFound(f"No area {label!r}.")
    return area


def _check_timezone(errors: FieldErrors, value) -> str:
    zone = errors.text("timezone", value, "name", required=True, label="A time zone")
    if zone and zone not in available_timezones():
        errors.add("timezone", f"{zone!r} is not a time zone; use a name like Europe/London.")
    return zone


def create_site(actor: User | None, name: str, timezone: str = "UTC") -> Site:
    """Add a site. :raise Invalid: a missing or taken name, or an unknown time zone."""
    if actor is not None:
        require(actor, "admin.organisation")
    errors = FieldErrors()
    name = errors.text("name", name, "name", required=True, label="A name for the site")
    zone = _check_timezone(errors, timezone)
    if name and find_site(name) is not None:
        errors.add("name", f"There is already a site called {name!r}.")
    errors.raise_if_any("The site is not valid.")
    site = Site(name=name, timezone=zone)
    db.session.add(site)
    db.session.flush()
    trail.record(actor, "site.created", "site", site.id, {"name": name, "timezone": zone})
    return site


def create_area(actor: User | None, site: Site, name: str, *, responsible: User | None = None,
                risk_level: str = RiskLevel.MEDIUM, audit_every_months: int = 12) -> Area:
    """Add an area to `site`. :raise Invalid: a missing or taken name, a bad risk or frequency."""
    if actor is not None:
        require(actor, "admin.organisation")
    errors = FieldErrors()
    name = errors.text("name", name, "name", required=True, label="A name for the area")
    errors.one_of("risk_level", risk_level, RiskLevel)
    if not isinstance(audit_every_months, int) or not 1 <= audit_every_months <= 60:
        errors.add("audit_every_months", "Audit every 1 to 60 months.")
    if site.retired_at is not None:
        errors.add("site_id", f"{site.name} is retired; it takes no new areas.")
    if name and db.session.scalar(select(Area.id).where(Area.site_id == site.id, Area.name == name)):
        errors.add("name", f"{site.name} already has an area called {name!r}.")
    errors.raise_if_any("The area is not valid.")
    area = Area(site_id=site.id, name=name, responsible_id=responsible.id if responsible else None,
                risk_level=risk_level, audit_every_months=audit_every_months, created_at=utcnow())
    area.site = site
    db.session.add(area)
    db.session.flush()
    trail.record(actor, "area.created", "area", area.id,
                 {"site": site.name, "name": name, "risk_level": risk_level, "audit_every_months": audit_every_months})
    return area
