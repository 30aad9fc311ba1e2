"""Sign-in throttling: guessing slows down, the real person still gets in, counting is exact."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from server.extensions import db
from server.models import SignInThrottle, utcnow
from tests import factories

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"
HOME = "192.0.2.44"


class Browser:
    """One browser (its own cookies) at one address."""

    def __init__(self, app, address: str):
        self.client = app.test_client()
        self.address = address

    def sign_in(self, email: str, password: str = factories.PASSWORD):
        return self.client.post("/api/auth/login", json={"email": email, "password": password},
                                environ_base={"REMOTE_ADDR": self.address})


def _wait_out_delays() -> None:
    db.session.execute(update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


@pytest.fixture
def owner(make, commit):
    user = make.user(email="owner@example.test")
    commit()
    return user


def test_five_wrong_passwords_do_not_lock_the_owner_out(app, owner):
    known = Browser(app, OFFICE)
    assert known.sign_in(owner.email).status_code == 200  # the owner's usual browser
    attacker = Browser(app, OFFICE)  # same office network, another browser
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attacker.sign_in(owner.email, "guess guess guess").status_code == 401
    held = attacker.sign_in(owner.email)  # the attacker's browser waits, even with the right password
    assert held.status_code == 429
    assert 0 < int(held.headers["Retry-After"]) <= app.config["LOGIN_DELAY_SECONDS"]
    assert known.sign_in(owner.email).status_code == 200  # the known device is not held back
    assert Browser(app, HOME).sign_in(owner.email).status_code == 200  # nor a new browser elsewhere


def test_each_further_failure_waits_twice_as_long_up_to_a_cap(app, owner):
    attacker = Browser(app, ATTACKER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attacker.sign_in(owner.email, "guess guess guess")
    waits = []
    for _ in range(7):
        held = attacker.sign_in(owner.email, "guess guess guess")
        assert held.status_code == 429
        waits.append(int(held.headers["Retry-After"]))
        _wait_out_delays()
        assert attacker.sign_in(owner.email, "guess guess guess").status_code == 401
    base, cap = app.config["LOGIN_DELAY_SECONDS"], app.config["LOGIN_DELAY_CAP_SECONDS"]
    expected = [min(cap, base * 2 ** n) for n in range(7)]
    assert all(abs(wait - want) <= 1 for wait, want in zip(waits, expected)), (waits, expected)


def test_made_up_emails_from_one_address_do_not_hold_back_real_people(app, make, commit):
    colleague = make.user(email="colleague@example.test")
    commit()
    colleague_tablet = Browser(app, OFFICE)
    assert colleague_tablet.sign_in(colleague.email).status_code == 200
    sprayer = Browser(app, OFFICE)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit):
        assert sprayer.sign_in(f"made-up-{n}@example.test", "Summer2026!").status_code == 401
    assert sprayer.sign_in("made-up-last@example.test", "Summer2026!").status_code == 429
    assert sprayer.sign_in(colleague.email, "Summer2026!").status_code == 429  # sprays real accounts neither
    assert colleague_tablet.sign_in(colleague.email).status_code == 200  # a known device at the same address
    assert Browser(app, HOME).sign_in(colleague.email).status_code == 200  # anyone elsewhere
    # The price, said in the README: a browser that never signed in before, at the address
    # being sprayed from, waits for the window like the sprayer.
    assert Browser(app, OFFICE).sign_in(colleague.email).status_code == 429


def test_many_addresses_guessing_one_account_do_not_hold_back_its_known_device(app, owner):
    known = Browser(app, HOME)
    assert known.sign_in(owner.email).status_code == 200
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        assert Browser(app, f"203.0.113.{n + 1}").sign_in(owner.email, "guess guess guess").status_code == 401
    assert Browser(app, "203.0.113.200").sign_in(owner.email, "guess guess guess").status_code == 429
    assert known.sign_in(owner.email).status_code == 200


def test_a_known_device_is_known_only_for_who_signed_in_on_it(app, owner, make, commit):
    other = make.user(email="other@example.test")
    commit()
    shared = Browser(app, OFFICE)
    assert shared.sign_in(other.email).status_code == 200
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        Browser(app, f"203.0.113.{n + 1}").sign_in(owner.email, "guess guess guess")
    # Known to `other`, not to `owner`: for owner it is one more unknown browser.
    assert shared.sign_in(owner.email).status_code == 429
    forged = Browser(app, HOME)
    forged.client.set_cookie("gemba_device", shared.client.get_cookie("gemba_device").value[:-4] + "AAAA")
    assert forged.sign_in(owner.email).status_code == 429


def test_throttling_answers_alike_whether_or_not_the_account_exists(app, owner):
    def statuses(email, address):
        browser = Browser(app, address)
        return [browser.sign_in(email, "guess guess guess").status_code for _ in range(8)]

    assert statuses(owner.email, ATTACKER) == statuses("no-such-person@example.test", HOME)


def test_a_refused_attempt_is_not_counted(app, owner):
    attacker = Browser(app, ATTACKER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attacker.sign_in(owner.email, "guess guess guess")
    for _ in range(10):
        assert attacker.sign_in(owner.email, "guess guess guess").status_code == 429
    counts = sorted(db.session.scalars(db.select(SignInThrottle.failures)))
    assert counts == [app.config["LOGIN_MAX_FAILURES"]] * 3


def test_parallel_guesses_check_at_most_the_limit(app, owner):
    """20 guesses at once from one browser: exactly the free ones have their password checked."""
    limit, email = app.config["LOGIN_MAX_FAILURES"], owner.email
    start = threading.Barrier(20)
    statuses = []

    def guess():
        client = app.test_client()
        start.wait()
        response = client.post("/api/auth/login", json={"email": email, "password": "guess guess guess"},
                               environ_base={"REMOTE_ADDR": ATTACKER})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * limit + [429] * (20 - limit)
    db.session.expire_all()
    assert db.session.get(SignInThrottle, _client_key(email, ATTACKER)).failures == limit


def _client_key(email, address):
    from server.services.throttle import _key

    return _key("client", email, "address", address)
