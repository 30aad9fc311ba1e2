"""Checklists that match real forms: show-if, multiple choice, a stated scoring rule."""

import copy
import json
import uuid

import pytest
from marshmallow import ValidationError

from server.errors import Invalid
from server.extensions import db
from server.models import AuditStatus, Finding, FindingKind, Question, Template
from server.services import audits, checklists, coverage
from tests.syncops import FieldDevice, wire

# 1 gates 2 (shown when "no"); 2's section "Detail" follows; 3 is a multiple choice that
# gates 4 (shown when "Gloves" is among the choices); 5 is scored with weight 3; 1 is a
# gate and carries no points (weight 0).
FORM = [
    {"section": "Walk", "text": "Any hot work today?", "kind": "yes_no_na", "clause": "8.1", "finding_answers": [],
     "weight": 0},
    {"section": "Detail", "text": "Is the hot-work permit signed?", "kind": "pass_fail", "clause": "8.1.2",
     "finding_answers": ["fail"], "show_if": {"question": 1, "values": ["yes"]}},
    {"section": "Walk", "text": "PPE seen", "kind": "multi_choice", "options": ["Helmet", "Gloves", "Boots"],
     "clause": "8.1.3", "finding_answers": ["Boots"]},
    {"section": "Walk", "text": "Are the gloves rated for the task?", "kind": "yes_no_na", "clause": "8.1.4",
     "finding_answers": ["no"], "show_if": {"question": 3, "values": ["Gloves"]}},
    {"section": "Walk", "text": "Guards in place?", "kind": "pass_fail", "clause": "8.1.5", "finding_answers": ["fail"],
     "weight": 3},
]
RULE = {"deductions": {"major_nc": 10, "minor_nc": 5}}


def form_file(name="Hot work walk", questions=None, **overrides) -> dict:
    return {"format": "gemba-checklist/1", "name": name, "standard": "ISO 45001:2018", "description": "",
            "review_due": "2027-06-30", "questions": copy.deepcopy(questions or FORM)} | overrides


@pytest.fixture
def form(supervisor):
    template = checklists.import_checklist(supervisor, form_file(scoring=RULE))
    checklists.publish(supervisor, template)
    return template


def q(template, n) -> Question:
    return template.questions[n - 1]


# --- visibility: one rule ----------------------------------------------------------------

def test_a_question_is_shown_only_when_the_earlier_answer_is_one_of_its_values(form):
    shown = checklists.visibility(form.questions, {})
    assert [shown[x.id] for x in form.questions] == [True, False, True, False, True]
    shown = checklists.visibility(form.questions, {q(form, 1).id: "yes", q(form, 3).id: ["Helmet", "Gloves"]})
    assert [shown[x.id] for x in form.questions] == [True, True, True, True, True]
    shown = checklists.visibility(form.questions, {q(form, 1).id: "no", q(form, 3).id: ["Helmet"]})
    assert [shown[x.id] for x in form.questions] == [True, False, True, False, True]


def test_a_question_behind_a_hidden_question_is_hidden_too(supervisor):
    chain = FORM[:2] + [{"section": "Detail", "text": "Fire watch named?", "kind": "yes_no_na",
                         "show_if": {"question": 2, "values": ["pass"]}}]
    template = checklists.import_checklist(supervisor, form_file(name="Chain", questions=chain))
    answers = {q(template, 1).id: "no", q(template, 2).id: "pass"}  # 2 answered before 1 changed to no
    shown = checklists.visibility(template.questions, answers)
    assert (shown[q(template, 2).id], shown[q(template, 3).id]) == (False, False)
    answers[q(template, 1).id] = "yes"
    assert checklists.visibility(template.questions, answers)[q(template, 3).id] is True


def _answer(auditor, audit, question, value, **extra):
    existing = audits.find_response(uuid.uuid4(), audit.id, question.id)
    return audits.record_response(auditor, existing.id if existing else uuid.uuid4(), {"audit_id": audit.id, "question_id": question.id,
                                                           "value": value} | extra)


@pytest.fixture
def audit(make, form, area, auditor):
    return make.audit(form, area, auditor)


def _answer_all_shown(auditor, audit, form, first="no", ppe=("Helmet",)):
    _answer(auditor, audit, q(form, 1), first)
    _answer(auditor, audit, q(form, 3), list(ppe))
    _answer(auditor, audit, q(form, 5), "pass")


def test_a_hidden_required_question_does_not_block_submitting(auditor, audit, form):
    _answer_all_shown(auditor, audit, form)
    audits.submit_audit(auditor, audit)
    assert audit.status == AuditStatus.SUBMITTED


