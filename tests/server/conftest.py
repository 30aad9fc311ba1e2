"""Fixtures of the server tests: a world with one record of each kind, for walks of every route."""

import hashlib
import io

import pytest
from PIL import Image

from server.extensions import db
from sqlalchemy import select

from server.models import Conflict, PhotoSubject, Qualification, WebhookDelivery
from server.services import calendars, evidence, notify, photos, sessions, tokens, webhooks
from server.services.throttle import Client


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(make, commit):
    home = make.area(name="Assembly")
    other = make.area(name="Dispatch")
    people = {
        "staff": make.user("staff", home_area=home),
        "auditor": make.user("auditor", home_area=home),
        "supervisor": make.user("supervisor"),
        "admin": make.user("admin"),
    }
    template = make.template(questions=4)
    audit = make.audit(template, other, people["auditor"], status="submitted")
    finding = make.finding(home, people["staff"])
    action = make.action(finding, people["staff"])
    photo_bytes = _png()
    sha = hashlib.sha256(photo_bytes).hexdigest()
    photos.intake(people["staff"], sha, photo_bytes, "image/png")
    evidence.link_photos(people["staff"], PhotoSubject.FINDING, finding.id, [sha])
    # someone's other browser and integration, for the account routes
    other_session = sessions.start_session(people["staff"], Client(address="192.0.2.1"))
    token, _ = tokens.issue_token(people["staff"], "erp")
    conflict = Conflict(entity="finding", entity_id=str(finding.id), field="title", server_value="a",
                        device_value="b", base_version=1, server_version=2, user_id=people["staff"].id)
    qualification = Qualification(user_id=people["auditor"].id, standard="ISO 9001")
    db.session.add_all([conflict, qualification])
    # a webhook with one delivery, and a calendar address of someone the walk does not sign in as
    hook = webhooks.create_webhook(people["admin"], "http://127.0.0.1:9/hook", ["finding.raised"])
    notify.finding_raised(people["staff"], finding)
    notify.expand()
    delivery = db.session.scalar(select(WebhookDelivery))
    calendar_token = calendars.new_feed(make.user("staff"))
    commit()
    values = {
        "audit_id": audit.id, "area_id": other.id, "action_id": action.id, "finding_id": finding.id, "template_id": template.id,
        "question_id": template.questions[0].id, "conflict_id": conflict.id,
        "qualification_id": qualification.id, "sha256": sha, "filename": "index.html",
        "session_id": other_session.id, "token_id": token.id,
        "webhook_id": hook.id, "delivery_id": delivery.id, "token": calendar_token,
        # what the pages about these records are headed with
        "finding_title": finding.title, "template_name": template.name, "area_label": other.label,
    }
    return people, values
