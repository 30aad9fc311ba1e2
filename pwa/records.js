// The local records the screens show and change: audits, answers, findings.
// Reads come from IndexedDB (through db.js); every change goes through the outbox.

import * as db from "./db.js";
import * as outbox from "./outbox.js";

export const FINDING_KINDS = [
  ["observation", "Observation"],
  ["minor_nc", "Minor nonconformity"],
  ["major_nc", "Major nonconformity"],
  ["improvement", "Improvement"],
];

export const user = () => db.getMeta("user");
export const areas = async () => (await db.getAll("areas")).sort((a, b) => `${a.site} ${a.name}`.localeCompare(`${b.site} ${b.name}`));
export const areaLabel = (area) => (area ? `${area.site} / ${area.name}` : "Unknown area");

/** The audit list's groups, in the order it shows them. */
export const AUDIT_GROUPS = ["returned", "in_progress", "planned", "submitted", "approved", "rejected"];
/** How many audits of a group the list draws until the person asks for the rest; a group
 * only a few longer than that is drawn whole ("Show all" for two more is no help). */
export const AUDIT_PAGE = 10;
const AUDIT_WHOLE = 15;
const firstPage = (audits, total) => (total > AUDIT_WHOLE ? audits.slice(0, AUDIT_PAGE) : audits);

// ISO dates and times sort as plain strings. Not localeCompare: its first call sets up the
// locale's collation, which took ~150 ms of the start-up at a 4x slower CPU (a profile of
// the cold start), and a date needs no collation.
const byCode = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byPlannedDate = (a, b) => byCode(String(a.planned_date || ""), String(b.planned_date || ""));

/**
 * My audits as the list shows them: each status group's count and its first page (all of
 * it where `expanded` names the group), read through the audits' "list" index so the
 * start-up reads what the first screen shows, not everything the device holds. With a
 * `query`, my audits whose label, date or status match it. Progress is counted from the
 * answers' indexes and comments read by audit, for the audits drawn only.
 * @param {{query?: string, expanded?: Iterable<string>}} [options]
 * @returns {Promise<{me: object|null, groups: {status: string, total: number, audits: object[]}[],
 *   templates: Map, areas: Map, progress: Map, comments: Map, stored: number}>}
 */
export async function auditList({ query = "", expanded = [] } = {}) {
  const open = new Set(expanded);
  const q = query.trim().toLowerCase();
  return db.read(["meta", "audits", "templates", "areas", "responses", "comments"], async (s) => {
    const row = await s.meta.get("user");
    const me = row && row.value;
    const out = { me, groups: [], templates: new Map(), areas: new Map(), progress: new Map(), comments: new Map(), stored: 0 };
    if (!me) return out;
    // Audits with no auditor on them show too, as they always have (owner "").
    const owners = [me.id, ""];
    const range = (owner, status) => db.startingWith(status === undefined ? [owner] : [owner, status]);
    // Every read below is asked for as soon as what it needs is known, so the list costs
    // three rounds of reads (who I am; the groups; the names, progress and comments of
    // those shown), and a fourth only for checklists with photo questions.
    const stored = Promise.all(owners.map((o) => s.audits.countIndex("list", range(o))));
    const commented = s.comments.countIndex("audit_id");
    if (!q) {
      out.groups = await Promise.all(AUDIT_GROUPS.map(async (status) => {
        const limit = open.has(status) ? undefined : AUDIT_WHOLE;
        const [totals, pages] = await Promise.all([
          Promise.all(owners.map((o) => s.audits.countIndex("list", range(o, status)))),
          Promise.all(owners.map((o) => s.audits.byIndex("list", range(o, status), limit))),
        ]);
        const total = totals[0] + totals[1];
        const audits = pages.flat().sort(byPlannedDate).slice(0, limit);
        return { status, total, audits: open.has(status) ? audits : firstPage(audits, total) };
      }));
      out.stored = (await stored).reduce((a, b) => a + b, 0);
    } else {
      out.stored = (await stored).reduce((a, b) => a + b, 0);
      // Searching reads all my audits (never their answers) and the names they show.
      const mine = (await Promise.all(owners.map((o) => s.audits.byIndex("list", range(o))))).flat();
      await labels(s, mine, out);
      const matching = mine.filter((a) => `${auditLabel(a, out)} ${a.planned_date || ""} ${STATUS_WORDS[a.status] || ""}`
        .toLowerCase().includes(q)).sort(byPlannedDate);
      out.groups = AUDIT_GROUPS.map((status) => {
        const all = matching.filter((a) => a.status === status);
        return { status, total: all.length, audits: open.has(status) ? all : firstPage(all, all.length) };
      });
    }
    const shown = out.groups.flatMap((g) => g.audits);
    const named = labels(s, shown, out);
    // The audits' comments: where the device holds only a few, one read of them all
    // instead of one read a card; past that, one read a card shown (never all of them).
    const few = shown.length && (await commented) <= FEW_COMMENTS ? commentsByAudit(s) : null;
    await Promise.all(shown.map(async (a) => {
      const [answered, comments] = await Promise.all([
        answeredCount(s, a, named.then(() => out.templates.get(a.template_id))),
        few ? few.then((byAudit) => byAudit.get(a.id) || []) : s.comments.byIndex("audit_id", a.id)]);
      out.progress.set(a.id, { answered, total: ((out.templates.get(a.template_id) || {}).questions || []).length });
      out.comments.set(a.id, comments);
    }));
    await named;
    return out;
  });
}

