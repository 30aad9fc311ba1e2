"""A believable demo organisation. Building it twice adds nothing the second time.

Everything the demo creates has a natural key: areas by site and name, users by email,
checklists by name, qualifications by (user, standard), and audits, responses,
findings, actions and comments by a uuid5 of a fixed demo namespace and a short key.
Dates are relative to the day the demo is first built, so the programme always sits
around "now"; a later run finds the same keys and adds nothing.
"""

import calendar
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import (
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    Comment,
    CorrectiveAction,
    Finding,
    FindingKind,
    FindingStatus,
    Qualification,
    Question,
    QuestionKind,
    Response,
    RiskLevel,
    Role,
    Template,
    TemplateStatus,
    User,
    utcnow,
)
from . import accounts, checklists, feed, organisation, trail
from .impartiality import check_impartial

DEMO_PASSWORD = "gemba-demo-2026"
NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4c1b-9a57-0e6d2b9c4f10")

SITES = {
    "Leeds works": ["Goods in", "Machining", "Assembly", "Paint shop", "Dispatch"],
    "Hull depot": ["Warehouse", "Workshop", "Office"],
}

# How risky each area is and so how often the programme visits it (months).
AREA_PLAN = {
    "Leeds works / Goods in": (RiskLevel.MEDIUM, 12),
    "Leeds works / Machining": (RiskLevel.HIGH, 6),
    "Leeds works / Assembly": (RiskLevel.HIGH, 6),
    "Leeds works / Paint shop": (RiskLevel.HIGH, 4),
    "Leeds works / Dispatch": (RiskLevel.LOW, 12),
    "Hull depot / Warehouse": (RiskLevel.MEDIUM, 6),
    "Hull depot / Workshop": (RiskLevel.MEDIUM, 6),
    "Hull depot / Office": (RiskLevel.LOW, 12),
}

# email, name, role, home area ("site / area")
PEOPLE = [
    ("admin@gemba.example", "Alex Admin", Role.ADMIN, "Hull depot / Office"),
    ("quality@gemba.example", "Quinn Patel", Role.SUPERVISOR, "Leeds works / Assembly"),
    ("hse@gemba.example", "Harriet Osei", Role.SUPERVISOR, "Hull depot / Office"),
    ("auditor@gemba.example", "Ada Lindqvist", Role.AUDITOR, "Leeds works / Machining"),
    ("auditor2@gemba.example", "Ben Okafor", Role.AUDITOR, "Hull depot / Warehouse"),
    ("auditor3@gemba.example", "Chen Wei", Role.AUDITOR, "Leeds works / Dispatch"),
    ("staff@gemba.example", "Sam Fletcher", Role.STAFF, "Leeds works / Assembly"),
    ("staff2@gemba.example", "Dana Kowalski", Role.STAFF, "Leeds works / Paint shop"),
    ("staff3@gemba.example", "Eli Hughes", Role.STAFF, "Hull depot / Workshop"),
]

# Who answers for each area. Ada also leads incoming inspection, so she may audit
# neither Machining (her home) nor Goods in.
RESPONSIBLE = {
    "Leeds works / Goods in": "auditor@gemba.example",
    "Leeds works / Machining": "quality@gemba.example",
    "Leeds works / Assembly": "quality@gemba.example",
    "Leeds works / Paint shop": "quality@gemba.example",
    "Leeds works / Dispatch": "quality@gemba.example",
    "Hull depot / Warehouse": "auditor2@gemba.example",
    "Hull depot / Workshop": "hse@gemba.example",
    "Hull depot / Office": "hse@gemba.example",
}

# email, standard, days until the qualification expires (negative: expired)
QUALIFICATIONS = [
    ("auditor@gemba.example", "ISO 9001", 700),
    ("auditor@gemba.example", "ISO 45001", 25),
    ("auditor2@gemba.example", "ISO 9001", 400),
    ("auditor2@gemba.example", "ISO 14001", 300),
    ("auditor3@gemba.example", "ISO 45001", 550),
    ("auditor3@gemba.example", "ISO 9001", -60),
]

CHECKLISTS = {"9001": "iso9001-internal-audit.json", "45001": "iso45001-safety-walk.json"}