def test_a_shown_required_question_blocks_submitting_until_answered(auditor, audit, form):
    _answer_all_shown(auditor, audit, form, first="yes", ppe=("Gloves",))
    with pytest.raises(Invalid) as refused:
        audits.submit_audit(auditor, audit)
    assert set(refused.value.fields) == {str(q(form, 2).id), str(q(form, 4).id)}


def test_a_hidden_answer_is_kept_but_counts_for_nothing(auditor, audit, form):
    _answer(auditor, audit, q(form, 1), "yes")
    _answer(auditor, audit, q(form, 2), "fail")  # answered while shown, then hidden again
    _answer(auditor, audit, q(form, 1), "no")
    _answer(auditor, audit, q(form, 5), "pass")
    responses = {r.question_id: r for r in audit.responses}
    answered = audits.answered_questions(form.questions, responses, {})
    assert q(form, 2).id in responses and q(form, 2).id not in answered
    assert not audits.is_answered(q(form, 2), responses[q(form, 2).id], [], shown=False)
    assert audits.score(audit, responses) == 100.0  # the hidden fail is not scored


def test_a_hidden_answer_calls_for_no_finding_in_coverage(auditor, audit, form, supervisor):
    _answer_all_shown(auditor, audit, form)
    _answer(auditor, audit, q(form, 2), "fail")  # hidden: 1 is "no"
    audits.submit_audit(auditor, audit)
    matrix = coverage.matrix("ISO 45001:2018")
    assert matrix.cell(audit.area, "8.1.2") is None  # hidden: covers nothing
    assert matrix.cell(audit.area, "8.1.5").result == "conforming"


def test_a_multiple_choice_answer_calls_for_a_finding_when_any_choice_is_listed(form):
    ppe = q(form, 3)
    assert checklists.answer_calls_for(ppe.finding_answers, ppe.kind, ppe.options, ["Helmet", "Boots"])
    assert not checklists.answer_calls_for(ppe.finding_answers, ppe.kind, ppe.options, ["Helmet"])


# --- multiple choice: validated on the server ----------------------------------------

def test_a_multiple_choice_answer_is_stored_in_the_options_order(auditor, audit, form):
    edit = _answer(auditor, audit, q(form, 3), ["Boots", "Helmet"])
    assert edit.record.value == ["Helmet", "Boots"]


@pytest.mark.parametrize("value", [
    "Helmet",                                   # not a list
    ["Helmet", "Sandals"],                      # not an option
    ["Helmet", "Helmet"],                       # twice
    ["Helmet", 3],                              # not text
    [["Helmet"]],                               # nested
    [{"x": 1}],
    ["Helmet"] * 10_000,                        # huge
    {"Helmet": True},
    True,
])
def test_a_bad_multiple_choice_answer_is_refused(auditor, audit, form, value):
    with pytest.raises(Invalid) as refused:
        _answer(auditor, audit, q(form, 3), value)
    assert "value" in refused.value.fields


@pytest.mark.parametrize("value", [["Helmet"], ["a", "b"], {"v": 1}])
def test_a_single_choice_refuses_a_list(make, area, auditor, value):
    template = make.template(questions=0)
    template.questions.append(Question(section="S", position=1, text="Pick", kind="choice", options=["Helmet", "a"]))
    db.session.flush()
    audit = make.audit(template, area, auditor)
    with pytest.raises(Invalid):
        _answer(auditor, audit, template.questions[0], value)


@pytest.mark.parametrize("value", [["Sandals"], ["Helmet", "Helmet"], "Helmet", [1, 2], ["x" * 300] * 3000])
def test_a_pushed_bad_multiple_choice_answer_is_rejected_not_a_server_error(signed_in, auditor, audit, form, commit,
                                                                           value):
    commit()
    device = FieldDevice(auditor)
    op = device.response(audit, q(form, 3), value)
    response = signed_in(auditor).post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]})
    assert response.status_code in (200, 400, 413), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        result = response.get_json()["results"][0]
        assert result["status"] == "rejected" and "value" in result["fields"]


def test_a_pushed_multiple_choice_answer_is_applied(signed_in, auditor, audit, form, commit):
    commit()
    device = FieldDevice(auditor)
    op = device.response(audit, q(form, 3), ["Gloves", "Helmet"])
    response = signed_in(auditor).post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op)]})
    assert response.get_json()["results"][0]["status"] == "applied"
    db.session.expire_all()
    assert {r.question_id: r.value for r in audit.responses}[q(form, 3).id] == ["Helmet", "Gloves"]


# --- the scoring rule ------------------------------------------------------------------

def _finding(make, audit, auditor, kind, question=None, **extra):
    return make.finding(audit.area, auditor, kind=kind, audit_id=audit.id,
                        question_id=question.id if question else None, **extra)


