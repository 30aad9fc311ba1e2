"""Bulk set-up from CSV: dry run lists each line's problem with its number; apply is all or nothing."""

import csv
import io

import pytest
from sqlalchemy import func, select

from server.errors import Invalid
from server.extensions import db
from server.models import Area, Site, User
from server.services import org_csv

AREAS = """site,timezone,area,responsible_email,risk_level,audit_every_months
Leeds,Europe/London,Goods in,,high,6
Leeds,,Stores,boss@example.test,low,24
Osaka,Asia/Tokyo,Press shop,,medium,12
"""


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_template_has_the_columns_and_reads_back_clean(app):
    for kind in ("areas", "users"):
        text = org_csv.template(kind)
        assert text.splitlines()[0] == ",".join(org_csv.COLUMNS[kind])
    assert org_csv.check("areas", org_csv.template("areas")).ok


def test_areas_import_adds_sites_and_areas_and_a_second_run_changes_nothing(app, make):
    make.user("supervisor", email="boss@example.test")
    dry = org_csv.check("areas", AREAS)
    assert dry.ok and dry.count("add") == 3
    assert _count(Area) == 0
    org_csv.apply(None, "areas", AREAS)
    db.session.commit()
    osaka = db.session.scalar(select(Site).where(Site.name == "Osaka"))
    assert osaka.timezone == "Asia/Tokyo"
    stores = db.session.scalar(select(Area).where(Area.name == "Stores"))
    assert stores.risk_level == "low" and stores.audit_every_months == 24 and stores.responsible.email == "boss@example.test"
    again = org_csv.check("areas", AREAS)
    assert again.ok and again.count("same") == 3


def test_a_dry_run_lists_every_lines_problem_with_its_number_and_apply_writes_nothing(app, make):
    make.area(site="Hull", name="Quay")
    db.session.commit()
    bad = """site,timezone,area,responsible_email,risk_level,audit_every_months
Leeds,Mars/Base,Goods in,,high,6
Leeds,Europe/London,Goods in,,extreme,0
,UTC,Nowhere,,low,12
York,UTC,Stores,ghost@example.test,low,12
Fine,UTC,Fine area,,low,12
"""
    result = org_csv.check("areas", bad)
    lines = {number for number, _ in result.problems}
    assert lines == {2, 3, 4, 5}
    text = "\n".join(f"{n}: {p}" for n, p in result.problems)
    assert "2: 'Mars/Base' is not a time zone" in text and "3: Risk must be one of" in text
    assert "3: Audit every 1 to 60 months" in text and "3: Line 2 is the same area." in text
    assert "4: The site is missing." in text and "5: No person with the email ghost@example.test" in text
    before = (_count(Site), _count(Area))
    with pytest.raises(Invalid) as refused:
        org_csv.apply(None, "areas", bad)
    assert "Nothing was imported" in refused.value.message and len(refused.value.fields["lines"]) == len(result.problems)
    db.session.rollback()
    assert (_count(Site), _count(Area)) == before


def test_users_import_adds_people_with_sites_and_changes_existing_ones(app, make):
    area = make.area(site="Leeds", name="Goods in")
    existing = make.user("staff", email="old@example.test", name="Old Name")
    db.session.commit()
    text = """email,name,role,home_area,sites
new@example.test,New Person,auditor,Leeds / Goods in,Leeds
OLD@example.test,Old Name,supervisor,,Leeds
"""
    result = org_csv.check("users", text)
    assert result.ok, result.problems
    assert (result.count("add"), result.count("change")) == (1, 1)
    applied = org_csv.apply(None, "users", text)
    db.session.commit()
    new = db.session.scalar(select(User).where(User.email == "new@example.test"))
    assert new.role == "auditor" and new.home_area_id == area.id and [s.name for s in new.sites] == ["Leeds"]
    assert not new.has_password and [link.user.email for link in applied.invitations] == ["new@example.test"]
    db.session.refresh(existing)
    assert existing.role == "supervisor" and [s.name for s in existing.sites] == ["Leeds"]


