// The sync screen: what is unsent, the last sync, what needs attention, export, sign-out.
import * as outbox from "../outbox.js";
import * as records from "../records.js";
import * as syncView from "../views/syncview.js";

async function exportUnsent() {
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "");
  syncView.download(`gemba-unsent-${stamp}.json`, await outbox.exportUnsent());
}

/**
 * Draw the sync screen.
 * @param {import("../app.js").App} app
 * @param {{frame?: Promise<object>}} params the frame being drawn, which reads the
 *   outbox summary this screen shows too
 */
export async function show(app, { frame }) {
  const [summary, loop, user, attention] = await Promise.all([
    frame || outbox.summary(), app.syncLoop(), records.user(), outbox.attention(),
  ]);
  syncView.render(app.view, {
    user,
    summary,
    state: loop.state,
    attention,
    storage: app.state.storage,
    offlineReady: app.state.offlineReady,
    onSyncNow: () => loop.syncNow("button"),
    onExport: exportUnsent,
    onDismiss: async (opId) => { await outbox.dismiss(opId); app.render(); },
    onSignOut: async () => {
      try {
        await loop.signOut();
        location.hash = "";
        app.render();
      } catch (e) { syncView.showError(app.view, e.message); }
    },
  });
}
