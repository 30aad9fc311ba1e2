// The screen a scanned QR label opens: the area, and what to do there.
import { h, mount } from "./dom.js";

export function render(root, { area, code, label, canAudit, ownArea }) {
  const back = h("p", {}, h("a", { class: "back", href: "#/" }, "‹ Home"));
  if (!area) {
    mount(root, back, h("h1", {}, "Area not found"),
      h("p", { role: "alert" }, code
        ? `No area on this device has the code ${code}. Sync when online, then scan again.`
        : "This label does not carry an area code."));
    return;
  }
  mount(root, back,
    h("h1", {}, label(area)),
    h("p", { class: "hint" }, `Area code ${area.code}`),
    h("div", { class: "card area-actions" },
      h("a", { class: "button primary", href: `#/raise/${area.id}` }, "Raise a finding here"),
      canAudit && !ownArea ? h("a", { class: "button", href: `#/new-audit/${area.id}` }, "Start an unplanned audit here") : null,
      canAudit && ownArea ? h("p", { class: "hint" }, "This is your own area: auditors never audit their own work.") : null));
}
