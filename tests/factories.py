"""Factories with sensible defaults; pass **overrides for what a test cares about."""

import itertools
from datetime import date, timedelta

from server.extensions import db
from server.models import (
    Area,
    Audit,
    AuditStatus,
    Comment,
    CorrectiveAction,
    Finding,
    FindingKind,
    Question,
    QuestionKind,
    Role,
    Site,
    Template,
    TemplateStatus,
    User,
    utcnow,
)
from server.services import accounts, organisation

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def site(name: str = "Test site", timezone: str = "Europe/London") -> Site:
    """The site called `name`, made on first use."""
    return organisation.find_site(name) or organisation.create_site(None, name, timezone)


def area(**overrides) -> Area:
    n = next(_counter)
    values = {"site": "Test site", "name": f"Area {n}"} | overrides
    place = values.pop("site")
    obj = Area(site_id=(place if isinstance(place, Site) else site(place)).id, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: str = Role.STAFF, **overrides) -> User:
    n = next(_counter)
    password = overrides.pop("password", PASSWORD)
    home_area = overrides.pop("home_area", None)
    obj = accounts.create_user(
        overrides.pop("email", f"{role}{n}@example.test"), role, password,
        name=overrides.pop("name", f"{role.title()} {n}"), home_area=home_area,
    )
    for key, value in overrides.items():
        setattr(obj, key, value)
    db.session.flush()
    return obj


def template(questions: int = 4, **overrides) -> Template:
    values = {
        "name": "Internal audit",
        "standard": "ISO 9001:2015",
        "status": TemplateStatus.PUBLISHED,
        "published_at": utcnow(),
        "review_due": date.today() + timedelta(days=180),
    } | overrides
    obj = Template(**values)
    kinds = [QuestionKind.YES_NO_NA, QuestionKind.PASS_FAIL, QuestionKind.SCORE, QuestionKind.TEXT]
    for i in range(questions):
        kind = kinds[i % len(kinds)]
        obj.questions.append(Question(
            section="Section A" if i < questions / 2 else "Section B",
            position=i + 1,
            text=f"Question {i + 1}?",
            kind=kind,
            options=[0, 5] if kind == QuestionKind.SCORE else [],
            clause=f"7.{i + 1}",
            finding_answers=["no"] if kind == QuestionKind.YES_NO_NA else (["fail"] if kind == QuestionKind.PASS_FAIL else []),
        ))
    db.session.add(obj)
    db.session.flush()
    return obj


def audit(template: Template, area: Area, auditor: User | None, **overrides) -> Audit:
    values = {"planned_date": date.today(), "status": AuditStatus.PLANNED} | overrides
    obj = Audit(template_id=template.id, area_id=area.id, auditor_id=auditor.id if auditor else None, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def finding(area: Area, raised_by: User, **overrides) -> Finding:
    values = {"kind": FindingKind.MINOR_NC, "title": "Fire door wedged open", "clause": "8.1"} | overrides
    obj = Finding(area_id=area.id, raised_by_id=raised_by.id, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def action(finding: Finding, owner: User | None, **overrides) -> CorrectiveAction:
    values = {"plan": "Fit a door closer", "due_date": date.today() + timedelta(days=14)} | overrides
    obj = CorrectiveAction(finding_id=finding.id, owner_id=owner.id if owner else None, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def comment(author: User, body: str = "Please add a photo of the label.", **subject) -> Comment:
    obj = Comment(author_id=author.id, body=body, **subject)
    db.session.add(obj)
    db.session.flush()
    return obj
