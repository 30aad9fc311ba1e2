"""Building blocks for the register workflow tests: a submitted audit, stored photos, feed rows."""

import hashlib
import io
import re

from PIL import Image
from sqlalchemy import select

from server.extensions import db
from server.models import AuditStatus, Change, Event, Photo, PhotoState, Response, utcnow
from server.storage import object_key, photo_store
from tests import factories

CSRF = re.compile(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"')


def jpeg(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def store_photo(data: bytes, uploader=None, state=PhotoState.STORED) -> Photo:
    """A photo as the intake leaves it: original (and a thumbnail) in the store, a row in the table."""
    digest = hashlib.sha256(data).hexdigest()
    if state == PhotoState.STORED:
        photo_store().put(object_key("original", digest), data)
    photo = Photo(sha256=digest, state=state, byte_size=len(data) if state == PhotoState.STORED else None,
                  content_type="image/jpeg", width=64, height=48, taken_at=utcnow(),
                  uploaded_at=utcnow() if state == PhotoState.STORED else None,
                  uploaded_by_id=uploader.id if uploader and state == PhotoState.STORED else None)
    db.session.add(photo)
    db.session.flush()
    return photo


def submitted_audit(auditor=None, area=None, questions=4, **overrides):
    """An audit its auditor has answered and submitted."""
    area = area or factories.area()
    auditor = auditor or factories.user("auditor")
    template = factories.template(questions=questions)
    audit = factories.audit(template, area, auditor, status=AuditStatus.SUBMITTED,
                            started_at=utcnow(), submitted_at=utcnow(), score=75.0, **overrides)
    for q in template.questions:
        db.session.add(Response(audit_id=audit.id, question_id=q.id, value="yes", note=f"note for {q.position}",
                                answered_at=utcnow(), answered_by_id=auditor.id))
    db.session.flush()
    return audit


def changes(entity: str, entity_id) -> list[Change]:
    return list(db.session.scalars(
        select(Change).where(Change.entity == entity, Change.entity_id == str(entity_id)).order_by(Change.seq)
    ))


def events(action: str | None = None, entity_id=None) -> list[Event]:
    query = select(Event).order_by(Event.id)
    if action:
        query = query.where(Event.action == action)
    if entity_id is not None:
        query = query.where(Event.entity_id == str(entity_id))
    return list(db.session.scalars(query))


def page_tokens(html: str) -> dict[str, str]:
    """Every CSRF token field on a page, by its (possibly prefixed) name."""
    return {name: value for name, value in CSRF.findall(html)}


class RegisterPages:
    """A test client used the way a browser uses the register: forms with the CSRF token they came with.

    `sign_in(user)` goes through the /login form; `post(url, data)` sends the token of the
    page read last; `post_form(page, action, prefix, **fields)` reads `page` first and sends
    its (possibly prefixed) form's token.
    """

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}

    def sign_in(self, user, next_url: str | None = None, password: str = factories.PASSWORD):
        url = "/login" + (f"?next={next_url}" if next_url else "")
        token = page_tokens(self.client.get(url).get_data(as_text=True))["csrf_token"]
        return self.client.post(url, data={"email": user.email, "password": password, "csrf_token": token})

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        self.tokens = page_tokens(response.get_data(as_text=True)) or self.tokens
        return response

    def text(self, url) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def post(self, url, data=None, **kwargs):
        if "csrf_token" not in self.tokens:
            self.get("/")
        return self.client.post(url, data={"csrf_token": self.tokens.get("csrf_token", "")} | (data or {}), **kwargs)

    def post_form(self, page_url: str, action_url: str, prefix: str = "", **fields):
        """Load `page_url`, take its form's token, and submit `fields` (prefixed like the form)."""
        self.get(page_url)
        name = f"{prefix}-csrf_token" if prefix else "csrf_token"
        assert name in self.tokens, f"no {name} on {page_url}: {list(self.tokens)}"
        data = {name: self.tokens[name]} | {(f"{prefix}-{k}" if prefix else k): v for k, v in fields.items()}
        return self.client.post(action_url, data=data)