// How many comments on audits the device may hold for the list to read them all at once.
const FEW_COMMENTS = 200;

// Every comment on an audit, by audit, each audit's in the order its own read gives them.
async function commentsByAudit(s) {
  const byAudit = new Map();
  for (const c of await s.comments.byIndex("audit_id")) {
    if (!byAudit.has(c.audit_id)) byAudit.set(c.audit_id, []);
    byAudit.get(c.audit_id).push(c);
  }
  return byAudit;
}

// The statuses as the list's badges show them (searching "in progress" finds those).
const STATUS_WORDS = {
  planned: "Planned", in_progress: "In progress", submitted: "Submitted", returned: "Returned",
  approved: "Approved", rejected: "Rejected",
};

/** "Checklist - Site / Area", from the templates and areas `auditList` read. */
export const auditLabel = (audit, { templates, areas }) =>
  `${(templates.get(audit.template_id) || { name: "Audit" }).name} - ${areaLabel(areas.get(audit.area_id))}`;

// The templates and areas of `audits` not read yet, each read once by key.
async function labels(s, audits, out) {
  const templateIds = [...new Set(audits.map((a) => a.template_id))].filter((id) => id && !out.templates.has(id));
  const areaIds = [...new Set(audits.map((a) => a.area_id))].filter((id) => id && !out.areas.has(id));
  const [templates, areas] = await Promise.all([
    Promise.all(templateIds.map((id) => s.templates.get(id))), Promise.all(areaIds.map((id) => s.areas.get(id)))]);
  templateIds.forEach((id, n) => { if (templates[n]) out.templates.set(id, templates[n]); });
  areaIds.forEach((id, n) => { if (areas[n]) out.areas.set(id, areas[n]); });
}

// How many of the template's questions the audit's answers answer (what `progress`
// works out from the answers themselves), counted through the answers' indexes: those
// with a value, less the photo questions' (a photo question is answered by its photos),
// plus the photo questions that have photos. The answers with a value are counted while
// the template (`reading`, a promise) is still being read.
async function answeredCount(s, audit, reading) {
  const [withValue, template] = await Promise.all([s.responses.countIndex("with_value", db.startingWith([audit.id])), reading]);
  const photoQuestions = ((template && template.questions) || []).filter((q) => q.kind === "photo");
  if (!photoQuestions.length) return withValue;
  const counts = await Promise.all(photoQuestions.flatMap((q) => [
    s.responses.countIndex("with_value", [audit.id, q.id]), s.responses.countIndex("with_photos", [audit.id, q.id])]));
  let answered = withValue;
  for (let n = 0; n < counts.length; n += 2) answered += counts[n + 1] - counts[n];
  return answered;
}

