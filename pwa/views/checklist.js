// One audit: the checklist by section with progress, every question kind, notes, photos
// per question, and the way to the submit summary.
import { field, h, mount, STATUS_LABELS, uid, when } from "./dom.js";
import { photoParts } from "./photopicker.js";
import { signOff } from "./signature.js";

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

/** A multiple-choice question: one checkbox per option (each a 44 px target); the answer is
 * the list of the options chosen, in their order (none chosen: not answered). */
function multiChoiceControl(question, value, locked, save) {
  const chosen = new Set(Array.isArray(value) ? value.map(String) : []);
  const options = (question.options || []).map(String);
  const boxes = options.map((option) => h("input", { type: "checkbox", value: option, checked: chosen.has(option), disabled: locked }));
  for (const box of boxes) {
    box.addEventListener("change", () => {
      const picked = boxes.filter((b) => b.checked).map((b) => b.value);
      save({ value: picked.length ? picked : null });
    });
  }
  return h("div", { class: "choices kind-multi_choice", role: "group", "aria-label": `${question.text} (choose any)` },
    boxes.map((box, i) => h("label", { class: "choice" }, box, h("span", {}, options[i]))));
}

function answerControl(question, response, locked, save, again) {
  const value = response ? response.value : null;
  if (question.kind === "multi_choice") return multiChoiceControl(question, value, locked, save);
  const choices = choicesOf(question);
  if (choices) {
    const name = uid("q");
    return h("div", { class: `choices kind-${question.kind}` }, choices.map(([v, label]) => {
      const input = h("input", { type: "radio", name, value: String(v), checked: value !== null && String(value) === String(v), disabled: locked });
      let wasChecked = false;
      input.addEventListener("change", () => { if (input.checked) save({ value: v }); });
      // Tapping the answer already chosen changes nothing, but reopens a finding it calls for.
      input.addEventListener("click", () => { if (wasChecked) again(); wasChecked = false; });
      const choice = h("label", { class: "choice" }, input, h("span", {}, label));
      choice.addEventListener("pointerdown", () => { wasChecked = input.checked; });
      input.addEventListener("keydown", (event) => { if (event.key === " ") wasChecked = input.checked; });
      return choice;
    }));
  }
  if (question.kind === "photo") return null;
  const types = { number: "number", date: "date", text: null };
  let input;
  if (question.kind === "text") input = h("textarea", { rows: 2, disabled: locked }, value || "");
  else input = h("input", { type: types[question.kind] || "text", value: value ?? "", disabled: locked, inputmode: question.kind === "number" ? "decimal" : null, step: question.kind === "number" ? "any" : null });
  const limits = question.kind === "number" && Array.isArray(question.options) && question.options.length === 2 ? question.options : null;
  input.addEventListener("change", () => {
    const raw = input.value.trim();
    save({ value: raw === "" ? null : (question.kind === "number" ? Number(raw) : raw) });
  });
  return field("Answer", input, limits ? `Allowed ${limits[0]} to ${limits[1]}` : undefined);
}

// Notes are saved as they are typed (a moment after the last key), and at once when the
// page is hidden or closed, so a note whose field still has the cursor is not lost.
const NOTE_DELAY_MS = 400;
const unsavedNotes = new Set();
const saveNotesNow = () => { for (const flush of [...unsavedNotes]) flush(); };
addEventListener("pagehide", saveNotesNow);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") saveNotesNow(); });

function noteBox(initial, locked, save) {
  const note = h("textarea", { rows: 2, disabled: locked }, initial);
  let timer = null;
  let saved = initial;
  const flush = () => {
    clearTimeout(timer);
    unsavedNotes.delete(flush);
    if (note.value === saved) return;
    saved = note.value;
    save({ note: note.value });
  };
  note.addEventListener("input", () => {
    unsavedNotes.add(flush);
    clearTimeout(timer);
    timer = setTimeout(flush, NOTE_DELAY_MS);
  });
  note.addEventListener("change", flush);
  return note;
}

/**
 * One question as a compact card: the question, its answers and "Take photo" on one row,
 * and "Note" one tap away (open when the answer has a note). Guidance, the note and
 * "Choose photo" open under "Note"; thumbnails and the finding state show when there are
 * any. A yes/no/N/A question with no note fits in 160 px on a tablet.
 */