def test_users_problems_name_their_lines(app, make):
    make.area(site="Leeds", name="Goods in")
    text = """email,name,role,home_area,sites
a@example.test,A,staff,Leeds / Nowhere,
not-an-email,B,staff,,
a@example.test,C,boss,,Mars
"""
    problems = org_csv.check("users", text).problems
    text = "\n".join(f"{n}: {p}" for n, p in problems)
    assert "2: No area 'Leeds / Nowhere'" in text and "3: 'not-an-email' is not an email address." in text
    assert "4: Line 2 has the same email." in text and "4: Role must be one of" in text and "4: No site 'Mars'" in text


def test_a_file_without_the_columns_is_refused_on_line_1(app):
    result = org_csv.check("users", "mail,who\nx,y\n")
    assert result.problems == [(1, "Missing column(s): email, name, role, home_area, sites. "
                                   "The columns are: email, name, role, home_area, sites.")]
    assert org_csv.check("users", "").problems[0][0] == 1


def test_exports_read_back_as_unchanged(app, make):
    leeds = make.area(site="Leeds", name="Goods in")
    person = make.user("supervisor", email="s@example.test", home_area=leeds)
    person.sites = [leeds.site]
    db.session.commit()
    for kind in ("areas", "users"):
        result = org_csv.check(kind, org_csv.export(None, kind))
        assert result.ok and result.count("same") == len(result.lines) >= 1, (kind, result.problems)


def test_the_areas_export_carries_each_label_code_which_an_import_leaves_alone(app, make):
    goods_in = make.area(site="Leeds", name="Goods in")
    db.session.commit()
    exported = org_csv.export(None, "areas")
    header, row = list(csv.reader(io.StringIO(exported)))
    assert header[-1] == "code" and row[-1] == goods_in.code
    edited = exported.replace(goods_in.code, "WRONGCODE1").replace(",high,", ",low,").replace(",medium,", ",low,")
    org_csv.apply(None, "areas", edited)
    db.session.expire_all()
    assert db.session.get(Area, goods_in.id).code == goods_in.code  # the label still opens this area
    assert db.session.get(Area, goods_in.id).risk_level == "low"


def test_the_command_line_dry_run_and_apply(app, make, tmp_path, mailbox):
    path = tmp_path / "areas.csv"
    path.write_text(AREAS.replace("boss@example.test", ""))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import", "areas", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "3 to add" in dry.output
    assert _count(Area) == 0
    done = runner.invoke(args=["import", "areas", str(path)])
    assert done.exit_code == 0, done.output
    assert _count(Area) == 3
    users = tmp_path / "users.csv"
    users.write_text("email,name,role,home_area,sites\nkim@example.test,Kim,staff,Osaka / Press shop,Osaka\n")
    done = runner.invoke(args=["import", "users", str(users)])
    assert done.exit_code == 0 and "1 invitation(s) emailed." in done.output, done.output
    assert mailbox.link_for("kim@example.test")
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,role,home_area,sites\nx,,staff,,\n")
    refused = runner.invoke(args=["import", "users", str(bad)])
    assert refused.exit_code == 1 and "line 2:" in refused.output
    exported = runner.invoke(args=["export", "users"])
    assert "kim@example.test,Kim,staff,Osaka / Press shop,Osaka" in exported.output


def test_users_add_with_invite_emails_a_link_instead_of_asking_for_a_password(app, mailbox):
    result = app.test_cli_runner().invoke(args=["users", "add", "first@example.test", "--role", "admin", "--invite"])
    assert result.exit_code == 0, result.output
    assert "Invitation emailed to first@example.test" in result.output
    assert mailbox.link_for("first@example.test").startswith("https://gemba.example.test/welcome/")
    assert not db.session.scalar(select(User).where(User.email == "first@example.test")).has_password
