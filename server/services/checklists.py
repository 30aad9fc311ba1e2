"""Living checklists: drafts, frozen published versions, review dates, diffs, JSON files.

A template family is every version of one checklist (same `family_id`). Only a draft can
change. Publishing freezes it and retires the version before it; editing a published
checklist means starting the next version as a draft. Audits point at the template row
they were started on, so they keep their version whatever happens to the family later.
"""

import json
from datetime import date, timedelta
from importlib import resources

from sqlalchemy import func, select

from ..errors import Invalid, StateError
from ..extensions import db
from ..models import Question, QuestionKind, Template, TemplateStatus, User, utcnow
from ..permissions import require
from ..schemas.checklists import FORMAT, ChecklistFileSchema
from . import feed, trail

K = QuestionKind
FIXED_ANSWERS = {K.YES_NO_NA: ("yes", "no", "na"), K.PASS_FAIL: ("pass", "fail")}
DEFAULT_REVIEW_DAYS = 365
QUESTION_FIELDS = ("section", "text", "guidance", "kind", "options", "required", "clause",
                   "finding_answers", "photo_answers")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def question_errors(kind: str, options: list, finding_answers: list, photo_answers: list) -> dict[str, list[str]]:
    """Say what is wrong with the options and special answers of a question of `kind`."""
    errors: dict[str, list[str]] = {}
    allowed = None
    if kind in FIXED_ANSWERS:
        if options:
            errors["options"] = [f"A {kind.replace('_', '/')} question has fixed answers and takes no options."]
        allowed = set(FIXED_ANSWERS[kind])
    elif kind == K.SCORE:
        if len(options) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in options) \
                or options[0] >= options[1] or options[1] - options[0] > 100:
            errors["options"] = ["A score needs [lowest, highest]: two whole numbers, lowest first, at most 100 apart."]
        else:
            allowed = set(range(options[0], options[1] + 1))
    elif kind == K.CHOICE:
        cleaned = [v.strip() for v in options if isinstance(v, str)]
        if len(cleaned) != len(options) or len(cleaned) < 2 or not all(cleaned) or len(set(cleaned)) != len(cleaned):
            errors["options"] = ["A choice needs at least two different, non-empty options."]
        else:
            allowed = set(cleaned)
    elif kind == K.NUMBER:
        if options and (len(options) != 2 or not all(_is_number(v) for v in options) or options[0] >= options[1]):
            errors["options"] = ["A number takes no options, or [lowest, highest] allowed values."]
        allowed = set()
    elif kind in (K.TEXT, K.DATE, K.PHOTO):
        if options:
            errors["options"] = [f"A {kind} question takes no options."]
        allowed = set()
    else:
        errors["kind"] = [f"Kind must be one of {', '.join(k.value for k in K)}."]
    if allowed is not None:
        for name, answers in (("finding_answers", finding_answers), ("photo_answers", photo_answers)):
            wrong = [a for a in answers if a not in allowed]
            if wrong:
                errors[name] = [f"Not an answer this question can get: {', '.join(map(str, wrong))}."
                                if allowed else f"A {kind} question has no answers to list here."]
    return errors


def _check_question(values: dict, prefix: str = "") -> None:
    errors = question_errors(values["kind"], values.get("options") or [], values.get("finding_answers") or [],
                             values.get("photo_answers") or [])
    if errors:
        raise Invalid("The question is not valid.", {prefix + name: msgs for name, msgs in errors.items()})


def family_versions(family_id) -> list[Template]:
    return list(db.session.scalars(select(Template).where(Template.family_id == family_id).order_by(Template.version)))


def _draft_of(family_id) -> Template | None:
    return db.session.scalar(select(Template).where(Template.family_id == family_id, Template.status == TemplateStatus.DRAFT))


def publish(actor: User | None, template: Template, today: date | None = None) -> Template:
    """Freeze a draft as the family's current version, retiring the one it replaces.

    :raise StateError: when `template` is not a draft. :raise Invalid: when it has no questions.
    """
    if actor is not None:
        require(actor, "template.edit")
    if template.status != TemplateStatus.DRAFT:
        raise StateError("Only a draft can be published; start a new version to change this checklist.")
    if not template.questions:
        raise Invalid("Add at least one question before publishing.", {"questions": ["No questions yet."]})
    for question in template.questions:
        _check_question({f: getattr(question, f) for f in QUESTION_FIELDS})
    today = today or date.today()
    for older in family_versions(template.family_id):
        if older.status == TemplateStatus.PUBLISHED:
            older.status = TemplateStatus.RETIRED
            feed.publish("template", older.id, older.version)
    template.status = TemplateStatus.PUBLISHED
    template.published_at = utcnow()
    if template.review_due is None:
        template.review_due = today + timedelta(days=DEFAULT_REVIEW_DAYS)
    db.session.flush()
    feed.publish("template", template.id, template.version)
    trail.record(actor, "template.published", "template", template.id,
                 {"name": template.name, "version": template.version})
    return template


def import_checklist(actor: User | None, data, today: date | None = None) -> Template:
    """Create a draft from a checklist file (see `schemas.checklists`).

    A file whose name matches an existing checklist becomes that checklist's next
    version, so a site can take in an updated checklist and diff it before publishing.

    :raise ValidationError: on a malformed file. :raise Invalid: on a question that makes no
    sense, or when the checklist already has an unpublished draft.
    """
    if actor is not None:
        require(actor, "template.edit")
    values = ChecklistFileSchema().load(data)
    for index, question in enumerate(values["questions"]):
        _check_question(question, prefix=f"questions.{index}.")
    today = today or date.today()
    review_due = values["review_due"]
    if review_due is None and values["review_due_days"]:
        review_due = today + timedelta(days=values["review_due_days"])
    latest = db.session.scalar(
        select(Template).where(Template.name == values["name"]).order_by(Template.version.desc()).limit(1)
    )
    template = Template(
        name=values["name"], standard=values["standard"], description=values["description"],
        review_due=review_due, status=TemplateStatus.DRAFT, created_by_id=actor.id if actor else None,
    )
    if latest is not None:
        if _draft_of(latest.family_id) is not None:
            raise Invalid(f"{values['name']!r} already has an unpublished draft; publish or delete it first.",
                          {"name": ["A draft of this checklist exists."]})
        template.family_id = latest.family_id
        template.version = db.session.scalar(
            select(func.max(Template.version)).where(Template.family_id == latest.family_id)
        ) + 1
    for position, question in enumerate(values["questions"], start=1):
        template.questions.append(Question(position=position, **{f: question[f] for f in QUESTION_FIELDS}))
    db.session.add(template)
    db.session.flush()
    trail.record(actor, "template.imported", "template", template.id,
                 {"name": template.name, "version": template.version, "questions": len(template.questions)})
    return template


def export_checklist(template: Template) -> dict:
    """The checklist as a file another site can import."""
    return {
        "format": FORMAT,
        "name": template.name,
        "standard": template.standard,
        "description": template.description or "",
        "review_due": template.review_due.isoformat() if template.review_due else None,
        "questions": [{f: getattr(q, f) for f in QUESTION_FIELDS} for q in template.questions],
    }


def bundled_checklist(filename: str) -> dict:
    """Read one of the checklist files shipped in `server/checklists/`."""
    return json.loads(resources.files("server").joinpath("checklists", filename).read_text(encoding="utf-8"))
