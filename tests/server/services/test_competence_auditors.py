"""Auditor qualifications are competences; competence gaps and expiries notify and count for readiness.

The migration test builds the old `qualification` table as the earlier migration made it,
fills it, runs the data step `gemba db upgrade` runs, and plans an audit with the migrated
auditor. The notification tests run the worker against a real SMTP server on loopback.
"""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from server import datamigrations
from server.errors import Invalid
from server.extensions import db
from server.models import Competence, CompetenceRecord, CompetenceRequirement, Notification, NotificationPreference
from server.services import competence, notify, programme, readiness, worker
from tests.notify_parts import SmtpServer

TODAY = date.today()
OLD_TABLE = """CREATE TABLE qualification (
    id {uuid} NOT NULL, user_id {uuid} NOT NULL, standard VARCHAR(40) NOT NULL, expires_on DATE,
    CONSTRAINT pk_qualification PRIMARY KEY (id),
    CONSTRAINT fk_qualification_user_id_user FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE CASCADE,
    CONSTRAINT uq_qualification_user_id_standard UNIQUE (user_id, standard))"""


def _old_table(rows: list[dict]) -> None:
    """The table the earlier migration made, with `rows` in it, written as that migration's SQL."""
    postgres = db.engine.dialect.name == "postgresql"
    db.session.execute(text(OLD_TABLE.format(uuid="UUID" if postgres else "CHAR(32)")))
    for row in rows:
        db.session.execute(text("INSERT INTO qualification (id, user_id, standard, expires_on) "
                                "VALUES (:id, :user_id, :standard, :expires_on)"),
                           {**row, "id": row["id"] if postgres else row["id"].hex,
                            "user_id": row["user_id"] if postgres else row["user_id"].hex})
    db.session.commit()


@pytest.fixture
def cleanup_old_table():
    yield
    db.session.rollback()
    for table in (datamigrations.OLD_QUALIFICATIONS, datamigrations.KEPT_QUALIFICATIONS):
        db.session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    db.session.commit()


def test_an_auditor_qualification_migrated_from_the_old_table_still_satisfies_the_programme(
        app, make, supervisor, commit, cleanup_old_table):
    template = make.template(standard="ISO 9001:2015")
    area = make.area(name="Paint shop")
    ada = make.user("auditor", name="Ada")
    ben = make.user("auditor", name="Ben")  # qualified until yesterday
    cy = make.user("auditor", name="Cy")  # holds the competence already, to an earlier date
    commit()
    cys_competence = programme.auditor_competence("ISO 9001", create=True)
    db.session.add(CompetenceRecord(user_id=cy.id, competence_id=cys_competence.id, gained_on=TODAY - timedelta(days=400),
                                    expires_on=TODAY + timedelta(days=5)))
    commit()
    ada_id = uuid.uuid4()
    _old_table([
        {"id": ada_id, "user_id": ada.id, "standard": "ISO 9001", "expires_on": TODAY + timedelta(days=90)},
        {"id": uuid.uuid4(), "user_id": ada.id, "standard": "ISO 45001", "expires_on": None},
        {"id": uuid.uuid4(), "user_id": ben.id, "standard": "ISO 9001", "expires_on": TODAY - timedelta(days=1)},
        {"id": uuid.uuid4(), "user_id": cy.id, "standard": "ISO 9001", "expires_on": TODAY + timedelta(days=300)},
    ])
    with pytest.raises(Invalid):  # before the data step, nothing reads the old table
        programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=30), ada)
    db.session.rollback()

    assert datamigrations.run_all() == [("auditor qualifications to competences", 4)]

    record = db.session.get(CompetenceRecord, ada_id)  # the same id: an old link to it still works
    assert record.user_id == ada.id and record.expires_on == TODAY + timedelta(days=90) and record.gained_on is None
    assert record.competence.name == "ISO 9001 internal auditor" and record.competence.audits_standard == "ISO 9001"
    assert programme.qualification_for(ada, "ISO 45001").expires_on is None
    audit = programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=30), ada)
    assert audit.auditor_id == ada.id
    with pytest.raises(Invalid, match="expired"):
        programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=30), ben)
    assert programme.qualification_for(cy, "ISO 9001").expires_on == TODAY + timedelta(days=300)  # the longer-lived
    suggested = programme.suggest_auditors(area, template, TODAY + timedelta(days=30))
    assert {s.user.name for s in suggested.ranked} == {"Ada", "Cy"}
    commit()

    tables = set(inspect(db.engine).get_table_names())
    assert "qualification" not in tables and "qualification_migrated" in tables  # kept as it was
    assert db.session.scalar(text("SELECT count(*) FROM qualification_migrated")) == 4
    # idempotent: run again, nothing moves and nothing doubles
    assert datamigrations.run_all() == [("auditor qualifications to competences", 0)]
    assert db.session.scalar(select(func.count()).select_from(CompetenceRecord)) == 4
    assert db.session.scalar(select(func.count()).select_from(Competence)) == 2


