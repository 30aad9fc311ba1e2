"""Where an invitation or reset link lands: the person chooses their password, then is signed in."""

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import security
from ..access import PUBLIC, allow
from ..errors import Invalid
from ..extensions import db
from ..fieldrules import LIMITS
from ..services import invitations
from .blueprint import bp
from .submission import show_errors


class ChoosePasswordForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=LIMITS["name"])])
    password = PasswordField("Choose a password", validators=[DataRequired(), Length(max=LIMITS["password"])])
    confirm = PasswordField("The password again", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])


@bp.route("/welcome/<secret>", methods=["GET", "POST"])
@allow(PUBLIC)
def welcome(secret):
    link = invitations.find(secret)  # 404 with the reason for a used, expired or replaced link
    form = ChoosePasswordForm(data={"name": link.user.name})
    status = 200
    if form.validate_on_submit():
        try:
            user = invitations.accept(secret, form.password.data, form.name.data)
        except Invalid as exc:
            show_errors(form, exc)
            status = 422
        else:
            security.sign_in(user, security.client())
            db.session.commit()
            flash("Your password is set and you are signed in.")
            return redirect(url_for("pages.home"))
    elif form.is_submitted():
        status = 422
    return render_template("welcome.html", form=form, link=link), status
