"""Fixtures of the server tests: a world with one record of each kind, for walks of every route."""

import hashlib
import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Conflict, ManagementReview, Objective, PhotoSubject, ReviewAction, WebhookDelivery,
)
from server.services import (
    calendars, competence, documents, evidence, invitations, notify, photos, programme, sessions, tokens, webhooks,
)
from server.services.throttle import Client
from tests import documents as document_files
from tests.mailbox import MailServer


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
    link = invitations.issue(None, people["auditor"])  # a reset link, for the page it opens (staff's is resent in the walk)
    conflict = Conflict(entity="finding", entity_id=str(finding.id), field="title", server_value="a",
                        device_value="b", base_version=1, server_version=2, user_id=people["staff"].id)
    qualification = programme.set_qualification(people["supervisor"], people["auditor"], "ISO 9001", None)
    # a webhook with one delivery, and a calendar address of someone the walk does not sign in as
    hook = webhooks.create_webhook(people["admin"], "http://127.0.0.1:9/hook", ["finding.raised"])
    notify.finding_raised(people["staff"], finding)
    notify.expand()
    delivery = db.session.scalar(select(WebhookDelivery))
    calendar_token = calendars.new_feed(make.user("staff"))
    objective = Objective(title="Close NCs on time", owner_id=people["staff"].id, target_value=90, unit="%",
                          site_id=home.site_id)
    review = ManagementReview(period_start=date.today() - timedelta(days=365), period_end=date.today(),
                              chair_id=people["supervisor"].id, attendees=["Supervisor"], inputs={}, notes={})
    review.actions.append(ReviewAction(title="Refresh the quality policy", owner_id=people["staff"].id,
                                       due_date=date.today() + timedelta(days=30)))
    db.session.add_all([conflict, objective, review])
    document = documents.create_document(people["supervisor"], {
        "number": "WI-001", "title": "Torque settings", "type": "work_instruction"},
        documents.Upload(io.BytesIO(document_files.pdf()), "wi-001.pdf"))
    documents.approve_revision(people["supervisor"], document, document.revisions[0])
    documents.ask_acknowledgement(people["supervisor"], document, document.revisions[0],
                                  ["staff", "auditor", "supervisor", "admin"], [])
    forklift = competence.create_competence(people["supervisor"], "Forklift licence", 36)
    competence.require_competence(people["supervisor"], forklift, area=home)
    commit()
    values = {
        "audit_id": audit.id, "area_id": other.id, "action_id": action.id, "finding_id": finding.id, "template_id": template.id,
        "question_id": template.questions[0].id, "conflict_id": conflict.id,
        "qualification_id": qualification.id, "sha256": sha, "filename": "index.html",
        "session_id": other_session.id, "token_id": token.id,
        "site_id": other.site_id, "code": other.code, "user_id": people["staff"].id, "secret": link.secret, "kind": "users",
        "webhook_id": hook.id, "delivery_id": delivery.id, "token": calendar_token,
        "document_id": document.id, "rev": 1, "competence_id": forklift.id,
        "document_number": document.number,
        # what the pages about these records are headed with
        "finding_title": finding.title, "template_name": template.name, "area_label": other.label,
        "site_name": other.site.name, "user_name": people["staff"].name,
        "objective_id": objective.id, "review_id": review.id, "review_action_id": review.actions[0].id,
        "objective_title": objective.title, "review_period": f"{review.period_start} to {review.period_end}",
    }
    return people, values


@pytest.fixture
def mailbox(app):
    """A real SMTP server on loopback that the app sends through; yields its inbox."""
    server = MailServer().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM="gemba@example.test",
                      BASE_URL="https://gemba.example.test")
    yield server.inbox
    server.stop()