function questionBlock(question, number, detail, actions) {
  const response = detail.responses.get(question.id);
  const locked = !actions.editable;
  const context = `question ${number}`;
  const state = h("span", { class: "answer-state", role: "status" });
  // An answer that calls for a finding says so until it has one (or a note saying why not).
  const findingState = h("div", { class: "finding-state" });
  // A number outside its limits is flagged whether or not it calls for a finding.
  const rangeState = h("p", { class: "needs range-state", role: "status" });
  let current = response || null;
  const drawState = (r) => {
    current = r || current;
    const answered = actions.isAnswered(question, current);
    state.textContent = answered ? "Answered" : (question.required ? "Required, not answered" : "Optional");
    state.className = `answer-state ${answered ? "ok" : "todo"}`;
    block.classList.toggle("answered", answered);
    block.dataset.answered = answered ? "yes" : "no";
    const need = actions.findingNeed(question, current);
    block.classList.toggle("needs-finding", need === "missing");
    const out = actions.outOfRange(question, current);
    rangeState.textContent = out ? `Out of range: allowed ${question.options[0]} to ${question.options[1]}` : "";
    if (need === "raised") {
      findingState.replaceChildren(h("p", { class: "ok" }, `Finding raised: ${actions.findingOf(question).title}`));
    } else if (need === "missing" || need === "explained") {
      const drafted = actions.draftOf(question);
      findingState.replaceChildren(
        need === "missing"
          ? h("p", { class: "needs" }, "Needs a finding (or a note saying why none is needed)")
          : h("p", { class: "hint" }, "No finding: the note says why"),
        locked ? null : h("button", { type: "button", onclick: () => actions.onFindingNeeded(question, current.value) },
          drafted ? `Open the finding draft for ${context}` : `Raise finding for ${context}`));
    } else findingState.replaceChildren();
  };
  const save = async (changes) => {
    const saved = await actions.onAnswer(question, changes);
    drawState(saved);
    if ("value" in changes && actions.findingNeed(question, saved) === "missing") actions.onFindingNeeded(question, changes.value);
  };
  const note = noteBox((response && response.note) || "", locked, save);
  let photos = (response && response.photos) || [];
  const picker = photoParts({
    context,
    short: true,
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
    onAnnotated: async (list) => { photos = list; await save({ photos }); return photos; },
  });
  const more = h("div", { class: "more", hidden: !note.value },
    question.guidance ? h("p", { class: "hint" }, question.guidance) : null,
    field(`Note for ${context}`, note),
    question.kind === "photo" ? null : h("div", { class: "row" }, ...picker.choose));
  const moreButton = h("button", {
    type: "button", class: "tool", "aria-expanded": String(!more.hidden),
    onclick: () => {
      more.hidden = !more.hidden;
      moreButton.setAttribute("aria-expanded", String(!more.hidden));
      if (!more.hidden && !locked) note.focus();
    },
  }, question.guidance ? "Note, guidance" : "Note", h("span", { class: "visually-hidden" }, ` box for ${context}`));
  const legendId = uid("legend");
  const control = answerControl(question, response, locked, save, () => {
    if (["missing", "explained"].includes(actions.findingNeed(question, current))) actions.onFindingNeeded(question, current.value);
  });
  const block = h("fieldset", { class: "question card", id: `q-${question.id}`, "aria-labelledby": legendId, "data-question": question.id },
    h("legend", { id: legendId }, h("span", { class: "qnum" }, `${number}. `), question.text,
      question.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    h("p", { class: "meta" }, question.clause ? `${question.clause} · ` : "", question.required ? "required · " : "optional · ", state),
    h("div", { class: "answer-row" },
      control,
      h("div", { class: "tools" }, ...picker.take, question.kind === "photo" ? picker.choose : [], moreButton)),
    more,
    rangeState,
    picker.status,
    picker.list,
    findingState);
  block.redraw = (r) => { if (r) { photos = r.photos || []; picker.redraw(photos); } drawState(r); };
  drawState(response);
  return block;
}

export function render(root, detail, actions) {
  const { audit, template, area, comments, findings } = detail;
  if (!template) {
    mount(root, h("p", { class: "error" }, "This audit's checklist has not reached this device yet. Sync when online."));
    return { redrawQuestion() {}, showFindings() {} };
  }
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Audit progress" });
  const progressText = h("p", { class: "progress-text", "aria-live": "polite" });
  const updateProgress = () => {
    const p = actions.progress();
    const live = actions.liveScore();
    progress.max = p.total || 1;
    progress.value = p.answered;
    progressText.textContent = `${p.answered} of ${p.total} answered · score ${live.score === null ? "-" : `${live.score}%`} · ${live.nonconformities} NC`;
  };
  const sectionCounts = [];
  // Show-if: a question (or a whole section) is on view only while the answer it depends
  // on is one of its values; it appears and disappears as answers change.
  const applyVisibility = () => {
    const shown = actions.visibility();
    for (const [id, block] of blocks) block.hidden = !shown.get(id);
    for (const { section, sectionEl } of sectionCounts) sectionEl.hidden = section.questions.every((q) => !shown.get(q.id));
    return shown;
  };
  const updateSections = () => {
    const shown = applyVisibility();
    for (const { section, el } of sectionCounts) {
      const visible = section.questions.filter((q) => shown.get(q.id));
      const done = visible.filter((q) => actions.isAnswered(q, detail.responses.get(q.id))).length;
      el.textContent = ` (${done} of ${visible.length})`;
    }
  };
  const wrapped = {
    ...actions,
    onAnswer: async (q, c) => { const r = await actions.onAnswer(q, c); updateProgress(); updateSections(); return r; },
  };
  let number = 0;
  const blocks = new Map();
  const sectionBlocks = actions.sections.map((section, i) => {
    const count = h("span", { class: "section-count" });
    const sectionEl = h("section", { class: "checklist-section", "aria-label": section.name, id: `section-${i + 1}` },
      h("h2", {}, section.name, count),
      section.questions.map((q) => {
        number += 1;
        const block = questionBlock(q, number, detail, wrapped);
        blocks.set(q.id, block);
        return block;
      }));
    sectionCounts.push({ section, el: count, sectionEl });
    return sectionEl;
  });
  const findingsBox = h("div", {});
  const showFindings = (list) => {
    findingsBox.replaceChildren(...(list.length ? [h("section", { class: "card", "aria-label": "Findings from this audit" },
      h("h2", {}, `Findings raised (${list.length})`),
      h("ul", {}, list.map((f) => h("li", {}, f.title))))] : []));
    updateProgress();
  };
  updateSections();
  const land = (block) => {
    block.scrollIntoView({ block: "start" });
    const first = block.querySelector("input:not([type=file]), textarea, button");
    if (first) first.focus({ preventScroll: true });
  };
  // The next question not answered after the one on view (from the top again at the end).
  const nextUnanswered = () => {
    const all = [...blocks.values()];
    const top = progressBox.getBoundingClientRect().bottom + 1;
    const here = all.findIndex((b) => b.getBoundingClientRect().top > top);
    const order = here < 0 ? all : [...all.slice(here), ...all.slice(0, here)];
    const next = order.find((b) => !b.hidden && b.dataset.answered !== "yes");
    if (next) land(next);
    else nextButton.textContent = "All answered";
  };
  const nextButton = h("button", { type: "button", onclick: nextUnanswered }, "Next unanswered");
  const jump = h("select", { "aria-label": "Jump to section", class: "jump" },
    h("option", { value: "" }, "Jump to section…"),
    actions.sections.map((section, i) => h("option", { value: `section-${i + 1}` }, section.name)));
  jump.addEventListener("change", () => {
    const target = jump.value && root.querySelector(`#${jump.value}`);
    if (target) target.scrollIntoView({ block: "start" });
    jump.value = "";
  });
  const progressBox = h("div", { class: "progress-box" }, progress, progressText,
    actions.editable ? h("div", { class: "row nav-row" }, nextButton, actions.sections.length > 1 ? jump : null) : null);
  mount(root,
    h("p", {}, h("a", { class: "back", href: "#/audits" }, "‹ My audits")),
    h("h1", {}, template.name),
    h("p", { class: "meta" }, area ? `${area.site} / ${area.name}` : "", " · ",
      h("span", { class: `badge status-${audit.status}` }, STATUS_LABELS[audit.status] || audit.status)),
    h("p", {}, h("a", { href: `#/documents/area/${audit.area_id}`, class: "area-documents" }, "Documents for this area")),
    comments.length ? h("section", { class: "card comments", "aria-label": "Reviewer comments" },
      h("h2", {}, "Reviewer comments"),
      h("ul", {}, comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Reviewer"}: `), c.body)))) : null,
    progressBox,
    sectionBlocks,
    findingsBox,
    actions.editable ? null : signOffBox(audit, actions.thumbnailOf),
    actions.editable ? h("p", {}, h("a", { class: "button primary", href: `#/audit/${audit.id}/submit` }, "Review and submit")) : null);
  showFindings(findings);
  // A blocker link on the submit screen lands on its question; otherwise start at the top.
  if (actions.focus && blocks.has(actions.focus)) land(blocks.get(actions.focus));
  else scrollTo(0, 0);
  return {
    /** Draw one question's state again (its answer changed outside its card). */
    redrawQuestion(questionId, response) {
      const block = blocks.get(questionId);
      if (block) block.redraw(response);
      updateProgress();
      updateSections();
    },
    showFindings,
  };
}

const SIGNER = { auditor: "Auditor", auditee: "Auditee" };

/**
 * The sign-off an audit carries once submitted - signed on this device or received with
 * the audit from the register: who signed, when, and their drawing; or why the auditee
 * did not sign. Null when there is none.
 */
export function signOffBox(audit, thumbnailOf) {
  const signatures = audit.signatures || [];
  if (!signatures.length && !audit.unsigned_reason) return null;
  return h("section", { class: "card signoff", "aria-label": "Sign-off" },
    h("h2", {}, "Sign-off"),
    h("ul", { class: "signatures" }, signatures.map((s) => {
      const drawing = h("img", { class: "signature-image", alt: `Signature of ${s.name}`, width: 240, height: 90 });
      Promise.resolve(thumbnailOf(s.sha256)).then((src) => { drawing.src = src; }, () => {});
      return h("li", {}, drawing, h("p", {}, h("strong", {}, `${SIGNER[s.role] || s.role}: `), `${s.name} · ${when(s.signed_at)}`));
    })),
    audit.unsigned_reason ? h("p", { class: "unsigned" }, `The auditee did not sign: ${audit.unsigned_reason}`) : null);
}

/** The audit asked for is not on this device (never synced here, or taken off it). */
export function renderMissing(root) {
  mount(root, h("p", {}, "This audit is not on this device."));
}

/** The submit summary: blocked while required questions are unanswered; signed at the end. */
export function renderSubmit(root, detail, { blockers, progress, sections, isAnswered, shown, onSubmit, auditorName = "" }) {
  const { audit, template } = detail;
  const p = progress();
  const summary = h("textarea", { rows: 3 }, audit.summary || "");
  const signatures = signOff({ auditorName });
  const submit = h("button", { type: "button", class: "primary", disabled: blockers.length > 0 }, "Submit audit");
  const message = h("p", { role: "status" });
  submit.addEventListener("click", async () => {
    submit.disabled = true;
    try {
      await onSubmit(summary.value.trim(), signatures.collect());
      message.textContent = "Submitted. It will be sent when online.";
    } catch (e) { message.textContent = e.message; submit.disabled = false; }
  });
  mount(root,
    h("p", {}, h("a", { class: "back", href: `#/audit/${audit.id}` }, "‹ Back to the checklist")),
    h("h1", {}, `Submit: ${template.name}`),
    h("p", {}, `${p.answered} of ${p.total} questions answered · ${detail.findings.length} finding(s)`),
    h("table", { class: "summary" },
      h("thead", {}, h("tr", {}, h("th", {}, "Section"), h("th", {}, "Answered"))),
      h("tbody", {}, sections.map((s) => ({ name: s.name, questions: s.questions.filter((q) => shown.get(q.id)) }))
        .filter((s) => s.questions.length)
        .map((s) => h("tr", {}, h("td", {}, s.name),
          h("td", {}, `${s.questions.filter((q) => isAnswered(q, detail.responses.get(q.id))).length} of ${s.questions.length}`))))),
    blockers.length ? h("section", { class: "card blocking", role: "alert", "aria-label": "Blocking submission" },
      h("h2", {}, `${blockers.length} question(s) block submission`),
      h("ul", {}, blockers.map((b) => h("li", {}, h("a", { href: `#/audit/${audit.id}/q/${b.question.id}`, "data-question": b.question.id }, b.question.text), ` - ${b.problem}`)))) : null,
    field("Summary for the reviewer", summary),
    signatures,
    submit, message);
  scrollTo(0, 0); // opens at its heading, wherever the checklist was scrolled to
}
