"""A believable demo organisation. Building it twice adds nothing the second time."""

from sqlalchemy import select

from ..extensions import db
from ..models import Area, Role, User
from . import accounts

DEMO_PASSWORD = "gemba-demo-2026"

SITES = {
    "Leeds works": ["Goods in", "Machining", "Assembly", "Paint shop", "Dispatch"],
    "Hull depot": ["Warehouse", "Workshop", "Office"],
}

# email, name, role, home area ("site / area") or None
PEOPLE = [
    ("admin@gemba.example", "Alex Admin", Role.ADMIN, None),
    ("quality@gemba.example", "Quinn Patel", Role.SUPERVISOR, "Leeds works / Assembly"),
    ("hse@gemba.example", "Harriet Osei", Role.SUPERVISOR, "Hull depot / Office"),
    ("auditor@gemba.example", "Ada Lindqvist", Role.AUDITOR, "Leeds works / Machining"),
    ("auditor2@gemba.example", "Ben Okafor", Role.AUDITOR, "Hull depot / Warehouse"),
    ("auditor3@gemba.example", "Chen Wei", Role.AUDITOR, "Leeds works / Dispatch"),
    ("staff@gemba.example", "Sam Fletcher", Role.STAFF, "Leeds works / Assembly"),
    ("staff2@gemba.example", "Dana Kowalski", Role.STAFF, "Leeds works / Paint shop"),
    ("staff3@gemba.example", "Eli Hughes", Role.STAFF, "Hull depot / Workshop"),
]


def _areas() -> dict[str, Area]:
    areas = {}
    for site, names in SITES.items():
        for name in names:
            area = db.session.scalar(select(Area).where(Area.site == site, Area.name == name))
            if area is None:
                area = Area(site=site, name=name)
                db.session.add(area)
            areas[f"{site} / {name}"] = area
    db.session.flush()
    return areas


def _people(areas: dict[str, Area]) -> dict[str, User]:
    people = {}
    for email, name, role, home in PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(email, role, DEMO_PASSWORD, name=name, home_area=areas.get(home))
        people[email] = user
    return people


def build() -> list[tuple[str, str, str]]:
    """Create what is missing of the demo organisation; return its logins."""
    areas = _areas()
    people = _people(areas)
    # Supervisors are responsible for the areas they sit in.
    for email in ("quality@gemba.example", "hse@gemba.example"):
        user = people[email]
        if user.home_area is not None and user.home_area.responsible_id is None:
            user.home_area.responsible_id = user.id
    db.session.flush()
    return [(email, role.value, DEMO_PASSWORD) for email, _, role, _ in PEOPLE]
