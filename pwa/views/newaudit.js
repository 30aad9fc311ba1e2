// Start an unplanned audit: a published checklist and an area that is not my own. The
// server has the last word on impartiality; a refusal shows under "Needs attention".
import { areaScanner } from "./areascan.js";
import { field, h, mount } from "./dom.js";

export function render(root, { templates, areas, allAreas = areas, areaId = null, areaLabel, onStart }) {
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
    areas.map((a) => h("option", { value: a.id, selected: a.id === areaId }, areaLabel(a))));
  const error = h("p", { class: "error", role: "alert" });
  const own = (a) => (areas.some((x) => x.id === a.id) ? null
    : `You may not audit ${areaLabel(a)}: it is your own area, and auditors never audit their own work.`);
  const scanned = areaId && allAreas.find((a) => a.id === areaId);
  if (scanned && own(scanned)) error.textContent = own(scanned);
  const start = h("button", { type: "submit", class: "primary" }, "Start audit");
  const form = h("form", { class: "card", "aria-label": "Unplanned audit", novalidate: true },
    field("Checklist", checklist),
    field("Area", area, "Your own area is not offered: auditors never audit their own work."),
    areaScanner({ areas: allAreas, label: areaLabel, refuse: own, onPick: (a) => { area.value = a.id; error.textContent = ""; } }),
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
