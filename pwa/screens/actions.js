// My actions: the corrective actions I own, and marking one done.
import * as records from "../records.js";
import * as actionsView from "../views/actions.js";

/**
 * Draw my corrective actions.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  actionsView.render(app.view, {
    actions: await records.myActions(),
    onDone: async (action, note) => { await records.markActionDone(action, note); await app.changed(); app.render(); },
  });
}
