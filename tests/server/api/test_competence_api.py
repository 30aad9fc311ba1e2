"""The competence matrix contract: cells held / expiring / expired / missing, by site and area; records, training."""

import csv
import io
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import CompetenceRecord, utcnow
from server.services import competence
from server.storage import file_store, object_key
from tests import documents as files


@pytest.fixture
def plant(make, commit):
    """Two sites; a forklift driver and a fitter at Plant A, an operator at Plant B."""
    a_store = make.area(site="Plant A", name="Store")
    a_shop = make.area(site="Plant A", name="Workshop")
    b_line = make.area(site="Plant B", name="Line")
    people = {
        "driver": make.user("staff", name="Dana Driver", home_area=a_store),
        "fitter": make.user("staff", name="Finn Fitter", home_area=a_shop),
        "operator": make.user("staff", name="Olga Operator", home_area=b_line),
        "trainer": make.user("auditor", name="Tess Trainer", home_area=b_line),
        "supervisor": make.user("supervisor"),
        "site_a_supervisor": make.user("supervisor"),
    }
    people["site_a_supervisor"].sites = [a_store.site]
    commit()
    return people, {"store": a_store, "shop": a_shop, "line": b_line}


def test_matrix_cells_by_site_and_area(plant, signed_in):
    people, areas = plant
    boss = people["supervisor"]
    today = utcnow().date()
    forklift = competence.create_competence(boss, "Forklift licence", validity_months=36)
    loto = competence.create_competence(boss, "LOTO", validity_months=12)
    first_aid = competence.create_competence(boss, "First aid", validity_months=36)
    induction = competence.create_competence(boss, "Site induction")
    competence.require_competence(boss, forklift, area=areas["store"])
    competence.require_competence(boss, loto, role="staff")
    competence.require_competence(boss, first_aid, role="staff", area=areas["shop"])
    competence.record_competence(boss, people["driver"], forklift, today - timedelta(days=100))  # held
    competence.record_competence(boss, people["driver"], loto, today - timedelta(days=350))  # expires in ~15 days
    competence.record_competence(boss, people["fitter"], loto, today - timedelta(days=400))  # expired
    competence.record_competence(boss, people["fitter"], induction, today - timedelta(days=400))  # held, not required
    db.session.commit()

    api = signed_in(boss)
    body = api.client.get(f"/api/competences/matrix?site_id={areas['store'].site_id}").json
    names = [c["name"] for c in body["competences"]]
    assert names == ["First aid", "Forklift licence", "LOTO", "Site induction"]
    cells = {p["name"]: dict(zip(names, p["cells"], strict=True)) for p in body["people"]}
    assert list(cells) == ["Dana Driver", "Finn Fitter"]  # Plant A only
    assert cells["Dana Driver"] == {"First aid": None, "Forklift licence": "held", "LOTO": "expiring",
                                    "Site induction": None}
    assert cells["Finn Fitter"] == {"First aid": "missing", "Forklift licence": None, "LOTO": "expired",
                                    "Site induction": "held"}
    assert body["counts"] == {"held": 2, "expiring": 1, "expired": 1, "missing": 1}

    by_area = api.client.get(f"/api/competences/matrix?area_id={areas['line'].id}").json
    assert [(p["name"], dict(zip(names, p["cells"], strict=True))["LOTO"]) for p in by_area["people"]] == [
        ("Olga Operator", "missing"), ("Tess Trainer", None)]

    # A supervisor of Plant A sees Plant A's people only, and is refused Plant B.
    site_a = signed_in(people["site_a_supervisor"])
    assert {p["name"] for p in site_a.client.get("/api/competences/matrix").json["people"]} == {
        "Dana Driver", "Finn Fitter"}
    assert site_a.client.get(f"/api/competences/matrix?site_id={areas['line'].site_id}").status_code == 403
    assert signed_in(people["driver"]).client.get("/api/competences/matrix").status_code == 403