# --- the programme --------------------------------------------------------------------
# Completed and started audits: key, checklist, area, auditor, days before today it was
# planned, status, reviewer. Their answers are all "good" except those in FROM_ANSWERS.
DONE = [
    ("assembly-qms", "9001", "Leeds works / Assembly", "auditor2@gemba.example", 120, AuditStatus.APPROVED, "quality@gemba.example"),
    ("paint-walk", "45001", "Leeds works / Paint shop", "auditor@gemba.example", 95, AuditStatus.APPROVED, "hse@gemba.example"),
    ("goods-in-qms", "9001", "Leeds works / Goods in", "auditor2@gemba.example", 70, AuditStatus.APPROVED, "quality@gemba.example"),
    ("workshop-qms", "9001", "Hull depot / Workshop", "auditor@gemba.example", 55, AuditStatus.APPROVED, "quality@gemba.example"),
    ("warehouse-walk", "45001", "Hull depot / Warehouse", "auditor3@gemba.example", 30, AuditStatus.SUBMITTED, None),
    ("dispatch-qms", "9001", "Leeds works / Dispatch", "auditor2@gemba.example", 21, AuditStatus.SUBMITTED, None),
    ("machining-walk", "45001", "Leeds works / Machining", "auditor3@gemba.example", 14, AuditStatus.RETURNED, "hse@gemba.example"),
    ("assembly-walk", "45001", "Leeds works / Assembly", "auditor@gemba.example", 3, AuditStatus.IN_PROGRESS, None),
]

# Planned audits: key, checklist, area, auditor (None: not assigned yet), month (0 = this
# month), day of the month. A day already past this month moves to the next free day.
PLANNED = [
    ("office-qms-late", "9001", "Hull depot / Office", "auditor2@gemba.example", None, -10),
    ("machining-qms", "9001", "Leeds works / Machining", "auditor2@gemba.example", 0, 8),
    ("workshop-walk", "45001", "Hull depot / Workshop", "auditor@gemba.example", 0, 16),
    ("dispatch-walk", "45001", "Leeds works / Dispatch", "auditor@gemba.example", 0, 24),
    ("paint-qms", "9001", "Leeds works / Paint shop", "auditor@gemba.example", 1, 6),
    ("office-walk", "45001", "Hull depot / Office", "auditor3@gemba.example", 1, 14),
    ("goods-in-walk", "45001", "Leeds works / Goods in", "auditor3@gemba.example", 1, 22),
    ("warehouse-qms", "9001", "Hull depot / Warehouse", "auditor@gemba.example", 2, 10),
    ("paint-walk-2", "45001", "Leeds works / Paint shop", "auditor3@gemba.example", 2, 24),
    ("assembly-qms-2", "9001", "Leeds works / Assembly", "auditor2@gemba.example", 3, 12),
    ("machining-walk-2", "45001", "Leeds works / Machining", "auditor3@gemba.example", 4, 9),
    ("dispatch-qms-2", "9001", "Leeds works / Dispatch", "auditor@gemba.example", 5, 15),
    ("warehouse-walk-2", "45001", "Hull depot / Warehouse", None, 6, 5),
]

WHYS_TORQUE = [
    {"why": "Why was an out-of-calibration torque wrench in use?", "because": "It was not recalled when its calibration fell due."},
    {"why": "Why was it not recalled?", "because": "The recall list is printed monthly and TW-14 was added after the print."},
    {"why": "Why is the list printed?", "because": "The calibration register is a spreadsheet only the lab can open."},
    {"why": "Why only the lab?", "because": "It sits on the lab PC's local drive."},
    {"why": "Why was it never moved?", "because": "Nobody owned the register after the lab supervisor left."},
]

