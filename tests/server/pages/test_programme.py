"""The checklist builder, programme and coverage pages, driven through their forms."""

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Audit, AuditStatus, Competence, CompetenceRecord, Template, TemplateStatus
from server.services import checklists, programme
from tests.register_helpers import RegisterPages

EVERY_KIND_FORMS = [
    {"section": "Controls", "text": "Guards fitted?", "kind": "yes_no_na", "clause": "8.1.2", "finding_answers": "no",
     "required": "y"},
    {"section": "Controls", "text": "Interlock works", "kind": "pass_fail", "clause": "8.1.2", "finding_answers": "fail",
     "photo_answers": "fail", "required": "y"},
    {"section": "Controls", "text": "Housekeeping", "kind": "score", "options": "1\n5", "finding_answers": "1\n2",
     "clause": "6.1.2", "required": "y"},
    {"section": "People", "text": "Main hazard", "kind": "choice", "options": "Noise\nDust\nNone", "finding_answers": "Dust"},
    {"section": "People", "text": "Workers seen", "kind": "number", "options": "0\n200"},
    {"section": "People", "text": "Notes", "kind": "text", "guidance": "Anything else"},
    {"section": "Emergency", "text": "Last drill", "kind": "date", "clause": "8.2", "required": "y"},
    {"section": "Emergency", "text": "Photo of the exits", "kind": "photo"},
]


@pytest.fixture
def quality(supervisor):
    return supervisor


@pytest.fixture
def browser(register, quality):
    return register(quality)


def latest(name: str) -> Template:
    db.session.expire_all()
    return db.session.scalar(select(Template).where(Template.name == name).order_by(Template.version.desc()))


# --- checklist builder -------------------------------------------------------------------

def test_build_publish_and_version_a_checklist_through_the_pages(browser):
    browser.get("/checklists")
    created = browser.post("/checklists", {"name": "Safety walk", "standard": "ISO 45001:2018",
                                          "description": "A short walk", "review_due": "2027-01-31"})
    assert created.status_code == 302
    draft = latest("Safety walk")
    page = f"/checklists/{draft.id}"
    browser.get(page)
    for values in EVERY_KIND_FORMS:
        assert browser.post(f"{page}/questions", values).status_code == 302, values
    draft = latest("Safety walk")
    assert [q.kind for q in draft.questions] == [v["kind"] for v in EVERY_KIND_FORMS]
    housekeeping = draft.questions[2]
    assert (housekeeping.options, housekeeping.finding_answers, housekeeping.required) == ([1, 5], [1, 2], True)
    assert draft.questions[3].options == ["Noise", "Dust", "None"] and draft.questions[5].required is False

    senseless = browser.post(f"{page}/questions", {"section": "S", "text": "Pick", "kind": "choice", "options": "Only"})
    assert senseless.status_code == 422
    assert "at least two different" in senseless.get_data(as_text=True)

    assert browser.post(f"{page}/publish").status_code == 302
    assert latest("Safety walk").status == TemplateStatus.PUBLISHED
    frozen = browser.post(f"{page}/questions", EVERY_KIND_FORMS[0])
    assert frozen.status_code == 409
    assert len(latest("Safety walk").questions) == len(EVERY_KIND_FORMS)

    assert browser.post(f"{page}/new-version").status_code == 302
    v2 = latest("Safety walk")
    assert (v2.version, v2.status, v2.family_id) == (2, TemplateStatus.DRAFT, draft.family_id)
    edit_url = f"/checklists/{v2.id}/questions/{v2.questions[0].id}"
    form = browser.text(edit_url)
    assert 'value="Guards fitted?"' in form or "Guards fitted?</textarea>" in form
    assert browser.post(edit_url, EVERY_KIND_FORMS[0] | {"text": "Are all guards fitted?"}).status_code == 302
    assert browser.post(f"/checklists/{v2.id}/questions/{v2.questions[-1].id}/delete").status_code == 302
    moved = v2.questions[1]
    assert browser.post(f"/checklists/{v2.id}/questions/{moved.id}/up").status_code == 302
    assert [q.text for q in latest("Safety walk").questions][:2] == ["Interlock works", "Are all guards fitted?"]
    assert browser.post(f"/checklists/{v2.id}/questions/{moved.id}/down").status_code == 302
    assert browser.post(f"/checklists/{v2.id}/publish").status_code == 302

    diff = browser.text(f"/checklists/diff?old={draft.id}&new={v2.id}")
    assert "Are all guards fitted?" in diff and "Guards fitted?" in diff
    assert "1 changed · 0 added · 1 removed" in diff
    only = browser.text(f"/checklists/diff?old={draft.id}&new={v2.id}&only=changes")
    assert only.count('class="diff-') == 2 and "Housekeeping" not in only
    listing = browser.text("/checklists")
    assert "Safety walk" in listing and ">2<" in listing


