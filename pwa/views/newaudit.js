// Start an unplanned audit: a published checklist and an area that is not my own. The
// server has the last word on impartiality; a refusal shows under "Needs attention".
import { field, h, mount } from "./dom.js";

export function render(root, { templates, areas, areaLabel, onStart }) {
  const back = h("p", {}, h("a", { href: "#/audits" }, "‹ My audits"));
  if (!templates.length || !areas.length) {
    mount(root, back, h("h1", {}, "Start an unplanned audit"),
      h("p", { class: "empty" }, templates.length
        ? "There is no area you may audit on this device."
        : "No published checklist has reached this device yet. Sync when online."));
    return;
  }
  const placeholder = (text) => h("option", { value: "" }, text);
  const checklist = h("select", { required: true },
    placeholder("Choose a checklist"),
    templates.map((t) => h("option", { value: t.id }, `${t.name} (v${t.version}${t.standard ? `, ${t.standard}` : ""})`)));
  const area = h("select", { required: true },
    placeholder("Choose an area"),
    areas.map((a) => h("option", { value: a.id }, areaLabel(a))));
  const error = h("p", { class: "error", role: "alert" });
  const start = h("button", { type: "submit", class: "primary" }, "Start audit");
  const form = h("form", { class: "card", "aria-label": "Unplanned audit", novalidate: true },
    field("Checklist", checklist),
    field("Area", area, "Your own area is not offered: auditors never audit their own work."),
    error, start);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!checklist.value) { error.textContent = "Choose a checklist."; checklist.focus(); return; }
    if (!area.value) { error.textContent = "Choose an area."; area.focus(); return; }
    start.disabled = true;
    try {
      await onStart(checklist.value, area.value);
    } catch (e) {
      error.textContent = e.message;
      start.disabled = false;
    }
  });
  mount(root, back, h("h1", {}, "Start an unplanned audit"), form);
}