# Findings raised from answers: audit key, (clause, words of the question), answer,
# finding key, kind, title, description, status, corrective action (or None).
FROM_ANSWERS = [
    ("assembly-qms", ("7.1.5", "measuring instruments"), "fail", "torque-wrench", FindingKind.MINOR_NC,
     "Torque wrench TW-14 out of calibration in use on line 2",
     "Calibration label shows due 3 weeks ago; wrench used for final torque on gearbox covers.",
     FindingStatus.CLOSED,
     {"state": "effective", "owner": "quality@gemba.example", "due": -90,
      "containment": "TW-14 quarantined; gearboxes torqued since the due date re-checked with TW-09 (42 units, all in tolerance).",
      "whys": WHYS_TORQUE, "root_cause": "The calibration register had no owner and was not visible at the point of use.",
      "plan": "Move the calibration register to the shared drive, name the metrology lead as owner, add weekly due-list to the line board."}),
    ("assembly-qms", ("7.5.3", "current revision"), "fail", "old-instruction", FindingKind.MINOR_NC,
     "Superseded work instruction WI-ASM-07 rev C at station 4",
     "Rev D was issued in the spring; rev C lacks the new sealant step.", FindingStatus.VERIFIED,
     {"state": "effective", "owner": "staff@gemba.example", "due": -80,
      "containment": "Rev C removed from station 4 and replaced with rev D.",
      "whys": [
          {"why": "Why was rev C still at the station?", "because": "The old copy was not collected when rev D was issued."},
          {"why": "Why was it not collected?", "because": "Issue of new revisions is by email; nobody walks the floor."},
          {"why": "Why by email only?", "because": "The document procedure does not say who swaps the paper copies."}],
      "root_cause": "The document procedure gives no one the job of withdrawing paper copies.",
      "plan": "Team leaders swap paper copies within 24 h of issue and sign the issue sheet; add to the procedure."}),
    ("paint-walk", ("8.1.2", "PPE"), "fail", "rpe", FindingKind.MAJOR_NC,
     "Sprayers in booth 2 not wearing respiratory protection",
     "Two sprayers applying isocyanate paint with disposable dust masks instead of air-fed hoods.",
     FindingStatus.ACTION_DONE,
     {"state": "done", "owner": "quality@gemba.example", "due": -40,
      "containment": "Spraying in booth 2 stopped until air-fed hoods were issued (same shift).",
      "whys": [
          {"why": "Why were dust masks used?", "because": "The air-fed hoods were away for repair."},
          {"why": "Why was work not stopped?", "because": "The sprayers did not know dust masks give no protection against isocyanates."},
          {"why": "Why did they not know?", "because": "RPE training was last given three years ago."},
          {"why": "Why so long ago?", "because": "RPE training is not in the skills matrix, so it never came up for renewal."}],
      "root_cause": "RPE training is missing from the skills matrix, and there is no spare air-fed hood.",
      "plan": "Add RPE and face-fit testing to the skills matrix (annual); buy two spare hoods; sign at booth entry."}),
    ("paint-walk", ("8.1.2", "hazardous substances"), "fail", "thinners", FindingKind.MINOR_NC,
     "Thinners decanted into unlabelled drinks bottles",
     "Two 500 ml bottles of thinners without labels on the mixing bench.", FindingStatus.CLOSED,
     {"state": "effective", "owner": "staff2@gemba.example", "due": -75,
      "containment": "Bottles emptied into the labelled drum and thrown away.",
      "whys": [
          {"why": "Why were drinks bottles used?", "because": "There were no small labelled dispensers."},
          {"why": "Why none?", "because": "The dispensers broke and were not reordered."}],
      "root_cause": "No reorder point for the safety dispensers.",
      "plan": "Six labelled safety cans bought; dispensers added to the consumables kanban."}),
    ("goods-in-qms", ("8.4.1", "external providers"), "no", "suppliers", FindingKind.MINOR_NC,
     "Two fastener suppliers used without evaluation",
     "Kwik Fix Ltd and Bolt Direct appear on goods-in records but not on the approved supplier list.",
     FindingStatus.ACTION_PLANNED,
     {"state": "open", "owner": "quality@gemba.example", "due": 20,
      "containment": "Stock from both suppliers held for 100% inspection.",
      "whys": [
          {"why": "Why were unapproved suppliers used?", "because": "Buyers placed urgent orders when the usual supplier was out of stock."},
          {"why": "Why could they?", "because": "The purchasing system does not check the approved supplier list."}],
      "root_cause": "The purchasing system allows orders to any supplier.",
      "plan": "Block orders to suppliers not on the approved list; urgent evaluation route for new suppliers."}),
    ("workshop-qms", ("8.5.2", "identified"), "fail", "pump-tags", FindingKind.MINOR_NC,
     "Repaired pumps in the workshop carry no status tag",
     "Five pumps on the repair rack; nobody could say which had passed the pressure test.",
     FindingStatus.ACTION_PLANNED,
     {"state": "overdue", "owner": "staff3@gemba.example", "due": -12,
      "containment": "All five pumps re-tested and tagged.",
      "whys": [
          {"why": "Why were the pumps untagged?", "because": "The tags ran out."},
          {"why": "Why did they run out?", "because": "Tags are bought by the office on request and nobody requested them."}],
      "root_cause": "No stock control for status tags.",
      "plan": "Replace paper tags with coloured rack zones (untested / passed / failed) marked on the floor."}),
    ("workshop-qms", ("10.3", "continual improvement"), "no", "no-suggestions", FindingKind.OBSERVATION,
     "No improvement suggestions logged in the workshop since March",
     "The suggestion box is empty; people said suggestions go nowhere.", FindingStatus.OPEN, None),
    ("warehouse-walk", ("8.2", "fire exits"), "fail", "fire-exit", FindingKind.MAJOR_NC,
     "Fire exit in aisle 7 blocked by pallets",
     "Three pallets of returns stacked against fire exit 7; door could not be opened.",
     FindingStatus.ACTION_PLANNED,
     {"state": "open", "owner": "auditor2@gemba.example", "due": 7,
      "containment": "Pallets moved at once; exit checked by the shift lead.",
      "whys": [
          {"why": "Why were pallets at the exit?", "because": "The returns area was full."},
          {"why": "Why was it full?", "because": "Returns are only processed on Fridays."}],
      "root_cause": "Returns area too small for a week of returns.",
      "plan": "Process returns daily; mark a hatched no-storage zone in front of every fire exit."}),
    ("warehouse-walk", ("8.1.2", "pedestrian"), "fail", "walkways", FindingKind.MINOR_NC,
     "Pedestrian walkway markings worn away at dock doors 2-4",
     "Forklifts cross the walkway at the dock; the yellow lines are barely visible.", FindingStatus.OPEN, None),
    ("dispatch-qms", ("8.5.4", "preserved"), "fail", "floor-storage", FindingKind.MINOR_NC,
     "Finished goods stored on the floor outside the racking",
     "Eight boxed gearboxes on the floor by dispatch door 1, two with crushed corners.", FindingStatus.OPEN, None),
    ("machining-walk", ("8.1.2", "machine guards"), "fail", "interlock", FindingKind.MAJOR_NC,
     "Door interlock on CNC-3 bypassed with a cable tie",
     "The door switch actuator is tied in; the spindle runs with the door open.", FindingStatus.ACTION_PLANNED,
     {"state": "overdue", "owner": "quality@gemba.example", "due": -2,
      "containment": "CNC-3 locked out until the interlock is repaired.",
      "whys": [
          {"why": "Why was the interlock bypassed?", "because": "Operators open the door to clear swarf during long cycles."},
          {"why": "Why clear swarf by hand?", "because": "The chip conveyor jams on long stringy swarf."},
          {"why": "Why does it jam?", "because": "The new alloy makes longer chips than the conveyor was specified for."}],
      "root_cause": "The change to the new alloy was not assessed for its effect on swarf handling.",
      "plan": "Fit chip breakers on the tooling for the new alloy; add machining changes to the management of change form."}),
]

