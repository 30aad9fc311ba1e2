// The field app, wired together: the redraw scheduler (render.js), the frame and the
// screens (screens/), the sync loop (sync.js) and the service worker (swclient.js).
// Each does its job in its own module; this one connects them and starts the app.

import { createScheduler } from "./render.js";
import { createFrame } from "./screens/frame.js";
import * as routes from "./screens/routes.js";
import { typingIn, watchPresses } from "./views/dom.js";

/**
 * What the app itself shows about its state (beside the records).
 * @typedef {object} AppState
 * @property {boolean} signingIn the person asked to sign in again
 * @property {boolean} updateReady a new version waits for a reload
 * @property {boolean} offlineReady the shell is cached for offline starts
 * @property {object|null} storage usage, quota and persistence
 * @property {{free: number}|null} lowStorage set when storage is running low
 */

/**
 * What a screen may use of the app (each screen's `show(app, params)` receives it).
 * @typedef {object} App
 * @property {Element} view where screens draw
 * @property {AppState} state
 * @property {() => Promise<void>} render draw the current route again (after other draws)
 * @property {<T>(work: () => Promise<T>) => Promise<T>} saving save in turn; later draws wait for it
 * @property {() => Promise<void>} changed something was saved: refresh the frame, sync soon
 * @property {(known?: object|null, options?: {after?: Promise<unknown>}) => Promise<object>} frame
 *   redraw the frame (screens/frame.js)
 * @property {() => Promise<object>} syncLoop the sync module (sync.js)
 * @property {(files: FileList) => Promise<string[]>} addPhotos keep photos, answer their hashes
 * @property {() => Promise<void>} askForPersistence ask the browser to keep our data
 */

// The start-up benchmark's split: the app's modules are fetched and evaluated.
performance.mark("gemba-modules");

const el = {
  view: document.getElementById("view"),
  status: document.getElementById("status"),
  banners: document.getElementById("banners"),
  nav: document.getElementById("nav"),
};

/** @type {AppState} */
const state = { signingIn: false, updateReady: false, offlineReady: false, storage: null, lowStorage: null };

// Only what the first screen needs loads up front; the rest comes from the service
// worker's cache when first asked for. The sync loop starts once the first screen is
// drawn; until then nothing is running.
let loop = null;
const syncLoop = () => import("./sync.js");
const serviceWorker = () => import("./swclient.js");
const quota = () => import("./quota.js");

const frame = createFrame({
  el,
  state,
  syncState: () => (loop ? loop.state : { running: false, paused: false }),
  onSignIn: () => { state.signingIn = true; screen.render(); },
  onReload: () => serviceWorker().then((worker) => worker.applyUpdate()),
});

/** @type {App} */
const app = {
  view: el.view,
  state,
  render: () => screen.render(),
  saving: (work) => screen.saving(work),
  changed: async () => { await frame(); if (loop) loop.soon(); },
  frame,
  syncLoop,
  addPhotos: async (files) => (await import("./photos.js")).addFiles(files),
  askForPersistence: async () => { Object.assign(state, await (await quota()).persist()); },
};

const pressing = watchPresses(el.view);
const screen = createScheduler({
  draw: (route) => routes.draw(app, route),
  frame: () => frame(),
  typing: () => typingIn(el.view) || pressing(),
});

async function main() {
  addEventListener("hashchange", () => screen.routeChanged());
  addEventListener("online", () => frame());
  addEventListener("offline", () => frame());
  await screen.render();
  loop = await syncLoop();
  loop.events.addEventListener("status", () => {
    if (loop.state.paused && !state.signingIn) frame();
    screen.dataChanged();
  });
  loop.events.addEventListener("data", () => {
    screen.dataChanged();
    // After a sync, what the register told this person comes too (kept for offline).
    if (!loop.state.lastError && !loop.state.paused) {
      import("./notifications.js").then((n) => n.refresh()).then((fresh) => { if (fresh) { frame(); screen.dataChanged(); } });
    }
  });
  document.body.dataset.ready = "yes";
  serviceWorker().then((worker) => worker.register({
    updateReady: () => { state.updateReady = true; frame(); },
    offlineReady: () => {
      state.offlineReady = true;
      document.body.dataset.offlineReady = "yes";
      screen.dataChanged();
    },
  }));
  quota().then((q) => q.check()).then((found) => { Object.assign(state, found); frame(); });
  loop.start();
}

main();