export function sections(template) {
  const grouped = new Map();
  const questions = [...(template.questions || [])].sort((a, b) => a.position - b.position);
  for (const q of questions) {
    if (!grouped.has(q.section)) grouped.set(q.section, []);
    grouped.get(q.section).push(q);
  }
  return [...grouped.entries()].map(([name, qs]) => ({ name, questions: qs }));
}

export async function auditDetail(id) {
  return db.read(["audits", "templates", "areas", "responses", "comments", "findings"], async (s) => {
    const audit = await s.audits.get(id);
    if (!audit) return null;
    const template = await s.templates.get(audit.template_id);
    const area = await s.areas.get(audit.area_id);
    const responses = new Map();
    for (const r of await s.responses.byIndex("audit_id", id)) responses.set(r.question_id, r);
    const comments = await s.comments.byIndex("subject", `audit:${id}`);
    const findings = await s.findings.byIndex("audit_id", id);
    return { audit, template, area, responses, comments, findings };
  });
}

export function isAnswered(question, response) {
  if (!response) return false;
  if (question.kind === "photo") return (response.photos || []).length > 0;
  if (Array.isArray(response.value)) return response.value.length > 0;
  return response.value !== null && response.value !== undefined && response.value !== "";
}

/** Whether `answer` is one of `values`; a multiple-choice answer (a list) when any value it
 * holds is (the server's checklists.answer_matches). */
function answerMatches(values, answer) {
  const listed = (values || []).map(String);
  const chosen = Array.isArray(answer) ? answer : [answer];
  return chosen.some((v) => v !== null && v !== undefined && typeof v !== "object" && listed.includes(String(v)));
}

/**
 * Which questions the audit shows, given its answers: a Map question id -> boolean. A
 * question with `show_if` is shown when the earlier question it names is shown and that
 * answer is one of the listed values (a multiple choice: any value chosen). The server's
 * checklists.visibility, the one rule behind required, score, findings and progress.
 */
export function visibility(template, responses) {
  const shown = new Map();
  const questions = [...((template && template.questions) || [])].sort((a, b) => a.position - b.position);
  for (const q of questions) {
    const rule = q.show_if;
    if (!rule) { shown.set(q.id, true); continue; }
    const source = responses.get(rule.question_id);
    shown.set(q.id, !!shown.get(rule.question_id) && answerMatches(rule.values, source ? source.value : null));
  }
  return shown;
}

/** How many of `template`'s shown questions `responses` (question id -> response) answer. */
export function progress(template, responses) {
  const shown = visibility(template, responses);
  const questions = ((template && template.questions) || []).filter((q) => shown.get(q.id));
  const answered = questions.filter((q) => isAnswered(q, responses.get(q.id))).length;
  return { answered, total: questions.length };
}

function needsPhoto(question, response) {
  if (!response || (response.photos || []).length) return false;
  return answerCallsFor(question, question.photo_answers, response.value);
}

/** A number question's limits [min, max] (either may be null), from its options. */
export function limitsOf(question) {
  const opts = question.options;
  if (question.kind !== "number" || !Array.isArray(opts) || opts.length !== 2) return null;
  const [lo, hi] = opts.map(Number);
  return Number.isNaN(lo) || Number.isNaN(hi) ? null : [lo, hi];
}

/** Whether a number answer lies outside its question's limits. */
export function outOfRange(question, response) {
  const limits = limitsOf(question);
  const value = response ? response.value : null;
  if (!limits || value === null || value === undefined || value === "" || Number.isNaN(Number(value))) return false;
  const [lo, hi] = limits;
  return Number(value) < lo || Number(value) > hi;
}