# Findings raised by people on the floor, outside any audit: key, raised by, area, days
# ago, kind, clause, title, description, location, status, repeat of, action.
RAISED = [
    ("pallets-exit-3", "auditor2@gemba.example", "Hull depot / Warehouse", 160, FindingKind.MINOR_NC, "8.2",
     "Pallets left in front of fire exit 3", "Two pallets of cartons in front of exit 3 after the stock count.",
     "Aisle 3, north wall", FindingStatus.CLOSED, None,
     {"state": "effective", "owner": "auditor2@gemba.example", "due": -150,
      "containment": "Pallets moved.", "whys": [{"why": "Why were they there?", "because": "Temporary storage during the count."}],
      "root_cause": "No staging area planned for the stock count.", "plan": "Plan a staging area in the stock count instruction."}),
    ("oil-leak", "staff@gemba.example", "Leeds works / Assembly", 18, FindingKind.MINOR_NC, "8.1.2",
     "Oil leak under press 2", "A puddle of hydraulic oil spreading into the walkway.", "Press 2, operator side",
     FindingStatus.ACTION_DONE, None,
     {"state": "done", "owner": "staff@gemba.example", "due": -5,
      "containment": "Spill kit used; area coned off.",
      "whys": [{"why": "Why is the press leaking?", "because": "A hydraulic hose has chafed against the frame."},
               {"why": "Why did it chafe?", "because": "The hose clamp was not refitted after the last service."}],
      "root_cause": "Service checklist does not include hose clamps.", "plan": "Replace hose, refit clamp, add clamps to the service checklist."}),
    ("eyewash", "staff3@gemba.example", "Hull depot / Workshop", 40, FindingKind.MINOR_NC, "8.2",
     "Eyewash bottles out of date", "Both eyewash bottles by the grinder expired in August.", "Grinding bay",
     FindingStatus.CLOSED, None,
     {"state": "effective", "owner": "hse@gemba.example", "due": -30,
      "containment": "New bottles fitted the same day.",
      "whys": [{"why": "Why were they out of date?", "because": "Expiry dates are not on the monthly first-aid check."}],
      "root_cause": "The monthly check sheet lacks expiry dates.", "plan": "Add eyewash expiry to the monthly check sheet."}),
    ("sling", "staff3@gemba.example", "Hull depot / Workshop", 4, FindingKind.MAJOR_NC, "8.1.2",
     "Frayed lifting sling in use", "Webbing sling with cut edges used to lift a pump motor.", "Workshop crane",
     FindingStatus.ACTION_PLANNED, None,
     {"state": "open", "owner": "hse@gemba.example", "due": 3,
      "containment": "Sling cut up and thrown away; crane use limited to the chain sling.",
      "whys": [{"why": "Why was a damaged sling used?", "because": "Nobody checks slings before use."},
               {"why": "Why not?", "because": "Pre-use checks are not part of the crane training."}],
      "root_cause": "Pre-use inspection of lifting accessories is not trained.", "plan": "Toolbox talk on pre-use checks; tag rack for slings."}),
    ("extraction-fan", "staff2@gemba.example", "Leeds works / Paint shop", 2, FindingKind.OBSERVATION, "8.1.2",
     "Extraction fan in booth 1 noisy and vibrating", "Louder than usual since Monday; the duct shakes.", "Booth 1 roof",
     FindingStatus.OPEN, None, None),
    ("shadow-board", "staff@gemba.example", "Leeds works / Assembly", 9, FindingKind.IMPROVEMENT, "7.1.3",
     "A shadow board at station 3 would stop tools going missing", "We lose ten minutes a shift looking for the crimping tool.",
     "Station 3", FindingStatus.OPEN, None, None),
]
REPEATS = {"fire-exit": "pallets-exit-3"}

