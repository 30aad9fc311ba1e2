"""The register's Sites, Areas and People pages (admins): add, change, retire, invite, deactivate."""

from sqlalchemy import select

from server.extensions import db
from server.models import Area, Site, User
from tests.register_helpers import events


def _follow(pages, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return pages.text(response.headers["Location"])


def test_an_admin_builds_a_site_an_area_and_invites_a_person_from_the_register(register, make, mailbox):
    pages = register(make.user("admin", name="Ada Admin"))
    home = pages.text("/dashboard")
    assert "/organisation/sites" in home and "/people" in home
    page = _follow(pages, pages.post_form("/organisation/sites", "/organisation/sites",
                                          name="Osaka plant", timezone="Asia/Tokyo"))
    assert "Osaka plant" in page and "Asia/Tokyo" in page
    site = db.session.scalar(select(Site).where(Site.name == "Osaka plant"))
    page = _follow(pages, pages.post_form("/organisation/areas", "/organisation/areas", site=str(site.id),
                                          name="Press shop", risk_level="high", audit_every_months="6"))
    assert "Osaka plant / Press shop" in page
    area = db.session.scalar(select(Area).where(Area.name == "Press shop"))
    page = _follow(pages, pages.post_form("/people/new", "/people", email="kenji@example.test", name="Kenji Sato",
                                          role="staff", home_area=str(area.id), sites=[str(site.id)]))
    assert "An invitation was emailed to kenji@example.test" in page and "invited" in page
    assert mailbox.link_for("kenji@example.test")


def test_form_problems_come_back_on_the_form(register, make):
    pages = register(make.user("admin"))
    make.site("Leeds")
    db.session.commit()
    taken = pages.post_form("/organisation/sites", "/organisation/sites", name="Leeds", timezone="UTC")
    assert taken.status_code == 422 and "already a site called" in taken.get_data(as_text=True)
    bad = pages.post_form("/people/new", "/people", email="not-an-email", name="X", role="staff")
    assert bad.status_code == 422


def test_retiring_an_area_with_open_work_says_what_is_open_then_retires_when_confirmed(register, make, template):
    area = make.area(name="Dispatch")
    make.audit(template, area, None)
    pages = register(make.user("admin"))
    page = pages.text(f"/organisation/areas/{area.id}")
    assert "Open work here: 1 audit not yet approved" in page
    page = _follow(pages, pages.post_form(f"/organisation/areas/{area.id}", f"/organisation/areas/{area.id}/retire",
                                          retired="y"))
    assert "still has open work: 1 audit not yet approved" in page
    db.session.expire_all()
    assert area.retired_at is None
    _follow(pages, pages.post_form(f"/organisation/areas/{area.id}", f"/organisation/areas/{area.id}/retire",
                                   retired="y", even_with_open_work="y"))
    db.session.expire_all()
    assert area.retired_at is not None
    assert "Dispatch" not in pages.text("/organisation/areas")
    assert "Dispatch" in pages.text("/organisation/areas?retired=y")


def test_an_admin_changes_a_role_deactivates_and_reactivates_a_person(register, make, signed_in, mailbox):
    person = make.user("staff", name="Pat Picker")
    device = signed_in(person)
    pages = register(make.user("admin"))
    page = _follow(pages, pages.post_form(f"/people/{person.id}", f"/people/{person.id}", name="Pat Picker",
                                          role="auditor", home_area=""))
    assert "Pat Picker saved" in page
    assert events("user.changed", person.id)[-1].changes["role"] == ["staff", "auditor"]
    page = _follow(pages, pages.post_form(f"/people/{person.id}", f"/people/{person.id}/active", active="0"))
    assert "deactivated" in page
    assert device.client.get("/api/me").json["error"]["code"] == "account_disabled"
    page = _follow(pages, pages.post_form(f"/people/{person.id}", f"/people/{person.id}/active", active="1"))
    assert "reactivated" in page
    page = _follow(pages, pages.post_form(f"/people/{person.id}", f"/people/{person.id}/link"))
    assert f"A password reset link was emailed to {person.email}" in page


def test_people_list_filters_and_pages(register, make):
    leeds = make.area(site="Leeds")
    for n in range(30):
        make.user("staff", name=f"Picker {n:02}", home_area=leeds)
    make.user("auditor", name="Only auditor")
    pages = register(make.user("admin"))
    first = pages.text("/people?role=staff")
    assert "Picker 00" in first and "Picker 29" not in first and "Page 1 of 2" in first
    assert "Picker 29" in pages.text("/people?role=staff&page=2")
    found = pages.text("/people?q=only")
    assert "Only auditor" in found and "Picker" not in found


def test_supervisors_have_no_organisation_menu(register, make):
    pages = register(make.user("supervisor"))
    assert "/organisation/sites" not in pages.text("/dashboard")
    assert pages.get("/people").status_code == 403
    assert db.session.scalar(select(User).where(User.role == "supervisor"))


def test_the_import_page_checks_a_file_lists_problems_by_line_then_imports_all(register, make, mailbox):
    import io

    pages = register(make.user("admin"))
    template = pages.get("/organisation/import/areas-template.csv")
    assert template.mimetype == "text/csv" and template.get_data(as_text=True).startswith("site,timezone,area")
    good = b"site,timezone,area,responsible_email,risk_level,audit_every_months\nLeeds,Europe/London,Stores,,low,12\n"
    bad = good + b"Leeds,Europe/London,Stores,,low,12\n,UTC,X,,low,12\n"

    def send(data, apply):
        pages.get("/organisation/import")
        return pages.client.post("/organisation/import", data={
            "csrf_token": pages.tokens["csrf_token"], "kind": "areas", "apply": apply,
            "file": (io.BytesIO(data), "areas.csv")}, content_type="multipart/form-data")

    checked = send(bad, "0").get_data(as_text=True)
    assert "Problems to fix" in checked and "<td>3</td><td>Line 2 is the same area.</td>" in checked
    assert "<td>4</td><td>The site is missing.</td>" in checked
    refused = send(bad, "1")
    assert refused.status_code == 422 and "Nothing was imported" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Area).where(Area.name == "Stores")) is None
    assert "Ready to import" in send(good, "0").get_data(as_text=True)
    done = send(good, "1")
    assert done.status_code == 302
    assert db.session.scalar(select(Area).where(Area.name == "Stores")) is not None
    exported = pages.get("/organisation/export/areas.csv").get_data(as_text=True)
    assert "Leeds,Europe/London,Stores,,low,12" in exported