def test_gemba_db_upgrade_runs_the_data_step(app, make, commit, cleanup_old_table):
    ada = make.user("auditor", name="Ada")
    commit()
    _old_table([{"id": uuid.uuid4(), "user_id": ada.id, "standard": "ISO 14001:2015", "expires_on": None}])
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "auditor qualifications to competences: 1 moved" in result.output
    db.session.expire_all()
    assert programme.is_qualified(ada, "ISO 14001", TODAY)
    again = app.test_cli_runner().invoke(args=["data-migrate"])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_the_rule_reads_the_day_gained_and_the_expiry(make, supervisor):
    template = make.template(standard="ISO 45001")
    area = make.area(name="Stores")
    later = make.user("auditor", name="Later")
    programme.set_qualification(supervisor, later, "ISO 45001", TODAY + timedelta(days=60), gained_on=TODAY + timedelta(days=10))
    with pytest.raises(Invalid, match="only from"):
        programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=5), later)
    assert programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=10), later).auditor_id == later.id
    with pytest.raises(Invalid, match="expired"):
        programme.plan_audit(supervisor, template, area, TODAY + timedelta(days=61), later)
    # the record is an ordinary competence record: the matrix shows it
    matrix = competence.competence_matrix(supervisor, today=TODAY)
    column = [c.name for c in matrix.competences].index("ISO 45001 internal auditor")
    row = [p.name for p in matrix.people].index("Later")
    assert matrix.cells[row][column] == competence.HELD


# --- notifications --------------------------------------------------------------------------

@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM="gemba@example.test",
                      BASE_URL="https://gemba.example.test", COMPETENCE_EXPIRING_DAYS=30)
    yield server
    server.stop()


@pytest.fixture
def shop(make):
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    lead = make.user("staff", email="lead@example.test", name="Lead")
    area.responsible_id = lead.id
    boss = make.user("supervisor", email="boss@example.test", sites=[site])
    other_site = make.site("South")
    make.user("supervisor", email="south@example.test", sites=[other_site])
    return {"site": site, "area": area, "lead": lead, "boss": boss,
            "kim": make.user("staff", email="kim@example.test", name="Kim", home_area=area),
            "lou": make.user("staff", email="lou@example.test", name="Lou", home_area=area)}


def _subjects(smtp, address):
    return sorted(message["Subject"] for message in smtp.inbox.to(address))


