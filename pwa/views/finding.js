// Raise a finding: photo, one line, area (remembered), optional location - three taps.
// The same form, pre-filled with clause and question, opens from an audit answer.
import { field, h, mount } from "./dom.js";
import { photoPicker } from "./photopicker.js";

// GPS works without a network; the position goes into the location text, which the
// person can still edit.
function locate(input, status) {
  status.textContent = "Finding your position…";
  navigator.geolocation.getCurrentPosition((pos) => {
    const { latitude, longitude, accuracy } = pos.coords;
    const where = `${latitude.toFixed(5)}, ${longitude.toFixed(5)} (±${Math.round(accuracy)} m)`;
    input.value = input.value ? `${input.value} - ${where}` : where;
    status.textContent = "";
  }, (err) => { status.textContent = `No position: ${err.message}`; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

function findingForm({ prefill = {}, areas, areaId, kinds, thumbnailOf, onPhotos, onSave, onCancel, heading = null }) {
  let photos = [...(prefill.photos || [])];
  const title = h("input", { type: "text", required: true, maxlength: 200, value: prefill.title || "", autocomplete: "off", enterkeyhint: "done" });
  const area = h("select", { required: true }, areas.map((a) => h("option", { value: a.id, selected: a.id === areaId }, `${a.site} / ${a.name}`)));
  const location = h("input", { type: "text", maxlength: 200, value: prefill.location || "", autocomplete: "off" });
  const kind = h("select", {}, kinds.map(([v, label]) => h("option", { value: v, selected: v === (prefill.kind || "observation") }, label)));
  const clause = h("input", { type: "text", maxlength: 40, value: prefill.clause || "" });
  const description = h("textarea", { rows: 3 }, prefill.description || "");
  const error = h("p", { class: "error", role: "alert" });
  const whereStatus = h("span", { class: "hint", role: "status" });
  const picker = photoPicker({
    context: prefill.photoContext || "finding",
    hashes: photos,
    thumbnailOf,
    onFiles: async (files) => { photos = [...photos, ...(await onPhotos(files)).filter((s) => !photos.includes(s))]; return photos; },
    onRemove: (sha) => { photos = photos.filter((s) => s !== sha); picker.redraw(photos); },
  });
  const save = h("button", { type: "submit", class: "primary" }, "Save finding");
  const form = h("form", { class: "card finding-form", "aria-label": heading || "Raise a finding" },
    heading ? h("h2", {}, heading) : null,
    picker,
    field("What did you see?", title),
    field("Area", area),
    field("Location (optional)", location, "Where exactly, e.g. \"Line 3, near the press\""),
    "geolocation" in navigator ? h("div", { class: "row" },
      h("button", { type: "button", onclick: () => locate(location, whereStatus) }, "Use my position"), whereStatus) : null,
    h("details", { open: !!prefill.question_id },
      h("summary", {}, "More details"),
      field("Kind", kind),
      field("Clause", clause),
      field("Description", description)),
    error,
    h("div", { class: "row" }, save,
      onCancel ? h("button", { type: "button", onclick: onCancel }, "Cancel") : null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!title.value.trim()) { error.textContent = "Say in one line what you saw."; title.focus(); return; }
    save.disabled = true;
    try {
      await onSave({
        title: title.value.trim(), area_id: area.value, location: location.value.trim(), kind: kind.value,
        clause: clause.value.trim(), description: description.value.trim(), photos,
        audit_id: prefill.audit_id || null, question_id: prefill.question_id || null,
      });
    } catch (e) {
      error.textContent = e.message;
      save.disabled = false;
    }
  });
  return form;
}

export function render(root, options) {
  const message = h("p", { class: "saved", role: "status" });
  const draw = (note) => {
    const form = findingForm({
      ...options,
      onSave: async (fields) => {
        await options.onSave(fields);
        options.areaId = fields.area_id;
        draw("Finding saved on this device. It is sent when there is a connection.");
      },
    });
    message.textContent = note || "";
    mount(root, h("h1", {}, "Raise a finding"), message, form);
  };
  draw();
}

/** The pre-filled finding form in a modal dialog, from an audit answer. */
export function openDialog(options) {
  const dialog = h("dialog", { class: "finding-dialog", "aria-label": "Finding for this answer" });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.append(findingForm({
    ...options,
    heading: "Finding for this answer",
    onCancel: close,
    onSave: async (fields) => { await options.onSave(fields); close(); },
  }));
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