# Comments: key, on ("audit" or "finding", key), author, body, days ago.
COMMENTS = [
    ("machining-walk-returned", ("audit", "machining-walk"), "hse@gemba.example",
     ("Returned: the interlock answer needs the photo you took, and the housekeeping score has no note. "
      "Please add both and resubmit."), 12),
    ("sling-update", ("finding", "sling"), "hse@gemba.example",
     "Sling destroyed; two new slings ordered, due Friday.", 3),
    ("fire-exit-repeat", ("finding", "fire-exit"), "quality@gemba.example",
     "Second blocked exit this year. Please look at why the returns area overflows.", 25),
]


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}/{key}")


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _month_day(today: date, months: int, day: int) -> date:
    year, month = divmod(today.month - 1 + months, 12)
    year, month = today.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    planned = date(year, month, min(day, last))
    if months == 0 and planned <= today:
        planned = min(today + timedelta(days=2), date(year, month, last))
    return planned


def _new(model, key) -> bool:
    return db.session.get(model, key) is None


# --- areas, people, checklists ---------------------------------------------------------

def _areas() -> dict[str, Area]:
    areas = {}
    for site_name, names in SITES.items():
        site = organisation.find_site(site_name) or organisation.create_site(None, site_name, "Europe/London")
        for name in names:
            area = db.session.scalar(select(Area).where(Area.site_id == site.id, Area.name == name))
            if area is None:
                risk, months = AREA_PLAN[f"{site_name} / {name}"]
                area = organisation.create_area(None, site, name, risk_level=risk, audit_every_months=months)
            areas[f"{site_name} / {name}"] = area
    db.session.flush()
    return areas


