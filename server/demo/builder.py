"""Build the demo organisation from `organisation.json`, through the services people use.

The file holds the organisation - sites with their time zones, areas, people, the two
bundled checklists - and its story: floor reports and audits, each with what became of
it. The builder tells that story by calling the service functions the register, the API
and the sync engine call: plan, start, answer, submit and review audits; raise, triage
and link findings; plan, carry out and check corrective actions; take in photos. So
every row in the change feed and the trail comes from the rules users are held to, and
a story that breaks a rule (an auditor on their own area, an answer that needs a photo
without one) fails to build.

Days in the file count from the day the demo is built (-3: three days before) and times
of day are the site's local clock. Each service is told when its step happened (`at`),
so the register reads as months of history; the trail and the feed record when the rows
were written, as they always do.

Running it again adds nothing: areas are found by site and name, people by email,
checklists by name, qualifications by person and standard, and audits and findings by a
uuid5 of their key; an audit or report already there is skipped whole.
"""

import calendar
import hashlib
import io
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Area,
    Audit,
    AuditStatus,
    Competence,
    CompetenceRecord,
    CorrectiveAction,
    Document,
    Finding,
    FindingStatus,
    ManagementReview,
    Objective,
    Question,
    QuestionKind,
    Template,
    TemplateStatus,
    TrainingSession,
    User,
    utcnow,
)
from ..services import (
    accounts,
    actions,
    audit_review,
    audits,
    checklists,
    comments,
    competence,
    documents,
    findings,
    management_reviews,
    objectives,
    organisation,
    photos,
    programme,
    repeats,
)
from . import scenes

ORGANISATION = "organisation.json"
NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4c1b-9a57-0e6d2b9c4f10")

# The working day the story keeps to, on each site's clock.
PUT_ON_PROGRAMME = -40  # days before an audit that it was planned
PROGRAMME_DRAWN_UP = -45  # day the audits still to come were planned
CHECKLISTS_INTRODUCED = -150
AUDIT_STARTS, MINUTES_PER_ANSWER, AUDIT_SUBMITTED = time(9, 0), 2, time(11, 30)
REVIEW_AFTER_DAYS, REVIEWED = 2, time(10, 0)
PLANNING = time(9, 30)  # audits put on the programme, checklists published, actions planned
TRIAGED, ACTION_DONE, CHECKED, COMMENTED = time(11, 0), time(15, 0), time(14, 0), time(16, 0)
REPORT_ARRIVES = timedelta(minutes=4)  # a phone on the floor syncs within minutes
SUMMARY = "Walked the area with the team lead; records sampled as per the checklist."
ANSWER_NOTE = "See the finding raised from this answer."


def organisation_file() -> dict:
    """Read the demo organisation file shipped in this package."""
    return json.loads(resources.files(__package__).joinpath(ORGANISATION).read_text(encoding="utf-8"))


def demo_id(kind: str, key: str) -> uuid.UUID:
    """The id of the demo's `kind` record with this key, the same on every build."""
    return uuid.uuid5(NAMESPACE, f"{kind}/{key}")


@dataclass
class Story:
    """What the builder knows while it tells the story: when today is, where and who."""

    today: date
    now: datetime
    zones: dict[str, ZoneInfo]  # site -> its time zone
    areas: dict[str, Area] = field(default_factory=dict)  # "site / name" -> area
    people: dict[str, User] = field(default_factory=dict)  # email -> user
    templates: dict[str, Template] = field(default_factory=dict)  # checklist key -> published version
    planner: User | None = None

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def moment(self, site: str, offset: int, clock: time) -> datetime:
        """`clock` on the site's wall `offset` days from today, in UTC. :raise ValueError: when still to come."""
        moment = datetime.combine(self.day(offset), clock, tzinfo=self.zones[site]).astimezone(UTC)
        if moment > self.now:
            raise ValueError(f"The demo's story runs ahead of the clock: day {offset} at {clock} in {site}.")
        return moment

    def photo(self, scene: dict, seed: str, taker: User, site: str, taken: datetime,
              uploaded: datetime | None = None) -> str:
        """Take a photo of `scene` and upload it as `taker`'s phone does; answer its SHA-256."""
        data = scenes.photograph(scene, seed, taken.astimezone(self.zones[site]))
        sha = hashlib.sha256(data).hexdigest()
        photos.intake(taker, sha, data, "image/jpeg", at=uploaded or taken)
        return sha


