"""Living checklists: frozen published versions, new versions, diffs, JSON files."""

import copy
import io
from datetime import date, timedelta

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from server.errors import Invalid, NotAllowed, StateError
from server.extensions import db
from server.models import Audit, Change, QuestionKind, Template, TemplateStatus
from server.services import checklists, documents, programme
from tests import documents as document_files

EVERY_KIND = [
    {"section": "Controls", "text": "Guards fitted?", "kind": "yes_no_na", "clause": "8.1.2", "finding_answers": ["no"]},
    {"section": "Controls", "text": "Interlock test", "kind": "pass_fail", "clause": "8.1.2", "photo_answers": ["fail"],
     "finding_answers": ["fail"], "guidance": "Ask the operator to show it."},
    {"section": "Controls", "text": "Housekeeping", "kind": "score", "options": [1, 5], "finding_answers": [1, 2], "clause": "6.1.2"},
    {"section": "People", "text": "Main hazard", "kind": "choice", "options": ["Noise", "Dust", "None"], "finding_answers": ["Dust"]},
    {"section": "People", "text": "Workers seen", "kind": "number", "options": [0, 200], "required": False},
    {"section": "People", "text": "Notes", "kind": "text", "required": False},
    {"section": "Emergency", "text": "Last drill", "kind": "date", "clause": "8.2"},
    {"section": "Emergency", "text": "Photo of the exits", "kind": "photo", "required": False},
    {"section": "Emergency", "text": "Kit seen", "kind": "multi_choice", "options": ["Extinguisher", "First aid", "Eyewash"],
     "finding_answers": ["Eyewash"], "required": False},
]


def checklist_file(name="Safety walk", questions=None, **overrides) -> dict:
    return {"format": "gemba-checklist/1", "name": name, "standard": "ISO 45001:2018",
            "description": "A short walk.", "review_due": "2027-01-31",
            "questions": copy.deepcopy(questions or EVERY_KIND)} | overrides


@pytest.fixture
def quality(supervisor):
    return supervisor


@pytest.fixture
def draft(quality):
    return checklists.import_checklist(quality, checklist_file())


def test_publishing_freezes_the_version(quality, draft):
    checklists.publish(quality, draft)
    assert draft.status == TemplateStatus.PUBLISHED and draft.published_at is not None
    frozen = checklists.export_checklist(draft)
    question = draft.questions[0]
    with pytest.raises(StateError):
        checklists.add_question(quality, draft, EVERY_KIND[0])
    with pytest.raises(StateError):
        checklists.update_question(quality, question, EVERY_KIND[0] | {"text": "Reworded?"})
    with pytest.raises(StateError):
        checklists.delete_question(quality, question)
    with pytest.raises(StateError):
        checklists.move_question(quality, question, 1)
    with pytest.raises(StateError):
        checklists.update_details(quality, draft, "Renamed", "ISO 45001:2018", "", None)
    with pytest.raises(StateError):
        checklists.publish(quality, draft)
    db.session.expire_all()
    assert checklists.export_checklist(db.session.get(Template, draft.id)) == frozen
    assert db.session.scalar(select(Change).where(Change.entity == "template", Change.entity_id == str(draft.id)))


def test_an_audit_keeps_its_version_after_a_new_one_is_published(quality, draft, make):
    checklists.publish(quality, draft)
    area = make.area()
    auditor = make.user("auditor")
    programme.set_qualification(quality, auditor, "ISO 45001", None)
    audit = programme.plan_audit(quality, draft, area, date.today() + timedelta(days=3), auditor)
    v1_questions = [(q.id, q.text) for q in draft.questions]

    v2 = checklists.new_version(quality, draft)
    assert (v2.family_id, v2.version, v2.status) == (draft.family_id, 2, TemplateStatus.DRAFT)
    assert checklists.new_version(quality, draft) is v2  # one draft at a time
    checklists.update_question(quality, v2.questions[0], EVERY_KIND[0] | {"text": "Are all guards fitted and working?"})
    checklists.add_question(quality, v2, {"section": "Emergency", "text": "Extinguishers inspected?", "kind": "pass_fail",
                                          "finding_answers": ["fail"], "clause": "8.2"})
    checklists.publish(quality, v2)

    db.session.expire_all()
    old = db.session.get(Template, draft.id)
    assert old.status == TemplateStatus.RETIRED
    assert [(q.id, q.text) for q in old.questions] == v1_questions
    audit = db.session.get(Audit, audit.id)
    assert audit.template_id == draft.id and audit.template.version == 1
    assert len(audit.template.questions) == len(EVERY_KIND)
    assert [t.id for t in checklists.published_templates()] == [v2.id]
    with pytest.raises(Invalid):
        programme.plan_audit(quality, old, area, date.today(), None)  # a retired version takes no new audits


