"""Entry point of the `gemba` console script: a Flask CLI group bound to Gemba's app."""

from flask.cli import FlaskGroup

from . import create_app


def main() -> None:
    FlaskGroup(create_app=create_app, help="Gemba: audits and findings, offline first.")(prog_name="gemba")
