// records.js, the answer rules the field app mirrors from the server: show-if visibility,
// multiple choice, the live score under the checklist's rule, and what blocks submitting.
// The numbers are those tests/server/services/test_checklist_forms.py expects of the server.
import { blockers, callsForFinding, isAnswered, liveScore, progress, visibility } from "/app/records.js";
import { deepEqual, equal, ok, test } from "./harness.mjs";

// 1 gates 2 ("yes"); 3 is a multiple choice gating 4 ("Gloves"); 5 weighs 3; 1 weighs 0.
const TEMPLATE = {
  scoring: { deductions: { major_nc: 10, minor_nc: 5 } },
  questions: [
    { id: "q1", position: 1, section: "Walk", kind: "yes_no_na", required: true, weight: 0, show_if: null, finding_answers: [] },
    { id: "q2", position: 2, section: "Detail", kind: "pass_fail", required: true, weight: 1, finding_answers: ["fail"],
      show_if: { question_id: "q1", values: ["yes"] } },
    { id: "q3", position: 3, section: "Walk", kind: "multi_choice", required: true, weight: 1, options: ["Helmet", "Gloves", "Boots"],
      finding_answers: ["Boots"], show_if: null },
    { id: "q4", position: 4, section: "Walk", kind: "yes_no_na", required: true, weight: 1, finding_answers: ["no"],
      show_if: { question_id: "q3", values: ["Gloves"] } },
    { id: "q5", position: 5, section: "Walk", kind: "pass_fail", required: true, weight: 3, finding_answers: ["fail"], show_if: null },
  ],
};

const answers = (values) => new Map(Object.entries(values).map(([id, value]) => [id, { question_id: id, value, photos: [] }]));
const shownIds = (values) => [...visibility(TEMPLATE, answers(values))].filter(([, s]) => s).map(([id]) => id);

test("a question is shown only while the answer it depends on is one of its values", () => {
  deepEqual(shownIds({}), ["q1", "q3", "q5"]);
  deepEqual(shownIds({ q1: "yes", q3: ["Helmet", "Gloves"] }), ["q1", "q2", "q3", "q4", "q5"]);
  deepEqual(shownIds({ q1: "no", q2: "fail", q3: ["Helmet"], q4: "no" }), ["q1", "q3", "q5"]);
});

test("a question behind a hidden question is hidden too", () => {
  const chain = { questions: [...TEMPLATE.questions.slice(0, 2),
    { id: "q6", position: 6, kind: "yes_no_na", show_if: { question_id: "q2", values: ["pass"] } }] };
  const shown = visibility(chain, answers({ q1: "no", q2: "pass" }));
  equal(shown.get("q6"), false);
});

test("a multiple choice is answered by at least one value and calls for a finding when any listed one is chosen", () => {
  const ppe = TEMPLATE.questions[2];
  ok(!isAnswered(ppe, { value: [] }));
  ok(isAnswered(ppe, { value: ["Helmet"] }));
  ok(callsForFinding(ppe, ["Helmet", "Boots"]));
  ok(!callsForFinding(ppe, ["Helmet"]));
});

test("progress and blockers count only shown questions", () => {
  const detail = { template: TEMPLATE, responses: answers({ q1: "no", q3: ["Helmet"] }), findings: [] };
  deepEqual(progress(TEMPLATE, detail.responses), { answered: 2, total: 3 });
  deepEqual(blockers(detail).map((b) => b.question.id), ["q5"]);
  detail.responses = answers({ q1: "yes", q3: ["Gloves"], q5: "pass" });
  deepEqual(blockers(detail).map((b) => b.question.id), ["q4", "q2"]); // by section: Walk, then Detail
});

test("the live score weighs answers and takes off the rule's points per finding as the server does", () => {
  const detail = { template: TEMPLATE, responses: answers({ q1: "yes", q2: "fail", q3: ["Helmet"], q5: "pass" }), findings: [] };
  equal(liveScore(detail).score, 75); // 3 of 4: q1 weighs nothing
  detail.responses = answers({ q1: "no", q2: "fail", q3: ["Helmet"], q5: "fail" }); // q2 hidden: not scored
  detail.findings = [{ kind: "major_nc", question_id: "q5", status: "open" }];
  deepEqual(liveScore(detail), { score: 90, nonconformities: 1 }); // q5 scored by its deduction: 100 - 10
  detail.findings.push({ kind: "minor_nc", question_id: null, status: "open" }, { kind: "observation", status: "open" });
  equal(liveScore(detail).score, 85);
  detail.findings.push({ kind: "major_nc", status: "rejected" }); // withdrawn: takes nothing off
  equal(liveScore(detail).score, 85);
  for (let i = 0; i < 20; i += 1) detail.findings.push({ kind: "major_nc", status: "open" });
  equal(liveScore(detail).score, 0);
});

test("without a rule the live score is the plain weighted share", () => {
  const plain = { ...TEMPLATE, scoring: null };
  const detail = { template: plain, responses: answers({ q1: "no", q5: "fail" }),
    findings: [{ kind: "major_nc", question_id: "q5", status: "open" }] };
  equal(liveScore(detail).score, 0);
});