def build(today: date | None = None) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo organisation; return its logins (email, role, password)."""
    data = organisation_file()
    story = Story(today or date.today(), utcnow(), {site["name"]: ZoneInfo(site["time_zone"]) for site in data["sites"]})
    new_areas = _areas(story, data)
    _people(story, data)
    story.planner = story.people[data["planner"]]
    _area_plans(story, new_areas)
    _qualifications(story, data)
    _checklists(story, data)
    for report in data["reports"]:
        _report(story, report)
    for spec in data["audits"]:
        _audit(story, spec)
    for spec in data["programme"]:
        _planned(story, spec)
    for spec in data.get("objectives", []):
        _objective(story, spec)
    for spec in data.get("management_reviews", []):
        _management_review(story, spec)
    for spec in data.get("documents", []):
        _document(story, spec)
    _competence(story, data.get("competence", {}))
    db.session.flush()
    return [(person["email"], person["role"], data["password"]) for person in data["people"]]


# ---- the organisation ------------------------------------------------------------------

def _areas(story: Story, data: dict) -> list[dict]:
    """Find or create each site and area; answer the specs of the areas created now."""
    sites = {}
    for spec in data["sites"]:
        sites[spec["name"]] = (organisation.find_site(spec["name"])
                               or organisation.create_site(None, spec["name"], spec["time_zone"]))
    created = []
    for spec in data["areas"]:
        if spec["site"] not in sites:
            raise ValueError(f"Area {spec['name']!r} is on a site the demo does not list: {spec['site']!r}.")
        site = sites[spec["site"]]
        area = db.session.scalar(select(Area).where(Area.site_id == site.id, Area.name == spec["name"]))
        if area is None:
            area = organisation.create_area(None, site, spec["name"])
            created.append(spec)
        story.areas[f"{spec['site']} / {spec['name']}"] = area
    return created


def _people(story: Story, data: dict) -> None:
    for spec in data["people"]:
        user = db.session.scalar(select(User).where(User.email == accounts.normalise_email(spec["email"])))
        if user is None:
            user = accounts.create_user(spec["email"], spec["role"], data["password"], name=spec["name"],
                                        home_area=story.areas[spec["home_area"]])
        story.people[spec["email"]] = user


def _area_plans(story: Story, created: list[dict]) -> None:
    for spec in created:
        area = story.areas[f"{spec['site']} / {spec['name']}"]
        organisation.update_area(None, area, responsible=story.people[spec["responsible"]])
        programme.set_area_plan(story.planner, area, spec["risk"], spec["audit_every_months"])


def _qualifications(story: Story, data: dict) -> None:
    for spec in data["people"]:
        user = story.people[spec["email"]]
        for qualification in spec.get("qualifications", []):
            if programme.qualification_for(user, qualification["standard"]) is None:
                programme.set_qualification(story.planner, user, qualification["standard"],
                                            story.day(qualification["expires_in_days"]))


def _checklists(story: Story, data: dict) -> None:
    head_office = data["sites"][0]["name"]
    for key, filename in data["checklists"].items():
        checklist = checklists.bundled_checklist(filename)
        versions = db.session.scalars(
            select(Template).where(Template.name == checklist["name"]).order_by(Template.version.desc())
        ).all()
        if not versions:
            introduced = story.day(CHECKLISTS_INTRODUCED)
            template = checklists.import_checklist(story.planner, checklist, today=introduced)
            checklists.publish(story.planner, template, today=introduced,
                               at=story.moment(head_office, CHECKLISTS_INTRODUCED, PLANNING))
            versions = [template]
        published = [t for t in versions if t.status == TemplateStatus.PUBLISHED]
        story.templates[key] = (published or versions)[0]


# ---- floor reports and audits ----------------------------------------------------------

def _report(story: Story, spec: dict) -> None:
    """A finding someone on the floor raised from their phone, and what became of it."""
    finding_id = demo_id("finding", spec["key"])
    if db.session.get(Finding, finding_id) is not None:
        return
    area, by = story.areas[spec["area"]], story.people[spec["by"]]
    raised = story.moment(area.site.name, spec["day"], time.fromisoformat(spec["time"]))
    received = raised + REPORT_ARRIVES
    shas = [story.photo(spec["photo"], f"finding/{spec['key']}", by, area.site.name, raised, received)] if "photo" in spec else []
    finding = findings.raise_finding(by, finding_id, {
        "kind": spec["kind"], "clause": spec["clause"], "area_id": area.id, "title": spec["title"],
        "description": spec["description"], "location": spec.get("location", ""), "raised_at": raised,
        "photos": shas,
    }, at=received)
    _follow_up(story, finding, spec, area, spec["day"])


def _audit(story: Story, spec: dict) -> None:
    """One audit from planning to review, with the findings raised from its answers."""
    audit_id = demo_id("audit", spec["key"])
    if db.session.get(Audit, audit_id) is not None:
        return
    template, area, auditor = story.templates[spec["checklist"]], story.areas[spec["area"]], story.people[spec["auditor"]]
    day = spec["day"]
    audit = programme.plan_audit(story.planner, template, area, story.day(day), auditor, audit_id=audit_id,
                                 at=story.moment(area.site.name, day + PUT_ON_PROGRAMME, PLANNING))
    started = story.moment(area.site.name, day, AUDIT_STARTS)
    synced = story.moment(area.site.name, day, AUDIT_SUBMITTED)  # the tablet syncs as the audit is submitted
    audits.start_audit(auditor, audit, at=started)
    forced = {_question(template, *answer["question"]).id: answer for answer in spec.get("answers", [])}
    rng = random.Random(spec["key"])
    raised = []
    for question in template.questions[:spec.get("answered")]:
        answered = started + timedelta(minutes=MINUTES_PER_ANSWER * question.position)
        answer = forced.get(question.id)
        if answer is not None:
            value, note, scene = answer["value"], answer.get("note", ANSWER_NOTE), answer.get("photo")
        elif question.kind == QuestionKind.PHOTO:
            value, note, scene = None, "", spec.get("photo")
        else:
            (value, note), scene = _good_answer(question, rng, story.day(day)), None
        fields = {"audit_id": audit.id, "question_id": question.id, "value": value, "note": note}
        if scene is not None:
            fields["photos"] = [story.photo(scene, f"answer/{spec['key']}/{question.position}", auditor, area.site.name,
                                            answered, synced)]
        # The audit was planned a moment ago, so none of its answers exist: nothing to look up.
        audits.record_response(auditor, demo_id("response", f"{spec['key']}/{question.position}"), fields,
                               existing=None, at=answered)
        if answer is not None and "finding" in answer:
            raised.append((question, answer["finding"], answered, fields.get("photos", [])))
    made = []
    for question, finding_spec, answered, shas in raised:
        # The auditor's photo of the answer is the finding's evidence too.
        made.append((findings.raise_finding(auditor, demo_id("finding", finding_spec["key"]), {
            "kind": finding_spec["kind"], "clause": question.clause, "area_id": area.id,
            "title": finding_spec["title"], "description": finding_spec["description"],
            "location": finding_spec.get("location", ""), "raised_at": answered,
            "audit_id": audit.id, "question_id": question.id, "photos": shas,
        }, at=synced), finding_spec))
    if spec["status"] != AuditStatus.IN_PROGRESS:
        audits.submit_audit(auditor, audit, summary=spec.get("summary", SUMMARY), at=synced)
        _review(story, audit, spec, area)
    for finding, finding_spec in made:
        _follow_up(story, finding, finding_spec, area, day)


def _review(story: Story, audit: Audit, spec: dict, area: Area) -> None:
    if spec["status"] == AuditStatus.SUBMITTED:
        return
    reviewer = story.people[spec["reviewer"]]
    at = story.moment(area.site.name, spec["day"] + REVIEW_AFTER_DAYS, REVIEWED)
    if spec["status"] == AuditStatus.APPROVED:
        audit_review.approve(reviewer, audit, spec.get("review", ""), at=at)
    elif spec["status"] == AuditStatus.RETURNED:
        audit_review.return_audit(reviewer, audit, spec["review"], at=at)
    elif spec["status"] == AuditStatus.REJECTED:
        audit_review.reject(reviewer, audit, spec["review"], at=at)
    else:
        raise ValueError(f"Audit {spec['key']!r}: no review leads to {spec['status']!r}.")


def _planned(story: Story, spec: dict) -> None:
    """An audit on the programme, still to come (or late)."""
    audit_id = demo_id("audit", spec["key"])
    if db.session.get(Audit, audit_id) is not None:
        return
    area = story.areas[spec["area"]]
    planned = story.day(spec["in_days"]) if "in_days" in spec else _month_day(story.today, spec["month"], spec["day"])
    programme.plan_audit(story.planner, story.templates[spec["checklist"]], area, planned,
                         story.people.get(spec["auditor"]), audit_id=audit_id,
                         at=story.moment(area.site.name, PROGRAMME_DRAWN_UP, PLANNING))


# ---- what became of a finding ----------------------------------------------------------

def _follow_up(story: Story, finding: Finding, spec: dict, area: Area, day: int) -> None:
    """Triage, repeat link, corrective actions, verification and comments, in that order."""
    if "repeat_of" in spec:
        repeats.link_repeat(story.planner, finding, db.session.get(Finding, demo_id("finding", spec["repeat_of"])))
    if "accepted" in spec:
        accepted = spec["accepted"]
        audit_review.accept_finding(story.people[accepted["by"]], finding, accepted.get("comment", ""),
                              at=story.moment(area.site.name, accepted["day"], TRIAGED))
    if "rejected" in spec:
        rejected = spec["rejected"]
        audit_review.reject_finding(story.people[rejected["by"]], finding, rejected["reason"],
                              at=story.moment(area.site.name, rejected["day"], TRIAGED))
    for number, action_spec in enumerate(spec.get("actions", []), 1):
        planner = story.people[action_spec.get("planned_by", story.planner.email)]
        owner = story.people[action_spec["owner"]]
        plan_day = action_spec.get("planned", day + 1)
        plan = {
            "containment": action_spec["containment"], "whys": action_spec["whys"],
            "root_cause": action_spec["root_cause"], "plan": action_spec["plan"], "owner_id": owner.id,
            "due_date": story.day(action_spec["due"]),
        }
        if "check" in action_spec:
            plan["effectiveness_due"] = story.day(action_spec["check"])
        action = actions.plan_action(planner, finding, plan, today=story.day(plan_day),
                                     at=story.moment(area.site.name, plan_day, PLANNING))
        _carry_out(story, action, action_spec, area, planner, f"action/{spec['key']}/{number}")
    if "verified" in spec:
        verified = spec["verified"]
        findings.edit_finding(story.people[verified["by"]], finding,
                              {"status": FindingStatus.VERIFIED, "status_reason": verified["reason"]})
    for comment in spec.get("comments", []):
        comments.add_comment(story.people[comment["by"]], comment["body"], finding=finding,
                           at=story.moment(area.site.name, comment["day"], COMMENTED))


def _carry_out(story: Story, action: CorrectiveAction, spec: dict, area: Area, checker: User, seed: str) -> None:
    """The owner does the action (with a photo of the result); a supervisor checks it worked."""
    owner = story.people[spec.get("owner", action.owner.email)]
    if "done" in spec:
        done = spec["done"]
        at = story.moment(area.site.name, done["day"], ACTION_DONE)
        if "photo" in done:
            actions.record_progress(owner, action, {"photos": [story.photo(done["photo"], seed, owner, area.site.name, at)]})
        actions.mark_done(owner, action, done["note"], at=at)
    if "checked" in spec:
        checked = spec["checked"]
        follow_up = checked.get("follow_up")
        new_plan = None
        if follow_up is not None:
            new_plan = {"plan": follow_up["plan"], "due_date": story.day(follow_up["due"])}
            if "check" in follow_up:
                new_plan["effectiveness_due"] = story.day(follow_up["check"])
        next_action = actions.check_effectiveness(checker, action, checked["effective"], checked["note"], new_plan,
                                                  today=story.day(checked["day"]),
                                                  at=story.moment(area.site.name, checked["day"], CHECKED))
        if next_action is not None:
            _carry_out(story, next_action, follow_up, area, checker, f"{seed}/follow-up")


# ---- answers ---------------------------------------------------------------------------

def _question(template: Template, clause: str, words: str) -> Question:
    for question in template.questions:
        if question.clause == clause and words.lower() in question.text.lower():
            return question
    raise LookupError(f"No question {clause} {words!r} in {template.name}.")


def _good_answer(question: Question, rng: random.Random, on: date) -> tuple:
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
    if kind == QuestionKind.MULTI_CHOICE:
        good = [v for v in question.options if v not in question.finding_answers]
        return sorted(rng.sample(good, 2), key=question.options.index), ""
    if kind == QuestionKind.NUMBER:
        low, high = question.options or [0, 100]
        return (rng.randint(70, 100) if high == 100 else rng.randint(low + 3, min(high, low + 14))), ""
    if kind == QuestionKind.DATE:
        return (on - timedelta(days=rng.randint(20, 150))).isoformat(), ""
    return rng.choice([
        "Sampled three records; all complete and signed.",
        "Nothing further noted.",
        "Good engagement from the team; the board is up to date.",
    ]), ""


# ---- objectives and management reviews ------------------------------------------------

HQ = "Leeds works"  # whose clock the management system's meetings keep


def _objective(story: Story, spec: dict) -> None:
    """Set an objective a year ago and record its monthly values (oldest first), the last one two days ago."""
    if db.session.scalar(select(Objective.id).where(Objective.title == spec["title"])):
        return
    owner = story.people[spec["owner"]]
    site = organisation.find_site(spec["site"]) if spec.get("site") else None
    set_on = programme.add_months(story.today, -12) - timedelta(days=5)
    objective = objectives.create_objective(story.planner, {
        "title": spec["title"], "standard": spec["standard"], "clause": spec["clause"], "owner_id": owner.id,
        "target_value": spec["target"], "unit": spec["unit"], "direction": spec["direction"],
        "every_months": spec["every_months"], "source": spec.get("computed", "manual"),
        "site_id": site.id if site else None, "due_date": programme.add_months(story.today, 6),
    }, at=story.moment(HQ, (set_on - story.today).days, PLANNING))
    values = spec.get("monthly", [])
    for index, value in enumerate(values):
        day = programme.add_months(story.today, index - len(values) + 1) - timedelta(days=2)
        note = spec.get("note", "") if index == len(values) - 1 else ""
        objectives.record_measurement(owner, objective, value, day, note)
    if spec.get("computed"):
        objectives.measure_now(owner, objective, story.today)


def _management_review(story: Story, spec: dict) -> None:
    """Hold a past management review: open it, write the meeting down, decide, sign off; then the outputs' fate."""
    start, end = story.day(spec["period_from"]), story.day(spec["period_to"])
    # Days count from the build, so a later build finds the review by what it decided.
    if db.session.scalar(select(ManagementReview.id).where(ManagementReview.decisions == spec["decisions"])):
        return
    chair = story.people[spec["chair"]]
    held = spec["held"]
    review = management_reviews.open_review(chair, start, end, spec.get("standard", ""),
                                            at=story.moment(HQ, held - 7, PLANNING))
    management_reviews.update_review(chair, review, {
        "held_on": story.day(held), "attendees": spec["attendees"], "notes": spec["notes"], "decisions": spec["decisions"]})
    for output in spec["actions"]:
        action = management_reviews.add_action(chair, review, {
            "title": output["title"], "owner_id": story.people[output["owner"]].id, "due_date": story.day(output["due"])},
            today=story.day(held), at=story.moment(HQ, held, PLANNING))
        if "done" in output:
            management_reviews.mark_action_done(story.people[output["owner"]], action, "Done.",
                                                at=story.moment(HQ, output["done"], ACTION_DONE))
    management_reviews.sign_off(chair, review, at=story.moment(HQ, held, CHECKED))


