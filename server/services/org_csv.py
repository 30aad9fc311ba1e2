"""Bulk set-up from CSV: areas (with their sites) and people; a dry run, an all-or-nothing apply, exports.

The same file shape goes both ways: an export can be edited and imported again. A dry run
checks every line against the database as it stands (one read of sites, areas and people,
then lookups in memory, so thousands of lines take well under a second) and lists each
line's problems with its line number. Apply runs the same checks; any problem and nothing
is written. Lines that name an existing area or person change it; others add.
"""

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..fieldrules import LIMITS
from ..models import Area, RiskLevel, Role, Site, User
from ..models.accounts import user_site
from ..permissions import require
from . import accounts, invitations, organisation, people

AREA_COLUMNS = ("site", "timezone", "area", "responsible_email", "risk_level", "audit_every_months")
USER_COLUMNS = ("email", "name", "role", "home_area", "sites")
COLUMNS = {"areas": AREA_COLUMNS, "users": USER_COLUMNS}
# The export adds what an import cannot set: an area's QR label code is given once, never
# changed, so it is there to be read (to print or match labels) and ignored on import.
EXPORT_ONLY = {"areas": ("code",), "users": ()}
EXAMPLES = {
    "areas": ("Leeds", "Europe/London", "Goods in", "", "high", "6"),
    "users": ("pat.picker@example.com", "Pat Picker", "staff", "Leeds / Goods in", "Leeds"),
}
MAX_LINES = 20_000
RISKS = {r.value for r in RiskLevel}
ROLES = {r.value for r in Role}


@lru_cache(maxsize=1)
def _zones() -> frozenset:
    return frozenset(available_timezones())


@dataclass
class Line:
    number: int  # the line in the file, counting the header as line 1
    values: dict
    problems: list[str] = field(default_factory=list)
    change: str = "add"  # add, change or same


@dataclass
class Check:
    kind: str
    lines: list[Line]
    problems: list[tuple[int, str]]  # (line number, what is wrong), in file order

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, change: str) -> int:
        return sum(1 for line in self.lines if line.change == change)

    def summary(self) -> str:
        return (f"{len(self.lines)} line(s): {self.count('add')} to add, {self.count('change')} to change, "
                f"{self.count('same')} unchanged; {len(self.problems)} problem(s).")


def template(kind: str) -> str:
    """A CSV with the header and one example line."""
    return _write(COLUMNS[kind], [EXAMPLES[kind]])


