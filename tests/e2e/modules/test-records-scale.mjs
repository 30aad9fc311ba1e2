// records.js at scale (test-records-scale.mjs): the audit list reads each status group's count and first page
// through indexes, counts progress without reading answers, and an answer's save finds
// the answer by its audit and question.
import * as db from "/app/db.js";
import * as records from "/app/records.js";
import { deepEqual, equal, ok, test } from "./harness.mjs";

const ME = { id: "u-me", role: "auditor", name: "Me" };
const TEMPLATE = {
  id: "t-1", name: "Safety walk", status: "published",
  questions: [
    { id: "q-1", kind: "yes_no_na", position: 1, section: "A" },
    { id: "q-2", kind: "yes_no_na", position: 2, section: "A" },
    { id: "q-3", kind: "photo", position: 3, section: "A" },
    { id: "q-4", kind: "text", position: 4, section: "A" },
  ],
};
const AREAS = [{ id: "ar-1", site: "Leeds", name: "Stores" }, { id: "ar-2", site: "Leeds", name: "Paint shop" }];

const audit = (n, extra = {}) => ({
  id: `a-${String(n).padStart(3, "0")}`, template_id: "t-1", area_id: "ar-1", auditor_id: ME.id,
  planned_date: `2026-${String(1 + (n % 12)).padStart(2, "0")}-${String(1 + (n % 28)).padStart(2, "0")}`,
  status: "approved", server_version: 1, ...extra,
});

async function seed(audits, responses = []) {
  await db.setMeta("user", ME);
  await db.write(["templates", "areas", "audits", "responses"], async (s) => {
    await s.templates.put(TEMPLATE);
    for (const a of AREAS) await s.areas.put(a);
    for (const a of audits) await s.audits.put(a);
    for (const r of responses) await s.responses.put(r);
  });
}

test("the list counts each group and draws its first page, of my audits only", async () => {
  const mine = Array.from({ length: 45 }, (_, n) => audit(n));
  const others = [audit(100, { auditor_id: "u-other" }), audit(101, { auditor_id: "u-other", status: "planned" })];
  const unassigned = audit(200, { auditor_id: null, status: "planned", planned_date: null });
  const submitted = Array.from({ length: 12 }, (_, n) => audit(400 + n, { status: "submitted" }));
  await seed([...mine, ...others, unassigned, audit(300, { status: "in_progress" }), ...submitted]);
  const list = await records.auditList();
  const group = (status) => list.groups.find((g) => g.status === status);
  equal(list.stored, 59, "my audits and the unassigned one");
  equal(group("approved").total, 45);
  equal(group("approved").audits.length, records.AUDIT_PAGE, "the first page only");
  const dates = group("approved").audits.map((a) => a.planned_date);
  deepEqual(dates, [...mine].map((a) => a.planned_date).sort().slice(0, records.AUDIT_PAGE), "by planned date");
  deepEqual(group("planned").audits.map((a) => a.id), ["a-200"], "no one else's audit");
  deepEqual(group("in_progress").audits.map((a) => a.id), ["a-300"]);
  equal(group("returned").total, 0);
  equal(group("submitted").audits.length, 12, "a group only a little longer than a page is drawn whole");
  const all = await records.auditList({ expanded: ["approved"] });
  equal(all.groups.find((g) => g.status === "approved").audits.length, 45, "a group opened in full");
  ok(all.templates.get("t-1") && all.areas.get("ar-1"), "the names the cards show");
});

test("progress is counted from the indexes as records.progress works it out from the answers", async () => {
  const responses = [
    { id: "r-1", audit_id: "a-001", question_id: "q-1", value: "yes", photos: [] },
    { id: "r-2", audit_id: "a-001", question_id: "q-2", value: "", photos: ["p".repeat(64)] }, // photos, no value: not answered
    { id: "r-3", audit_id: "a-001", question_id: "q-3", value: null, photos: ["p".repeat(64)] }, // a photo question with photos
    { id: "r-4", audit_id: "a-002", question_id: "q-3", value: "x", photos: [] }, // a photo question with no photo
    { id: "r-5", audit_id: "a-002", question_id: "q-4", value: "Fine", photos: [] },
    { id: "r-6", audit_id: "a-002", question_id: "q-1", value: null, photos: [] },
  ];
  await seed([audit(1, { status: "in_progress" }), audit(2, { status: "in_progress" })], responses);
  const list = await records.auditList();
  for (const id of ["a-001", "a-002"]) {
    const answers = new Map(responses.filter((r) => r.audit_id === id).map((r) => [r.question_id, r]));
    deepEqual(list.progress.get(id), records.progress(TEMPLATE, answers), id);
  }
  deepEqual(list.progress.get("a-001"), { answered: 2, total: 4 });
  // A change moves the count (the index keys are worked out again on every put).
  const a1 = await db.get("audits", "a-001");
  await records.answer(a1, TEMPLATE.questions[1], { value: "no" });
  await records.answer(a1, TEMPLATE.questions[0], { value: "" });
  deepEqual((await records.auditList()).progress.get("a-001"), { answered: 2, total: 4 });
});