def test_an_admin_of_an_empty_organisation_is_led_through_the_set_up_steps(register, make):
    pages = register(make.user("admin"))
    landing = pages.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/setup")
    page = pages.text("/setup")
    assert "Set up your organisation" in page and "0 site(s)" in page
    copied = pages.post_form("/setup", "/setup/checklist", file="iso45001-safety-walk.json")
    assert copied.status_code == 302 and "/checklists/" in copied.headers["Location"]
    make.area(site="Leeds")
    db.session.commit()
    assert pages.get("/").headers["Location"].endswith("/dashboard")
    assert "set up your organisation" in pages.text("/dashboard")


def test_an_area_gets_a_responsible_supervisor_and_the_form_offers_no_staff(register, make):
    area = make.area(name="Dispatch")
    boss = make.user("supervisor", name="Sue Supervisor")
    make.user("staff", name="Sam Staff")
    pages = register(make.user("admin"))
    page = pages.text(f"/organisation/areas/{area.id}")
    assert "Sue Supervisor" in page and "Sam Staff" not in page
    _follow(pages, pages.post_form(f"/organisation/areas/{area.id}", f"/organisation/areas/{area.id}",
                                   site=str(area.site_id), name="Dispatch bay", responsible=str(boss.id),
                                   risk_level="low", audit_every_months="24"))
    db.session.expire_all()
    assert (area.name, area.responsible_id, area.risk_level, area.audit_every_months) == ("Dispatch bay", boss.id, "low", 24)


def test_a_person_may_see_every_time_in_a_zone_of_their_own(register, make):
    area = make.area(site=make.site("Osaka", "Asia/Tokyo"))
    supervisor = make.user("supervisor")
    finding = make.finding(area, supervisor, title="Loose rail")
    pages = register(supervisor)
    assert "Asia/Tokyo" in pages.text(f"/findings/{finding.id}")
    _follow(pages, pages.post_form("/account", "/account/timezone", timezone="America/Chicago"))
    page = pages.text(f"/findings/{finding.id}")
    assert "America/Chicago" in page and "Asia/Tokyo" not in page
    assert events("user.changed", supervisor.id)[-1].changes == {"timezone": [None, "America/Chicago"]}
    _follow(pages, pages.post_form("/account", "/account/timezone", timezone=""))
    assert "Asia/Tokyo" in pages.text(f"/findings/{finding.id}")
