// The frame around every screen: the connection and unsent badge, the banners (session
// expired, update ready, storage low) and the navigation. It reads the unread count that
// notifications.js keeps (meta "notifications") itself: that module and its screen load
// when first shown, not with the app. The documents waiting to be read and understood are
// counted by documents.js (the data module), loaded the first time the frame reads them:
// at start-up that is after the first screen is drawn, so it is not on the way to it.
import { getMeta } from "../db.js";
import * as outbox from "../outbox.js";
import * as records from "../records.js";
import * as shell from "../views/shell.js";
import { routeName } from "./routes.js";

const documents = () => import("../documents.js");

/**
 * Make the function that redraws the frame.
 * @param {object} parts
 * @param {{status: Element, banners: Element, nav: Element}} parts.el where it is drawn
 * @param {import("../app.js").AppState} parts.state what the banners show
 * @param {() => {running: boolean, paused: boolean}} parts.syncState the sync loop's state
 * @param {() => void} parts.onSignIn "Sign in again" was tapped
 * @param {() => void} parts.onReload "Update ready - reload" was tapped
 * @returns {(known?: object|null, options?: {after?: Promise<unknown>}) => Promise<object>}
 *   redraws the frame and resolves with the outbox summary it shows. With `known` (who is
 *   signed in, when the caller has already read it) the navigation is drawn before any
 *   read, with the counts last shown; with `after` (the screen being drawn) the frame
 *   waits for that promise first, so its reads do not hold the screen up and its
 *   navigation is laid out and painted with the screen, not in a frame of its own.
 */
export function createFrame({ el, state, syncState, onSignIn, onReload }) {
  let counts = { unread: 0, toRead: 0 };
  const nav = (me) => {
    el.nav.hidden = !me || state.signingIn;
    if (me) shell.renderNav(el.nav, { route: `#${routeName(location.hash)}`, role: me.role, ...counts });
  };
  return async function refresh(known, { after } = {}) {
    // After the screen (when waiting for it), so both land in the same layout and paint.
    if (after) await after.catch(() => {});
    if (known !== undefined) nav(known);
    const [me, summary, heard, toRead] = await Promise.all([
      known === undefined ? records.user() : known, outbox.summary(), getMeta("notifications", { unread: 0 }),
      documents().then((d) => d.pendingCount())]);
    counts = { unread: heard.unread, toRead };
    shell.renderStatus(el.status, { online: navigator.onLine, summary, running: syncState().running });
    shell.renderBanners(el.banners, {
      expired: syncState().paused && !state.signingIn,
      disabled: syncState().disabled,
      updateReady: state.updateReady,
      lowStorage: state.lowStorage,
      onSignIn,
      onReload,
    });
    nav(me);
    return summary;
  };
}