def _people(areas: dict[str, Area], today: date) -> dict[str, User]:
    people = {}
    for email, name, role, home in PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(email, role, DEMO_PASSWORD, name=name, home_area=areas.get(home))
        people[email] = user
    for label, email in RESPONSIBLE.items():
        if areas[label].responsible_id is None:
            areas[label].responsible_id = people[email].id
    for email, standard, days in QUALIFICATIONS:
        user = people[email]
        if db.session.scalar(select(Qualification.id).where(Qualification.user_id == user.id,
                                                             Qualification.standard == standard)) is None:
            db.session.add(Qualification(user_id=user.id, standard=standard, expires_on=today + timedelta(days=days)))
    db.session.flush()
    return people


def _checklists(actor: User, today: date) -> dict[str, Template]:
    loaded = {}
    for key, filename in CHECKLISTS.items():
        data = checklists.bundled_checklist(filename)
        versions = db.session.scalars(
            select(Template).where(Template.name == data["name"]).order_by(Template.version.desc())
        ).all()
        if not versions:
            template = checklists.import_checklist(actor, data, today=today)
            checklists.publish(actor, template, today=today)
            versions = [template]
        published = [t for t in versions if t.status == TemplateStatus.PUBLISHED]
        loaded[key] = (published or versions)[0]
    return loaded


# --- answers ---------------------------------------------------------------------------

def _good_answer(question: Question, rng: random.Random, on: date):
    """An answer that calls for no finding, with a note where an auditor would write one."""
    kind = question.kind
    if kind == QuestionKind.YES_NO_NA:
        return ("na", "Not applicable in this area.") if "N/A" in question.guidance and rng.random() < 0.6 else ("yes", "")
    if kind == QuestionKind.PASS_FAIL:
        return "pass", ""
    if kind == QuestionKind.SCORE:
        low, high = question.options
        good = [v for v in range(low, high + 1) if v not in question.finding_answers]
        return rng.choice(good[-2:]), ""
    if kind == QuestionKind.CHOICE:
        good = [v for v in question.options if v not in question.finding_answers]
        return rng.choice(good[:3]), ""
    if kind == QuestionKind.NUMBER:
        low, high = question.options or [0, 100]
        return (rng.randint(70, 100) if high == 100 else rng.randint(low + 3, min(high, low + 14))), ""
    if kind == QuestionKind.DATE:
        return (on - timedelta(days=rng.randint(20, 150))).isoformat(), ""
    if kind == QuestionKind.TEXT:
        return rng.choice([
            "Sampled three records; all complete and signed.",
            "Nothing further noted.",
            "Good engagement from the team; the board is up to date.",
        ]), ""
    return None, "Photo kept on the auditor's tablet; demo data carries no images."


def _score(answers: list[tuple[Question, object]]) -> float | None:
    """Share of assessed answers that conform, as a percentage (N/A and free answers left out)."""
    points = []
    for question, value in answers:
        if question.kind in (QuestionKind.YES_NO_NA, QuestionKind.PASS_FAIL) and value not in (None, "na"):
            points.append(0.0 if value in question.finding_answers else 1.0)
        elif question.kind == QuestionKind.SCORE and value is not None:
            low, high = question.options
            points.append((value - low) / (high - low))
    return round(100 * sum(points) / len(points), 1) if points else None


def _question(template: Template, clause: str, words: str) -> Question:
    for question in template.questions:
        if question.clause == clause and words.lower() in question.text.lower():
            return question
    raise LookupError(f"no question {clause} {words!r} in {template.name}")


# --- audits and what came of them ------------------------------------------------------

def _plan_audit(key, template, area, auditor, planned, status, planner) -> tuple[Audit, bool]:
    audit_id = demo_id("audit", key)
    audit = db.session.get(Audit, audit_id)
    if audit is not None:
        return audit, False
    if auditor is not None:
        check_impartial(auditor, area)  # the demo must obey the rule it demonstrates
    audit = Audit(id=audit_id, template_id=template.id, area_id=area.id,
                  auditor_id=auditor.id if auditor else None, planned_date=planned, status=status,
                  created_by_id=planner.id, created_at=_at(planned - timedelta(days=40)))
    db.session.add(audit)
    db.session.flush()
    return audit, True


