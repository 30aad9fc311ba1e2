"""Living checklists: drafts, frozen published versions, review dates, diffs, JSON files.

A template family is every version of one checklist (same `family_id`). Only a draft can
change. Publishing freezes it and retires the version before it; editing a published
checklist means starting the next version as a draft. Audits point at the template row
they were started on, so they keep their version whatever happens to the family later.
"""

import difflib
import json
from datetime import date, datetime, timedelta
from importlib import resources

from sqlalchemy import func, select

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..fieldrules import MAX_DEDUCTION, MAX_OPTIONS, MAX_WEIGHT, FieldErrors
from ..ids import uuid_or_none
from ..models import FindingKind, Question, QuestionKind, Template, TemplateStatus, User, happened_at, new_id
from ..permissions import require
from ..schemas.checklists import FORMAT, ChecklistFileSchema
from ..textin import refuse as refuse_bad_text
from . import documents, feed, trail
from .records import load_for

K = QuestionKind
FIXED_ANSWERS = {K.YES_NO_NA: ("yes", "no", "na"), K.PASS_FAIL: ("pass", "fail")}
DEFAULT_REVIEW_DAYS = 365
QUESTION_FIELDS = ("section", "text", "guidance", "kind", "options", "required", "clause",
                   "finding_answers", "photo_answers", "weight")
# The kinds whose answer a later question's show-if can test.
SHOW_IF_SOURCES = {K.YES_NO_NA, K.PASS_FAIL, K.SCORE, K.CHOICE, K.MULTI_CHOICE}


# The special answer a number question with limits lists in finding_answers or
# photo_answers: an answer outside [lowest, highest] then calls for a finding or a photo.
OUT_OF_RANGE = "out_of_range"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def out_of_range(kind: str, options, value) -> bool:
    """Whether `value` answers a number question with limits `options` outside them."""
    if kind != K.NUMBER or not options or len(options) != 2 or not _is_number(value):
        return False
    return not options[0] <= value <= options[1]


def answer_matches(values, answer) -> bool:
    """Whether `answer` is one of `values`; a multiple-choice answer (a list) when any value it
    holds is."""
    chosen = answer if isinstance(answer, list) else [answer]
    return any(v in values for v in chosen if v is not None and not isinstance(v, (list, dict)))


def answer_calls_for(answers, kind: str, options, value) -> bool:
    """Whether `value` is one of the special `answers` (finding_answers or photo_answers) of
    a question: listed as it is (a multiple-choice answer: any value chosen), or out of a
    number's range when "out_of_range" is listed. Callers ask it only of questions
    `visibility` shows: a hidden question calls for nothing."""
    answers = answers or []
    return answer_matches(answers, value) or (OUT_OF_RANGE in answers and out_of_range(kind, options, value))


def visibility(questions, answers: dict) -> dict:
    """Which of a checklist's `questions` an audit shows, given its `answers` (question id ->
    value): {question id: True | False}.

    The one rule of show-if, shared by the submit check, the score, what counts as answered,
    coverage, the register and the PDF (the field app's `records.visibility` mirrors it). A
    question with `show_if` is shown when the earlier question it names is itself shown and
    that question's answer is one of the listed values (a multiple-choice answer: any value
    chosen). A hidden question is not required, not scored and calls for no finding or photo;
    its answer, if one was given before, is kept but counts for nothing.
    """
    shown: dict = {}
    for question in sorted(questions, key=lambda q: q.position):
        rule = question.show_if
        if not rule:
            shown[question.id] = True
            continue
        source = uuid_or_none(rule.get("question_id"))
        shown[question.id] = bool(shown.get(source)) and answer_matches(rule.get("values") or [], answers.get(source))
    return shown


def hidden_because(question: Question, questions) -> str:
    """Why `question` is hidden, for a reader: "shown only when 3. Is ...? is yes or no"."""
    rule = question.show_if or {}
    source = next((q for q in questions if str(q.id) == str(rule.get("question_id"))), None)
    values = " or ".join(map(str, rule.get("values") or []))
    if source is None:
        return f"shown only when an earlier answer is {values}"
    return f"shown only when {source.position}. {source.text} is {values}"