def _write(columns, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def export(actor: User | None, kind: str) -> str:
    """Today's areas (with their sites) or people, in the import's shape."""
    if actor is not None:
        require(actor, "admin.organisation" if kind == "areas" else "admin.users")
    if kind == "areas":
        emails = dict(db.session.execute(select(User.id, User.email)).all())
        rows = [(a.site.name, a.site.timezone, a.name, emails.get(a.responsible_id, ""), a.risk_level,
                 a.audit_every_months, a.code) for a in db.session.scalars(organisation.areas_in_order())]
    else:
        rows = [(u.email, u.name, u.role, u.home_area.label if u.home_area else "", "; ".join(s.name for s in u.sites))
                for u in db.session.scalars(people.user_query(active=True))]
    return _write(COLUMNS[kind] + EXPORT_ONLY[kind], rows)


def read(kind: str, text: str) -> tuple[list[Line], list[tuple[int, str]]]:
    """Parse the CSV: its lines with numbers, and problems with the file itself (header, NUL, size).

    The floor of a dry run: what reading and shaping the file costs without the database.
    """
    columns = COLUMNS[kind]
    if "\x00" in text:
        return [], [(1, "The file contains a NUL character; save it as CSV (UTF-8).")]
    text = text.lstrip("\ufeff")  # Excel's byte-order mark
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return [], [(1, "The file is empty; download the template for the columns.")]
    except csv.Error as exc:
        return [], [(1, f"Not a CSV file: {exc}")]
    missing = [name for name in columns if name not in header]
    if missing:
        return [], [(1, f"Missing column(s): {', '.join(missing)}. The columns are: {', '.join(columns)}.")]
    index = {name: header.index(name) for name in columns}
    lines = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_LINES:
                return lines, [(reader.line_num, f"At most {MAX_LINES:,} lines in one import.")]
            values = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
            lines.append(Line(reader.line_num, values))
    except csv.Error as exc:
        return lines, [(reader.line_num, f"Not valid CSV here: {exc}")]
    return lines, []


def _text(line: Line, name: str, label: str, required: bool = True) -> str:
    value = line.values[name]
    if required and not value:
        line.problems.append(f"{label} is missing.")
    elif len(value) > LIMITS["name"]:
        line.problems.append(f"{label} is longer than {LIMITS['name']} characters.")
    return value


@dataclass(frozen=True)
class Person:
    """What a check needs of someone already here: plain values, not a loaded record (5,000 of those cost)."""

    id: object
    name: str
    role: str
    home_area_id: object
    active: bool
    site_ids: frozenset


class _Organisation:
    """Sites, areas and people as the database has them now, read once for a whole file."""

    def __init__(self):
        self.sites = {site.name: site for site in db.session.scalars(select(Site))}
        self.areas = {(area.site.name, area.name): area for area in db.session.scalars(select(Area))}
        sites_of: dict = {}
        for user_id, site_id in db.session.execute(select(user_site.c.user_id, user_site.c.site_id)):
            sites_of.setdefault(user_id, set()).add(site_id)
        self.users = {
            email: Person(user_id, name, role, home_area_id, active, frozenset(sites_of.get(user_id, ())))
            for user_id, email, name, role, home_area_id, active in db.session.execute(
                select(User.id, User.email, User.name, User.role, User.home_area_id, User.active))
        }


def check(kind: str, text: str) -> Check:
    """Dry run: every line's problems with its line number, and what each line would do. Writes nothing."""
    lines, problems = read(kind, text)
    if problems and not lines:
        return Check(kind, [], problems)
    org = _Organisation()
    (_check_areas if kind == "areas" else _check_users)(lines, org)
    problems += [(line.number, problem) for line in lines for problem in line.problems]
    problems.sort(key=lambda item: item[0])
    return Check(kind, lines, problems)


def _check_areas(lines: list[Line], org: _Organisation) -> None:
    seen: dict[tuple, int] = {}
    new_sites: dict[str, str] = {}
    for line in lines:
        site = _text(line, "site", "The site")
        name = _text(line, "area", "The area's name")
        zone = line.values["timezone"]
        if zone and zone not in _zones():
            line.problems.append(f"{zone!r} is not a time zone; use a name like Europe/London.")
        existing_site = org.sites.get(site)
        if existing_site is not None:
            if existing_site.retired_at is not None:
                line.problems.append(f"The site {site} is retired.")
            if zone and zone != existing_site.timezone:
                line.problems.append(f"{site} is in {existing_site.timezone}, not {zone}; change a site's zone on the Sites page.")
        elif site:
            if site in new_sites and zone and new_sites[site] and zone != new_sites[site]:
                line.problems.append(f"Another line gives {site} the time zone {new_sites[site]}.")
            new_sites.setdefault(site, zone)
        email = accounts.normalise_email(line.values["responsible_email"])
        responsible = org.users.get(email) if email else None
        if email and responsible is None:
            line.problems.append(f"No person with the email {email} (add people after their areas).")
        elif responsible is not None and not responsible.active:
            line.problems.append(f"{email} is deactivated.")
        risk = line.values["risk_level"] or RiskLevel.MEDIUM.value
        if risk not in RISKS:
            line.problems.append(f"Risk must be one of {', '.join(sorted(RISKS))}.")
        months_text = line.values["audit_every_months"] or "12"
        months = int(months_text) if months_text.isascii() and months_text.isdigit() else None
        if months is None or not 1 <= months <= 60:
            line.problems.append("Audit every 1 to 60 months (a whole number).")
        key = (site, name)
        if site and name:
            if key in seen:
                line.problems.append(f"Line {seen[key]} is the same area.")
            seen.setdefault(key, line.number)
        area = org.areas.get(key)
        if area is None:
            line.change = "add"
        elif area.retired_at is not None:
            line.problems.append(f"{site} / {name} is retired; bring it back on its page first.")
        else:
            same = (area.responsible_id == (responsible.id if responsible else None) and area.risk_level == risk
                    and area.audit_every_months == months)
            line.change = "same" if same else "change"
        line.values.update(risk_level=risk, audit_every_months=months, responsible=responsible, timezone=zone)


def _check_users(lines: list[Line], org: _Organisation) -> None:
    seen: dict[str, int] = {}
    for line in lines:
        email = accounts.normalise_email(line.values["email"])
        if not email:
            line.problems.append("The email is missing.")
        elif "@" not in email or len(email) > 254 or " " in email:
            line.problems.append(f"{email!r} is not an email address.")
        elif email in seen:
            line.problems.append(f"Line {seen[email]} has the same email.")
        seen.setdefault(email, line.number)
        name = _text(line, "name", "The name")
        role = line.values["role"].lower()
        if role not in ROLES:
            line.problems.append(f"Role must be one of {', '.join(sorted(ROLES))}.")
        home = None
        if line.values["home_area"]:
            site_name, _, area_name = (part.strip() for part in line.values["home_area"].partition("/"))
            home = org.areas.get((site_name, area_name))
            if home is None:
                line.problems.append(f"No area {line.values['home_area']!r}; write it as 'Site / Area'.")
            elif home.retired_at is not None:
                line.problems.append(f"{home.label} is retired.")
        sites = []
        for site_name in filter(None, (part.strip() for part in line.values["sites"].split(";"))):
            site = org.sites.get(site_name)
            if site is None:
                line.problems.append(f"No site {site_name!r} (separate several with ';').")
            elif site.retired_at is not None:
                line.problems.append(f"The site {site_name} is retired.")
            else:
                sites.append(site)
        user = org.users.get(email)
        if user is None:
            line.change = "add"
        else:
            same = (user.name == name and user.role == role and user.home_area_id == (home.id if home else None)
                    and user.site_ids == {s.id for s in sites})
            line.change = "same" if same else "change"
        line.values.update(email=email, name=name, role=role, home=home, site_list=sites, user=user)


def _refuse(result: Check) -> None:
    shown = result.problems[:200]
    raise Invalid(f"Nothing was imported: {len(result.problems)} problem(s). {result.summary()}",
                  {"lines": [f"line {number}: {problem}" for number, problem in shown]})


@dataclass
class Applied:
    check: Check
    invitations: list = field(default_factory=list)  # links to email once committed


def apply(actor: User | None, kind: str, text: str, invite: bool = True) -> Applied:
    """Import the file, all or nothing: check it, then add and change through the services.

    Flushes, never commits. :raise Invalid: any line has a problem (their list in
    `fields["lines"]`); nothing was written.
    """
    if actor is not None:
        require(actor, "admin.organisation" if kind == "areas" else "admin.users")
    result = check(kind, text)
    if not result.ok:
        _refuse(result)
    links = []
    try:
        for line in result.lines:
            if line.change == "same":
                continue
            if kind == "areas":
                _apply_area(actor, line)
            else:
                link = _apply_user(actor, line, invite)
                if link is not None:
                    links.append(link)
    except Invalid as exc:  # what a service found that the dry run could not (a race)
        problems = [msg for messages in (exc.fields or {}).values() for msg in messages] or [exc.message]
        raise Invalid(f"Nothing was imported: line {line.number}: {' '.join(problems)}",
                      {"lines": [f"line {line.number}: {p}" for p in problems]}) from None
    return Applied(result, links)


def _apply_area(actor, line: Line) -> None:
    v = line.values
    site = organisation.find_site(v["site"]) or organisation.create_site(actor, v["site"], v["timezone"] or "UTC")
    area = db.session.scalar(select(Area).where(Area.site_id == site.id, Area.name == v["area"]))
    responsible = db.session.get(User, v["responsible"].id) if v["responsible"] else None
    if area is None:
        organisation.create_area(actor, site, v["area"], responsible=responsible, risk_level=v["risk_level"],
                                 audit_every_months=v["audit_every_months"])
    else:
        organisation.update_area(actor, area, responsible=responsible, risk_level=v["risk_level"],
                                 audit_every_months=v["audit_every_months"])


def _apply_user(actor, line: Line, invite: bool):
    v = line.values
    if v["user"] is None:
        user = people.add_person(actor, v["email"], v["name"], v["role"], v["home"], v["site_list"])
        return invitations.issue(actor, user, invitations.INVITATION) if invite else None
    people.update_person(actor, db.session.get(User, v["user"].id), name=v["name"], role=v["role"], home_area=v["home"], sites=v["site_list"])
    return None

