// The frame around every screen: connection and unsent badge, banners, navigation.
import { bytes, h, mount } from "./dom.js";

export function renderStatus(el, { online, summary, running }) {
  // Records, not ops and photos: a finding with its photo is one thing waiting to go.
  const unsent = summary.records;
  const netClass = `net ${online ? "online" : "offline"}`;
  const netText = online ? "Online" : "Offline";
  const badgeClass = `badge ${unsent ? "pending" : "ok"}`;
  const badgeText = running ? "Syncing…" : unsent ? `${unsent} unsent (${bytes(summary.bytes)})` : "All sent";
  const net = el.querySelector(".net");
  const badge = el.querySelector("#unsent-badge");
  if (net && badge) { // in place, like the navigation: a tap on the badge survives a redraw
    net.className = netClass;
    net.textContent = netText;
    badge.className = badgeClass;
    badge.textContent = badgeText;
    return;
  }
  mount(el,
    h("span", { class: netClass }, netText),
    h("a", { href: "#/sync", class: badgeClass, id: "unsent-badge" }, badgeText));
}

export function renderBanners(el, { expired, disabled, updateReady, lowStorage, onSignIn, onReload }) {
  mount(el,
    expired && disabled ? h("div", { class: "banner warn", role: "alert" },
      h("p", {}, disabled),
      h("a", { href: "#/sync", class: "button" }, "Export unsent work"),
      h("button", { type: "button", onclick: onSignIn }, "Sign in again")) : null,
    expired && !disabled ? h("div", { class: "banner warn", role: "alert" },
      h("p", {}, "Session expired. Your work is kept on this device; sign in to resume syncing."),
      h("button", { type: "button", class: "primary", onclick: onSignIn }, "Sign in again")) : null,
    updateReady ? h("div", { class: "banner info", role: "status" },
      h("p", {}, "Update ready"),
      h("button", { type: "button", onclick: onReload }, "Update ready - reload")) : null,
    lowStorage ? h("div", { class: "banner warn", role: "alert" },
      h("p", {}, `Storage is running low (${bytes(lowStorage.free)} free). Sync soon, or export unsent data.`)) : null);
}

export function renderNav(el, { route, role, unread = 0, toRead = 0 }) {
  const items = [
    ["#/audits", "My audits", role !== "staff"],
    ["#/raise", "Raise finding", true],
    ["#/findings", "My findings", true],
    ["#/actions", "My actions", true],
    ["#/notifications", unread ? `Notifications (${unread})` : "Notifications", true],
    ["#/documents", toRead ? `Documents (${toRead})` : "Documents", true],
    ["#/sync", "Sync", true],
  ];
  const shown = items.filter((i) => i[2]);
  // The frame is redrawn after every sync: update the links in place, so that a tap landing
  // while it redraws (press on one element, release on its replacement) is not lost.
  const links = [...el.querySelectorAll("a")];
  if (links.length === shown.length && shown.every(([href], n) => links[n].getAttribute("href") === href)) {
    shown.forEach(([href, label], n) => {
      if (links[n].textContent !== label) links[n].textContent = label;
      if (route.startsWith(href)) links[n].setAttribute("aria-current", "page");
      else links[n].removeAttribute("aria-current");
    });
    return;
  }
  mount(el, h("ul", {}, shown.map(([href, label]) => h("li", {},
    h("a", { href, "aria-current": route.startsWith(href) ? "page" : null }, label)))));
}
