"""Users and sign-in payloads."""

import marshmallow as ma


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.Email()
    name = ma.fields.String()
    role = ma.fields.String()
    home_area_id = ma.fields.UUID(allow_none=True)


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024), load_only=True)


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    csrf_token = ma.fields.String()


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
