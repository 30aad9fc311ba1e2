// Notifications: the list the last sync brought, and marking them read.
import * as notifications from "../notifications.js";
import * as view from "../views/notifications.js";

let error = "";

/**
 * Draw the person's notifications.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  const { notifications: items, unread } = await notifications.stored();
  view.render(app.view, {
    notifications: items,
    unread,
    error,
    onReadAll: async () => {
      try {
        await notifications.markAllRead();
        error = "";
      } catch (e) {
        error = e.message;
      }
      await app.frame();
      app.render();
    },
  });
}