def _month_day(today: date, months: int, day: int) -> date:
    """Day `day` of the month `months` after this one; a day already past this month moves to two days on."""
    year, month = divmod(today.month - 1 + months, 12)
    year, month = today.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    planned = date(year, month, min(day, last))
    if months == 0 and planned <= today:
        planned = min(today + timedelta(days=2), date(year, month, last))
    return planned


# ---- controlled documents and competence ----------------------------------------------

DOCUMENT_SITE = "Leeds works"  # whose clock the document office keeps


def _document_pdf(number: str, title: str, rev: int, note: str) -> bytes:
    """A one-page PDF for revision `rev`, the same bytes on every build (reportlab's invariant mode)."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.setTitle(f"{number} {title} rev {rev}")
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 770, f"{number}  {title}")
    page.setFont("Helvetica", 11)
    page.drawString(72, 748, f"Revision {rev}: {note}")
    page.drawString(72, 720, "Controlled copy: the current revision is the one in Gemba's document register.")
    page.showPage()
    page.save()
    return out.getvalue()


def _document(story: Story, spec: dict) -> None:
    """Register a document and tell its revisions: uploaded, approved, reviewed with no change."""
    if db.session.scalar(select(Document.id).where(Document.number == spec["number"])) is not None:
        return
    office = story.planner
    first, *later = spec["revisions"]

    def upload(n, revision):
        data = _document_pdf(spec["number"], spec["title"], n, revision["note"])
        return documents.Upload(io.BytesIO(data), f"{spec['number']} rev {n}.pdf")

    fields = {"number": spec["number"], "title": spec["title"], "type": spec["type"],
              "review_every_months": spec["review_every_months"], "owner_id": story.people[spec["owner"]].id,
              "site_ids": [organisation.find_site(name).id for name in spec.get("sites", [])],
              "area_ids": [story.areas[name].id for name in spec.get("areas", [])], "change_note": first["note"]}
    document = documents.create_document(office, fields, upload(1, first),
                                         at=story.moment(DOCUMENT_SITE, first["day"], PLANNING))
    for n, revision in enumerate(spec["revisions"], 1):
        if n > 1:
            documents.add_revision(office, document, upload(n, revision), revision["note"],
                                   at=story.moment(DOCUMENT_SITE, revision["day"], PLANNING))
        if "approved" in revision:
            documents.approve_revision(office, document, document.revisions[n - 1],
                                       at=story.moment(DOCUMENT_SITE, revision["approved"], REVIEWED))
    if "reviewed_no_change" in spec:
        documents.record_review(office, document, at=story.moment(DOCUMENT_SITE, spec["reviewed_no_change"], REVIEWED))
    if ack := spec.get("acknowledgement"):
        documents.ask_acknowledgement(office, document, document.current, ack["roles"],
                                      [story.areas[name] for name in ack["areas"]],
                                      at=story.moment(DOCUMENT_SITE, ack["asked"], PLANNING))
        for reader in ack["acknowledged"]:
            documents.acknowledge(story.people[reader["person"]], document, document.current,
                                  at=story.moment(DOCUMENT_SITE, reader["day"], ACTION_DONE))


def _competence(story: Story, spec: dict) -> None:
    """The competence catalogue, who needs what, the training held and the records kept."""
    office = story.planner
    catalogue = {}
    for item in spec.get("competences", []):
        found = db.session.scalar(select(Competence).where(Competence.name == item["name"]))
        catalogue[item["name"]] = found or competence.create_competence(
            office, item["name"], item.get("validity_months"), at=story.moment(DOCUMENT_SITE, -900, PLANNING))
        for need in item.get("required", []):
            competence.require_competence(office, catalogue[item["name"]], need.get("role"),
                                          story.areas[need["area"]] if "area" in need else None)
    for session in spec.get("training", []):
        held_on = story.day(session["day"])
        if db.session.scalar(select(TrainingSession.id).where(TrainingSession.title == session["title"])):
            continue  # the demo's sessions have titles of their own
        competence.record_training(office, session["title"], held_on, story.people[session["trainer"]],
                                   [story.people[email] for email in session["attendees"]],
                                   [catalogue[name] for name in session["competences"]],
                                   at=story.moment(DOCUMENT_SITE, session["day"], ACTION_DONE))
    for record in spec.get("records", []):
        person, held = story.people[record["person"]], catalogue[record["competence"]]
        if db.session.scalar(select(CompetenceRecord.id).where(CompetenceRecord.user_id == person.id,
                                                               CompetenceRecord.competence_id == held.id)):
            continue
        competence.record_competence(office, person, held, story.day(record["day"]),
                                     assessed_by=story.people[record["assessed_by"]],
                                     at=story.moment(DOCUMENT_SITE, record["day"], ACTION_DONE))
