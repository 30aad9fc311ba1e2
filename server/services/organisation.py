"""The organisation: sites (each with its time zone) and the areas within them."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Select, and_, func, or_, select

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..ids import area_code_or_none, new_area_code
from ..models import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Finding,
    RiskLevel,
    Site,
    Template,
    TemplateStatus,
    User,
    utcnow,
)
from ..permissions import require, scope_areas
from . import trail

# Work in an area that retiring it would strand.
OPEN_AUDITS = (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.RETURNED, AuditStatus.SUBMITTED)
UNSET = object()  # a field a change leaves as it is


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


def zone_of(place=None) -> ZoneInfo:
    """The time zone of a site, an area (its site's) or a zone name; UTC for none or an unknown one."""
    name = getattr(place, "timezone", None) or getattr(getattr(place, "site", None), "timezone", None) or \
        (place if isinstance(place, str) else None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def set_own_timezone(user: User, zone: str | None) -> User:
    """Show `user` every time in `zone` (an IANA name), or, with None or "", in each site's own.

    :raise Invalid: an unknown zone.
    """
    zone = (zone or "").strip() or None
    if zone is not None:
        errors = FieldErrors()
        _check_timezone(errors, zone)
        errors.raise_if_any("The time zone was not changed.")
    if zone != user.timezone:
        trail.record(user, "user.changed", "user", user.id, {"timezone": [user.timezone, zone]})
        user.timezone = zone
    return user


def local_today(place=None, now: datetime | None = None) -> date:
    """Today's date where `place` is: "due" and "planned" dates are the site's local days."""
    return (now or utcnow()).astimezone(zone_of(place)).date()


def before_local_today(day, in_sites, now: datetime | None = None, today: date | None = None):
    """A SQL condition: `day` is before the local today of the record's site.

    "Due" and "planned" dates are the site's local days: an action due on the 5th in Tokyo
    is overdue from Tokyo's midnight, hours before London's. `in_sites(site_ids)` builds
    the condition that the record is on one of those sites. Sites sharing a local date
    are grouped, so the condition has one branch per distinct date (two or three at most).
    `today` given: that day everywhere (tests, back-dated runs).

    Every record is on some site (an area's site is required, and so is the area of an
    audit or a finding), so the earliest local date needs no site test: a day before it
    is before every site's today. Only the sites already on a later date add a branch;
    with one date everywhere (the usual case) the condition is a plain range on `day`,
    which an index answers without joining the records to their sites.
    """
    if today is not None:
        return day < today
    by_day: dict[date, list] = {}
    for site_id, zone in db.session.execute(select(Site.id, Site.timezone)).all():
        by_day.setdefault(local_today(zone, now), []).append(site_id)
    if not by_day:
        return day < (now or utcnow()).date()
    earliest = min(by_day)
    return or_(day < earliest, *(and_(day < local, in_sites(ids)) for local, ids in by_day.items() if local != earliest))


def in_sites_by_area(area_id):
    """For `before_local_today`: the record's `area_id` column is an area on these sites."""
    return lambda site_ids: area_id.in_(select(Area.id).where(Area.site_id.in_(site_ids)))


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
    if responsible is not None and not responsible.active:
        errors.add("responsible_id", f"{responsible.name} is deactivated.")
    if name and db.session.scalar(select(Area.id).where(Area.site_id == site.id, Area.name == name)):
        errors.add("name", f"{site.name} already has an area called {name!r}.")
    errors.raise_if_any("The area is not valid.")
    area = Area(site_id=site.id, name=name, code=fresh_area_code(), responsible_id=responsible.id if responsible else None,
                risk_level=risk_level, audit_every_months=audit_every_months, created_at=utcnow())
    area.site = site
    db.session.add(area)
    db.session.flush()
    trail.record(actor, "area.created", "area", area.id,
                 {"site": site.name, "name": name, "code": area.code, "risk_level": risk_level,
                  "audit_every_months": audit_every_months})
    return area


# --- short codes and QR labels ------------------------------------------------------------

CODE_TRIES = 20  # a clash is one in millions; twenty in a row means something is broken


def fresh_area_code(make=new_area_code) -> str:
    """A short code no area has yet. :raise RuntimeError: `make` keeps giving taken codes."""
    for _ in range(CODE_TRIES):
        code = make()
        if db.session.scalar(select(Area.id).where(Area.code == code)) is None:
            return code
    raise RuntimeError("No free area code after many tries; is the code generator broken?")


def find_area_by_code(text) -> Area:
    """The area whose short code `text` is, typed as a person may (any case, spaces, dashes).

    Retired areas are found too (a label may outlive its area); callers offer them for no new work.
    :raise Invalid: `text` cannot be a short code. :raise NotFound: no area has it.
    """
    code = area_code_or_none(text)
    if code is None:
        raise Invalid("An area code is 6 letters and digits, like K7QM2X.", {"code": ["Not an area code."]},
                      code="bad_area_code")
    area = db.session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise NotFound(f"No area has the code {code}.")
    return area


def areas_for_labels(user: User, site_id: uuid.UUID | None = None) -> list[Area]:
    """The areas in use whose QR labels `user` may print (the sites they review), optionally of one site."""
    require(user, "area.labels")
    query = areas_in_order().where(scope_areas(user, Area.id))
    if site_id is not None:
        query = query.where(Area.site_id == site_id)
    return list(db.session.scalars(query))


# --- loading and listing ------------------------------------------------------------------

def get_site(site_id) -> Site:
    """:raise NotFound: no such site."""
    site = db.session.get(Site, site_id) if isinstance(site_id, uuid.UUID) else None
    if site is None:
        raise NotFound("There is no such site.")
    return site


def get_area(area_id) -> Area:
    """:raise NotFound: no such area."""
    area = db.session.get(Area, area_id) if isinstance(area_id, uuid.UUID) else None
    if area is None:
        raise NotFound("There is no such area.")
    return area


def site_query(text: str | None = None, include_retired: bool = False) -> Select:
    query = select(Site).order_by(Site.name)
    if not include_retired:
        query = query.where(Site.retired_at.is_(None))
    if text:
        query = query.where(Site.name.ilike(f"%{text}%"))
    return query


def area_query(site_id: uuid.UUID | None = None, text: str | None = None, include_retired: bool = False,
               risk_level: str | None = None) -> Select:
    query = areas_in_order(include_retired)
    if site_id:
        query = query.where(Area.site_id == site_id)
    if text:
        query = query.where(or_(Area.name.ilike(f"%{text}%"), Site.name.ilike(f"%{text}%")))
    if risk_level:
        query = query.where(Area.risk_level == risk_level)
    return query


def live_area_counts() -> dict[uuid.UUID, int]:
    """How many areas in use each site has."""
    return dict(db.session.execute(select(Area.site_id, func.count()).where(Area.retired_at.is_(None))
                                   .group_by(Area.site_id)).all())


@dataclass
class SetupStep:
    key: str
    title: str
    done: bool
    detail: str


def setup_steps() -> list[SetupStep]:
    """What an organisation has of what it needs before its first audit, in the order to add it."""
    counts = {
        "sites": select(func.count()).select_from(Site).where(Site.retired_at.is_(None)),
        "areas": select(func.count()).select_from(Area).where(Area.retired_at.is_(None)),
        "people": select(func.count()).select_from(User).where(User.role != "admin"),
        "checklists": select(func.count()).select_from(Template).where(Template.status == TemplateStatus.PUBLISHED),
        "programme": select(func.count()).select_from(Audit),
    }
    n = {key: db.session.scalar(query) for key, query in counts.items()}
    return [
        SetupStep("sites", "Sites", n["sites"] > 0, f"{n['sites']} site(s): the places you work, each with its time zone."),
        SetupStep("areas", "Areas", n["areas"] > 0, f"{n['areas']} area(s): what gets audited, with risk and frequency."),
        SetupStep("people", "People", n["people"] > 0, f"{n['people']} person(s) besides admins: auditors, supervisors, staff."),
        SetupStep("checklists", "A checklist", n["checklists"] > 0, f"{n['checklists']} published checklist(s)."),
        SetupStep("programme", "A first programme", n["programme"] > 0, f"{n['programme']} audit(s) planned."),
    ]


# --- open work ----------------------------------------------------------------------------

@dataclass
class OpenWork:
    audits: int = 0
    findings: int = 0
    actions: int = 0

    def __bool__(self) -> bool:
        return bool(self.audits or self.findings or self.actions)

    def describe(self) -> str:
        parts = [f"{count} {noun}{'' if count == 1 else 's'}" for count, noun in (
            (self.audits, "audit not yet approved"), (self.findings, "open finding"),
            (self.actions, "open corrective action")) if count]
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return {"audits": self.audits, "findings": self.findings, "actions": self.actions}


def open_work(area_ids) -> OpenWork:
    """What is still open in these areas: audits not yet approved, open findings and actions."""
    area_ids = list(area_ids)
    if not area_ids:
        return OpenWork()
    audits = db.session.scalar(select(func.count()).select_from(Audit).where(
        Audit.area_id.in_(area_ids), Audit.status.in_(OPEN_AUDITS)))
    findings = db.session.scalar(select(func.count()).select_from(Finding).where(
        Finding.area_id.in_(area_ids), Finding.status.in_(OPEN_FINDING_STATUSES)))
    actions = db.session.scalar(select(func.count()).select_from(CorrectiveAction).join(
        Finding, Finding.id == CorrectiveAction.finding_id).where(
        Finding.area_id.in_(area_ids), CorrectiveAction.status == ActionStatus.OPEN))
    return OpenWork(audits, findings, actions)


def _refuse_open_work(what: str, work: OpenWork) -> None:
    raise StateError(f"{what} still has open work: {work.describe()}. Finish or move it first, "
                     "or retire anyway (the open work stays, in a retired area).",
                     {"open_work": [work.describe()], **{k: [str(v)] for k, v in work.as_dict().items() if v}},
                     code="open_work")


# --- changing sites and areas -------------------------------------------------------------

def update_site(actor: User | None, site: Site, *, name=UNSET, timezone=UNSET, retired=UNSET,
                even_with_open_work: bool = False) -> Site:
    """Rename a site, change its time zone, retire it (with its areas) or bring it back.

    :raise Invalid: a missing or taken name, an unknown zone.
    :raise StateError: (code open_work) retiring while its areas have open work, unless
        `even_with_open_work`; the message says what is open.
    """
    if actor is not None:
        require(actor, "admin.organisation")
    errors = FieldErrors()
    changes = {}
    if name is not UNSET:
        name = errors.text("name", name, "name", required=True, label="A name for the site")
        if name and name != site.name:
            other = find_site(name)
            if other is not None and other.id != site.id:
                errors.add("name", f"There is already a site called {name!r}.")
            changes["name"] = [site.name, name]
    if timezone is not UNSET:
        zone = _check_timezone(errors, timezone)
        if zone and zone != site.timezone:
            changes["timezone"] = [site.timezone, zone]
    errors.raise_if_any("The site is not valid.")
    now = utcnow()
    if retired is not UNSET and bool(retired) != (site.retired_at is not None):
        live_areas = list(db.session.scalars(select(Area).where(Area.site_id == site.id, Area.retired_at.is_(None))))
        if retired:
            work = open_work(area.id for area in live_areas)
            if work and not even_with_open_work:
                _refuse_open_work(site.name, work)
            site.retired_at = now
            for area in live_areas:
                area.retired_at = now
                trail.record(actor, "area.retired", "area", area.id, {"with_site": site.name})
        else:
            site.retired_at = None
        changes["retired"] = [not retired, bool(retired)]
    if "name" in changes:
        site.name = changes["name"][1]
    if "timezone" in changes:
        site.timezone = changes["timezone"][1]
    if changes:
        db.session.flush()
        trail.record(actor, "site.changed", "site", site.id, changes)
    return site


def update_area(actor: User | None, area: Area, *, name=UNSET, site=UNSET, responsible=UNSET, risk_level=UNSET,
                audit_every_months=UNSET, retired=UNSET, even_with_open_work: bool = False) -> Area:
    """Rename an area, move it to another site, change who answers for it, its risk and
    audit frequency; retire it (kept in history, offered for no new work) or bring it back.

    :raise Invalid: a field's value. :raise StateError: (code open_work) retiring an area
        with open work unless `even_with_open_work`; the message says what is open.
    """
    if actor is not None:
        require(actor, "admin.organisation")
    errors = FieldErrors()
    changes = {}
    target_site = area.site if site is UNSET else site
    if site is not UNSET and site.id != area.site_id:
        if site.retired_at is not None:
            errors.add("site_id", f"{site.name} is retired; it takes no new areas.")
        changes["site"] = [area.site.name, site.name]
    new_name = area.name
    if name is not UNSET:
        new_name = errors.text("name", name, "name", required=True, label="A name for the area")
        if new_name and new_name != area.name:
            changes["name"] = [area.name, new_name]
    if ("name" in changes or "site" in changes) and new_name and db.session.scalar(select(Area.id).where(
            Area.site_id == target_site.id, Area.name == new_name, Area.id != area.id)):
        errors.add("name", f"{target_site.name} already has an area called {new_name!r}.")
    if responsible is not UNSET:
        if responsible is not None and not responsible.active:
            errors.add("responsible_id", f"{responsible.name} is deactivated.")
        new_id = responsible.id if responsible else None
        if new_id != area.responsible_id:
            changes["responsible"] = [str(area.responsible_id) if area.responsible_id else None,
                                      str(new_id) if new_id else None]
    if risk_level is not UNSET:
        if errors.one_of("risk_level", risk_level, RiskLevel) and risk_level != area.risk_level:
            changes["risk_level"] = [area.risk_level, risk_level]
    if audit_every_months is not UNSET:
        if not isinstance(audit_every_months, int) or isinstance(audit_every_months, bool) \
                or not 1 <= audit_every_months <= 60:
            errors.add("audit_every_months", "Audit every 1 to 60 months.")
        elif audit_every_months != area.audit_every_months:
            changes["audit_every_months"] = [area.audit_every_months, audit_every_months]
    if retired is not UNSET and not retired and area.retired_at is not None and target_site.retired_at is not None:
        errors.add("retired", f"{target_site.name} is retired; bring the site back first.")
    errors.raise_if_any(f"The area {area.label} is not valid.")
    if retired is not UNSET and bool(retired) != (area.retired_at is not None):
        if retired:
            work = open_work([area.id])
            if work and not even_with_open_work:
                _refuse_open_work(area.label, work)
        area.retired_at = utcnow() if retired else None
        changes["retired"] = [not retired, bool(retired)]
    if "site" in changes:
        area.site_id = target_site.id
        area.site = target_site
    if "name" in changes:
        area.name = new_name
    if "responsible" in changes:
        area.responsible_id = responsible.id if responsible else None
    if "risk_level" in changes:
        area.risk_level = risk_level
    if "audit_every_months" in changes:
        area.audit_every_months = audit_every_months
    if changes:
        db.session.flush()
        trail.record(actor, "area.changed", "area", area.id, changes)
    return area
