// Sync status: what is still only on this device, the last sync, progress, what needs
// attention, export of unsent data, signing out.
import { bytes, h, mount, when } from "./dom.js";

const ENTITY = { response: "Answer", finding: "Finding", audit: "Audit", comment: "Comment", photo: "Photo" };

function describe(item) {
  const f = item.fields || {};
  if (item.entity === "finding") return f.title || "finding";
  if (item.entity === "response") return `answer ${JSON.stringify(f.value ?? "")}`;
  if (item.entity === "audit") return `status ${f.status || ""}`;
  return item.id;
}

export function render(root, { user, summary, state, attention, storage, offlineReady, onSyncNow, onExport, onSignOut, onDismiss }) {
  const empty = summary.ops === 0 && summary.photos === 0;
  const settled = empty && !summary.drafts; // a draft would be lost by signing out
  const p = state.progress;
  const signOutNote = h("p", { class: "hint", id: "signout-note" },
    !empty ? "Signing out is blocked while anything is unsent."
      : settled ? "" : "Signing out is blocked while a draft is open (save or discard it first).");
  mount(root,
    h("h1", {}, "Sync"),
    h("section", { class: "card", "aria-label": "Unsent work" },
      h("p", { class: "big-figure", id: "pending-summary" }, empty
        ? "Everything is sent."
        : `${summary.ops} change${summary.ops === 1 ? "" : "s"} and ${summary.photos} photo${summary.photos === 1 ? "" : "s"} unsent (${bytes(summary.bytes)})`),
      summary.drafts ? h("p", { id: "drafts-summary" },
        `${summary.drafts} draft${summary.drafts === 1 ? "" : "s"} not saved yet (kept on this device, not sent)`) : null,
      h("p", { id: "last-sync" }, `Last successful sync: ${when(state.lastSuccess)}`),
      h("p", { role: "status", id: "sync-state" },
        state.disabled ? "Stopped: this account has been deactivated. Export unsent data to keep it."
          : state.paused ? "Paused: sign in again to resume."
          : state.running ? "Syncing…"
            : state.lastError ? state.lastError : (navigator.onLine ? "Up to date." : "Offline.")),
      state.running && p ? h("div", {},
        h("progress", { "aria-label": "Sync progress", max: Math.max(1, p.bytesTotal), value: Math.min(p.bytesDone, p.bytesTotal) }),
        h("p", {}, `${p.opsDone} of ${p.opsTotal} changes, ${p.photosDone} of ${p.photosTotal} photos, ${bytes(Math.max(0, p.bytesTotal - p.bytesDone))} left`)) : null,
      state.nextAt && !state.running && !empty ? h("p", { class: "hint" }, `Next try ${when(new Date(state.nextAt).toISOString())}`) : null,
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", onclick: onSyncNow, disabled: state.running }, "Sync now"),
        h("button", { type: "button", onclick: onExport, disabled: empty }, "Export unsent data"))),
    h("section", { class: "card", "aria-labelledby": "attention-heading" },
      h("h2", { id: "attention-heading" }, `Needs attention (${attention.length})`),
      attention.length ? h("ul", { class: "attention" }, attention.map((item) => h("li", { class: `attention-${item.status}` },
        h("strong", {}, `${item.status === "conflict" ? "Conflict" : "Rejected"}: `),
        `${ENTITY[item.entity] || item.entity} - ${describe(item)}`,
        h("p", { class: "reason" }, item.reason || ""),
        item.errors ? h("ul", {}, Object.entries(item.errors).map(([name, msgs]) => h("li", {}, `${name}: ${[].concat(msgs).join(" ")}`))) : null,
        item.conflicts ? h("ul", {}, item.conflicts.map((c) => h("li", {},
          `${c.field}: the server has ${JSON.stringify(c.server_value)}, this device had ${JSON.stringify(c.device_value)}. A supervisor decides which stays.`))) : null,
        h("button", { type: "button", class: "small", onclick: () => onDismiss(item.op_id), "aria-label": `Dismiss ${item.status} ${describe(item)}` }, "Dismiss"))))
        : h("p", {}, "Nothing needs attention.")),
    h("section", { class: "card", "aria-label": "This device" },
      h("h2", {}, "This device"),
      h("p", { id: "offline-ready" }, offlineReady ? "Ready to work offline." : "Not ready for offline use yet."),
      storage ? h("p", {}, `Storage: ${bytes(storage.usage || 0)} used of ${bytes(storage.quota || 0)}${storage.persisted ? " (persistent)" : ""}`) : null,
      user ? h("p", {}, `Signed in as ${user.name || user.email} (${user.email})`) : null,
      h("button", { type: "button", onclick: onSignOut, disabled: !settled, "aria-describedby": "signout-note" }, "Sign out"),
      signOutNote));
}

/** Put an error the person must see above the sync screen (e.g. sign-out refused). */
export function showError(root, message) {
  root.prepend(h("p", { class: "error", role: "alert" }, message));
}

/** Offer `data` as a JSON file named `name` for the person to keep. */
export function download(name, data) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