def _announce(audit: Audit, actor: User) -> None:
    feed.publish("audit", audit.id, audit.version, area_id=audit.area_id, user_id=audit.auditor_id)
    trail.record(actor, f"audit.{audit.status}", "audit", audit.id,
                 {"area": audit.area.label, "template": audit.template.name, "planned_date": audit.planned_date,
                  "auditor": audit.auditor.email if audit.auditor else None, "score": audit.score})


def _answer(audit: Audit, template: Template, auditor: User, forced: dict, upto: int | None = None) -> list:
    rng = random.Random(str(audit.id))
    answers = []
    started = audit.started_at
    for question in template.questions[:upto]:
        if question.id in forced:
            value, note = forced[question.id], "See the finding raised from this answer."
        else:
            value, note = _good_answer(question, rng, audit.planned_date)
        response = Response(
            id=demo_id("response", f"{audit.id}/{question.position}"), audit_id=audit.id, question_id=question.id,
            value=value, note=note, answered_by_id=auditor.id,
            answered_at=started + timedelta(minutes=2 * question.position),
        )
        db.session.add(response)
        answers.append((question, value))
    db.session.flush()
    for question, _ in answers:
        feed.publish("response", demo_id("response", f"{audit.id}/{question.position}"), 1,
                     area_id=audit.area_id, user_id=auditor.id)
    return answers


def _complete(audit: Audit, template: Template, auditor: User, status: str, reviewer: User | None, forced: dict) -> None:
    audit.started_at = _at(audit.planned_date, 9, 0)
    if status == AuditStatus.IN_PROGRESS:
        _answer(audit, template, auditor, forced, upto=8)
        return
    answers = _answer(audit, template, auditor, forced)
    audit.submitted_at = _at(audit.planned_date, 11, 30)
    audit.score = _score(answers)
    audit.summary = "Walked the area with the team lead; records sampled as per the checklist."
    if reviewer is not None:
        audit.reviewed_by_id = reviewer.id
        audit.reviewed_at = _at(audit.planned_date + timedelta(days=2), 10, 0)
    db.session.flush()


def _add_action(key: str, finding: Finding, spec: dict, people: dict, today: date, raised: datetime) -> None:
    action_id = demo_id("action", key)
    if not _new(CorrectiveAction, action_id):
        return
    owner = people[spec["owner"]]
    due = today + timedelta(days=spec["due"])
    supervisor = people["quality@gemba.example"]
    action = CorrectiveAction(
        id=action_id, finding_id=finding.id, containment=spec["containment"], whys=spec["whys"],
        root_cause=spec["root_cause"], plan=spec["plan"], owner_id=owner.id, due_date=due,
        created_by_id=supervisor.id, created_at=raised + timedelta(days=1),
        status=ActionStatus.OPEN,
    )
    if spec["state"] in ("done", "effective"):
        action.status = ActionStatus.DONE
        action.done_at = _at(due - timedelta(days=2), 15)
        action.done_note = "Done as planned; evidence on the line board."
        action.effectiveness_due = due + timedelta(days=30)
    if spec["state"] == "effective":
        action.status = ActionStatus.EFFECTIVE
        action.effectiveness_by_id = supervisor.id
        action.effectiveness_at = _at(min(due + timedelta(days=30), today - timedelta(days=1)), 14)
        action.effectiveness_result = "effective"
        action.effectiveness_note = "Checked a month later: no recurrence in the area."
    db.session.add(action)
    db.session.flush()
    feed.publish("action", action.id, action.version, area_id=finding.area_id, user_id=owner.id)
    trail.record(supervisor, "action.assigned", "action", action.id,
                 {"finding": str(finding.id), "owner": owner.email, "due_date": due})


def _add_finding(key: str, values: dict, raised_by: User) -> Finding | None:
    finding_id = demo_id("finding", key)
    if not _new(Finding, finding_id):
        return db.session.get(Finding, finding_id)
    finding = Finding(id=finding_id, raised_by_id=raised_by.id, **values)
    if finding.status == FindingStatus.CLOSED:
        finding.closed_at = min(finding.raised_at + timedelta(days=45), utcnow() - timedelta(days=1))
    db.session.add(finding)
    db.session.flush()
    feed.publish("finding", finding.id, finding.version, area_id=finding.area_id, user_id=raised_by.id)
    trail.record(raised_by, "finding.raised", "finding", finding.id,
                 {"kind": finding.kind, "title": finding.title, "clause": finding.clause})
    return finding


