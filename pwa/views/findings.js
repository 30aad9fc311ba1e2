// My findings: what became of them, and what the supervisor said. One not triaged yet can
// be opened to edit or withdraw it. A search box narrows the list as it is typed; the
// newest are drawn first, "Show more" draws the next page.
import { h, mount, STATUS_LABELS, when } from "./dom.js";
import { searchBox } from "./search.js";

/**
 * @param {Element} root
 * @param {object} data
 * @param {object[]} data.findings the ones drawn (the newest, or the newest matches)
 * @param {number} data.total how many there are (or match the search)
 * @param {number} data.stored how many of mine the device holds
 * @param {{query: string}} data.search kept across redraws
 * @param {() => void} data.more draw the next page
 * @param {() => void} data.reread read and draw again (the search changed)
 */
export function render(root, { findings, total, stored, search, more, reread, areaOf, commentsOf, thumbnailOf, kinds, canChange, isWithdrawn }) {
  const kindLabel = Object.fromEntries(kinds);
  const list = h("div", {});
  const draw = () => {
    const shown = findings;
    list.replaceChildren(...[shown.length ? h("ul", { class: "cards" }, shown.map((f) => {
      const comments = commentsOf(f) || [];
      const sync = f._rejected ? h("span", { class: "badge danger" }, `Not accepted: ${f._rejected}`)
        : f._pending ? h("span", { class: "badge pending" }, "Waiting to send") : h("span", { class: "badge ok" }, "Sent");
      const status = isWithdrawn(f) ? h("span", { class: "badge status-withdrawn" }, "Withdrawn")
        : h("span", { class: `badge status-${f.status}` }, STATUS_LABELS[f.status] || f.status || "Open");
      return h("li", { class: "card finding-card", "aria-label": f.title },
        h("h2", {}, f.title),
        h("p", { class: "meta" }, status, " ", sync, ` ${kindLabel[f.kind] || f.kind} · ${areaOf(f)} · ${when(f.raised_at)}`),
        f.location ? h("p", {}, `Location: ${f.location}`) : null,
        f.status_reason && !isWithdrawn(f) ? h("p", {}, `Reason: ${f.status_reason}`) : null,
        (f.photos || []).length ? h("ul", { class: "thumbs" }, f.photos.map((sha, i) => {
          const img = h("img", { alt: `Photo ${i + 1} of ${f.title}`, width: 96, height: 96 });
          thumbnailOf(sha).then((u) => { img.src = u; });
          return h("li", {}, img);
        })) : null,
        canChange(f) ? h("p", {}, h("a", { class: "button", href: `#/finding/${f.id}` }, `Edit or withdraw: ${f.title}`)) : null,
        comments.length ? h("ul", { class: "comments", "aria-label": "Supervisor comments" },
          comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Supervisor"}: `), c.body))) : null);
    })) : h("p", { class: "empty" }, stored ? "No finding matches the search." : "You have not raised any findings yet."),
    total > shown.length ? h("p", {}, h("button", { type: "button", onclick: more },
      `Show more (${shown.length} of ${total} shown)`)) : null].filter(Boolean));
  };
  mount(root, h("h1", { id: "findings-heading" }, "My findings"),
    stored ? searchBox(root, "Search my findings", search, reread) : null,
    list);
  draw();
}
