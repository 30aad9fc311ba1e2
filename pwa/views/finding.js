// Raise a finding: photo, one line, area (remembered), optional location - three taps.
// The same form, pre-filled with clause and question, opens from an audit answer.
import { field, h, mount } from "./dom.js";
import { photoPicker } from "./photopicker.js";
import { areaScanner } from "./areascan.js";

// GPS works without a network; the position goes into the location text, which the
// person can still edit.
function locate(input, status, done = () => {}) {
  status.textContent = "Finding your position…";
  navigator.geolocation.getCurrentPosition((pos) => {
    const { latitude, longitude, accuracy } = pos.coords;
    const where = `${latitude.toFixed(5)}, ${longitude.toFixed(5)} (±${Math.round(accuracy)} m)`;
    input.value = input.value ? `${input.value} - ${where}` : where;
    status.textContent = "";
    done();
  }, (err) => { status.textContent = `No position: ${err.message}`; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

/**
 * The finding form. `draft` (fields saved earlier, not yet a finding) fills it in and marks
 * it as a draft; `onDraft(fields)` is called as the person types or adds a photo, so a
 * closed app loses nothing; `onDiscard()` throws the draft away.
 */
function findingForm({
  prefill = {}, draft = null, areas, areaId, kinds, thumbnailOf, onPhotos, onSave, onCancel, onDraft, onDiscard,
  onPhotoDropped, heading = null, documents = [], appliesIn = () => true,
}) {
  const start = { ...prefill, ...(draft || {}) };
  let photos = [...(start.photos || [])];
  const title = h("input", { type: "text", required: true, maxlength: 200, value: start.title || "", autocomplete: "off", enterkeyhint: "done" });
  const area = h("select", { required: true }, areas.map((a) => h("option", { value: a.id, selected: a.id === (start.area_id || areaId) }, `${a.site} / ${a.name}`)));
  const location = h("input", { type: "text", maxlength: 200, value: start.location || "", autocomplete: "off" });
  const kind = h("select", {}, kinds.map(([v, label]) => h("option", { value: v, selected: v === (start.kind || "observation") }, label)));
  const clause = h("input", { type: "text", maxlength: 40, value: start.clause || "" });
  const description = h("textarea", { rows: 3 }, start.description || "");
  const citation = documentCitation(documents, appliesIn, start);
  const error = h("p", { class: "error", role: "alert" });
  const whereStatus = h("span", { class: "hint", role: "status" });
  let finished = false;
  const collect = () => ({
    title: title.value.trim(), area_id: area.value, location: location.value.trim(), kind: kind.value,
    clause: clause.value.trim(), description: description.value.trim(), photos,
    audit_id: prefill.audit_id || null, question_id: prefill.question_id || null,
    ...citation.value(),
  });
  const draftNote = h("p", { class: "draft-note", role: "status" });
  const markDraft = () => { draftNote.textContent = "Draft - kept on this device, not saved as a finding yet"; discard.hidden = false; };
  const keep = () => {
    if (finished || !onDraft) return;
    onDraft({ ...collect(), title: title.value, location: location.value, description: description.value });
    markDraft();
  };
  const picker = photoPicker({
    context: prefill.photoContext || "finding",
    hashes: photos,
    thumbnailOf,
    onFiles: async (files) => {
      photos = [...photos, ...(await onPhotos(files)).filter((s) => !photos.includes(s))];
      keep();
      return photos;
    },
    onRemove: (sha) => {
      photos = photos.filter((s) => s !== sha);
      picker.redraw(photos);
      keep();
      if (onPhotoDropped) onPhotoDropped(sha);
    },
    onAnnotated: (list) => { photos = list; keep(); return photos; },
  });
  const save = h("button", { type: "submit", class: "primary" }, "Save finding");
  const discard = h("button", { type: "button", hidden: true, onclick: async () => {
    finished = true;
    if (onDiscard) await onDiscard();
  } }, "Discard draft");
  const form = h("form", { class: "card finding-form", "aria-label": heading || "Raise a finding" },
    heading ? h("h2", {}, heading) : null,
    draftNote,
    picker,
    field("What did you see?", title),
    field("Area", area),
    // An answer's finding is in the audit's area; a finding raised on its own may be picked by a label.
    prefill.question_id ? null : areaScanner({
      areas,
      label: (a) => `${a.site} / ${a.name}`,
      onPick: (a) => { area.value = a.id; area.dispatchEvent(new Event("change", { bubbles: true })); },
    }),
    field("Location (optional)", location, "Where exactly, e.g. \"Line 3, near the press\""),
    "geolocation" in navigator ? h("div", { class: "row" },
      h("button", { type: "button", onclick: () => locate(location, whereStatus, keep) }, "Use my position"), whereStatus) : null,
    h("details", { open: !!prefill.question_id },
      h("summary", {}, "More details"),
      field("Kind", kind),
      field("Clause", clause),
      field("Description", description),
      citation.element),
    error,
    // Save stays in view at the foot of the form, however long it grows on a phone.
    h("div", { class: "row form-actions" }, save,
      onCancel ? h("button", { type: "button", onclick: onCancel }, "Cancel") : null,
      discard));
  if (draft) markDraft();
  const areaOf = () => areas.find((a) => a.id === area.value) || null;
  citation.showFor(areaOf());
  area.addEventListener("change", () => citation.showFor(areaOf()));
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!title.value.trim()) { error.textContent = "Say in one line what you saw."; title.focus(); return; }
    save.disabled = true;
    finished = true;
    try {
      await onSave(collect());
    } catch (e) {
      error.textContent = e.message;
      save.disabled = false;
      finished = false;
    }
  });
  return form;
}

