// Which screen each route shows, and drawing it. Only the usual first screen (my audits)
// loads with the app; the others come from the service worker's cache when first shown.
import * as records from "../records.js";
import * as audits from "./audits.js";

const SCREENS = {
  audits: async () => audits,
  signin: () => import("./signin.js"),
  checklist: () => import("./checklist.js"),
  raise: () => import("./raise.js"),
  newAudit: () => import("./newaudit.js"),
  area: () => import("./area.js"),
  findings: () => import("./findings.js"),
  finding: () => import("./finding.js"),
  actions: () => import("./actions.js"),
  sync: () => import("./sync.js"),
  notifications: () => import("./notifications.js"),
  documents: () => import("./documents.js"),
};

/** The route without its "#", "/" when there is none ("#/audit/1" -> "/audit/1"). */
export const routeName = (route) => (route || "#/").replace(/^#/, "");

/**
 * Decide which screen `route` shows to `me`.
 *
 * "Live" screens (lists, the sync screen) follow the data; the others are forms, left
 * alone while the person fills them in.
 * @param {string} route the location's hash, e.g. "#/audit/<id>/submit"
 * @param {object|null} me who is signed in on this device, if anyone
 * @param {boolean} signingIn the person asked to sign in again
 * @returns {{name: string, live: boolean, params: object} | {redirect: string}}
 */
export function screenFor(route, me, signingIn) {
  if (!me || signingIn) return { name: "signin", live: false, params: { expired: !!me } };
  const [first, id, step, questionId] = routeName(route).split("/").filter(Boolean);
  if (first === "audit" && id) {
    return { name: "checklist", live: false, params: { id, submit: step === "submit", focus: step === "q" ? questionId : null } };
  }
  if (first === "raise") return { name: "raise", live: false, params: id ? { areaId: id } : {} };
  if (first === "new-audit" && me.role !== "staff") return { name: "newAudit", live: false, params: id ? { areaId: id } : {} };
  // An area's QR label opens the app here (".../app/#/area/<code>"), for anyone signed in.
  if (first === "area" && id) return { name: "area", live: false, params: { code: id } };
  if (first === "findings") return { name: "findings", live: true, params: {} };
  if (first === "finding" && id) return { name: "finding", live: false, params: { id } };
  if (first === "actions") return { name: "actions", live: true, params: {} };
  if (first === "sync") return { name: "sync", live: true, params: {} };
  if (first === "notifications") return { name: "notifications", live: true, params: {} };
  if (first === "documents") {
    return { name: "documents", live: true, params: { all: id === "all", area: id === "area" ? step || null : null } };
  }
  if (first !== "audits" && me.role === "staff") return { redirect: "#/raise" };
  return { name: "audits", live: true, params: {} };
}

/**
 * Draw the screen for `route` and the frame around it.
 * @param {import("../app.js").App} app
 * @param {string} route
 * @returns {Promise<"live"|"form">} the kind of screen drawn
 */
export async function draw(app, route) {
  // The audit list is the usual first screen: read it while finding out who is here.
  const first = routeName(route).split("/").filter(Boolean)[0] || "";
  const listing = ["", "audits"].includes(first) ? audits.listing() : null;
  const me = await records.user();
  // The frame (badge, banners, navigation) and the screen load side by side, except
  // around the audit list, whose reads are the start-up's: there the frame waits until
  // the list is drawn, then draws the navigation at once (laid out with the list) and
  // reads the badge and the counts after.
  let drawn = () => {};
  const frame = app.frame(me, listing ? { after: new Promise((resolve) => { drawn = resolve; }) } : {});
  document.body.dataset.route = routeName(route);
  const screen = screenFor(route, me, app.state.signingIn);
  try {
    if (screen.redirect) {
      location.replace(screen.redirect);
    } else {
      const controller = await SCREENS[screen.name]();
      await controller.show(app, { ...screen.params, frame, listing });
    }
  } finally {
    drawn();
  }
  await frame;
  markOnce("gemba-frame");
  return screen.live ? "live" : "form";
}

// The start-up benchmark's split (bench/pwa_startup.py): when the first frame was drawn.
function markOnce(name) {
  if (!performance.getEntriesByName(name).length) performance.mark(name);
}