def test_expiring_and_expired_competences_tell_the_person_and_their_area_once(app, smtp, shop, commit):
    forklift = competence.create_competence(shop["boss"], "Forklift licence", 36)
    loto = competence.create_competence(shop["boss"], "LOTO", 12)
    competence.record_competence(shop["boss"], shop["kim"], forklift, TODAY - timedelta(days=700),
                                 expires_on=TODAY + timedelta(days=20))
    competence.record_competence(shop["boss"], shop["lou"], loto, TODAY - timedelta(days=400),
                                 expires_on=TODAY - timedelta(days=2))
    competence.record_competence(shop["boss"], shop["lou"], forklift, TODAY - timedelta(days=10))  # far off: quiet
    commit()
    result = worker.run_once()
    assert result.emails >= 4
    soon = f"Gemba: Kim: Forklift licence expires on {TODAY + timedelta(days=20)}"
    gone = f"Gemba: Lou: LOTO expired on {TODAY - timedelta(days=2)}"
    assert _subjects(smtp, "kim@example.test") == [soon]
    assert _subjects(smtp, "lou@example.test") == [gone]
    assert _subjects(smtp, "lead@example.test") == sorted([soon, gone])
    assert _subjects(smtp, "boss@example.test") == [gone]  # the site's supervisors once expired
    assert _subjects(smtp, "south@example.test") == []
    assert worker.run_once().emails == 0  # each once
    # renewed: a new expiry is a new notice when it comes near
    competence.record_competence(shop["boss"], shop["kim"], forklift, TODAY, expires_on=TODAY + timedelta(days=25))
    commit()
    worker.run_once()
    assert len(smtp.inbox.to("kim@example.test")) == 2


def test_a_required_but_missing_competence_tells_the_areas_responsible_and_supervisors_weekly(app, smtp, shop, commit):
    forklift = competence.create_competence(shop["boss"], "Forklift licence", 36)
    competence.require_competence(shop["boss"], forklift, area=shop["area"])
    competence.record_competence(shop["boss"], shop["kim"], forklift, TODAY - timedelta(days=10))
    commit()
    worker.run_once()
    for address in ("lead@example.test", "boss@example.test"):
        (message,) = smtp.inbox.to(address)
        assert message["Subject"] == f"Gemba: {shop['area'].label}: 1 required competence missing"
        plain = message.get_body(("plain",)).get_content()
        assert "Lou: Forklift licence" in plain and "Kim" not in plain
    assert smtp.inbox.to("lou@example.test") == [] and smtp.inbox.to("south@example.test") == []
    assert worker.run_once().emails == 0  # once a week
    notify.scan(TODAY + timedelta(days=7))
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(Notification.kind == "competence.missing")) == 4


def test_a_person_may_choose_the_app_only_for_a_competence_kind(app, smtp, shop, commit):
    loto = competence.create_competence(shop["boss"], "LOTO", 12)
    competence.record_competence(shop["boss"], shop["kim"], loto, TODAY - timedelta(days=300),
                                 expires_on=TODAY + timedelta(days=3))
    db.session.add(NotificationPreference(user_id=shop["kim"].id, kind="competence.expiring", channel="app"))
    commit()
    worker.run_once()
    assert smtp.inbox.to("kim@example.test") == []
    assert db.session.scalar(select(Notification.title).where(Notification.user_id == shop["kim"].id)).startswith(
        "Kim: LOTO expires on")
    assert len(smtp.inbox.to("lead@example.test")) == 1
    assert {"competence.expiring", "competence.expired", "competence.missing"} <= set(notify.KINDS)


# --- readiness ------------------------------------------------------------------------------

def test_readiness_counts_expired_and_missing_auditor_competences(app, make, shop, commit):
    boss = shop["boss"]
    auditing = programme.auditor_competence("ISO 9001", create=True)
    db.session.add(CompetenceRequirement(competence_id=auditing.id, role="auditor"))
    auditor = make.user("auditor", name="Aud", home_area=shop["area"])
    commit()

    def gaps():
        signal = next(s for s in readiness.readiness(boss, site_id=shop["site"].id, today=TODAY).signals
                      if s.key == "training_gaps")
        return signal.count

    assert gaps() == 1  # the auditor lacks the required auditor competence
    programme.set_qualification(boss, auditor, "ISO 9001", TODAY - timedelta(days=1))
    commit()
    assert gaps() == 1  # expired now, still a gap
    programme.set_qualification(boss, auditor, "ISO 9001", TODAY + timedelta(days=365))
    commit()
    assert gaps() == 0
