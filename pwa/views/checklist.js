// One audit: the checklist by section with progress, every question kind, notes, photos
// per question, and the way to the submit summary.
import { field, h, mount, STATUS_LABELS, uid } from "./dom.js";
import { photoPicker } from "./photopicker.js";

const CHOICES = {
  yes_no_na: [["yes", "Yes"], ["no", "No"], ["na", "N/A"]],
  pass_fail: [["pass", "Pass"], ["fail", "Fail"]],
};

function choicesOf(question) {
  if (CHOICES[question.kind]) return CHOICES[question.kind];
  if (question.kind === "score") {
    const [lo, hi] = (question.options && question.options.length >= 2) ? question.options : [0, 5];
    const out = [];
    for (let v = Number(lo); v <= Number(hi); v += 1) out.push([v, String(v)]);
    return out;
  }
  if (question.kind === "choice") return (question.options || []).map((o) => [o, String(o)]);
  return null;
}

function answerControl(question, response, locked, save) {
  const value = response ? response.value : null;
  const choices = choicesOf(question);
  if (choices) {
    const name = uid("q");
    return h("div", { class: `choices kind-${question.kind}` }, choices.map(([v, label]) => {
      const input = h("input", { type: "radio", name, value: String(v), checked: value !== null && String(value) === String(v), disabled: locked });
      input.addEventListener("change", () => { if (input.checked) save({ value: v }); });
      return h("label", { class: "choice" }, input, h("span", {}, label));
    }));
  }
  if (question.kind === "photo") return null;
  const types = { number: "number", date: "date", text: null };
  let input;
  if (question.kind === "text") input = h("textarea", { rows: 2, disabled: locked }, value || "");
  else input = h("input", { type: types[question.kind] || "text", value: value ?? "", disabled: locked, inputmode: question.kind === "number" ? "decimal" : null, step: question.kind === "number" ? "any" : null });
  input.addEventListener("change", () => {
    const raw = input.value.trim();
    save({ value: raw === "" ? null : (question.kind === "number" ? Number(raw) : raw) });
  });
  return field("Answer", input);
}