/** Whether `value` is one of `answers` (a question's finding or photo answers): listed as
 * it is, or out of a number's limits where "out_of_range" is listed (the server's
 * checklists.answer_calls_for). */
function answerCallsFor(question, answers, value) {
  const listed = (answers || []).map(String);
  if (value === null || value === undefined || value === "") return false;
  return answerMatches(listed, value) || (listed.includes("out_of_range") && outOfRange(question, { value }));
}

/** Whether answering `value` calls for a finding: one of the question's finding answers,
 * or a number outside its limits where the question says so (like a failing answer). */
export const callsForFinding = (question, value) => answerCallsFor(question, question.finding_answers, value);

/** What an answer earns, 0..1, or null when it carries no points (the server's audits.answer_points). */
function answerPoints(q, value) {
  if (q.kind === "yes_no_na" && ["yes", "no"].includes(value)) return value === "yes" ? 1 : 0;
  if (q.kind === "pass_fail" && ["pass", "fail"].includes(value)) return value === "pass" ? 1 : 0;
  if (q.kind === "score" && typeof value === "number") {
    const [lo, hi] = (q.options && q.options.length >= 2 ? q.options : [0, 5]).map(Number);
    return hi > lo ? (value - lo) / (hi - lo) : 1;
  }
  return null;
}

/**
 * The score so far, as the server computes it when the audit is submitted
 * (audits.score_answers): the weighted share of points of the shown yes/no, pass/fail and
 * score questions, less what the checklist's rule (`template.scoring.deductions`) takes off
 * for each finding raised in this audit; an answer that raised a finding whose kind takes
 * points off is scored by that deduction instead. And how many nonconformities it raised.
 */
export function liveScore(detail) {
  const template = detail.template || {};
  const deductions = (template.scoring && template.scoring.deductions) || {};
  const findings = (detail.findings || []).filter((f) => f.status !== "rejected");
  const deducted = findings.reduce((sum, f) => sum + (Number(deductions[f.kind]) || 0), 0);
  const replaced = new Set(findings.filter((f) => Number(deductions[f.kind]) && f.question_id).map((f) => f.question_id));
  const shown = visibility(template, detail.responses);
  let earned = 0;
  let possible = 0;
  for (const q of template.questions || []) {
    const weight = q.weight === undefined || q.weight === null ? 1 : Number(q.weight);
    if (!shown.get(q.id) || replaced.has(q.id) || !weight) continue;
    const r = detail.responses.get(q.id);
    const points = answerPoints(q, r ? r.value : null);
    if (points !== null) { earned += weight * points; possible += weight; }
  }
  let score = null;
  if (possible || deducted) {
    const share = possible ? (100 * earned) / possible : 100;
    score = Math.round(10 * Math.max(0, share - deducted)) / 10;
  }
  const nonconformities = findings.filter((f) => ["major_nc", "minor_nc"].includes(f.kind)).length;
  return { score, nonconformities };
}

/** The finding raised from `question`'s answer in `findings` (this audit's), if any. */
export function findingOf(question, findings) {
  return (findings || []).find((f) => f.question_id === question.id && !isWithdrawn(f)) || null;
}

/**
 * Whether the answer calls for a finding and has one: null (it does not call for one),
 * "raised", "explained" (none, but the note says why) or "missing".
 */
export function findingNeed(question, response, findings) {
  if (!response || !callsForFinding(question, response.value)) return null;
  if (findingOf(question, findings)) return "raised";
  return (response.note || "").trim() ? "explained" : "missing";
}

/** What blocks submitting: unanswered required questions, answers missing a photo, and
 * answers that call for a finding with none raised and no reason given. */