def test_a_quality_manager_sets_show_if_multiple_choice_weights_and_the_scoring_rule(browser):
    browser.get("/checklists")
    browser.post("/checklists", {"name": "Hot work", "standard": "ISO 45001:2018", "review_due": "2027-01-31"})
    draft = latest("Hot work")
    page = f"/checklists/{draft.id}"
    assert browser.post(f"{page}/questions", {"section": "Walk", "text": "Hot work today?", "kind": "yes_no_na",
                                              "weight": "0", "required": "y"}).status_code == 302
    gate = latest("Hot work").questions[0]
    assert f'value="{gate.id}"' in browser.text(page)  # offered as a show-if source
    assert browser.post(f"{page}/questions", {"section": "Permit", "text": "Permit signed?", "kind": "pass_fail",
                                              "required": "y", "show_if": str(gate.id),
                                              "show_if_values": "yes"}).status_code == 302
    assert browser.post(f"{page}/questions", {"section": "Permit", "text": "PPE seen", "kind": "multi_choice",
                                              "options": "Helmet\nGloves", "weight": "2.5"}).status_code == 302
    assert browser.post(f"{page}/questions", {"section": "Permit", "text": "Fire watch?", "kind": "yes_no_na",
                                              "show_if": str(gate.id), "show_if_values": "no\nna",
                                              "show_if_section": "y"}).status_code == 302
    questions = latest("Hot work").questions
    assert questions[0].weight == 0 and questions[2].weight == 2.5 and questions[2].kind == "multi_choice"
    # The whole "Permit" section now shows only when the gate is no or N/A.
    assert [q.show_if for q in questions[1:]] == [{"question_id": str(gate.id), "values": ["no", "na"]}] * 3
    bad = browser.post(f"{page}/questions", {"section": "Walk", "text": "X?", "kind": "yes_no_na",
                                             "show_if": str(gate.id), "show_if_values": "maybe"})
    assert bad.status_code == 422 and "cannot be answered maybe" in bad.get_data(as_text=True)
    assert browser.post(f"{page}/details", {"name": "Hot work", "standard": "ISO 45001:2018",
                                            "review_due": "2027-01-31", "deduct_major_nc": "10",
                                            "deduct_minor_nc": "5"}).status_code == 302
    assert latest("Hot work").scoring == {"deductions": {"major_nc": 10, "minor_nc": 5}}
    shown = browser.text(page)
    assert "shown only when 1. Hot work today? is no or na" in shown and "less 10 per major nc" in shown
    assert "weight 2.5" in shown

    assert browser.post(f"{page}/publish").status_code == 302
    assert browser.post(f"{page}/new-version").status_code == 302
    v2 = latest("Hot work")
    fire = v2.questions[3]
    assert browser.post(f"/checklists/{v2.id}/questions/{fire.id}", {
        "section": "Permit", "text": "Fire watch?", "kind": "yes_no_na", "weight": "1",
        "show_if": str(v2.questions[0].id), "show_if_values": "yes"}).status_code == 302
    diff = browser.text(f"/checklists/diff?old={draft.id}&new={v2.id}&only=changes")
    assert "Fire watch?" in diff and "show if" in diff and "shown only when 1. Hot work today? is yes" in diff


def test_a_question_form_needs_its_csrf_token(browser, quality):
    draft = checklists.create_draft(quality, "Walk", "ISO 45001:2018")
    db.session.commit()
    refused = browser.client.post(f"/checklists/{draft.id}/questions", data=EVERY_KIND_FORMS[0])
    assert refused.status_code == 400
    assert latest("Walk").questions == []