test("each card's comments are its audit's, in order, whether the device holds a few comments or many", async () => {
  await seed([audit(1, { status: "returned" }), audit(2, { status: "returned" }), audit(3, { status: "approved" })]);
  const comment = (id, auditId, extra = {}) => ({ id, audit_id: auditId, subject: `audit:${auditId}`, body: id, ...extra });
  const put = (comments) => db.write(["comments"], async (s) => { for (const c of comments) await s.comments.put(c); });
  await put([comment("c-2", "a-001"), comment("c-1", "a-001"), comment("c-3", "a-002"),
    { id: "c-f", finding_id: "f-1", subject: "finding:f-1", body: "on a finding" }, comment("c-x", "a-999")]);
  const ids = (list) => ["a-001", "a-002", "a-003"].map((id) => list.comments.get(id).map((c) => c.id));
  const few = await records.auditList();
  deepEqual(ids(few), [["c-1", "c-2"], ["c-3"], []]);
  // Past the "few" mark, each card's comments are read by its audit: the same answer.
  await put(Array.from({ length: 250 }, (_, n) => comment(`c-z${String(n).padStart(3, "0")}`, "a-999")));
  deepEqual(ids(await records.auditList()), ids(few));
});

test("saving an answer twice keeps one answer for the question and one op", async () => {
  await seed([audit(1, { status: "in_progress" })],
    [{ id: "r-1", audit_id: "a-001", question_id: "q-1", value: "yes", photos: [], server_version: 3 }]);
  const a = await db.get("audits", "a-001");
  const first = await records.answer(a, TEMPLATE.questions[0], { value: "no" });
  equal(first.id, "r-1", "the stored answer, found by its audit and question");
  const created = await records.answer(a, TEMPLATE.questions[1], { value: "yes" });
  const again = await records.answer(a, TEMPLATE.questions[1], { note: "Checked twice" });
  equal(again.id, created.id);
  const stored = await db.byIndex("responses", "audit_id", "a-001");
  deepEqual(stored.map((r) => [r.question_id, r.value, r.note || ""]).sort(),
    [["q-1", "no", ""], ["q-2", "yes", "Checked twice"]]);
  const ops = await db.getAll("outbox");
  deepEqual(ops.map((op) => [op.id, op.base_version, op.fields]), [
    ["r-1", 3, { value: "no" }],
    [created.id, 0, { audit_id: "a-001", question_id: "q-2", value: "yes", note: "Checked twice", photos: [] }],
  ]);
});

test("a search finds my audits past the first page, by area, date or status", async () => {
  const mine = Array.from({ length: 30 }, (_, n) => audit(n, n === 29 ? { area_id: "ar-2" } : {}));
  await seed([...mine, audit(100, { auditor_id: "u-other", area_id: "ar-2" })]);
  const byArea = await records.auditList({ query: "paint" });
  deepEqual(byArea.groups.flatMap((g) => g.audits).map((a) => a.id), ["a-029"]);
  equal(byArea.groups.find((g) => g.status === "approved").total, 1);
  equal((await records.auditList({ query: "approved" })).groups.find((g) => g.status === "approved").total, 30);
  equal((await records.auditList({ query: "nothing like it" })).groups.reduce((n, g) => n + g.total, 0), 0);
});

test("my findings: the newest page of mine with its comments, more when asked, a search over all of mine", async () => {
  await db.setMeta("user", ME);
  const at = (n) => `2026-11-${String(1 + (n % 28)).padStart(2, "0")}T${String(n % 24).padStart(2, "0")}:00:00Z`;
  await db.write(["findings", "areas", "comments"], async (s) => {
    for (const a of AREAS) await s.areas.put(a);
    for (let n = 0; n < 70; n += 1) {
      await s.findings.put({ id: `f-${n}`, title: `Finding ${n}`, raised_by_id: ME.id, raised_at: at(n), area_id: n === 5 ? "ar-2" : "ar-1" });
    }
    await s.findings.put({ id: "f-other", title: "Someone else's", raised_by_id: "u-other", raised_at: at(99), area_id: "ar-2" });
    await s.comments.put({ id: "c-1", finding_id: "f-27", body: "Which rack?", subject: "finding:f-27" });
    await s.comments.put({ id: "c-2", audit_id: "a-1", body: "On an audit", subject: "audit:a-1" });
  });
  const newest = [...Array(70).keys()].map((n) => ({ id: `f-${n}`, at: at(n) }))
    .sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id)).map((f) => f.id);
  const first = await records.findingList();
  equal(first.total, 70);
  deepEqual(first.findings.map((f) => f.id), newest.slice(0, records.FINDING_PAGE), "the newest page, mine only");
  deepEqual(first.comments.get("f-27").map((c) => c.id), ["c-1"]);
  ok(first.areas.get("ar-1"), "the areas of the findings drawn");
  const more = await records.findingList({ limit: 2 * records.FINDING_PAGE });
  deepEqual(more.findings.map((f) => f.id), newest.slice(0, 2 * records.FINDING_PAGE));
  const found = await records.findingList({ query: "paint" });
  deepEqual([found.total, found.findings.map((f) => f.id)], [1, ["f-5"]], "by area, past the first page, not others'");
});