/**
 * "The document it cites": a controlled document on the device that applies in the area
 * chosen ("not as WI-014 rev 3 says"), and whether the finding is that the document itself
 * is out of date. Nothing to pick when the device holds no documents.
 */
function documentCitation(documents, appliesIn, start) {
  const select = h("select", {});
  const outdated = h("input", { type: "checkbox", checked: !!start.document_outdated });
  const outdatedLabel = h("label", { class: "check" }, outdated, "The document itself is out of date");
  const element = documents.length
    ? h("div", { class: "citation" }, field("Document it cites (optional)", select), outdatedLabel) : null;
  let chosen = start.document_revision_id || "";
  select.addEventListener("change", () => { chosen = select.value; outdatedLabel.hidden = !chosen; });
  return {
    element,
    /** List the documents that apply in `area`; one cited before stays listed. */
    showFor(area) {
      const shown = documents.filter((d) => d.current.id === chosen || appliesIn(d, area));
      select.replaceChildren(h("option", { value: "" }, "None"),
        ...shown.map((d) => h("option", { value: d.current.id, selected: d.current.id === chosen },
          `${d.number} rev ${d.current.rev} - ${d.title}`)));
      select.value = chosen;
      outdatedLabel.hidden = !chosen;
    },
    value: () => (chosen ? { document_revision_id: chosen, document_outdated: outdated.checked } : {}),
  };
}

export function render(root, options) {
  const message = h("p", { class: "saved", role: "status" });
  const draw = (note, draft = null) => {
    const form = findingForm({
      ...options,
      draft,
      onSave: async (fields) => {
        await options.onSave(fields);
        options.areaId = fields.area_id;
        draw("Finding saved on this device. It is sent when there is a connection.");
      },
      onDiscard: async () => {
        await options.onDiscard();
        draw("Draft discarded.");
      },
    });
    message.textContent = note || "";
    mount(root, h("h1", {}, "Raise a finding"), message, form);
  };
  draw("", options.draft);
}

/** The pre-filled finding form in a modal dialog, from an audit answer. Cancel closes it
 * and keeps the draft; "Discard draft" throws it away. */
export function openDialog(options) {
  const dialog = h("dialog", { class: "finding-dialog", "aria-label": "Finding for this answer" });
  const close = () => { dialog.close(); dialog.remove(); if (options.onClose) options.onClose(); };
  dialog.append(findingForm({
    ...options,
    heading: "Finding for this answer",
    onCancel: close,
    onSave: async (fields) => { await options.onSave(fields); close(); },
    onDiscard: async () => { await options.onDiscard(); close(); },
  }));
  // Escape closes the dialog like Cancel.
  dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * My finding, to correct or withdraw until a supervisor has triaged it. Withdrawing asks
 * once more before it is done.
 */
export function renderEdit(root, options) {
  const { finding, editable } = options;
  const back = h("p", {}, h("a", { class: "back", href: "#/findings" }, "‹ My findings"));
  if (!finding) { mount(root, back, h("p", {}, "This finding is not on this device.")); return; }
  if (!editable) {
    mount(root, back, h("h1", {}, finding.title),
      h("p", {}, "A supervisor has taken this finding up: it can no longer be changed here."));
    return;
  }
  const message = h("p", { class: "saved", role: "status" });
  const confirm = h("div", { class: "row", hidden: true },
    h("p", {}, "Withdraw this finding? It goes to the register as withdrawn."),
    h("button", { type: "button", class: "danger", onclick: async () => { await options.onWithdraw(); } }, "Yes, withdraw it"),
    h("button", { type: "button", onclick: () => { confirm.hidden = true; } }, "Keep it"));
  const form = findingForm({
    ...options,
    prefill: { ...finding, photoContext: "finding" },
    heading: "Edit finding",
    onSave: async (fields) => {
      await options.onSave(fields);
      message.textContent = "Changes saved on this device. They are sent when there is a connection.";
    },
  });
  mount(root, back, h("h1", {}, "My finding"), message, form,
    h("section", { class: "card", "aria-label": "Withdraw" },
      h("button", { type: "button", onclick: () => { confirm.hidden = false; } }, "Withdraw finding"),
      confirm));
}