def test_weights_count_in_the_share(auditor, audit, form):
    _answer(auditor, audit, q(form, 1), "yes")   # weight 0: no points
    _answer(auditor, audit, q(form, 2), "fail")  # 0 of 1
    _answer(auditor, audit, q(form, 5), "pass")  # 3 of 3
    responses = {r.question_id: r for r in audit.responses}
    assert audits.score(audit, responses) == 75.0  # 3 of 4


def test_one_major_nc_costs_its_deduction_instead_of_its_answer(make, auditor, audit, form):
    _answer_all_shown(auditor, audit, form)
    _answer(auditor, audit, q(form, 5), "fail")
    _finding(make, audit, auditor, FindingKind.MAJOR_NC, q(form, 5))
    responses = {r.question_id: r for r in audit.responses}
    assert audits.score(audit, responses) == 90.0  # the rest all earn: 100 - 10


def test_deductions_add_up_and_never_go_below_zero(make, auditor, audit, form):
    _answer_all_shown(auditor, audit, form)
    _finding(make, audit, auditor, FindingKind.MINOR_NC)
    _finding(make, audit, auditor, FindingKind.OBSERVATION)  # takes nothing off under this rule
    responses = {r.question_id: r for r in audit.responses}
    assert audits.score(audit, responses) == 95.0
    for _ in range(20):
        _finding(make, audit, auditor, FindingKind.MAJOR_NC)
    assert audits.score(audit, responses) == 0.0


def test_a_rejected_finding_takes_nothing_off(make, auditor, audit, form):
    _answer_all_shown(auditor, audit, form)
    _finding(make, audit, auditor, FindingKind.MAJOR_NC, status="rejected")
    assert audits.score(audit, {r.question_id: r for r in audit.responses}) == 100.0


def test_without_a_rule_the_score_is_the_plain_share_as_before(supervisor, make, area, auditor):
    template = checklists.import_checklist(supervisor, form_file(name="No rule"))
    checklists.publish(supervisor, template)
    audit = make.audit(template, area, auditor)
    _answer(auditor, audit, q(template, 1), "no")
    _answer(auditor, audit, q(template, 5), "fail")
    _finding(make, audit, auditor, FindingKind.MAJOR_NC, q(template, 5))
    # Without deductions the failed answer itself is scored: 0 of 3 (with the rule: 100 - 10).
    assert audits.score(audit, {r.question_id: r for r in audit.responses}) == 0.0


def test_the_submitted_score_uses_the_rule(make, auditor, audit, form):
    _answer_all_shown(auditor, audit, form)
    _answer(auditor, audit, q(form, 5), "fail")
    _finding(make, audit, auditor, FindingKind.MAJOR_NC, q(form, 5))
    audits.submit_audit(auditor, audit)
    assert audit.score == 90.0


@pytest.mark.parametrize("scoring", [
    {"deductions": {"fatal": 10}},
    {"deductions": {"major_nc": -1}},
    {"deductions": {"major_nc": 1000}},
    {"deductions": {"major_nc": True}},
    {"deductions": []},
    {"bonus": {}},
])
def test_a_bad_scoring_rule_is_refused(supervisor, scoring):
    with pytest.raises((Invalid, ValidationError)):
        checklists.import_checklist(supervisor, form_file(name="Bad rule", scoring=scoring))


# --- the file format, the builder, versions, diff ---------------------------------------

def test_show_if_weight_and_scoring_survive_export_and_import(supervisor, form):
    exported = checklists.export_checklist(form)
    assert exported["scoring"] == RULE
    assert exported["questions"][1]["show_if"] == {"question": 1, "values": ["yes"]}
    assert exported["questions"][4]["weight"] == 3 and "weight" not in exported["questions"][2]
    again = checklists.import_checklist(supervisor, json.loads(json.dumps(exported)) | {"name": "Copy"})
    assert checklists.export_checklist(again) == exported | {"name": "Copy"}
    assert again.questions[1].show_if["question_id"] == str(again.questions[0].id)


def test_a_file_without_the_new_fields_still_imports(supervisor):
    old = form_file(name="Old", questions=[{k: v for k, v in x.items() if k not in ("show_if", "weight")}
                                           for x in FORM if x["kind"] != "multi_choice"])
    template = checklists.import_checklist(supervisor, old)
    assert all(x.show_if is None and x.weight == 1 for x in template.questions) and template.scoring is None


@pytest.mark.parametrize(("show_if", "words"), [
    ({"question": 2, "values": ["yes"]}, "earlier"),          # itself
    ({"question": 9, "values": ["yes"]}, "not in this checklist"),
    ({"question": 1, "values": ["maybe"]}, "cannot be answered"),
    ({"question": 1, "values": []}, None),
])
def test_a_bad_show_if_in_a_file_is_refused(supervisor, show_if, words):
    questions = copy.deepcopy(FORM[:2])
    questions[1]["show_if"] = show_if
    with pytest.raises((Invalid, ValidationError)) as refused:
        checklists.import_checklist(supervisor, form_file(name="Bad", questions=questions))
    if words:
        assert words in json.dumps(refused.value.fields)