def test_export_then_import_through_the_pages(browser, quality):
    template = checklists.import_checklist(quality, checklists.bundled_checklist("iso45001-safety-walk.json"))
    checklists.publish(quality, template)
    db.session.commit()
    exported = browser.get(f"/checklists/{template.id}/export")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    assert "attachment" in exported.headers["Content-Disposition"]
    data = json.loads(exported.get_data(as_text=True))
    assert data == checklists.export_checklist(template)

    browser.get("/checklists")
    upload = browser.post("/checklists/import", {"file": (io.BytesIO(json.dumps(data | {"name": "Hull walk"}).encode()), "walk.json")},
                          content_type="multipart/form-data")
    assert upload.status_code == 302
    assert checklists.export_checklist(latest("Hull walk")) == data | {"name": "Hull walk"}
    pasted = browser.post("/checklists/import", {"text": json.dumps(data)})
    assert pasted.status_code == 302
    assert (latest(data["name"]).version, latest(data["name"]).status) == (2, TemplateStatus.DRAFT)


@pytest.mark.parametrize("text", ["", "{not json", json.dumps({"format": "other"}), json.dumps([1, 2]),
                                  json.dumps({"format": "gemba-checklist/1", "name": "X", "standard": "Y",
                                              "questions": [{"section": "S", "text": "T", "kind": "choice", "options": ["A"]}]})])
def test_a_bad_import_shows_why(browser, text):
    browser.get("/checklists")
    response = browser.post("/checklists/import", {"text": text})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Template)) == 0


@pytest.mark.parametrize("url", ["/checklists/diff", "/checklists/diff?old=x&new=y",
                                 "/checklists/00000000-0000-0000-0000-000000000000"])
def test_bad_checklist_links_are_404(browser, url):
    assert browser.get(url).status_code == 404


# --- programme ---------------------------------------------------------------------------

@pytest.fixture
def world(make, quality, commit):
    template = make.template(standard="ISO 9001:2015")
    paint, dispatch = make.area(name="Paint shop", audit_every_months=6), make.area(name="Dispatch", audit_every_months=12)
    insider = make.user("auditor", name="Insider Ida", home_area=paint)
    outsider = make.user("auditor", name="Outsider Olu")
    for auditor in (insider, outsider):
        programme.set_qualification(quality, auditor, "ISO 9001", None)
    commit()
    return {"template": template, "paint": paint, "dispatch": dispatch, "insider": insider, "outsider": outsider}


def test_the_plan_form_refuses_an_auditor_for_their_own_area(browser, world):
    browser.get("/programme")
    refused = browser.post("/programme/plan", {
        "template": str(world["template"].id), "area": str(world["paint"].id),
        "planned_date": (date.today() + timedelta(days=7)).isoformat(), "auditor": str(world["insider"].id)})
    assert refused.status_code == 403
    assert "works in" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 0
    planned = browser.post("/programme/plan", {
        "template": str(world["template"].id), "area": str(world["paint"].id),
        "planned_date": (date.today() + timedelta(days=7)).isoformat(), "auditor": ""})
    assert planned.status_code == 302
    audit = db.session.scalar(select(Audit))
    assert audit.auditor_id is None and audit.status == AuditStatus.PLANNED