export function blockers(detail) {
  const out = [];
  const shown = visibility(detail.template || {}, detail.responses);
  for (const section of sections(detail.template || {})) {
    for (const q of section.questions) {
      if (!shown.get(q.id)) continue; // hidden by show-if: not required, calls for nothing
      const r = detail.responses.get(q.id);
      if (q.required && !isAnswered(q, r)) { out.push({ question: q, problem: "not answered" }); continue; }
      const problems = [];
      if (needsPhoto(q, r)) problems.push("needs a photo");
      if (findingNeed(q, r, detail.findings) === "missing") problems.push("needs a finding (or a note why not)");
      if (problems.length) out.push({ question: q, problem: problems.join(", ") });
    }
  }
  return out;
}

/** Published checklists and the areas an unplanned audit may be of (never my home area,
 * nor one I am responsible for: the server refuses both). */
export async function adhocChoices() {
  const [me, templates, all] = await Promise.all([user(), db.getAll("templates"), areas()]);
  return {
    templates: templates.filter((t) => t.status === "published")
      .sort((a, b) => `${a.name} ${a.version}`.localeCompare(`${b.name} ${b.version}`)),
    areas: all.filter((a) => !me || (a.id !== me.home_area_id && a.responsible_id !== me.id)),
  };
}

/** Start an unplanned audit here and now; the server checks impartiality when it arrives. */
export async function startAdhocAudit(templateId, areaId) {
  const me = await user();
  const record = {
    id: outbox.uuid(), template_id: templateId, area_id: areaId, auditor_id: me && me.id, planned_date: null,
    status: "in_progress", started_at: new Date().toISOString(), summary: "", server_version: 0,
  };
  await outbox.change("audit", record, { template_id: templateId, area_id: areaId, status: "in_progress" });
  return record;
}

export function startAudit(audit) {
  const record = { ...audit, status: "in_progress", started_at: new Date().toISOString() };
  return outbox.change("audit", record, { status: "in_progress" });
}

/** Submit `audit` with its sign-off ({signatures: [{role, name, signed_at, sha256}],
 * unsigned_reason}); the drawings are in the outbox already, held until this op names them. */
export function submitAudit(audit, summary, signoff = null) {
  const record = { ...audit, status: "submitted", submitted_at: new Date().toISOString(), summary };
  const fields = { status: "submitted" };
  if (summary) fields.summary = summary;
  if (signoff) {
    fields.signatures = signoff.signatures;
    if (signoff.unsigned_reason) fields.unsigned_reason = signoff.unsigned_reason;
    record.signatures = signoff.signatures;
    record.unsigned_reason = signoff.unsigned_reason || "";
  }
  return outbox.change("audit", record, fields);
}

/** Save one answer (value, note or photos) of `question` in `audit`: the answer is found by
 * its audit and question (one keyed read), put, and its op queued, in one transaction. */
export async function answer(audit, question, changes) {
  let saved = null;
  await outbox.changeFound("response", { index: "audit_question", key: [audit.id, question.id] }, (existing) => {
    saved = existing
      ? { ...existing, ...changes }
      : { id: outbox.uuid(), audit_id: audit.id, question_id: question.id, value: null, note: "", photos: [], server_version: 0, ...changes };
    saved.answered_at = new Date().toISOString();
    const fields = existing && existing.server_version
      ? { ...changes }
      : { audit_id: audit.id, question_id: question.id, value: saved.value, note: saved.note || "", photos: saved.photos || [] };
    return { record: saved, fields };
  });
  return saved;
}

/** A finding's title from an answer: the clause and the question's first words, and the
 * answer ("8.1 Are emergency exits clear: no"), short enough not to be retyped. */
export function shortTitle(question, value) {
  const words = String(question.text || "").replace(/[?.!:]+$/, "").split(/\s+/);
  const head = words.slice(0, 5).join(" ") + (words.length > 5 ? "…" : "");
  return `${question.clause ? `${question.clause} ` : ""}${head}: ${value}`;
}

