"""X-Forwarded-For is believed only from the proxies GEMBA_TRUSTED_PROXIES names."""

import pytest

from server import create_app, proxies
from server.extensions import db
from tests import factories
from tests.conftest import app_config

PROXY = "10.0.0.5"


@pytest.fixture
def app_with(database_url, tmp_path):
    """An app built with the given GEMBA_TRUSTED_PROXIES, and a user who may sign in."""
    made = []

    def build(trusted: str):
        app = create_app(app_config(database_url, tmp_path) | {"GEMBA_TRUSTED_PROXIES": trusted})
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _address_seen(app, peer: str, forwarded: str | None = None) -> str:
    """The address a sign-in from `peer` (forwarding `forwarded`) is recorded with."""
    user_email = f"seen{abs(hash((peer, forwarded))) % 10**8}@example.test"
    with app.app_context():
        factories.user(email=user_email)
        db.session.commit()
        client = app.test_client()
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        assert client.post("/api/auth/login", json={"email": user_email, "password": factories.PASSWORD},
                           headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code == 200
        address = client.get("/api/me/sessions").json["sessions"][0]["address"]
        db.session.remove()
        return address


def test_without_trusted_proxies_forwarded_for_is_ignored(app, app_with):
    app = app_with("")
    assert _address_seen(app, "198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_a_count_of_proxies_takes_the_address_they_saw(app, app_with):
    app = app_with("1")
    assert _address_seen(app, PROXY, "203.0.113.9") == "203.0.113.9"
    # A client cannot push its own pick through: the proxy appends the real peer last.
    assert _address_seen(app, PROXY, "1.2.3.4, 203.0.113.10") == "203.0.113.10"


def test_a_list_of_proxies_is_trusted_only_for_requests_from_them(app, app_with):
    app = app_with("10.0.0.0/8, 192.0.2.1")
    assert _address_seen(app, PROXY, "203.0.113.9") == "203.0.113.9"
    assert _address_seen(app, PROXY, "6.6.6.6, 203.0.113.11, 10.1.1.1") == "203.0.113.11"  # past trusted hops only
    assert _address_seen(app, "198.51.100.8", "203.0.113.12") == "198.51.100.8"  # not a proxy: ignored
    assert _address_seen(app, PROXY, "not-an-address") == PROXY


def test_behind_a_proxy_one_clients_failures_do_not_hold_back_another(app, app_with):
    app = app_with("1")
    with app.app_context():
        user = factories.user(email="worker@example.test")
        db.session.commit()
        limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
        sprayer = app.test_client()
        for n in range(limit + 1):
            sprayer.post("/api/auth/login", json={"email": f"x{n}@example.test", "password": "guess guess guess"},
                         headers={"X-Forwarded-For": "203.0.113.66"}, environ_base={"REMOTE_ADDR": PROXY})
        colleague = app.test_client().post(
            "/api/auth/login", json={"email": user.email, "password": factories.PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.67"}, environ_base={"REMOTE_ADDR": PROXY})
        assert colleague.status_code == 200
        db.session.remove()


@pytest.mark.parametrize("setting", ["proxy.example", "10.0.0.0/33", "1, 2"])
def test_a_setting_that_is_no_number_address_or_network_is_refused_at_start(setting):
    with pytest.raises(ValueError, match="GEMBA_TRUSTED_PROXIES"):
        proxies.parse(setting)
