// Notifications: what the register told this person, newest first.
import { h, mount, when } from "./dom.js";

export function render(root, { notifications, unread, onReadAll, error }) {
  mount(root, h("h1", {}, unread ? `Notifications (${unread} unread)` : "Notifications"),
    unread ? h("button", { type: "button", id: "read-all", onclick: onReadAll }, "Mark all read") : null,
    error ? h("p", { class: "error", role: "alert" }, error) : null,
    notifications.length ? h("ul", { class: "cards" }, notifications.map((n) =>
      h("li", { class: `card notification ${n.read_at ? "read" : "unread"}`, "aria-label": n.title },
        h("h2", {}, n.title),
        h("p", { class: "meta" }, n.read_at ? "" : h("span", { class: "badge pending" }, "New"), ` ${when(n.created_at)}`),
        n.body ? h("p", {}, n.body) : null)))
      : h("p", { class: "empty" }, "Nothing yet. Notifications arrive with each sync."));
}