def test_publish_needs_questions_and_a_draft(quality):
    empty = checklists.create_draft(quality, "Empty", "ISO 9001:2015")
    with pytest.raises(Invalid):
        checklists.publish(quality, empty)


def test_publish_sets_a_review_date_when_none_was_given(quality):
    template = checklists.import_checklist(quality, checklist_file(review_due=None))
    checklists.publish(quality, template, today=date(2026, 3, 1))
    assert template.review_due == date(2027, 3, 1)


def test_staff_cannot_build_checklists(make):
    with pytest.raises(NotAllowed):
        checklists.create_draft(make.user("auditor"), "Mine", "ISO 9001:2015")


@pytest.mark.parametrize(("question", "field"), [
    ({"kind": "yes_no_na", "options": ["maybe"]}, "options"),
    ({"kind": "yes_no_na", "finding_answers": ["fail"]}, "finding_answers"),
    ({"kind": "pass_fail", "photo_answers": ["no"]}, "photo_answers"),
    ({"kind": "score", "options": [5, 1]}, "options"),
    ({"kind": "score", "options": [0, 5], "finding_answers": [7]}, "finding_answers"),
    ({"kind": "choice", "options": ["Only one"]}, "options"),
    ({"kind": "choice", "options": ["A", "A"]}, "options"),
    ({"kind": "choice", "options": ["A", "B"], "finding_answers": ["C"]}, "finding_answers"),
    ({"kind": "number", "options": [10, 1]}, "options"),
    ({"kind": "number", "finding_answers": ["out_of_range"]}, "finding_answers"),  # no limits to be out of
    ({"kind": "text", "finding_answers": ["anything"]}, "finding_answers"),
    ({"kind": "date", "options": ["x"]}, "options"),
    ({"kind": "sketch"}, "kind"),
    ({"kind": "text", "text": ""}, "text"),
    ({"kind": "text", "section": ""}, "section"),
])
def test_a_question_that_makes_no_sense_is_refused(quality, question, field):
    draft = checklists.create_draft(quality, "Walk", "ISO 45001:2018")
    with pytest.raises(Invalid) as refused:
        checklists.add_question(quality, draft, {"section": "S", "text": "Q?"} | question)
    assert field in refused.value.fields


def test_questions_move_and_delete_within_a_draft(quality, draft):
    texts = [q.text for q in draft.questions]
    checklists.move_question(quality, draft.questions[0], 2)
    assert [q.text for q in draft.questions] == texts[1:3] + texts[:1] + texts[3:]
    checklists.delete_question(quality, draft.questions[1])
    db.session.expire_all()
    draft = db.session.get(Template, draft.id)
    assert [q.position for q in draft.questions] == list(range(1, len(texts)))
    assert texts[2] not in [q.text for q in draft.questions]


# --- JSON files ------------------------------------------------------------------------

def test_export_import_round_trip_equals_the_original(quality, draft):
    checklists.publish(quality, draft)
    exported = checklists.export_checklist(draft)
    assert exported == checklist_file() | {"questions": [
        {"guidance": "", "options": [], "required": True, "clause": "", "finding_answers": [], "photo_answers": []} | q
        for q in EVERY_KIND
    ]}
    other_site = checklists.import_checklist(quality, exported | {"name": "Safety walk (Hull)"})
    assert checklists.export_checklist(other_site) == exported | {"name": "Safety walk (Hull)"}
    assert {q["kind"] for q in exported["questions"]} == {k.value for k in QuestionKind}


