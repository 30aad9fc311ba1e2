"""Users, sign-in, and what a person manages of their own account: sessions, tokens, password."""

import marshmallow as ma

from ..fieldrules import LIMITS
from .shapes import Strict, text_field

PASSWORD = {"maxLength": LIMITS["password"], "description": "No NUL character, no lone surrogate (U+D800-U+DFFF)."}


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.Email()
    name = ma.fields.String()
    role = ma.fields.String()
    home_area_id = ma.fields.UUID(allow_none=True)


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=LIMITS["password"]),
                                load_only=True, metadata=PASSWORD)


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    csrf_token = ma.fields.String()


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)


class SignedInSessionSchema(ma.Schema):
    """One place a person is signed in."""

    id = ma.fields.UUID()
    created_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime(metadata={"description": "Updated at most every few minutes."})
    expires_at = ma.fields.DateTime(metadata={"description": "When it ends however much it is used."})
    user_agent = ma.fields.String()
    address = ma.fields.String()
    current = ma.fields.Boolean(metadata={"description": "The session this request was made in."})


class SignedInSessionsSchema(ma.Schema):
    sessions = ma.fields.List(ma.fields.Nested(SignedInSessionSchema))


class TokenSchema(ma.Schema):
    """An API token as its owner sees it: never its secret."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "The token's first characters, to tell it apart."})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True, metadata={"description": "null: until revoked."})
    last_used_at = ma.fields.DateTime(allow_none=True, metadata={"description": "Updated at most once a minute."})
    revoked_at = ma.fields.DateTime(allow_none=True)


class TokensSchema(ma.Schema):
    tokens = ma.fields.List(ma.fields.Nested(TokenSchema))


class TokenCreateSchema(Strict):
    name = text_field("name", required=True, description="What the token is for.")
    expires_in_days = ma.fields.Integer(
        load_default=None, allow_none=True,
        metadata={"description": "Days until it expires (1-3650); null: the server's default."},
    )


class NewTokenSchema(ma.Schema):
    token = ma.fields.Nested(TokenSchema)
    secret = ma.fields.String(metadata={"description": "Send as `Authorization: Bearer <secret>`. Shown only now."})


class PasswordChangeSchema(Strict):
    current_password = ma.fields.String(required=True, load_only=True, metadata=PASSWORD)
    new_password = ma.fields.String(required=True, load_only=True, metadata=PASSWORD)
