"""Fixtures: one per real thing - the database, the app, clients signed in as someone."""

import os
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from flask import g, request_started
from hypothesis import settings
from flask_migrate import upgrade
from sqlalchemy import text

from server import create_app
from server.extensions import db
from tests import databases, factories
from tests.register_helpers import RegisterPages

# Property tests run a quick handful of new examples on a developer's machine; CI (or
# `pytest --hypothesis-profile=ci`) runs many more, the same ones each run, so that a red
# build always means a change broke something. 200 sync batches take about 7 s on SQLite
# and 20 s on PostgreSQL on a busy two-core machine; the time grows faster than the count
# (each batch checks the whole trail, which every batch lengthens): 300 took 60 s.
settings.register_profile("dev", max_examples=25)
settings.register_profile("ci", max_examples=200, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config, items):
    """Skip `postgres_only` tests (concurrency across connections) unless on PostgreSQL."""
    if databases.backend() == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with GEMBA_TEST_DB=postgresql")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def app_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "GEMBA_PHOTO_DIR": str(tmp_path / "photos"),
        "GEMBA_TRAIL_KEY": "test-trail-key",
        "GEMBA_TRAIL_HEAD_FILE": str(tmp_path / "trail_head"),
        "LOGIN_MAX_FAILURES": 5,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per test process, migrated to head once."""
    directory = tmp_path_factory.mktemp("db")
    with databases.fresh_database(directory) as url:
        app = create_app(app_config(url, directory))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("UPDATE area SET responsible_id = NULL"))
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


def _forget_signed_in_user(sender, **extra):
    # Requests reuse the test's app context, and so its `g`, where Flask-Login caches the
    # user; without this, one client would act as whoever signed in last on another.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)  # likewise Flask-WTF's token of another client's session


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API server (moto's) on a free loopback port, for the whole test process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(s3_server):
    """The `GEMBA_S3_*` settings of a new, empty bucket on the loopback S3 server."""
    settings = {
        "GEMBA_STORAGE": "s3", "GEMBA_S3_ENDPOINT": s3_server, "GEMBA_S3_REGION": "us-east-1",
        "GEMBA_S3_BUCKET": f"gemba-{uuid.uuid4().hex[:12]}", "GEMBA_S3_PREFIX": "register",
        "GEMBA_S3_ACCESS_KEY": "gemba-test", "GEMBA_S3_SECRET_KEY": "gemba-test-secret",
    }
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="gemba-test",
                 aws_secret_access_key="gemba-test-secret").create_bucket(Bucket=settings["GEMBA_S3_BUCKET"])
    return settings


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path))
    request_started.connect(_forget_signed_in_user, app)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    """Sign a test client in through the real API, keeping the CSRF token it got."""

    def __init__(self, client):
        self.client = client
        self.csrf_token = None

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        response = self.client.post("/api/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.csrf_token = response.json["csrf_token"]
        return response

    def headers(self) -> dict:
        return {"X-CSRFToken": self.csrf_token} if self.csrf_token else {}

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self.headers() | kwargs.pop("headers", {}), **kwargs)

    def put(self, url, **kwargs):
        return self.client.put(url, headers=self.headers() | kwargs.pop("headers", {}), **kwargs)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make(app):
    """The factories module, so a test reads `make.user(role="auditor")`."""
    return factories


@pytest.fixture
def commit():
    """Commit what a test built so that HTTP requests see it."""
    return db.session.commit


# People and places most tests need; a test asks for the ones it uses.
@pytest.fixture
def area(make):
    return make.area()


@pytest.fixture
def staff(make, area):
    return make.user("staff", home_area=area)


@pytest.fixture
def auditor(make):
    return make.user("auditor", home_area=make.area())


@pytest.fixture
def supervisor(make):
    return make.user("supervisor")


@pytest.fixture
def admin(make):
    return make.user("admin")


@pytest.fixture
def template(make):
    return make.template()


@pytest.fixture
def signed_in(app, commit):
    """`signed_in(user)`: an API client signed in as `user` (what the test built is committed first)."""
    def sign_in(user) -> AuthActions:
        commit()
        auth = AuthActions(app.test_client())
        assert auth.login(user).status_code == 200
        return auth
    return sign_in


@pytest.fixture
def register(app, commit):
    """`register(user)`: the register pages as `user` sees them, signed in through the form."""
    def sign_in(user) -> RegisterPages:
        commit()
        pages = RegisterPages(app.test_client())
        response = pages.sign_in(user)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return pages
    return sign_in
