// My actions: the corrective actions I own, what is due when, and marking one done.
//
// The list follows the data (a sync may redraw it at any moment), so a note being typed
// and its error message live here, by action, and come back with every redraw.
import { field, h, mount, STATUS_LABELS } from "./dom.js";

const drafts = new Map(); // action id -> { note, error }

function draftOf(id) {
  if (!drafts.has(id)) drafts.set(id, { note: "", error: "" });
  return drafts.get(id);
}

function doneForm(action, onDone) {
  const draft = draftOf(action.id);
  const note = h("textarea", { rows: 2, "aria-required": "true", "data-action-note": action.id }, draft.note);
  const error = h("p", { class: "error", role: "alert" }, draft.error);
  const button = h("button", { type: "submit", class: "primary" }, "Mark done");
  const form = h("form", { class: "done-form", "aria-label": `Mark done: ${action.title}` },
    field("What was done?", note), error, button);
  note.addEventListener("input", () => { draft.note = note.value; });
  const fail = (message) => { draft.error = message; error.textContent = message; };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fail("");
    if (!note.value.trim()) { fail("Say in a line what was done."); note.focus(); return; }
    button.disabled = true;
    try {
      await onDone(action, note.value.trim());
      drafts.delete(action.id);
    } catch (e) {
      fail(e.message);
      button.disabled = false;
    }
  });
  return form;
}

export function render(root, { actions, onDone }) {
  const active = document.activeElement;
  const typingIn = active && root.contains(active) ? active.dataset.actionNote : null;
  mount(root, h("h1", {}, "My actions"),
    actions.length ? h("ul", { class: "cards" }, actions.map((a) => {
      const sync = a._rejected ? h("span", { class: "badge danger" }, `Not accepted: ${a._rejected}`)
        : a._pending ? h("span", { class: "badge pending" }, "Waiting to send") : null;
      return h("li", { class: "card action-card", "aria-label": a.title },
        h("h2", {}, a.title),
        h("p", { class: "meta" },
          h("span", { class: `badge status-${a.status}` }, STATUS_LABELS[a.status] || a.status), " ",
          a.overdue ? h("span", { class: "badge danger" }, "Overdue") : null, a.overdue ? " " : null,
          sync, a.due_date ? ` Due ${a.due_date}` : " No due date"),
        a.plan ? h("p", {}, `Plan: ${a.plan}`) : null,
        a.done_note ? h("p", {}, `Done: ${a.done_note}`) : null,
        a.status === "open" ? doneForm(a, onDone) : null);
    })) : h("p", { class: "empty" }, "No corrective actions are assigned to you."));
  if (typingIn) {
    const again = root.querySelector(`[data-action-note="${CSS.escape(typingIn)}"]`);
    if (again) again.focus();
  }
}
