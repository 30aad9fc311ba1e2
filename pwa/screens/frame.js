// The frame around every screen: the connection and unsent badge, the banners (session
// expired, update ready, storage low) and the navigation. It reads the unread count that
// notifications.js keeps (meta "notifications") itself: that module and its screen load
// when first shown, not with the app. The documents waiting to be read and understood are
// counted by documents.js (the data module; its screen loads on demand).
import { getMeta } from "../db.js";
import * as documents from "../documents.js";
import * as outbox from "../outbox.js";
import * as records from "../records.js";
import * as shell from "../views/shell.js";
import { routeName } from "./routes.js";

/**
 * Make the function that redraws the frame.
 * @param {object} parts
 * @param {{status: Element, banners: Element, nav: Element}} parts.el where it is drawn
 * @param {import("../app.js").AppState} parts.state what the banners show
 * @param {() => {running: boolean, paused: boolean}} parts.syncState the sync loop's state
 * @param {() => void} parts.onSignIn "Sign in again" was tapped
 * @param {() => void} parts.onReload "Update ready - reload" was tapped
 * @returns {(known?: object|null) => Promise<object>} redraws the frame (for the person
 *   `known`, when the caller has already read who is signed in) and resolves with the
 *   outbox summary it shows
 */
export function createFrame({ el, state, syncState, onSignIn, onReload }) {
  return async function refresh(known) {
    const [me, summary, heard, toRead] = await Promise.all([
      known === undefined ? records.user() : known, outbox.summary(), getMeta("notifications", { unread: 0 }),
      documents.pendingCount()]);
    shell.renderStatus(el.status, { online: navigator.onLine, summary, running: syncState().running });
    shell.renderBanners(el.banners, {
      expired: syncState().paused && !state.signingIn,
      disabled: syncState().disabled,
      updateReady: state.updateReady,
      lowStorage: state.lowStorage,
      onSignIn,
      onReload,
    });
    el.nav.hidden = !me || state.signingIn;
    if (me) shell.renderNav(el.nav, { route: `#${routeName(location.hash)}`, role: me.role, unread: heard.unread, toRead });
    return summary;
  };
}
