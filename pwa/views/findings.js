// My findings: what became of them, and what the supervisor said. One not triaged yet can
// be opened to edit or withdraw it. A search box narrows the list as it is typed.
import { h, mount, STATUS_LABELS, when } from "./dom.js";
import { searchBox } from "./search.js";

const search = { query: "" }; // kept across redraws: the list follows the data

export function render(root, { findings, areaOf, commentsOf, thumbnailOf, kinds, canChange, isWithdrawn }) {
  const kindLabel = Object.fromEntries(kinds);
  const list = h("div", {});
  const draw = () => {
    const q = search.query.trim().toLowerCase();
    const shown = q ? findings.filter((f) => [f.title, f.location, f.clause, areaOf(f), f.description]
      .some((text) => String(text || "").toLowerCase().includes(q))) : findings;
    list.replaceChildren(shown.length ? h("ul", { class: "cards" }, shown.map((f) => {
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
    })) : h("p", { class: "empty" }, findings.length ? "No finding matches the search." : "You have not raised any findings yet."));
  };
  mount(root, h("h1", {}, "My findings"),
    findings.length ? searchBox(root, "Search my findings", search, draw) : null,
    list);
  draw();
}
