// My findings: what became of them, and what the supervisor said.
import { h, mount, STATUS_LABELS, when } from "./dom.js";

export function render(root, { findings, areaOf, commentsOf, thumbnailOf, kinds }) {
  const kindLabel = Object.fromEntries(kinds);
  mount(root, h("h1", {}, "My findings"),
    findings.length ? h("ul", { class: "cards" }, findings.map((f) => {
      const comments = commentsOf(f) || [];
      const sync = f._rejected ? h("span", { class: "badge danger" }, `Not accepted: ${f._rejected}`)
        : f._pending ? h("span", { class: "badge pending" }, "Waiting to send") : h("span", { class: "badge ok" }, "Sent");
      return h("li", { class: "card finding-card", "aria-label": f.title },
        h("h2", {}, f.title),
        h("p", { class: "meta" },
          h("span", { class: `badge status-${f.status}` }, STATUS_LABELS[f.status] || f.status || "Open"), " ",
          sync, ` ${kindLabel[f.kind] || f.kind} · ${areaOf(f)} · ${when(f.raised_at)}`),
        f.location ? h("p", {}, `Location: ${f.location}`) : null,
        f.status_reason ? h("p", {}, `Reason: ${f.status_reason}`) : null,
        (f.photos || []).length ? h("ul", { class: "thumbs" }, f.photos.map((sha, i) => {
          const img = h("img", { alt: `Photo ${i + 1} of ${f.title}`, width: 96, height: 96 });
          thumbnailOf(sha).then((u) => { img.src = u; });
          return h("li", {}, img);
        })) : null,
        comments.length ? h("ul", { class: "comments", "aria-label": "Supervisor comments" },
          comments.map((c) => h("li", {}, h("strong", {}, `${c.author_name || "Supervisor"}: `), c.body))) : null);
    })) : h("p", { class: "empty" }, "You have not raised any findings yet."));
}
