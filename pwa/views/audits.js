// My audits: planned, in progress, returned (with the reviewer's comments), submitted,
// and the decided ones (approved, rejected), which open read-only. Each group shows its
// count and its first audits; "Show all" draws the rest of it.
import { h, mount, STATUS_LABELS } from "./dom.js";
import { searchBox } from "./search.js";

const TITLES = {
  returned: "Returned to you",
  in_progress: "In progress",
  planned: "Planned",
  submitted: "Submitted, waiting for review",
  approved: "Approved",
  rejected: "Rejected",
};

/**
 * @param {Element} root
 * @param {object} data
 * @param {{status: string, total: number, audits: object[]}[]} data.groups in order
 * @param {number} data.stored how many audits of mine the device holds
 * @param {{query: string, expanded: Set<string>}} data.search kept across redraws
 * @param {() => Promise<void>} data.reread read and draw again (search, "Show all")
 */
export function render(root, { groups, stored, search, labelOf, commentsOf, progressOf, canStartAdhoc, reread }) {
  const list = h("div", {}, blocks(groups, { labelOf, commentsOf, progressOf, search, stored, reread }));
  mount(root, h("h1", { id: "audits-heading" }, "My audits"),
    canStartAdhoc ? h("p", {}, h("a", { class: "button", href: "#/new-audit" }, "Start an unplanned audit")) : null,
    stored ? searchBox(root, "Search my audits", search, reread) : null,
    list);
}

function blocks(groups, { labelOf, commentsOf, progressOf, search, stored, reread }) {
  const out = [];
  for (const { status, total, audits } of groups) {
    if (!total) continue;
    const title = TITLES[status] || status;
    const rest = total - audits.length;
    out.push(h("section", { class: "group", "aria-label": title },
      h("h2", {}, `${title} (${total})`),
      h("ul", { class: "cards" }, audits.map((audit) => card(audit, { labelOf, commentsOf, progressOf }))),
      rest > 0 ? h("p", {}, h("button", {
        type: "button",
        onclick: () => { search.expanded.add(status); reread(); },
      }, `Show all ${total} (${rest} more)`)) : null));
  }
  if (out.length) return out;
  return [h("p", { class: "empty" }, stored ? "No audit matches the search." : "No audits are assigned to you.")];
}

function card(audit, { labelOf, commentsOf, progressOf }) {
  const comments = commentsOf(audit) || [];
  return h("li", { class: "card audit-card" },
    h("a", { class: "card-link", href: `#/audit/${audit.id}` }, labelOf(audit)),
    h("p", { class: "meta" },
      h("span", { class: `badge status-${audit.status}` }, STATUS_LABELS[audit.status] || audit.status),
      audit.planned_date ? ` due ${audit.planned_date}` : "",
      ` · ${progressOf(audit)}`,
      audit._pending ? h("span", { class: "badge pending" }, "Unsent changes") : null,
      audit._rejected ? h("span", { class: "badge danger" }, `Not accepted: ${audit._rejected}`) : null),
    comments.length ? h("ul", { class: "comments", "aria-label": "Reviewer comments" },
      comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Reviewer"}: `), c.body))) : null);
}
