"""The register's audit page read as a review page: the decision after the answers, failing
answers marked so they cannot be missed (not by colour alone), answers and findings linked
both ways, and the five whys carrying each because into the next why."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from server.extensions import db
from server.fieldrules import FieldErrors, carried_why
from server.models import CorrectiveAction, Question, QuestionKind, Response
from server.services import audits
from tests.register_helpers import submitted_audit


@pytest.fixture
def supervisor(make):
    return make.user("supervisor", name="Quinn Patel")


def _audit_with_a_failure(make, questions=26):
    """A submitted audit of `questions` answers: question 3 answered "no", 2 "fail" (with a finding)."""
    audit = submitted_audit(questions=questions)
    by_position = {q.position: q for q in audit.template.questions}
    answers = {r.question_id: r for r in db.session.scalars(select(Response).where(Response.audit_id == audit.id))}
    answers[by_position[5].id].value = "no"  # a yes/no question (positions 1, 5, 9, ...)
    answers[by_position[2].id].value = "fail"
    answers[by_position[2].id].note = ""
    finding = make.finding(audit.area, audit.auditor, title="Guard missing on press 2", audit_id=audit.id,
                           question_id=by_position[2].id)
    db.session.flush()
    return audit, by_position, finding


def _li(html: str, question) -> str:
    match = re.search(rf'<li id="q-{question.id}"[^>]*>(.*?)</li>\s*(?=<li id="q-|</ol>)', html, re.S)
    assert match, f"no answer item for question {question.position}"
    return match.group(0)


def test_the_decision_comes_after_all_26_answers_with_a_way_there_from_the_top(register, make, supervisor):
    audit, by_position, _ = _audit_with_a_failure(make)
    html = register(supervisor).text(f"/audits/{audit.id}")
    decision = html.index('<h2 id="decide">Review decision</h2>')
    last_answer = html.index(f'id="q-{by_position[26].id}"')
    first_answer = html.index(f'id="q-{by_position[1].id}"')
    assert last_answer < decision
    assert html.index("Review conversation") < decision
    jump = html.index('href="#decide"')
    assert jump < first_answer
    assert "Approve audit" in html[decision:] and "Approve audit" not in html[:decision]


def test_a_failing_answer_is_marked_by_an_icon_and_a_word_not_colour_alone(register, make, supervisor):
    audit, by_position, _ = _audit_with_a_failure(make)
    html = register(supervisor).text(f"/audits/{audit.id}")
    failed, passed = _li(html, by_position[5]), _li(html, by_position[1])
    assert "answer-nonconforming" in failed and "Nonconforming" in failed and "✗" in failed
    assert "answer-conforming" in passed and "Conforming" in passed and "Nonconforming" not in passed
    assert "✗" not in passed
    # "fail" on a pass/fail question too; and the top lists both failures with links to them.
    assert "Nonconforming" in _li(html, by_position[2])
    summary = html[:html.index(f'id="q-{by_position[1].id}"')]
    assert "2 nonconforming" in summary
    assert f'href="#q-{by_position[5].id}"' in summary and f'href="#q-{by_position[2].id}"' in summary
    # A failure with no finding says so.
    assert "No finding was raised for this answer" in failed


def test_an_answer_links_to_its_finding_and_the_finding_back_to_its_answer(register, make, supervisor):
    audit, by_position, finding = _audit_with_a_failure(make)
    pages = register(supervisor)
    html = pages.text(f"/audits/{audit.id}")
    assert f'href="/findings/{finding.id}"' in _li(html, by_position[2])
    assert f'href="/findings/{finding.id}"' not in _li(html, by_position[5])
    finding_page = pages.text(f"/findings/{finding.id}")
    assert f'href="/audits/{audit.id}#q-{by_position[2].id}"' in finding_page
    assert "the answer to question 2" in finding_page


@pytest.mark.parametrize("kind, options, finding_answers, value, outcome", [
    (QuestionKind.YES_NO_NA, [], ["no"], "no", "nonconforming"),
    (QuestionKind.YES_NO_NA, [], [], "no", "nonconforming"),
    (QuestionKind.YES_NO_NA, [], ["no"], "yes", "conforming"),
    (QuestionKind.YES_NO_NA, [], ["no"], "na", None),
    (QuestionKind.PASS_FAIL, [], ["fail"], "fail", "nonconforming"),
    (QuestionKind.PASS_FAIL, [], ["fail"], "pass", "conforming"),
    (QuestionKind.NUMBER, [6, 9], ["out_of_range"], 12, "nonconforming"),
    (QuestionKind.NUMBER, [6, 9], [], 12, "nonconforming"),
    (QuestionKind.NUMBER, [6, 9], [], 7, "conforming"),
    (QuestionKind.NUMBER, [], [], 7, None),
    (QuestionKind.SCORE, [0, 5], [], 1, None),
    (QuestionKind.CHOICE, ["Red", "Green"], ["Red"], "Red", "nonconforming"),
    (QuestionKind.CHOICE, ["Red", "Green"], ["Red"], "Green", None),
    (QuestionKind.CHOICE, ["Red", "Green"], ["Red"], ["Green", "Red"], None),
    (QuestionKind.TEXT, [], [], "All tidy", None),
    (QuestionKind.YES_NO_NA, [], ["no"], None, None),
])
def test_which_answers_are_nonconforming(kind, options, finding_answers, value, outcome):
    question = Question(kind=kind, options=options, finding_answers=finding_answers)
    assert audits.answer_outcome(question, Response(value=value) if value is not None else None) == outcome


# --- the five whys ------------------------------------------------------------------------

def test_a_because_is_carried_into_the_next_why_by_the_rule():
    assert carried_why("Nobody checks the date.") == "Why: nobody checks the date?"
    errors = FieldErrors()
    steps = errors.whys("whys", [{"why": "Why expired?", "because": "Nobody checks the date."},
                                 {"why": "", "because": "It is not on any checklist."}])
    errors.raise_if_any("bad")
    assert steps[1] == {"why": "Why: nobody checks the date?", "because": "It is not on any checklist."}
    # The first step has nothing before it to carry.
    errors = FieldErrors()
    errors.whys("whys", [{"why": "", "because": "Nobody checks."}])
    assert errors.fields == {"whys": ["Each step needs both a why and a because."]}


def test_the_form_carries_a_because_into_a_why_left_empty(register, make, supervisor):
    area = make.area()
    owner = make.user("staff")
    finding = make.finding(area, make.user("staff"), title="Eye wash bottle expired")
    pages = register(supervisor)
    url = f"/findings/{finding.id}"
    assert pages.post_form(url, f"{url}/triage", decision="accept").status_code == 302
    planned = pages.post_form(url, f"{url}/actions", root_cause="Not on any checklist", plan="Add it",
                              owner=str(owner.id), due_date=date.today().isoformat(),
                              **{"whys-0-why": "Why expired?", "whys-0-because": "Nobody checks the date.",
                                 "whys-1-why": "", "whys-1-because": "It is not on any checklist."})
    assert planned.status_code == 302, planned.get_data(as_text=True)[:2000]
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.finding_id == finding.id))
    assert action.whys == [{"why": "Why expired?", "because": "Nobody checks the date."},
                           {"why": "Why: nobody checks the date?", "because": "It is not on any checklist."}]
    # A because-less why is still refused, with the form's message.
    refused = pages.post_form(url, f"{url}/actions", root_cause="R", plan="P", owner=str(owner.id),
                              due_date=date.today().isoformat(), **{"whys-0-why": "Why?", "whys-0-because": ""})
    assert refused.status_code == 422 and "Each step needs both a why and a because." in refused.get_data(as_text=True)


def test_the_next_whys_prompt_shows_the_because_before_it(register, make, supervisor):
    finding = make.finding(make.area(), make.user("staff"))
    action = make.action(finding, make.user("staff"), root_cause="R",
                         whys=[{"why": "Why open?", "because": "It was wedged for pallets."}])
    html = register(supervisor).text(f"/actions/{action.id}/edit")
    step2 = html[html.index('id="whys-1-why-carried"') - 20:html.index('id="whys-1-because"')]
    assert "Follows step 1: because “It was wedged for pallets.”" in step2
    assert 'placeholder="Why: it was wedged for pallets?"' in step2
    assert 'aria-describedby="whys-1-why-carried"' in step2
    assert '<script type="module" src="/static/whys.js">' in html
