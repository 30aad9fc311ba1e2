"""Invitation and reset links: the person chooses a password on /welcome/<secret> and is signed in; the link works once."""

from datetime import timedelta

from server.extensions import db
from server.models import AccountLink, utcnow
from server.services import invitations, people
from tests.register_helpers import events, page_tokens


def _choose(client, url, password, name="Pat Picker", confirm=None):
    token = page_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    return client.post(url, data={"csrf_token": token, "name": name, "password": password,
                                  "confirm": confirm if confirm is not None else password})


def _invite(make, mailbox, email="pat@example.test", role="staff"):
    admin = make.user("admin")
    person = people.add_person(admin, email, "Pat", role)
    link = invitations.issue(admin, person)
    db.session.commit()
    assert invitations.deliver([link], inviter=admin)[0].sent
    return person, mailbox.link_for(email).replace("https://gemba.example.test", "")


def test_an_invited_person_sets_a_password_from_the_emailed_link_and_is_signed_in(app, make, mailbox):
    person, path = _invite(make, mailbox)
    message = mailbox.to("pat@example.test")[-1]
    assert message["Subject"] == "You are invited to Gemba" and message["From"] == "gemba@example.test"
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "pat@example.test" in page.get_data(as_text=True)
    assert client.post("/api/auth/login", json={"email": "pat@example.test", "password": "x"}).status_code == 401
    done = _choose(client, path, "plum orchard lantern 42", name="Pat Picker")
    assert done.status_code == 302
    assert client.get("/api/me").json["user"]["name"] == "Pat Picker"
    db.session.refresh(person)
    assert person.has_password and events("user.invitation_accepted", person.id)
    # once only
    again = app.test_client().get(path)
    assert again.status_code == 404 and "already been used" in again.get_data(as_text=True)
    fresh = app.test_client()
    assert fresh.post("/api/auth/login", json={"email": "pat@example.test",
                                               "password": "plum orchard lantern 42"}).status_code == 200


def test_a_weak_or_mismatched_password_is_refused_on_the_form_and_the_link_still_works(app, make, mailbox):
    _, path = _invite(make, mailbox)
    client = app.test_client()
    weak = _choose(client, path, "password123")
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    differ = _choose(client, path, "plum orchard lantern 42", confirm="something else")
    assert differ.status_code == 422 and "differ" in differ.get_data(as_text=True)
    assert _choose(client, path, "plum orchard lantern 42").status_code == 302


def test_an_expired_link_and_a_replaced_link_do_not_work(app, make, mailbox):
    person, first = _invite(make, mailbox)
    link = invitations.issue(None, person)  # a newer one replaces the first
    db.session.commit()
    assert app.test_client().get(first).status_code == 404
    row = db.session.get(AccountLink, link.row.id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(f"/welcome/{link.secret}").status_code == 404


def test_a_reset_link_ends_the_persons_other_sessions(app, make, mailbox, signed_in):
    person = make.user("staff", email="rita@example.test")
    old = signed_in(person)
    link = invitations.issue(make.user("admin"), person)
    db.session.commit()
    assert link.purpose == "reset"
    assert _choose(app.test_client(), f"/welcome/{link.secret}", "plum orchard lantern 42").status_code == 302
    assert old.client.get("/api/me").status_code == 401


def test_a_deactivated_persons_link_stops_working(app, make, mailbox):
    person, path = _invite(make, mailbox)
    people.update_person(None, person, active=False)
    db.session.commit()
    assert app.test_client().get(path).status_code == 404


def test_the_sign_in_page_of_an_empty_database_says_how_to_create_the_first_admin(app, client, make, commit):
    assert "gemba users add" in client.get("/login").get_data(as_text=True)
    make.user("admin")
    commit()
    assert "gemba users add" not in client.get("/login").get_data(as_text=True)