function questionBlock(question, number, detail, actions) {
  const response = detail.responses.get(question.id);
  const locked = !actions.editable;
  const context = `question ${number}`;
  const state = h("p", { class: "answer-state", role: "status" });
  const drawState = (r) => {
    const answered = actions.isAnswered(question, r);
    state.textContent = answered ? "Answered" : (question.required ? "Required, not answered" : "Optional");
    state.className = `answer-state ${answered ? "ok" : "todo"}`;
    block.classList.toggle("answered", answered);
  };
  const save = async (changes) => {
    const saved = await actions.onAnswer(question, changes);
    drawState(saved);
    if ("value" in changes && actions.callsForFinding(question, changes.value)) actions.onFindingNeeded(question, changes.value);
  };
  const note = h("textarea", { rows: 2, disabled: locked }, (response && response.note) || "");
  note.addEventListener("change", () => save({ note: note.value }));
  let photos = (response && response.photos) || [];
  const picker = photoPicker({
    context,
    hashes: photos,
    disabled: locked,
    thumbnailOf: actions.thumbnailOf,
    onFiles: async (files) => {
      const added = await actions.onPhotos(files);
      photos = [...photos, ...added.filter((sha) => !photos.includes(sha))];
      await save({ photos });
      return photos;
    },
    onRemove: async (sha) => {
      photos = photos.filter((x) => x !== sha);
      await save({ photos });
      picker.redraw(photos);
    },
  });
  const legendId = uid("legend");
  const block = h("fieldset", { class: "question card", id: `q-${question.id}`, "aria-labelledby": legendId },
    h("legend", { id: legendId }, h("span", { class: "qnum" }, `${number}. `), question.text,
      question.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    h("p", { class: "meta" }, question.clause ? `Clause ${question.clause}` : "", question.required ? " · required" : " · optional"),
    question.guidance ? h("p", { class: "hint" }, question.guidance) : null,
    answerControl(question, response, locked, save),
    field(`Note for ${context}`, note),
    picker,
    state);
  drawState(response);
  return block;
}

export function render(root, detail, actions) {
  const { audit, template, area, comments, findings } = detail;
  if (!template) {
    mount(root, h("p", { class: "error" }, "This audit's checklist has not reached this device yet. Sync when online."));
    return;
  }
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Audit progress" });
  const progressText = h("p", { class: "progress-text", "aria-live": "polite" });
  const updateProgress = () => {
    const p = actions.progress();
    progress.max = p.total || 1;
    progress.value = p.answered;
    progressText.textContent = `${p.answered} of ${p.total} answered`;
  };
  const sectionCounts = [];
  const updateSections = () => {
    for (const { section, el } of sectionCounts) {
      const done = section.questions.filter((q) => actions.isAnswered(q, detail.responses.get(q.id))).length;
      el.textContent = ` (${done} of ${section.questions.length})`;
    }
  };
  const wrapped = {
    ...actions,
    onAnswer: async (q, c) => { const r = await actions.onAnswer(q, c); updateProgress(); updateSections(); return r; },
  };
  let number = 0;
  const sectionBlocks = actions.sections.map((section) => {
    const count = h("span", { class: "section-count" });
    sectionCounts.push({ section, el: count });
    return h("section", { class: "checklist-section", "aria-label": section.name },
      h("h2", {}, section.name, count),
      section.questions.map((q) => { number += 1; return questionBlock(q, number, detail, wrapped); }));
  });
  updateSections();
  const startLabel = audit.status === "returned" ? "Resume audit" : "Start audit";
  mount(root,
    h("p", {}, h("a", { href: "#/audits" }, "‹ My audits")),
    h("h1", {}, template.name),
    h("p", { class: "meta" }, area ? `${area.site} / ${area.name}` : "", " · ",
      h("span", { class: `badge status-${audit.status}` }, STATUS_LABELS[audit.status] || audit.status)),
    comments.length ? h("section", { class: "card comments", "aria-label": "Reviewer comments" },
      h("h2", {}, "Reviewer comments"),
      h("ul", {}, comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Reviewer"}: `), c.body)))) : null,
    ["planned", "returned"].includes(audit.status)
      ? h("button", { type: "button", class: "primary", onclick: actions.onStart }, startLabel) : null,
    h("div", { class: "progress-box" }, progress, progressText),
    sectionBlocks,
    findings.length ? h("section", { class: "card", "aria-label": "Findings from this audit" },
      h("h2", {}, `Findings raised (${findings.length})`),
      h("ul", {}, findings.map((f) => h("li", {}, f.title)))) : null,
    actions.editable ? h("p", {}, h("a", { class: "button primary", href: `#/audit/${audit.id}/submit` }, "Review and submit")) : null);
  updateProgress();
}

/** The audit asked for is not on this device (never synced here, or taken off it). */
export function renderMissing(root) {
  mount(root, h("p", {}, "This audit is not on this device."));
}

/** The submit summary: blocked while required questions are unanswered. */
export function renderSubmit(root, detail, { blockers, progress, sections, isAnswered, onSubmit }) {
  const { audit, template } = detail;
  const p = progress();
  const summary = h("textarea", { rows: 3 }, audit.summary || "");
  const submit = h("button", { type: "button", class: "primary", disabled: blockers.length > 0 }, "Submit audit");
  const message = h("p", { role: "status" });
  submit.addEventListener("click", async () => {
    submit.disabled = true;
    try { await onSubmit(summary.value.trim()); message.textContent = "Submitted. It will be sent when online."; }
    catch (e) { message.textContent = e.message; submit.disabled = false; }
  });
  mount(root,
    h("p", {}, h("a", { href: `#/audit/${audit.id}` }, "‹ Back to the checklist")),
    h("h1", {}, `Submit: ${template.name}`),
    h("p", {}, `${p.answered} of ${p.total} questions answered · ${detail.findings.length} finding(s)`),
    h("table", { class: "summary" },
      h("thead", {}, h("tr", {}, h("th", {}, "Section"), h("th", {}, "Answered"))),
      h("tbody", {}, sections.map((s) => h("tr", {}, h("td", {}, s.name),
        h("td", {}, `${s.questions.filter((q) => isAnswered(q, detail.responses.get(q.id))).length} of ${s.questions.length}`))))),
    blockers.length ? h("section", { class: "card blocking", role: "alert", "aria-label": "Blocking submission" },
      h("h2", {}, `${blockers.length} question(s) block submission`),
      h("ul", {}, blockers.map((b) => h("li", {}, h("a", { href: `#/audit/${audit.id}`, "data-question": b.question.id }, b.question.text), ` - ${b.problem}`)))) : null,
    field("Summary for the reviewer", summary),
    submit, message);
}