def test_two_clicks_assign_the_top_suggestion_and_insiders_are_refused(browser, world, make, commit):
    audit = make.audit(world["template"], world["paint"], None, planned_date=date.today() + timedelta(days=10))
    commit()
    page = browser.text(f"/programme/audits/{audit.id}")
    assert "Assign Outsider Olu" in page and "Assign Insider Ida" not in page
    assert "Insider Ida works in" in page  # listed as not eligible, with the reason
    forged = browser.post(f"/programme/audits/{audit.id}/assign", {"auditor": str(world["insider"].id)})
    assert forged.status_code == 403 and "works in" in forged.get_data(as_text=True)
    assert browser.post(f"/programme/audits/{audit.id}/assign", {"auditor": str(world["outsider"].id)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Audit, audit.id).auditor_id == world["outsider"].id


def test_generate_a_year_through_the_page(browser, world):
    browser.get("/programme")
    response = browser.post("/programme/generate", {"template": str(world["template"].id),
                                                    "start": date.today().isoformat(), "months": "12", "assign": "y"})
    assert response.status_code == 302
    audits = db.session.scalars(select(Audit)).all()
    assert sorted(a.area.name for a in audits) == ["Dispatch", "Paint shop", "Paint shop"]
    assert all(a.auditor_id != world["insider"].id or a.area_id != world["paint"].id for a in audits)
    listing = browser.text(response.headers["Location"])
    assert "Planned 3 audits" in listing
    again = browser.post("/programme/generate", {"template": str(world["template"].id),
                                                 "start": date.today().isoformat(), "months": "12"})
    assert "nothing new to plan" in browser.text(again.headers["Location"])
    assert browser.post("/programme/generate", {"template": str(world["template"].id),
                                                "start": date.today().isoformat(), "months": "99"}).status_code == 422


def test_reschedule_and_remove_a_planned_audit(browser, world, make, commit):
    audit = make.audit(world["template"], world["dispatch"], world["outsider"], planned_date=date.today() + timedelta(days=3))
    commit()
    browser.get(f"/programme/audits/{audit.id}")
    new_day = date.today() + timedelta(days=20)
    assert browser.post(f"/programme/audits/{audit.id}/reschedule", {"planned_date": new_day.isoformat()}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Audit, audit.id).planned_date == new_day
    assert browser.post(f"/programme/audits/{audit.id}/remove").status_code == 302
    assert db.session.get(Audit, audit.id) is None


def test_a_started_audit_cannot_be_moved(browser, world, make, commit):
    audit = make.audit(world["template"], world["dispatch"], world["outsider"], status=AuditStatus.IN_PROGRESS)
    commit()
    browser.get(f"/programme/audits/{audit.id}")
    response = browser.post(f"/programme/audits/{audit.id}/assign", {"auditor": ""})
    assert response.status_code == 409
    assert "only a planned audit" in response.get_data(as_text=True)


def test_list_and_calendar_show_the_plan_and_flag_overdue(browser, world, make, commit):
    late = make.audit(world["template"], world["dispatch"], world["outsider"], planned_date=date.today() - timedelta(days=4))
    soon = make.audit(world["template"], world["paint"], None, planned_date=date.today().replace(day=28))
    commit()
    listing = browser.text("/programme")
    assert "Overdue audits" in listing and str(late.planned_date) in listing
    assert "overdue" in listing
    month = browser.text(f"/programme/calendar?month={soon.planned_date:%Y-%m}")
    assert "Paint shop" in month and soon.planned_date.strftime("%B %Y") in month
    html = browser.text("/programme?unassigned=y")
    listed = html.split('aria-label="Filter the programme"')[1].split("</form>", 1)[1].split("Generate the programme")[0]
    assert "Paint shop" in listed and "Dispatch" not in listed


@pytest.mark.parametrize(("url", "shows"), [
    ("/programme?month=13-2026&status=nope&area=x&auditor=y&page=-1", "<h1>Audit programme</h1>"),
    ("/programme/calendar?month=0000-00", f"<h1>Audit programme: {date.today():%B %Y}</h1>"),
    ("/programme/calendar?month=abc", f"<h1>Audit programme: {date.today():%B %Y}</h1>"),
    ("/coverage?cycle=abc&standard=nope", "<h1>Clause coverage</h1>"),
    ("/coverage.csv?cycle=-1", "standard,site,area,clause"),
])
def test_bad_programme_parameters_do_not_break_pages(browser, world, url, shows):
    response = browser.get(url)
    assert response.status_code == 200
    assert shows in response.get_data(as_text=True)


def test_qualifications_are_recorded_and_expiring_ones_listed(browser, world):
    browser.get("/programme/auditors")
    soon = (date.today() + timedelta(days=15)).isoformat()
    response = browser.post("/programme/qualifications", {"user": str(world["outsider"].id), "standard": "ISO 45001",
                                                          "expires_on": soon})
    assert response.status_code == 302
    page = browser.text("/programme/auditors")
    assert "Expired or expiring qualifications" in page and f"expires {soon}" in page
    assert "ISO 45001" in page
    safety = select(CompetenceRecord).join(Competence).where(Competence.audits_standard == "ISO 45001")
    qualification = db.session.scalar(safety)
    assert qualification.competence.name == "ISO 45001 internal auditor" and qualification.gained_on is None
    assert browser.post(f"/programme/qualifications/{qualification.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(safety.subquery())) == 0


# --- coverage ----------------------------------------------------------------------------

def test_coverage_page_and_csv_show_the_gaps(browser, world, make, commit):
    from server.models import Response

    template = world["template"]
    audit = make.audit(template, world["paint"], world["outsider"], status=AuditStatus.APPROVED,
                       planned_date=date.today() - timedelta(days=20))
    for question in template.questions:
        db.session.add(Response(audit_id=audit.id, question_id=question.id, value="yes" if question.kind == "yes_no_na" else "pass"))
    commit()
    page = browser.text("/coverage?standard=ISO+9001")
    assert "Gap" in page and "never audited" in page
    assert str(audit.planned_date) in page or "conforming" in page
    csv_response = browser.get("/coverage.csv?standard=ISO+9001")
    assert csv_response.mimetype == "text/csv"
    rows = csv_response.get_data(as_text=True).strip().splitlines()
    assert rows[0].startswith("standard,site,area,clause")
    assert len(rows) == 1 + 2 * len({q.clause for q in template.questions})
    assert any(",Dispatch," in r and r.endswith(",yes") for r in rows)


# --- who may see these pages -------------------------------------------------------------

@pytest.mark.parametrize("role", ["auditor", "staff"])
@pytest.mark.parametrize("url", ["/checklists", "/programme", "/programme/calendar", "/programme/auditors",
                                 "/coverage", "/coverage.csv"])
def test_only_planners_open_the_programme_pages(client, make, commit, role, url):
    user = make.user(role)
    commit()
    RegisterPages(client).sign_in(user)
    assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/checklists", "/programme", "/coverage"):
        assert client.get(url).status_code == 302


def test_every_field_has_a_label(browser, world, make, commit):
    audit = make.audit(world["template"], world["paint"], None, planned_date=date.today() + timedelta(days=3))
    commit()
    for url in ("/checklists", "/programme", f"/programme/audits/{audit.id}", "/programme/auditors", "/coverage",
                f"/checklists/{world['template'].id}"):
        html = browser.text(url)
        for match in re.finditer(r'<(input|select|textarea)\b([^>]*)>', html):
            attrs = match.group(2)
            if 'type="hidden"' in attrs or 'type="submit"' in attrs:
                continue
            field_id = re.search(r'id="([^"]+)"', attrs)
            assert field_id, (url, attrs)
            assert f'for="{field_id.group(1)}"' in html, (url, field_id.group(1))


# --- dashboard -----------------------------------------------------------------------------

def test_dashboard_lists_overdue_audits_and_checklists_due_for_review(browser, world, make, quality, commit):
    make.audit(world["template"], world["dispatch"], world["outsider"], planned_date=date.today() - timedelta(days=6))
    make.audit(world["template"], world["dispatch"], world["outsider"], planned_date=date.today() - timedelta(days=6),
               status=AuditStatus.SUBMITTED)
    stale = checklists.import_checklist(quality, checklists.bundled_checklist("iso9001-internal-audit.json")
                                        | {"review_due": (date.today() - timedelta(days=1)).isoformat()})
    checklists.publish(quality, stale)
    commit()
    html = browser.text("/dashboard")
    assert re.search(r'<span class="n">1</span> overdue audits', html)
    assert "Checklists overdue for review" in html and "ISO 9001:2015 internal audit v1" in html


def test_an_auditor_sees_only_their_own_overdue_audits(client, world, make, commit):
    make.audit(world["template"], world["dispatch"], world["outsider"], planned_date=date.today() - timedelta(days=6))
    mine = make.audit(world["template"], world["dispatch"], world["insider"], planned_date=date.today() - timedelta(days=2))
    commit()
    RegisterPages(client).sign_in(world["insider"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<span class="n">1</span> overdue audits', html) and str(mine.planned_date) in html
    assert "Checklists overdue for review" not in html


def test_area_risk_and_frequency_are_edited_on_the_areas_page(browser, world):
    paint = world["paint"]
    page = browser.text("/programme/areas")
    assert "Paint shop" in page and "never" in page
    prefix = f"area-{paint.id.hex[:8]}"
    saved = browser.post(f"/programme/areas/{paint.id}", {f"{prefix}-risk_level": "high", f"{prefix}-audit_every_months": "3"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert (db.session.get(type(paint), paint.id).risk_level, db.session.get(type(paint), paint.id).audit_every_months) == ("high", 3)
    refused = browser.post(f"/programme/areas/{paint.id}", {f"{prefix}-risk_level": "high", f"{prefix}-audit_every_months": "99"})
    assert refused.status_code == 422 and "Between 1 and 36" in refused.get_data(as_text=True)