/** The draft of a finding being raised (`key` names the form it belongs to), or null. */
export const draft = async (key) => (await db.get("drafts", key)) || null;

/** Keep what the person has typed and photographed so far (not sent anywhere). */
export const saveDraft = (key, fields) => db.put("drafts", { id: key, fields, saved_at: new Date().toISOString() });

/** The person threw the draft away: its photos no saved record uses go with it. */
export async function discardDraft(key) {
  const found = await draft(key);
  await db.remove("drafts", key);
  if (found) await outbox.discardPhotos((found.fields && found.fields.photos) || []);
}

/** Drafts of findings raised from `auditId`'s answers, by question id. */
export async function auditDrafts(auditId) {
  const prefix = `finding:${auditId}:`;
  const all = await db.getAll("drafts");
  return new Map(all.filter((d) => d.id.startsWith(prefix)).map((d) => [d.id.slice(prefix.length), d]));
}

/** A photo taken away from a form before any record used it: its bytes go. */
export const dropUnusedPhoto = (sha) => outbox.discardPhotos([sha]);

export const raiseDraftKey = "finding:raise";
export const answerDraftKey = (auditId, questionId) => `finding:${auditId}:${questionId}`;

/** Raise a finding; `fields` as the sync contract names them. `draftKey`: the draft this
 * finding was written in, removed in the same transaction. */
export async function raiseFinding(fields, draftKey = null) {
  const me = await user();
  const record = {
    id: outbox.uuid(),
    kind: fields.kind || "observation",
    title: fields.title,
    description: fields.description || "",
    area_id: fields.area_id,
    clause: fields.clause || "",
    location: fields.location || "",
    raised_at: new Date().toISOString(),
    audit_id: fields.audit_id || null,
    question_id: fields.question_id || null,
    photos: fields.photos || [],
  };
  // A controlled document revision the finding cites, and whether it says the document is out of date.
  if (fields.document_revision_id) {
    record.document_revision_id = fields.document_revision_id;
    record.document_outdated = !!fields.document_outdated;
  }
  const { id, ...sent } = record;
  await outbox.change("finding", { ...record, raised_by_id: me && me.id, status: "open", server_version: 0 }, sent, { draft: draftKey });
  await db.setMeta("last_area", fields.area_id);
  return record;
}

/** What the person who raised a finding may still do with it: edit and withdraw it until
 * a supervisor has triaged it (the server checks the same). */
export function canChangeFinding(finding, me) {
  return !!finding && finding.status === "open" && !finding._rejected && (!me || !finding.raised_by_id || finding.raised_by_id === me.id);
}

export const WITHDRAWN = "Withdrawn by the person who raised it.";
export const isWithdrawn = (finding) => finding.status === "rejected" && String(finding.status_reason || "").startsWith("Withdrawn");

export const finding = (id) => db.get("findings", id);

/** Correct my finding (fields as the sync contract names them). */
export async function editFinding(found, changes) {
  const { _server, ...stored } = found;
  const record = { ...stored, ...changes };
  await outbox.change("finding", record, changes);
  if (changes.area_id) await db.setMeta("last_area", changes.area_id);
  return record;
}

/** Withdraw my finding before it is triaged: it goes to the register as rejected, with
 * the reason that its raiser withdrew it. */
export function withdrawFinding(found) {
  const { _server, ...stored } = found;
  const record = { ...stored, status: "rejected", status_reason: WITHDRAWN };
  return outbox.change("finding", record, { status: "rejected", status_reason: WITHDRAWN }, { separate: true });
}

/** How many of my findings "My findings" draws until the person asks for more. */
export const FINDING_PAGE = 30;

/**
 * My findings, newest first: the first `limit` (through the findings' "mine" index), how
 * many there are, and the area names and comments of those drawn. With a `query`, my
 * findings whose title, location, clause, area or description match it.
 * @param {{query?: string, limit?: number}} [options]
 */
