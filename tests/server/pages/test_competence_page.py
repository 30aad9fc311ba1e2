"""The competence page: add a competence, require it, record training; the matrix shows the gaps."""

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Competence, CompetenceRecord, utcnow


def test_add_require_train_and_see_the_matrix(register, supervisor, make, commit):
    area = make.area(site="Plant A", name="Store")
    driver = make.user("staff", name="Dana Driver", home_area=area)
    other = make.user("staff", name="Finn Fitter", home_area=area)
    pages = register(supervisor)
    pages.get("/competences")
    assert pages.post("/competences/add", {"name": "Forklift licence", "validity_months": "36"}).status_code == 302
    forklift = db.session.scalars(select(Competence)).one()
    assert pages.post("/competences/add", {"name": "Forklift licence"}).status_code == 422
    pages.get("/competences")
    assert pages.post("/competences/require", {"competence": str(forklift.id), "role": "",
                                               "area": str(area.id)}).status_code == 302
    html = pages.text("/competences")
    assert "Dana Driver" in html and html.count(">missing<") >= 2

    held_on = (utcnow().date() - timedelta(days=3)).isoformat()
    response = pages.client.post("/competences/training", data={
        "csrf_token": pages.tokens["csrf_token"], "title": "Forklift course", "held_on": held_on,
        "trainer": "", "attendees": [str(driver.id)], "competences": [str(forklift.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert db.session.scalars(select(CompetenceRecord)).one().user_id == driver.id
    html = pages.text(f"/competences?area={area.id}")
    assert html.count(">missing<") == 1 and "held" in html  # the fitter still needs it
    assert other.name in html