def _programme(areas, people, templates, today: date) -> None:
    planner = people["quality@gemba.example"]
    for key, checklist, label, email, days_ago, status, reviewer in DONE:
        template, area, auditor = templates[checklist], areas[label], people[email]
        audit, created = _plan_audit(key, template, area, auditor, today - timedelta(days=days_ago),
                                     AuditStatus.PLANNED, planner)
        if not created:
            continue
        forced = {}
        for audit_key, (clause, words), answer, *_ in FROM_ANSWERS:
            if audit_key == key:
                forced[_question(template, clause, words).id] = answer
        audit.status = status
        _complete(audit, template, auditor, status, people.get(reviewer), forced)
        _announce(audit, auditor)
    for key, checklist, label, email, month, day in PLANNED:
        planned = today + timedelta(days=day) if month is None else _month_day(today, month, day)
        audit, created = _plan_audit(key, templates[checklist], areas[label], people.get(email), planned,
                                     AuditStatus.PLANNED, planner)
        if created:
            _announce(audit, planner)


def _findings(areas, people, templates, today: date) -> dict[str, Finding]:
    made = {}
    audits = {key: (checklist, label, email, days_ago) for key, checklist, label, email, days_ago, *_ in DONE}
    for key, raised_by, label, days_ago, kind, clause, title, description, location, status, _, action in RAISED:
        raised = _at(today - timedelta(days=days_ago), 10, 15)
        made[key] = _add_finding(key, {
            "kind": kind, "clause": clause, "area_id": areas[label].id, "title": title, "description": description,
            "location": location, "raised_at": raised, "received_at": raised + timedelta(minutes=4), "status": status,
        }, people[raised_by])
        if action:
            _add_action(key, made[key], action, people, today, raised)
    for audit_key, (clause, words), answer, key, kind, title, description, status, action in FROM_ANSWERS:
        checklist, label, email, days_ago = audits[audit_key]
        question = _question(templates[checklist], clause, words)
        raised = _at(today - timedelta(days=days_ago), 10, 0) + timedelta(minutes=2 * question.position)
        made[key] = _add_finding(key, {
            "kind": kind, "clause": clause, "area_id": areas[label].id, "title": title, "description": description,
            "location": "", "raised_at": raised, "received_at": raised + timedelta(hours=2),
            "audit_id": demo_id("audit", audit_key), "question_id": question.id, "status": status,
            "repeat_of_id": demo_id("finding", REPEATS[key]) if key in REPEATS else None,
        }, people[email])
        if action:
            _add_action(key, made[key], action, people, today, raised)
    return made


def _comments(people, today: date) -> None:
    for key, (subject, subject_key), email, body, days_ago in COMMENTS:
        comment_id = demo_id("comment", key)
        if not _new(Comment, comment_id):
            continue
        author = people[email]
        target = {f"{subject}_id": demo_id(subject, subject_key)}
        comment = Comment(id=comment_id, author_id=author.id, body=body,
                          created_at=_at(today - timedelta(days=days_ago), 16), **target)
        db.session.add(comment)
        db.session.flush()
        if subject == "audit":
            audit = db.session.get(Audit, target["audit_id"])
            area_id, user_id = audit.area_id, audit.auditor_id
        else:
            finding = db.session.get(Finding, target["finding_id"])
            area_id, user_id = finding.area_id, finding.raised_by_id
        feed.publish("comment", comment.id, comment.version, area_id=area_id, user_id=user_id)
        trail.record(author, "comment.added", "comment", comment.id, {subject: str(target[f"{subject}_id"])})


def build(today: date | None = None) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo organisation; return its logins."""
    today = today or date.today()
    areas = _areas()
    people = _people(areas, today)
    templates = _checklists(people["quality@gemba.example"], today)
    _programme(areas, people, templates, today)
    _findings(areas, people, templates, today)
    _comments(people, today)
    db.session.flush()
    return [(email, role.value, DEMO_PASSWORD) for email, _, role, _ in PEOPLE]
