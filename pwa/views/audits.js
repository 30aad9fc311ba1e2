// My audits: planned, in progress, returned (with the reviewer's comments), submitted,
// and the decided ones (approved, rejected), which open read-only.
import { h, mount, STATUS_LABELS } from "./dom.js";
import { searchBox } from "./search.js";

const search = { query: "" }; // kept across redraws: the list follows the data

const GROUPS = [
  ["returned", "Returned to you"],
  ["in_progress", "In progress"],
  ["planned", "Planned"],
  ["submitted", "Submitted, waiting for review"],
  ["approved", "Approved"],
  ["rejected", "Rejected"],
];

export function render(root, { audits, labelOf, commentsOf, progressOf, canStartAdhoc }) {
  const list = h("div", {});
  const draw = () => list.replaceChildren(...groups(audits, { labelOf, commentsOf, progressOf }));
  mount(root, h("h1", { id: "audits-heading" }, "My audits"),
    canStartAdhoc ? h("p", {}, h("a", { class: "button", href: "#/new-audit" }, "Start an unplanned audit")) : null,
    audits.length ? searchBox(root, "Search my audits", search, draw) : null,
    list);
  draw();
}

function groups(all, { labelOf, commentsOf, progressOf }) {
  const q = search.query.trim().toLowerCase();
  const audits = q ? all.filter((a) => `${labelOf(a)} ${a.planned_date || ""} ${STATUS_LABELS[a.status] || ""}`.toLowerCase().includes(q)) : all;
  const blocks = [];
  for (const [status, title] of GROUPS) {
    const items = audits.filter((a) => a.status === status);
    if (!items.length) continue;
    blocks.push(h("section", { class: "group", "aria-label": title },
      h("h2", {}, `${title} (${items.length})`),
      h("ul", { class: "cards" }, items.map((audit) => {
        const name = labelOf(audit);
        const comments = commentsOf(audit) || [];
        return h("li", { class: "card audit-card" },
          h("a", { class: "card-link", href: `#/audit/${audit.id}` }, name),
          h("p", { class: "meta" },
            h("span", { class: `badge status-${audit.status}` }, STATUS_LABELS[audit.status] || audit.status),
            audit.planned_date ? ` due ${audit.planned_date}` : "",
            ` · ${progressOf(audit)}`,
            audit._pending ? h("span", { class: "badge pending" }, "Unsent changes") : null,
            audit._rejected ? h("span", { class: "badge danger" }, `Not accepted: ${audit._rejected}`) : null),
          comments.length ? h("ul", { class: "comments", "aria-label": "Reviewer comments" },
            comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Reviewer"}: `), c.body))) : null);
      }))));
  }
  if (blocks.length) return blocks;
  return [h("p", { class: "empty" }, all.length ? "No audit matches the search." : "No audits are assigned to you.")];
}