def allowed_answers(kind: str, options) -> set | None:
    """The answers a question of `kind` with `options` can get, when they can be listed."""
    if kind in FIXED_ANSWERS:
        return set(FIXED_ANSWERS[kind])
    if kind == K.SCORE and len(options or []) == 2 and all(isinstance(v, int) for v in options):
        return set(range(options[0], options[1] + 1))
    if kind in (K.CHOICE, K.MULTI_CHOICE):
        return set(options or [])
    return None


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
    elif kind in (K.CHOICE, K.MULTI_CHOICE):
        cleaned = [v.strip() for v in options if isinstance(v, str)]
        if len(cleaned) != len(options) or len(cleaned) < 2 or not all(cleaned) or len(set(cleaned)) != len(cleaned):
            errors["options"] = ["A choice needs at least two different, non-empty options."]
        elif len(cleaned) > MAX_OPTIONS:
            errors["options"] = [f"At most {MAX_OPTIONS} options."]
        else:
            allowed = set(cleaned)
    elif kind == K.NUMBER:
        if options and (len(options) != 2 or not all(_is_number(v) for v in options) or options[0] >= options[1]):
            errors["options"] = ["A number takes no options, or [lowest, highest] allowed values."]
        allowed = {OUT_OF_RANGE} if options else set()
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


