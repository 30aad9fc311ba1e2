// Controlled documents: to read and confirm, the list for an area, pins and the budget.
import { bytes, h, mount, when } from "./dom.js";

const TYPES = {
  procedure: "Procedure", work_instruction: "Work instruction", form: "Form", policy: "Policy",
  record_template: "Record template",
};

const label = (doc) => `${doc.number} rev ${doc.current.rev}`;

function openButton(doc, onOpen) {
  return h("button", {
    type: "button",
    onclick: async (event) => {
      const url = await onOpen(doc);
      if (!url) { event.target.textContent = "Not on this device: pin it while online"; return; }
      window.open(url, "_blank", "noopener");
    },
  }, doc.pin ? "Open (offline copy)" : "Open");
}

function ackState(doc) {
  const ack = doc.acknowledgement;
  if (!ack) return null;
  const waiting = ack._pending ? " - waiting to sync" : "";
  return h("p", { class: "meta ack-state" }, h("span", { class: `badge ${ack._pending ? "pending" : "ok"}` },
    "Read and understood"), ` ${when(ack.acknowledged_at)}${waiting}`);
}

function reportForm(doc, onReport) {
  const what = h("textarea", { rows: 2, id: `outdated-${doc.id}` });
  return h("details", { class: "report-outdated" },
    h("summary", {}, "Report out of date"),
    h("form", {
      onsubmit: (event) => { event.preventDefault(); onReport(doc, what.value); },
    }, h("label", { for: what.id }, "What is out of date?"), what,
    h("button", { type: "submit" }, "Raise finding")));
}

function card(doc, { onAcknowledge, onPin, onUnpin, onOpen, onReport, online }) {
  const current = doc.current;
  const stale = doc.pin && doc.pin.revision_id !== current.id;
  return h("li", { class: "card document-card", "aria-label": `${label(doc)} ${doc.title}`, "data-document": doc.number },
    h("h2", {}, `${label(doc)} - ${doc.title}`),
    h("p", { class: "meta" }, `${TYPES[doc.type] || doc.type} · ${bytes(current.byte_size || 0)}`,
      doc.pin ? h("span", { class: "badge ok pin-state" }, stale ? ` Kept offline: rev ${doc.pin.rev} (old)` : " Kept offline") : null),
    current.change_note ? h("p", { class: "hint" }, current.change_note) : null,
    ackState(doc),
    h("div", { class: "row" },
      openButton(doc, onOpen),
      doc.pin ? h("button", { type: "button", onclick: () => onUnpin(doc) }, "Unpin")
        : h("button", { type: "button", disabled: !online, onclick: () => onPin(doc) }, `Pin for offline (${bytes(current.byte_size || 0)})`),
      doc.asked && !doc.acknowledgement
        ? h("button", { type: "button", class: "primary", onclick: () => onAcknowledge(doc) }, "Read and understood") : null),
    reportForm(doc, onReport));
}

export function render(root, props) {
  const { shown, pending, area, all, used, budget, error, info, areas, me } = props;
  const places = [...areas].sort((a, b) => `${a.site} ${a.name}`.localeCompare(`${b.site} ${b.name}`));
  const select = h("select", {
    id: "documents-area",
    onchange: (event) => { location.hash = event.target.value ? `#/documents/area/${event.target.value}` : "#/documents/all"; },
  },
  h("option", { value: "", selected: all }, "All documents"),
  places.map((a) => h("option", { value: a.id, selected: !all && area && a.id === area.id },
    `${a.site} / ${a.name}${me && a.id === me.home_area_id ? " (my area)" : ""}`)));
  mount(root, h("h1", {}, "Documents"),
    error ? h("p", { class: "error", role: "alert" }, error) : null,
    info ? h("p", { class: "info", role: "status" }, info) : null,
    pending.length ? h("section", { "aria-label": "To read and understand" },
      h("h2", {}, `To read and understand (${pending.length})`),
      h("ul", { class: "cards" }, pending.map((d) => card(d, props)))) : null,
    h("div", { class: "field" }, h("label", { for: "documents-area" }, "Area"), select),
    h("p", { class: "meta", id: "document-budget" },
      `Kept offline on this device: ${bytes(used)} of ${bytes(budget)}`),
    shown.length ? h("ul", { class: "cards", "aria-label": "Documents" }, shown.map((d) => card(d, props)))
      : h("p", { class: "empty" }, all ? "No current documents have reached this device yet."
        : "No current documents apply to this area."));
}