export async function findingList({ query = "", limit = FINDING_PAGE } = {}) {
  const q = query.trim().toLowerCase();
  return db.read(["meta", "findings", "areas", "comments"], async (s) => {
    const row = await s.meta.get("user");
    const me = row && row.value;
    const out = { me, findings: [], total: 0, stored: 0, areas: new Map(), comments: new Map() };
    const newestFirst = (a, b) => byCode(String(b.raised_at), String(a.raised_at));
    // Findings with no raiser on them show too, as they always have (owner "").
    const ranges = me ? [db.startingWith([me.id]), db.startingWith([""])] : [undefined];
    const counts = await Promise.all(ranges.map((r) => s.findings.countIndex("mine", r)));
    out.stored = counts.reduce((a, b) => a + b, 0);
    let matching = null;
    if (q) {
      const all = (await Promise.all(ranges.map((r) => s.findings.byIndex("mine", r)))).flat();
      await findingAreas(s, all, out);
      matching = all.filter((f) => [f.title, f.location, f.clause, areaLabel(out.areas.get(f.area_id)), f.description]
        .some((text) => String(text || "").toLowerCase().includes(q))).sort(newestFirst);
      out.total = matching.length;
      out.findings = matching.slice(0, limit);
    } else {
      out.total = out.stored;
      out.findings = (await Promise.all(ranges.map((r) => s.findings.lastByIndex("mine", r, limit))))
        .flat().sort(newestFirst).slice(0, limit);
    }
    await findingAreas(s, out.findings, out);
    const comments = await Promise.all(out.findings.map((f) => s.comments.byIndex("finding_id", f.id)));
    out.findings.forEach((f, n) => out.comments.set(f.id, comments[n]));
    return out;
  });
}

async function findingAreas(s, findings, out) {
  const ids = [...new Set(findings.map((f) => f.area_id))].filter((id) => id && !out.areas.has(id));
  const areas = await Promise.all(ids.map((id) => s.areas.get(id)));
  ids.forEach((id, n) => { if (areas[n]) out.areas.set(id, areas[n]); });
}

/** The corrective actions I own, open ones first by due date, with their finding's title. */
export async function myActions() {
  const me = await user();
  // Each action's finding by key: the device may hold thousands of findings.
  const [actions, findings] = await db.read(["actions", "findings"], async (s) => {
    const all = await s.actions.getAll();
    return [all, await Promise.all(all.map((a) => (a.finding_id ? s.findings.get(a.finding_id) : null)))];
  });
  const titleOf = new Map(findings.filter(Boolean).map((f) => [f.id, f.title]));
  const today = localDate(new Date());
  return actions
    .filter((a) => !me || a.owner_id === me.id)
    .map((a) => ({
      ...a,
      title: titleOf.get(a.finding_id) || a.finding_title || "Finding",
      overdue: a.status === "open" && !!a.due_date && a.due_date < today,
    }))
    .sort((a, b) => (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1)
      || byCode(String(a.due_date || "9999"), String(b.due_date || "9999")));
}

/** Today on this device's calendar, as the server writes dates (YYYY-MM-DD). */
function localDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** The owner says the action is done, with a note of what was done. */
export function markActionDone(action, note) {
  const { title, overdue, ...stored } = action;
  const record = { ...stored, status: "done", done_at: new Date().toISOString(), done_note: note };
  return outbox.change("action", record, { done: true, done_note: note });
}

/** Every review comment on this device (on my audits and findings). */
export const comments = () => db.getAll("comments");

export async function rememberedArea() {
  const last = await db.getMeta("last_area");
  if (last) return last;
  const me = await user();
  return (me && me.home_area_id) || null;
}

export async function thumbnail(sha256) {
  const photo = await outbox.photoBytes(sha256);
  if (photo && photo.thumb) return URL.createObjectURL(new Blob([photo.thumb], { type: "image/jpeg" }));
  return `/api/photos/${sha256}?size=thumb`;
}
