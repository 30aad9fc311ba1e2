"""The register's blueprint, in its own module so that every page module can add routes to it
and `pages/__init__.py` can import those modules at the top."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