def test_show_if_cannot_test_a_text_question(supervisor):
    questions = [{"section": "S", "text": "Notes", "kind": "text"},
                 {"section": "S", "text": "More?", "kind": "yes_no_na", "show_if": {"question": 1, "values": ["x"]}}]
    with pytest.raises(Invalid):
        checklists.import_checklist(supervisor, form_file(name="Text", questions=questions))


def test_the_builder_sets_show_if_on_a_question_and_a_whole_section(supervisor):
    draft = checklists.import_checklist(supervisor, form_file(name="Draft"))
    source = q(draft, 1)
    checklists.update_question(supervisor, q(draft, 5), FORM[4] | {"show_if": {"question_id": str(source.id),
                                                                               "values": ["yes", "na"]}})
    assert q(draft, 5).show_if == {"question_id": str(source.id), "values": ["yes", "na"]}
    checklists.set_section_show_if(supervisor, draft, "Detail", {"question_id": str(source.id), "values": ["no"]})
    assert q(draft, 2).show_if["values"] == ["no"]
    with pytest.raises(Invalid):  # a later question cannot gate an earlier one
        checklists.update_question(supervisor, q(draft, 1), FORM[0] | {"show_if": {"question_id": str(q(draft, 3).id),
                                                                                   "values": ["Helmet"]}})
    with pytest.raises(Invalid):  # others depend on question 1
        checklists.delete_question(supervisor, source)


def test_moving_a_question_above_the_one_it_tests_blocks_publishing(supervisor):
    draft = checklists.import_checklist(supervisor, form_file(name="Moved"))
    checklists.move_question(supervisor, q(draft, 2), -1)
    db.session.expire_all()
    with pytest.raises(Invalid) as refused:
        checklists.publish(supervisor, db.session.get(Template, draft.id))
    assert "earlier" in refused.value.message


def test_a_new_version_keeps_its_show_ifs_on_its_own_questions_and_the_diff_shows_a_change(supervisor, form):
    v2 = checklists.new_version(supervisor, form)
    assert q(v2, 2).show_if["question_id"] == str(q(v2, 1).id) != str(q(form, 1).id)
    assert v2.scoring == RULE
    rows = checklists.diff(form, v2)
    assert all(r["change"] == "same" for r in rows)
    checklists.update_question(supervisor, q(v2, 2), FORM[1] | {"show_if": {"question_id": str(q(v2, 1).id),
                                                                            "values": ["yes", "na"]}})
    checklists.update_question(supervisor, q(v2, 5), FORM[4] | {"weight": 2})
    rows = checklists.diff(form, v2)
    assert [r["fields"] for r in rows if r["change"] == "changed"] == [["show_if"], ["weight"]]


def test_the_pull_carries_show_if_weight_and_the_rule(form):
    from server.schemas.fieldwork import TemplateSchema
    dumped = TemplateSchema().dump(form)
    assert dumped["scoring"] == RULE
    assert dumped["questions"][1]["show_if"] == {"question_id": str(q(form, 1).id), "values": ["yes"]}
    assert dumped["questions"][4]["weight"] == 3


def test_finding_rows_named_in_the_score_are_this_audits(make, auditor, audit, form, area):
    _answer_all_shown(auditor, audit, form)
    other = make.audit(form, area, auditor)
    _finding(make, other, auditor, FindingKind.MAJOR_NC)
    assert db.session.query(Finding).count() == 1
    assert audits.score(audit, {r.question_id: r for r in audit.responses}) == 100.0


# --- the PDF and the register's audit page ----------------------------------------------

def test_the_pdf_and_the_register_mark_hidden_questions_and_show_the_choices(auditor, audit, form, signed_in,
                                                                            supervisor, commit):
    from tests.server.services.test_reports import pdf_text
    _answer_all_shown(auditor, audit, form, ppe=("Helmet", "Boots"))
    _answer(auditor, audit, q(form, 2), "fail")  # answered, then hidden: 1 is "no"
    audits.submit_audit(auditor, audit)
    commit()
    office = signed_in(supervisor)
    text = pdf_text(office.client.get(f"/api/audits/{audit.id}/report.pdf").data)
    assert "Helmet, Boots" in text
    assert "Not applicable: hidden because shown only when 1. Any hot work today? is yes" in text.replace("\n", " ")
    assert "3 of 3 questions (2 not applicable: hidden by earlier answers)" in text.replace("\n", " ")
    page = office.client.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "<strong>Helmet, Boots</strong>" in page
    assert "Not applicable: hidden because shown only when 1. Any hot work today? is yes" in page
    assert "3 of 3 answered" in page
