"""The Account page: where you are signed in, your API tokens, and your password."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from .. import security
from ..access import SIGNED_IN, allow
from ..errors import DomainError, Invalid
from ..extensions import db
from ..fieldrules import LIMITS
from ..services import accounts, organisation, sessions, tokens
from .blueprint import bp
from .organisation_forms import ZONES
from .submission import show_errors


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=LIMITS["password"])])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=LIMITS["password"])])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", message="The two new passwords differ.")])


class TimezoneForm(FlaskForm):
    timezone = SelectField("Show times in", choices=[SelectChoice("", "each site's own time zone")] + ZONES)


class TokenForm(FlaskForm):
    name = StringField("What it is for", validators=[DataRequired(), Length(max=LIMITS["name"])])
    expires_in_days = IntegerField("Expires after (days)", validators=[Optional(), NumberRange(1, tokens.MAX_DAYS)])


def _page(password_form=None, token_form=None, new_secret=None, status=200):
    return render_template(
        "account.html",
        sessions=sessions.sessions_of(current_user), current_session=sessions.current_session_id(),
        tokens=tokens.tokens_of(current_user), default_token_days=tokens.default_days(),
        password_form=password_form or PasswordForm(), token_form=token_form or TokenForm(),
        timezone_form=TimezoneForm(formdata=None, timezone=current_user.timezone or ""),
        new_secret=new_secret,
    ), status


@bp.route("/account")
@allow(SIGNED_IN)
def account():
    return _page()


@bp.route("/account/password", methods=["POST"])
@allow(SIGNED_IN)
def account_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form, status=422)
    try:
        accounts.change_own_password(current_user, form.current_password.data, form.new_password.data,
                                     security.client())
    except DomainError as exc:
        db.session.commit()  # a wrong current password is counted like a failed sign-in
        show_errors(form, exc)
        return _page(password_form=form, status=exc.status)
    db.session.commit()
    flash("Your password is changed. Your other sessions have ended; this one stays signed in.")
    return redirect(url_for("pages.account"))


@bp.route("/account/timezone", methods=["POST"])
@allow(SIGNED_IN)
def account_timezone():
    form = TimezoneForm()
    if form.validate_on_submit():
        organisation.set_own_timezone(current_user, form.timezone.data)
        db.session.commit()
        flash(f"Times are shown in {current_user.timezone}." if current_user.timezone
              else "Times are shown in each site's own time zone.")
    return redirect(url_for("pages.account"))


@bp.route("/account/sessions/<uuid:session_id>/end", methods=["POST"])
@allow(SIGNED_IN)
def account_end_session(session_id):
    # The CSRF token was checked before this ran (security.check_csrf), as for every POST.
    sessions.end_session(current_user, sessions.get_session(current_user, session_id))
    db.session.commit()
    flash("That session has ended.")
    return redirect(url_for("pages.account"))


@bp.route("/account/tokens", methods=["POST"])
@allow(SIGNED_IN)
def account_token_create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(token_form=form, status=422)
    try:
        _, secret = tokens.issue_token(current_user, form.name.data, form.expires_in_days.data, actor=current_user)
    except Invalid as exc:
        show_errors(form, exc)
        return _page(token_form=form, status=422)
    db.session.commit()
    # Shown on this page once, never flashed: a flash message travels in the cookie.
    return _page(new_secret=secret, status=201)


@bp.route("/account/tokens/<uuid:token_id>/revoke", methods=["POST"])
@allow(SIGNED_IN)
def account_token_revoke(token_id):
    token = tokens.get_token(current_user, token_id)
    tokens.revoke_token(current_user, token)
    db.session.commit()
    flash(f"Token {token.prefix}… is revoked.")
    return redirect(url_for("pages.account"))
