"""The demo organisation, built once per test module in a database of its own.

Building it is the expensive part (a few seconds: hundreds of service calls, thirty-odd
photos painted and taken in), and the tests only read what it built - so they share one
build instead of making one each.
"""

from datetime import date

import pytest
from flask_migrate import upgrade

from server import create_app
from server.demo import build
from server.extensions import db
from tests import databases
from tests.conftest import app_config

BUILT_ON = date.today()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The app, with the demo organisation built and committed; yields (app, logins)."""
    directory = tmp_path_factory.mktemp("demo")
    with databases.fresh_database(directory, prefix="gemba_demo") as url:
        app = create_app(app_config(url, directory))
        with app.app_context():
            upgrade()
            logins = build(BUILT_ON)
            db.session.commit()
            yield app, logins
            db.session.remove()
            db.engine.dispose()