@pytest.mark.parametrize("filename", ["iso9001-internal-audit.json", "iso45001-safety-walk.json"])
def test_the_bundled_checklists_import_and_export_unchanged(quality, filename):
    shipped = checklists.bundled_checklist(filename)
    template = checklists.import_checklist(quality, shipped, today=date(2026, 1, 1))
    exported = checklists.export_checklist(template)
    expected = {k: v for k, v in shipped.items() if k != "review_due_days"}
    expected["review_due"] = (date(2026, 1, 1) + timedelta(days=shipped["review_due_days"])).isoformat()
    assert exported == expected | {"questions": exported["questions"]}
    assert exported["questions"] == [
        {f: q.get(f, d) for f, d in (("section", ""), ("text", ""), ("guidance", ""), ("kind", ""), ("options", []),
                                      ("required", True), ("clause", ""), ("finding_answers", []),
                                      ("photo_answers", []))}
        | {f: q[f] for f in ("weight", "show_if") if f in q}
        for q in shipped["questions"]
    ]


def test_a_checklist_file_with_a_nul_character_is_refused_before_anything_is_stored(quality):
    shipped = checklists.bundled_checklist("iso45001-safety-walk.json")
    shipped["questions"][3]["guidance"] = "Check the \u0000 tag"
    before = db.session.scalar(select(func.count()).select_from(Template))
    with pytest.raises(Invalid) as refused:
        checklists.import_checklist(quality, shipped)
    assert "NUL" in refused.value.message and refused.value.fields == {"file": ["Contains a NUL character."]}
    assert db.session.scalar(select(func.count()).select_from(Template)) == before


def test_importing_a_checklist_by_the_same_name_drafts_its_next_version(quality, draft):
    checklists.publish(quality, draft)
    updated = checklist_file(questions=EVERY_KIND[:3])
    v2 = checklists.import_checklist(quality, updated)
    assert (v2.family_id, v2.version, v2.status) == (draft.family_id, 2, TemplateStatus.DRAFT)
    with pytest.raises(Invalid):
        checklists.import_checklist(quality, updated)  # that family already has a draft


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "something-else/2"}, "format"),
    ({"questions": []}, "questions"),
    ({"questions": [{"section": "S", "text": "Q", "kind": "sketch"}]}, "questions"),
    ({"questions": [{"section": "S", "text": "Q", "kind": "text", "required": "perhaps"}]}, "questions"),
    ({"questions": [{"section": "S", "text": "Q", "kind": "text", "finding_answers": [{"a": 1}]}]}, "questions"),
    ({"unexpected": 1}, "unexpected"),
    ({"review_due": "31/01/2027"}, "review_due"),
])
def test_a_malformed_file_is_refused_with_the_field(quality, change, field):
    with pytest.raises(ValidationError) as refused:
        checklists.import_checklist(quality, checklist_file() | change)
    assert field in refused.value.messages


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "name"),
    ({"name": "N" * 201}, "name"),
    ({"standard": " "}, "standard"),
    ({"questions": [{"section": "S", "text": "Q" * 2001, "kind": "text"}]}, "questions.0.text"),
    ({"questions": [{"section": "S", "text": "Q", "clause": "9" * 41, "kind": "text"}]}, "questions.0.clause"),
])
def test_a_file_breaking_a_field_rule_names_the_field(quality, change, field):
    # The same rules (and limits) as the checklist builder's forms: fieldrules.LIMITS.
    with pytest.raises(Invalid) as refused:
        checklists.import_checklist(quality, checklist_file() | change)
    assert field in refused.value.fields
    assert db.session.scalar(select(Template)) is None


def test_a_file_with_a_senseless_question_names_it(quality):
    questions = EVERY_KIND[:2] + [{"section": "S", "text": "Pick", "kind": "choice", "options": ["A"]}]
    with pytest.raises(Invalid) as refused:
        checklists.import_checklist(quality, checklist_file(questions=questions))
    assert "questions.2.options" in refused.value.fields
    assert db.session.scalar(select(Template)) is None


def test_a_file_that_is_not_an_object_is_refused(quality):
    with pytest.raises(ValidationError):
        checklists.import_checklist(quality, ["not", "a", "checklist"])


# --- diff and review -------------------------------------------------------------------

