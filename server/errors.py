"""Domain errors and the one place that turns any error into a response.

Services raise `DomainError`s; views never build error responses themselves. The API
answers `{"error": {"code", "message", "fields"?}}`; pages get a friendly HTML page.
"""

import logging

from flask import Flask, jsonify, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        if code:
            self.code = code


class Invalid(DomainError):
    """The input breaks a validation rule; `fields` says which and why."""

    status = 422
    code = "invalid"


class Unauthorized(DomainError):
    """Not signed in, or the credentials given do not hold."""

    status = 401
    code = "unauthorized"


class BadCredentials(Unauthorized):
    code = "bad_credentials"


class AccountDisabled(Unauthorized):
    """The person was deactivated: their sessions and tokens stopped, and signing in is refused."""

    code = "account_disabled"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class StateError(DomainError):
    """The record's status does not allow this (a locked audit, a closed finding)."""

    status = 409
    code = "state"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, code: str, message: str, fields=None, headers=None):
    if wants_json():
        body = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        response = jsonify(error=body)
    else:
        response = render_template("error.html", status=status, message=message, fields=fields)
    return response, status, headers or {}


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def _flatten(messages) -> dict:
    """Turn marshmallow's nested messages into {"field": "first message"}-ish data."""
    if isinstance(messages, dict):
        return messages
    return {"_schema": messages}


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        if getattr(exc, "received", None) is not None:  # uploads.OffsetMismatch: where to resume
            headers = {"Upload-Offset": str(exc.received)}
        return error_response(exc.status, exc.code, exc.message, exc.fields, headers)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        return error_response(422, "invalid", "Some fields are not valid.", _flatten(exc.messages))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        fields = None
        message = exc.description or exc.name
        data = getattr(exc, "data", None)  # webargs (flask-smorest) puts parse errors here
        if data and "messages" in data:
            messages = data["messages"]
            # webargs groups by location ("json", "query"); the client wants the fields.
            fields = {}
            for location_messages in messages.values():
                fields.update(_flatten(location_messages))
            message = "Some fields are not valid."
        # A 405 must still say which methods the route takes.
        headers = {"Allow": exc.get_response().headers.get("Allow", "")} if exc.code == 405 else None
        return error_response(exc.code or 500, _http_code(exc), message, fields, headers)

    @app.errorhandler(InternalServerError)
    def internal_error(exc: InternalServerError):
        log.exception("unhandled error", exc_info=getattr(exc, "original_exception", exc))
        return error_response(500, "internal", "Something went wrong on our side. Nothing you sent was lost; please try again.")