def test_csv_export_streams_the_matrix(plant, signed_in):
    people, areas = plant
    boss = people["supervisor"]
    loto = competence.create_competence(boss, "=LOTO", validity_months=12)
    competence.require_competence(boss, loto, role="staff")
    api = signed_in(boss)
    response = api.client.get(f"/api/competences/matrix.csv?site_id={areas['store'].site_id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["person", "role", "home area", "'=LOTO"]  # a formula is kept as text
    assert [(row[0], row[1], row[3]) for row in rows[1:]] == [("Dana Driver", "staff", "missing"),
                                                               ("Finn Fitter", "staff", "missing")]
    xlsx = api.client.get("/api/competences/matrix.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_training_session_grants_its_competences_to_every_attendee(plant, signed_in):
    people, areas = plant
    api = signed_in(people["supervisor"])
    forklift = api.post("/api/competences", json={"name": "Forklift licence", "validity_months": 36}).json
    loto = api.post("/api/competences", json={"name": "LOTO", "validity_months": 12}).json
    assert api.post("/api/competences", json={"name": "LOTO"}).status_code == 422
    held_on = utcnow().date() - timedelta(days=10)
    session = api.post("/api/training-sessions", json={
        "title": "Warehouse safety day", "held_on": held_on.isoformat(), "trainer_id": str(people["trainer"].id),
        "attendee_ids": [str(people["driver"].id), str(people["fitter"].id)],
        "competence_ids": [forklift["id"], loto["id"]]})
    assert session.status_code == 201, session.json
    records = db.session.query(CompetenceRecord).all()
    assert len(records) == 4
    assert {(r.user_id, r.gained_on, r.assessed_by_id, str(r.training_session_id)) for r in records} == {
        (p.id, held_on, people["trainer"].id, session.json["id"]) for p in (people["driver"], people["fitter"])}
    loto_record = next(r for r in records if str(r.competence_id) == loto["id"])
    assert loto_record.expires_on == competence.expiry_for(loto_record.competence, held_on)
    assert (loto_record.expires_on - held_on).days in range(365, 367)
    assert api.post("/api/training-sessions", json={"title": "x", "held_on": held_on.isoformat(),
                                                    "attendee_ids": [], "competence_ids": []}).status_code == 422


def test_a_record_with_a_certificate_file(plant, signed_in):
    people, areas = plant
    api = signed_in(people["supervisor"])
    first_aid = api.post("/api/competences", json={"name": "First aid", "validity_months": 36}).json
    certificate = files.pdf("first aid certificate")
    gained = utcnow().date() - timedelta(days=30)
    response = api.post(f"/api/competences/{first_aid['id']}/records", content_type="multipart/form-data", data={
        "person_id": str(people["operator"].id), "gained_on": gained.isoformat(),
        "assessed_by_id": str(people["trainer"].id), "file": (io.BytesIO(certificate), "cert.pdf")})
    assert response.status_code == 201, response.json
    assert response.json["evidence_sha256"] == files.sha(certificate)
    assert file_store().get(object_key("evidence", files.sha(certificate))) == certificate
    refused = api.post(f"/api/competences/{first_aid['id']}/records", content_type="multipart/form-data", data={
        "person_id": str(people["operator"].id), "gained_on": gained.isoformat(),
        "file": (io.BytesIO(files.HTML), "cert.html")})
    assert refused.status_code == 415
    future = api.post(f"/api/competences/{first_aid['id']}/records", content_type="multipart/form-data", data={
        "person_id": str(people["operator"].id), "gained_on": (utcnow().date() + timedelta(days=30)).isoformat()})
    assert future.status_code == 422


def test_the_streamed_matrix_is_the_in_memory_one_and_gzips_as_it_goes(plant, signed_in, make, commit):
    import gzip
    import json

    from server.api.competence import matrix_json

    people, areas = plant
    boss = people["supervisor"]
    today = utcnow().date()
    odd = make.user("staff", name='Zoë "Quotes" O\'Neil \\ </script>', home_area=areas["store"])
    make.user("staff", name="No area")
    loto = competence.create_competence(boss, "LOTO", validity_months=12)
    competence.create_competence(boss, 'Hot work "permit"')
    competence.require_competence(boss, loto, role="staff")
    competence.record_competence(boss, odd, loto, today - timedelta(days=350))
    commit()
    api = signed_in(boss)
    response = api.client.get("/api/competences/matrix")
    assert response.is_streamed and response.mimetype == "application/json"
    expected = json.loads(json.dumps(matrix_json(competence.competence_matrix(boss, today=today), today)))
    assert response.json == expected
    assert {p["name"]: p["cells"] for p in response.json["people"]}[odd.name] == [None, "expiring"]
    assert response.json["counts"]["missing"] == 4  # everyone of the staff but the one who holds it
    packed = api.client.get("/api/competences/matrix", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.get_data())) == expected