def test_diff_lines_up_two_versions(quality, draft):
    checklists.publish(quality, draft)
    v2 = checklists.new_version(quality, draft)
    checklists.update_question(quality, v2.questions[1], EVERY_KIND[1] | {"clause": "8.1.3"})   # field changed
    checklists.update_question(quality, v2.questions[3], EVERY_KIND[3] | {"text": "Worst hazard"})  # reworded
    checklists.delete_question(quality, v2.questions[5])                                        # removed "Notes"
    checklists.add_question(quality, v2, {"section": "Emergency", "text": "Exits clear?", "kind": "pass_fail"})
    db.session.expire_all()
    rows = checklists.diff(db.session.get(Template, draft.id), db.session.get(Template, v2.id))
    summary = [(r["change"], r["old"].text if r["old"] else None, r["new"].text if r["new"] else None) for r in rows]
    assert ("same", "Guards fitted?", "Guards fitted?") in summary
    assert ("changed", "Main hazard", "Worst hazard") in summary
    assert ("removed", "Notes", None) in summary
    assert ("added", None, "Exits clear?") in summary
    interlock = next(r for r in rows if r["old"] and r["old"].text == "Interlock test")
    assert (interlock["change"], interlock["fields"]) == ("changed", ["clause"])
    assert sum(r["change"] == "same" for r in rows) == 6


def test_overdue_reviews_and_marking_one_reviewed(quality):
    late = checklists.import_checklist(quality, checklist_file(name="Late", review_due="2026-01-10"))
    fine = checklists.import_checklist(quality, checklist_file(name="Fine", review_due="2026-06-01"))
    checklists.publish(quality, late)
    checklists.publish(quality, fine)
    today = date(2026, 2, 1)
    assert checklists.overdue_for_review(today) == [late]
    with pytest.raises(Invalid):
        checklists.mark_reviewed(quality, late, today, today=today)
    checklists.mark_reviewed(quality, late, date(2027, 2, 1), today=today)
    assert checklists.overdue_for_review(today) == []
    assert len(late.questions) == len(EVERY_KIND)  # a review that changes nothing keeps the version


def test_a_number_out_of_its_limits_calls_for_a_finding_where_the_question_says_so(quality, draft):
    question = checklists.add_question(quality, draft, {
        "section": "S", "text": "pH of the rinse bath", "kind": "number", "options": [6, 9],
        "finding_answers": ["out_of_range"], "photo_answers": ["out_of_range"]})
    calls = [checklists.answer_calls_for(question.finding_answers, question.kind, question.options, v)
             for v in (5.9, 6, 7.5, 9, 12, None, "12")]
    assert calls == [True, False, False, False, True, False, False]
    # Without "out_of_range" listed, an answer out of range is flagged on the device only.
    assert not checklists.answer_calls_for([], "number", [6, 9], 12)


def test_a_question_cites_only_a_current_approved_revision(quality, draft):
    wi = documents.create_document(quality, {"number": "WI-014", "title": "Forklift check", "type": "work_instruction"},
                                   documents.Upload(io.BytesIO(document_files.pdf("rev 1")), "wi.pdf"))
    first = wi.revisions[0]
    question = {"section": "Forklifts", "text": "Pre-use check done as the instruction says?", "kind": "yes_no_na",
                "document_revision_id": str(first.id)}
    with pytest.raises(Invalid) as draft_cited:
        checklists.add_question(quality, draft, question)  # a draft is not for citing yet
    assert "document_revision_id" in draft_cited.value.fields
    documents.approve_revision(quality, wi, first)
    cited = checklists.add_question(quality, draft, question)
    assert cited.cites is first
    checklists.publish(quality, draft)

    # Rev 2 supersedes rev 1: a new question may not cite rev 1, and the next version must move on.
    documents.add_revision(quality, wi, documents.Upload(io.BytesIO(document_files.pdf("rev 2")), "wi2.pdf"))
    documents.approve_revision(quality, wi, wi.revisions[1])
    assert first.status == "obsolete"
    following = checklists.new_version(quality, draft)
    with pytest.raises(Invalid) as obsolete_cited:
        checklists.add_question(quality, following, question)
    assert "obsolete" in obsolete_cited.value.fields["document_revision_id"][0]
    with pytest.raises(Invalid, match="no longer current"):
        checklists.publish(quality, following)
    copied = next(q for q in following.questions if q.document_revision_id)
    checklists.update_question(quality, copied, question | {"document_revision_id": str(wi.revisions[1].id)})
    assert checklists.publish(quality, following).status == TemplateStatus.PUBLISHED
    assert cited.cites is first  # the published version keeps what it cited