def weight_error(weight) -> str | None:
    """What is wrong with a question's weight, if anything."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= MAX_WEIGHT:
        return f"A weight is a number from 0 (not scored) to {MAX_WEIGHT}."
    return None


def show_if_errors(rule, position: int, questions) -> list[str]:
    """What is wrong with `rule` ({"question_id", "values"}) for the question at `position`
    among `questions` (its checklist's): it must name an earlier question whose answers can
    be listed, and values that question can get."""
    if rule is None:
        return []
    if not isinstance(rule, dict) or set(rule) != {"question_id", "values"} or not isinstance(rule["values"], list):
        return ["Show-if names an earlier question and the answers that show this one."]
    source = next((q for q in questions if str(q.id) == str(rule["question_id"])), None)
    if source is None:
        return ["Show-if names a question that is not in this checklist."]
    if source.position >= position:
        return [f"Show-if must test an earlier question (question {source.position} comes after or is this one)."]
    if source.kind not in SHOW_IF_SOURCES:
        return [f"Show-if can test a yes/no/N/A, pass/fail, score or choice question, not a {source.kind} one."]
    values = rule["values"]
    if not values or len(values) > MAX_OPTIONS:
        return [f"List from 1 to {MAX_OPTIONS} answers that show this question."]
    allowed = allowed_answers(source.kind, source.options)
    wrong = [v for v in values if isinstance(v, bool) or allowed is None or v not in allowed]
    if wrong:
        return [f"Question {source.position} cannot be answered {', '.join(map(str, wrong[:5]))}."]
    return []


def scoring_errors(scoring) -> list[str]:
    """What is wrong with a checklist's scoring rule: {"deductions": {finding kind: points}}."""
    if scoring is None:
        return []
    kinds = [k.value for k in FindingKind]
    if not isinstance(scoring, dict) or set(scoring) - {"deductions"} or not isinstance(scoring.get("deductions", {}), dict):
        return ["Scoring is {\"deductions\": {finding kind: points}}."]
    problems = []
    for kind, points in scoring.get("deductions", {}).items():
        if kind not in kinds:
            problems.append(f"{kind!r} is not a kind of finding ({', '.join(kinds)}).")
        elif isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= MAX_DEDUCTION:
            problems.append(f"A {kind} takes off 0 to {MAX_DEDUCTION} points.")
    return problems


def _clean_scoring(scoring) -> dict | None:
    problems = scoring_errors(scoring)
    if problems:
        raise Invalid("The scoring rule is not valid.", {"scoring": problems})
    deductions = {k: v for k, v in (scoring or {}).get("deductions", {}).items() if v}
    return {"deductions": deductions} if deductions else None


def _check_question(values: dict, prefix: str = "") -> None:
    errors = question_errors(values["kind"], values.get("options") or [], values.get("finding_answers") or [],
                             values.get("photo_answers") or [])
    if errors:
        raise Invalid("The question is not valid.", {prefix + name: msgs for name, msgs in errors.items()})


def get_template(user: User, template_id, permission: str = "template.edit") -> Template:
    """Load a checklist version for `user`, who must have `permission`.

    :raise 404: no such checklist. :raise 403: the user may not `permission` it.
    """
    return load_for(user, Template, template_id, permission, "There is no such checklist.")


def get_question(template: Template, question_id) -> Question:
    """:raise 404: unless `question_id` is a question of `template`."""
    question = db.session.get(Question, uuid_or_none(question_id)) if uuid_or_none(question_id) else None
    if question is None or question.template_id != template.id:
        raise NotFound("There is no such question in this checklist.")
    return question


def family_versions(family_id) -> list[Template]:
    return list(db.session.scalars(select(Template).where(Template.family_id == family_id).order_by(Template.version)))


def _draft_of(family_id) -> Template | None:
    return db.session.scalar(select(Template).where(Template.family_id == family_id, Template.status == TemplateStatus.DRAFT))


def publish(actor: User | None, template: Template, today: date | None = None,
            at: datetime | None = None) -> Template:
    """Freeze a draft as the family's current version (`at`, or now), retiring the one it replaces.

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
        problems = show_if_errors(question.show_if, question.position, template.questions)
        if problems:
            raise Invalid(f"Question {question.position}: {problems[0]}", {"show_if": problems})
        if question.document_revision_id:
            try:
                documents.citable_revision(question.document_revision_id)
            except Invalid as exc:
                raise Invalid(f"Question {question.position} cites a revision that is no longer current: "
                              "cite the current one before publishing.", exc.fields) from None
    today = today or date.today()
    for older in family_versions(template.family_id):
        if older.status == TemplateStatus.PUBLISHED:
            older.status = TemplateStatus.RETIRED
            feed.publish("template", older.id, older.version)
    template.status = TemplateStatus.PUBLISHED
    template.published_at = happened_at(at)
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
    refuse_bad_text(data, "file")  # NUL, lone surrogates, too deep: the database cannot take them
    values = ChecklistFileSchema().load(data)
    values |= _check_details(values["name"], values["standard"], values["description"])
    rules = [question.get("show_if") for question in values["questions"]]
    values["questions"] = [_clean_question(question, prefix=f"questions.{index}.")
                           for index, question in enumerate(values["questions"])]
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
        scoring=_clean_scoring(values.get("scoring")),
    )
    if latest is not None:
        if _draft_of(latest.family_id) is not None:
            raise Invalid(f"{values['name']!r} already has an unpublished draft; publish or delete it first.",
                          {"name": ["A draft of this checklist exists."]})
        template.family_id = latest.family_id
        template.version = db.session.scalar(
            select(func.max(Template.version)).where(Template.family_id == latest.family_id)
        ) + 1
    made = [Question(id=new_id(), position=position, **{f: question[f] for f in QUESTION_FIELDS})
            for position, question in enumerate(values["questions"], start=1)]
    errors = FieldErrors()
    for question, rule in zip(made, rules):
        if rule is None:
            continue
        # In the file a show-if names the earlier question by its number (1 = the first).
        source = made[rule["question"] - 1] if 1 <= rule["question"] <= len(made) else None
        question.show_if = {"question_id": str(source.id) if source else "", "values": list(rule["values"])}
        for problem in show_if_errors(question.show_if, question.position, made):
            errors.add(f"questions.{question.position - 1}.show_if", problem)
    errors.raise_if_any("A question's show-if is not valid.")
    template.questions.extend(made)
    db.session.add(template)
    db.session.flush()
    trail.record(actor, "template.imported", "template", template.id,
                 {"name": template.name, "version": template.version, "questions": len(template.questions)})
    return template


def export_checklist(template: Template) -> dict:
    """The checklist as a file another site can import."""
    exported = {
        "format": FORMAT,
        "name": template.name,
        "standard": template.standard,
        "description": template.description or "",
        "review_due": template.review_due.isoformat() if template.review_due else None,
        "questions": [_exported_question(q, template.questions) for q in template.questions],
    }
    if template.scoring:
        exported["scoring"] = template.scoring
    return exported


def _exported_question(question: Question, questions) -> dict:
    # Fields added after the first files (weight, show_if) are written only when set, so a
    # checklist that does not use them exports exactly as before.
    out = {f: getattr(question, f) for f in QUESTION_FIELDS if f != "weight"}
    weight = 1 if question.weight is None else question.weight
    if weight != 1:
        out["weight"] = int(weight) if float(weight).is_integer() else weight
    if question.show_if:
        source = next((q for q in questions if str(q.id) == question.show_if["question_id"]), None)
        out["show_if"] = {"question": source.position if source else 0, "values": list(question.show_if["values"])}
    return out


def bundled_checklist(filename: str) -> dict:
    """Read one of the checklist files shipped in `server/checklists/`."""
    return json.loads(resources.files("server").joinpath("checklists", filename).read_text(encoding="utf-8"))


# --- the builder: only drafts change ---------------------------------------------------

def _editable(actor: User | None, template: Template) -> None:
    if actor is not None:
        require(actor, "template.edit")
    if template.status != TemplateStatus.DRAFT:
        raise StateError(f"Version {template.version} of {template.name!r} is {template.status} and frozen; "
                         "start a new version to change it.")


def set_scoring(actor: User, template: Template, scoring: dict | None) -> Template:
    """State how findings weigh on a draft's score: {"deductions": {finding kind: points}}."""
    _editable(actor, template)
    template.scoring = _clean_scoring(scoring)
    db.session.flush()
    trail.record(actor, "template.scoring", "template", template.id, {"scoring": template.scoring})
    return template


def _check_details(name: str, standard: str, description: str) -> dict:
    errors = FieldErrors()
    values = {
        "name": errors.text("name", name, "name", required=True, label="A name for the checklist"),
        "standard": errors.text("standard", standard, "standard", required=True,
                                label="The standard (e.g. ISO 9001:2015)"),
        "description": errors.text("description", description, "guidance"),
    }
    errors.raise_if_any("The checklist is not valid.")
    return values


def create_draft(actor: User, name: str, standard: str, description: str = "",
                 review_due: date | None = None) -> Template:
    """Start a new checklist family with an empty draft, version 1."""
    require(actor, "template.edit")
    template = Template(status=TemplateStatus.DRAFT, review_due=review_due, created_by_id=actor.id,
                        **_check_details(name, standard, description))
    db.session.add(template)
    db.session.flush()
    trail.record(actor, "template.created", "template", template.id, {"name": template.name})
    return template


_KEEP = object()


def update_details(actor: User, template: Template, name: str, standard: str, description: str,
                   review_due: date | None, scoring=_KEEP) -> Template:
    """Change a draft's name, standard, description, review date and (when given) its
    scoring rule ({"deductions": {finding kind: points}})."""
    _editable(actor, template)
    values = _check_details(name, standard, description)
    if scoring is not _KEEP:
        template.scoring = _clean_scoring(scoring)
    for key, value in values.items():
        setattr(template, key, value)
    template.review_due = review_due
    db.session.flush()
    return template


def _clean_question(values: dict, prefix: str = "") -> dict:
    """Return a question's fields cleaned. :raise Invalid: naming each field as `prefix` + name."""
    errors = FieldErrors()
    cleaned = {
        "section": errors.text(prefix + "section", values.get("section"), "name", required=True, label="The section"),
        "text": errors.text(prefix + "text", values.get("text"), "question", required=True, label="The question"),
        "guidance": errors.text(prefix + "guidance", values.get("guidance"), "guidance"),
        "kind": values.get("kind") or "",
        "options": list(values.get("options") or []),
        "required": bool(values.get("required", True)),
        "clause": errors.text(prefix + "clause", values.get("clause"), "clause"),
        "finding_answers": list(values.get("finding_answers") or []),
        "photo_answers": list(values.get("photo_answers") or []),
        "weight": 1 if values.get("weight") is None else values.get("weight"),
    }
    problem = weight_error(cleaned["weight"])
    if problem:
        errors.add(prefix + "weight", problem)
    for name, messages in question_errors(cleaned["kind"], cleaned["options"], cleaned["finding_answers"],
                                          cleaned["photo_answers"]).items():
        for message in messages:
            errors.add(prefix + name, message)
    errors.raise_if_any("The question is not valid.")
    return cleaned


def _citation(values: dict):
    """The document revision `values` cite (None for none). :raise Invalid: not a current approved revision."""
    revision_id = values.get("document_revision_id")
    return documents.citable_revision(revision_id).id if revision_id else None


def _clean_show_if(values: dict, position: int, questions):
    """The show-if of a question at `position` from the builder: {"question_id", "values"} or None."""
    rule = values.get("show_if")
    if not rule:
        return None
    if isinstance(rule, dict) and isinstance(rule.get("values"), list):
        rule = {"question_id": str(rule.get("question_id") or ""), "values": rule["values"]}
    problems = show_if_errors(rule, position, questions)
    if problems:
        raise Invalid("The question is not valid.", {"show_if": problems})
    return rule


def add_question(actor: User, template: Template, values: dict) -> Question:
    """Append a question to a draft; it may cite a current approved document revision and be
    shown only when an earlier answer is one of given values (`show_if`)."""
    _editable(actor, template)
    cleaned = _clean_question(values)
    position = max((q.position for q in template.questions), default=0) + 1
    show_if = _clean_show_if(values, position, template.questions)
    question = Question(position=position, document_revision_id=_citation(values), show_if=show_if, **cleaned)
    template.questions.append(question)
    db.session.flush()
    if values.get("whole_section"):
        set_section_show_if(actor, template, question.section, show_if)
    return question


def update_question(actor: User, question: Question, values: dict) -> Question:
    _editable(actor, question.template)
    cleaned = _clean_question(values)
    show_if = _clean_show_if(values, question.position, question.template.questions) if "show_if" in values \
        else question.show_if
    for key, value in cleaned.items():
        setattr(question, key, value)
    question.show_if = show_if
    if "document_revision_id" in values:
        question.document_revision_id = _citation(values)
    db.session.flush()
    if values.get("whole_section"):
        set_section_show_if(actor, question.template, question.section, show_if)
    return question


def set_section_show_if(actor: User, template: Template, section: str, rule: dict | None) -> list[Question]:
    """Show a whole section only when an earlier answer is one of given values (None: always):
    every question of the section gets the same show-if."""
    _editable(actor, template)
    questions = [q for q in template.questions if q.section == section]
    if not questions:
        raise Invalid("There is no such section.", {"section": ["No question has this section."]})
    rules = [_clean_show_if({"show_if": rule}, q.position, template.questions) for q in questions]
    for question, cleaned in zip(questions, rules):
        question.show_if = cleaned
    db.session.flush()
    return questions


def _renumber(template: Template, ordered: list[Question]) -> None:
    # Two passes keep (template, position) unique at every flush.
    for offset, question in enumerate(ordered, start=1):
        question.position = -offset
    db.session.flush()
    for offset, question in enumerate(ordered, start=1):
        question.position = offset
    db.session.flush()
    db.session.expire(template, ["questions"])


def delete_question(actor: User, question: Question) -> None:
    """Remove a question from a draft. :raise Invalid: while a later question's show-if tests it."""
    template = question.template
    _editable(actor, template)
    dependents = [q.position for q in template.questions if q.show_if and q.show_if.get("question_id") == str(question.id)]
    if dependents:
        raise Invalid(f"Question {', '.join(map(str, dependents))} is shown only after this one's answer; "
                      "change its show-if first.", {"show_if": ["Other questions depend on this one."]})
    rest = [q for q in template.questions if q.id != question.id]
    template.questions.remove(question)
    db.session.flush()
    _renumber(template, rest)


def move_question(actor: User, question: Question, step: int) -> None:
    """Move a question `step` places up (negative) or down (positive) in its draft."""
    template = question.template
    _editable(actor, template)
    ordered = list(template.questions)
    index = ordered.index(question)
    target = max(0, min(len(ordered) - 1, index + step))
    ordered.insert(target, ordered.pop(index))
    _renumber(template, ordered)


def new_version(actor: User, template: Template) -> Template:
    """Start the next version of a checklist as a draft copy of `template`.

    When the family already has a draft, that draft is returned: there is one at a time.
    """
    require(actor, "template.edit")
    existing = _draft_of(template.family_id)
    if existing is not None:
        return existing
    version = db.session.scalar(select(func.max(Template.version)).where(Template.family_id == template.family_id)) + 1
    draft = Template(family_id=template.family_id, version=version, status=TemplateStatus.DRAFT,
                     name=template.name, standard=template.standard, description=template.description,
                     review_due=template.review_due, created_by_id=actor.id, scoring=template.scoring)
    new_ids = {str(q.id): new_id() for q in template.questions}
    for question in template.questions:
        show_if = None
        if question.show_if:  # the copy's show-if names the copy of its question
            show_if = {"question_id": str(new_ids.get(question.show_if["question_id"], "")),
                       "values": list(question.show_if["values"])}
        draft.questions.append(Question(id=new_ids[str(question.id)], position=question.position,
                                        document_revision_id=question.document_revision_id, show_if=show_if,
                                        **{f: _copy(getattr(question, f)) for f in QUESTION_FIELDS}))
    db.session.add(draft)
    db.session.flush()
    trail.record(actor, "template.new_version", "template", draft.id,
                 {"name": draft.name, "version": version, "from": str(template.id)})
    return draft


def _copy(value):
    return list(value) if isinstance(value, list) else value


def delete_draft(actor: User, template: Template) -> None:
    """Throw away a draft that was never published."""
    _editable(actor, template)
    trail.record(actor, "template.draft_deleted", "template", template.id,
                 {"name": template.name, "version": template.version})
    db.session.delete(template)
    db.session.flush()


def retire(actor: User, template: Template) -> Template:
    """Stop offering a published checklist for new audits; audits on it keep it."""
    require(actor, "template.edit")
    if template.status != TemplateStatus.PUBLISHED:
        raise StateError("Only the published version can be retired.")
    template.status = TemplateStatus.RETIRED
    db.session.flush()
    feed.publish("template", template.id, template.version)
    trail.record(actor, "template.retired", "template", template.id, {"name": template.name, "version": template.version})
    return template


def mark_reviewed(actor: User, template: Template, next_due: date, today: date | None = None) -> Template:
    """Record that a published checklist was reviewed and still fits, until `next_due`.

    The questions stay frozen; a review that changes anything starts a new version instead.
    """
    require(actor, "template.edit")
    today = today or date.today()
    if template.status != TemplateStatus.PUBLISHED:
        raise StateError("Only the published version is reviewed; a draft gets its date when published.")
    if next_due is None or next_due <= today:
        raise Invalid("The next review must be after today.", {"review_due": ["Pick a date after today."]})
    old = template.review_due
    template.review_due = next_due
    db.session.flush()
    trail.record(actor, "template.reviewed", "template", template.id, {"review_due": [old, next_due]})
    return template


# --- reading ---------------------------------------------------------------------------

def current_versions() -> list[Template]:
    """The newest version of every checklist family, by name."""
    newest = (select(Template.family_id, func.max(Template.version).label("version"))
              .group_by(Template.family_id).subquery())
    return list(db.session.scalars(
        select(Template).join(newest, (Template.family_id == newest.c.family_id) & (Template.version == newest.c.version))
        .order_by(Template.name)
    ))


def published_templates() -> list[Template]:
    return list(db.session.scalars(
        select(Template).where(Template.status == TemplateStatus.PUBLISHED).order_by(Template.name)
    ))


def overdue_for_review(today: date | None = None) -> list[Template]:
    """Published checklists whose review date has come."""
    today = today or date.today()
    return list(db.session.scalars(
        select(Template).where(Template.status == TemplateStatus.PUBLISHED, Template.review_due <= today)
        .order_by(Template.review_due)
    ))


def _signature(question: Question) -> tuple:
    return (question.section, question.text)


def _show_if_signature(question: Question) -> tuple | None:
    """A show-if as two versions can compare it: the tested question's section and text."""
    if not question.show_if:
        return None
    source = next((q for q in question.template.questions if str(q.id) == question.show_if["question_id"]), None)
    return (_signature(source) if source else None, tuple(map(str, question.show_if["values"])))


def _changed_fields(a: Question, b: Question) -> list[str]:
    fields = [f for f in QUESTION_FIELDS if getattr(a, f) != getattr(b, f)]
    if _show_if_signature(a) != _show_if_signature(b):
        fields.append("show_if")
    return fields


def diff(old: Template, new: Template) -> list[dict]:
    """Line up the questions of two versions side by side.

    Each row is {"change": "same" | "changed" | "added" | "removed", "old", "new", "fields"}:
    questions are matched by section and text; a question reworded in place counts as
    changed, as does one whose kind, clause, options, special answers, weight or show-if
    (the question it tests and the values) moved.
    """
    left, right = list(old.questions), list(new.questions)
    matcher = difflib.SequenceMatcher(a=[_signature(q) for q in left], b=[_signature(q) for q in right], autojunk=False)
    rows = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for a, b in zip(left[i1:i2], right[j1:j2]):
                fields = _changed_fields(a, b)
                rows.append({"change": "changed" if fields else "same", "old": a, "new": b, "fields": fields})
            continue
        olds, news = left[i1:i2], right[j1:j2]
        for index in range(max(len(olds), len(news))):
            a = olds[index] if index < len(olds) else None
            b = news[index] if index < len(news) else None
            if a is not None and b is not None:
                fields = _changed_fields(a, b)
                rows.append({"change": "changed", "old": a, "new": b, "fields": fields})
            else:
                rows.append({"change": "removed" if b is None else "added", "old": a, "new": b, "fields": []})
    return rows
