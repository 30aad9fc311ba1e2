// The field app: starts from local data (online or not), routes between screens, and
// connects the views to the records, the photos and the sync loop.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as records from "./records.js";
import * as auditsView from "./views/audits.js";
import * as shell from "./views/shell.js";

// Only what the first screen needs loads up front; the rest comes from the service
// worker's cache when a screen first asks for it.
const lazy = {
  photos: () => import("./photos.js"),
  checklist: () => import("./views/checklist.js"),
  finding: () => import("./views/finding.js"),
  findings: () => import("./views/findings.js"),
  newAudit: () => import("./views/newaudit.js"),
  actions: () => import("./views/actions.js"),
  signin: () => import("./views/signin.js"),
  sync: () => import("./views/syncview.js"),
};
const addPhotos = async (files) => (await lazy.photos()).addFiles(files);

// The sync loop starts once the first screen is drawn; until then nothing is running.
let sync = null;
const syncModule = () => import("./sync.js");
const syncState = () => (sync ? sync.state : { running: false, paused: false });

const LOW_STORAGE_BYTES = 50 * 1024 * 1024;

const el = {
  view: document.getElementById("view"),
  status: document.getElementById("status"),
  banners: document.getElementById("banners"),
  nav: document.getElementById("nav"),
};

const ui = {
  signingIn: false,
  updateReady: false,
  lowStorage: null,
  storage: null,
  offlineReady: false,
  registration: null,
  updateRequested: false,
  screen: "form", // "live" screens redraw when data changes; forms never do
  renderedHash: null, // the route the latest render was asked for
  drawnHash: null, // the route the screen on view was drawn for
};

const routeName = () => (location.hash || "#/").replace(/^#/, "");

async function refreshFrame(known) {
  const [me, summary] = await Promise.all([known === undefined ? records.user() : known, outbox.summary()]);
  shell.renderStatus(el.status, { online: navigator.onLine, summary, running: syncState().running });
  shell.renderBanners(el.banners, {
    expired: syncState().paused && !ui.signingIn,
    disabled: syncState().disabled,
    updateReady: ui.updateReady,
    lowStorage: ui.lowStorage,
    onSignIn: () => { ui.signingIn = true; render(); },
    onReload: applyUpdate,
  });
  el.nav.hidden = !me || ui.signingIn;
  if (me) shell.renderNav(el.nav, { route: `#${routeName()}`, role: me.role });
  return summary;
}

async function showSignIn(expired) {
  const me = await records.user();
  const signinView = await lazy.signin();
  signinView.render(el.view, {
    email: me ? me.email : "",
    expired,
    onSubmit: async (email, password) => {
      const loop = await syncModule();
      const user = await loop.signIn(email, password);
      ui.signingIn = false;
      if (!expired || !location.hash) location.hash = user.role === "staff" ? "#/raise" : "#/audits";
      await render();
      askForPersistence();
      if (expired) loop.resume(); else loop.syncNow("signed-in");
    },
  });
}

function progressOf(template, responses) {
  const questions = (template && template.questions) || [];
  const answered = questions.filter((q) => records.isAnswered(q, responses.get(q.id))).length;
  return { answered, total: questions.length };
}

async function showAudits(listing) {
  const { me, audits, templates, areas, responses, comments } = await (listing || records.auditList());
  const templateOf = new Map(templates.map((t) => [t.id, t]));
  const areaOf = new Map(areas.map((a) => [a.id, a]));
  auditsView.render(el.view, {
    audits,
    canStartAdhoc: !!me && me.role !== "staff",
    labelOf: (a) => `${(templateOf.get(a.template_id) || { name: "Audit" }).name} - ${records.areaLabel(areaOf.get(a.area_id))}`,
    commentsOf: (a) => comments.filter((c) => c.audit_id === a.id),
    progressOf: (a) => {
      const mine = new Map(responses.filter((r) => r.audit_id === a.id).map((r) => [r.question_id, r]));
      const p = progressOf(templateOf.get(a.template_id), mine);
      return `${p.answered} of ${p.total} answered`;
    },
  });
  markInteractive();
}

// The start-up benchmark reads the "gemba-interactive" mark: the audit list is drawn
// and its links answer taps (the badge in the frame may still be filling in).
function markInteractive() {
  if (!performance.getEntriesByName("gemba-interactive").length) performance.mark("gemba-interactive");
}

const EDITABLE = new Set(["planned", "in_progress", "returned"]);

async function ensureStarted(detail) {
  if (detail.audit.status === "in_progress") return;
  await records.startAudit(detail.audit);
  detail.audit = { ...detail.audit, status: "in_progress" };
}

async function changed() {
  await refreshFrame();
  if (sync) sync.soon();
}

async function showChecklist(id, submit) {
  const [checklistView, findingView] = await Promise.all([lazy.checklist(), lazy.finding()]);
  const detail = await records.auditDetail(id);
  if (!detail) { el.view.textContent = "This audit is not on this device."; return; }
  const sections = records.sections(detail.template || {});
  const progress = () => progressOf(detail.template, detail.responses);
  const areas = await records.areas();
  if (submit) {
    checklistView.renderSubmit(el.view, detail, {
      blockers: records.blockers(detail),
      progress,
      sections,
      isAnswered: records.isAnswered,
      onSubmit: async (summary) => {
        await ensureStarted(detail);
        await records.submitAudit(detail.audit, summary);
        await changed();
        location.hash = "#/audits";
      },
    });
    return;
  }
  checklistView.render(el.view, detail, {
    sections,
    progress,
    editable: EDITABLE.has(detail.audit.status),
    isAnswered: records.isAnswered,
    callsForFinding: records.callsForFinding,
    thumbnailOf: records.thumbnail,
    onPhotos: addPhotos,
    onStart: async () => { await ensureStarted(detail); await changed(); showChecklist(id); },
    onAnswer: (question, changes) => saving(async () => {
      await ensureStarted(detail);
      const saved = await records.answer(detail.audit, question, changes);
      detail.responses.set(question.id, saved);
      await changed();
      return saved;
    }),
    onFindingNeeded: (question, value) => {
      const response = detail.responses.get(question.id);
      findingView.openDialog({
        prefill: {
          title: `${question.text} - answered "${value}"`,
          clause: question.clause,
          kind: "minor_nc",
          audit_id: detail.audit.id,
          question_id: question.id,
          photos: (response && response.photos) || [],
          photoContext: "this finding",
        },
        areas,
        areaId: detail.audit.area_id,
        kinds: records.FINDING_KINDS,
        thumbnailOf: records.thumbnail,
        onPhotos: addPhotos,
        onSave: async (fields) => {
          const finding = await records.raiseFinding(fields);
          detail.findings.push(finding);
          await changed();
          const y = scrollY;
          await showChecklist(id);
          scrollTo(0, y);
        },
      });
    },
  });
}

async function showNewAudit() {
  const [view, choices] = await Promise.all([lazy.newAudit(), records.adhocChoices()]);
  view.render(el.view, {
    ...choices,
    areaLabel: records.areaLabel,
    onStart: async (templateId, areaId) => {
      const audit = await records.startAdhocAudit(templateId, areaId);
      await changed();
      location.hash = `#/audit/${audit.id}`;
    },
  });
}

async function showRaise() {
  const findingView = await lazy.finding();
  findingView.render(el.view, {
    areas: await records.areas(),
    areaId: await records.rememberedArea(),
    kinds: records.FINDING_KINDS,
    thumbnailOf: records.thumbnail,
    onPhotos: addPhotos,
    onSave: async (fields) => { await records.raiseFinding(fields); await changed(); },
  });
}

async function showFindings() {
  const [findings, areas, comments] = await Promise.all([records.myFindings(), db.getAll("areas"), db.getAll("comments")]);
  const areaOf = new Map(areas.map((a) => [a.id, a]));
  const findingsView = await lazy.findings();
  findingsView.render(el.view, {
    findings,
    kinds: records.FINDING_KINDS,
    areaOf: (f) => records.areaLabel(areaOf.get(f.area_id)),
    commentsOf: (f) => comments.filter((c) => c.finding_id === f.id),
    thumbnailOf: records.thumbnail,
  });
}

async function showActions() {
  const [actions, actionsView] = await Promise.all([records.myActions(), lazy.actions()]);
  actionsView.render(el.view, {
    actions,
    onDone: async (action, note) => { await records.markActionDone(action, note); await changed(); render(); },
  });
}

async function exportUnsent() {
  const data = await outbox.exportUnsent();
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `gemba-unsent-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function showSync(summary) {
  const [syncView, loop] = await Promise.all([lazy.sync(), syncModule()]);
  syncView.render(el.view, {
    user: await records.user(),
    summary: summary || (await outbox.summary()),
    state: loop.state,
    attention: await outbox.attention(),
    storage: ui.storage,
    offlineReady: ui.offlineReady,
    onSyncNow: () => loop.syncNow("button"),
    onExport: exportUnsent,
    onDismiss: async (opId) => { await outbox.dismiss(opId); render(); },
    onSignOut: async () => {
      try {
        await loop.signOut();
        location.hash = "";
        render();
      } catch (e) { alertIn(e.message); }
    },
  });
}

function alertIn(message) {
  const p = document.createElement("p");
  p.className = "error";
  p.setAttribute("role", "alert");
  p.textContent = message;
  el.view.prepend(p);
}

let rendering = Promise.resolve();

/** Draw the screen for the current route (serialised: one render at a time). */
function render() {
  ui.renderedHash = location.hash;
  rendering = rendering.then(drawRoute, drawRoute);
  return rendering;
}

/** Redraw a live screen with new data - unless, by its turn, the person has moved on. */
function refreshLive() {
  const again = () => (ui.screen === "live" && ui.drawnHash === location.hash ? drawRoute() : refreshFrame());
  rendering = rendering.then(again, again);
  return rendering;
}

// Answers are saved one after another, and a screen is drawn only after the saves that
// started before it: a tap on "Review and submit" right after typing an answer (which
// saves on blur) must see that answer.
let saves = Promise.resolve();
function saving(work) {
  const done = saves.then(work);
  saves = done.catch(() => {});
  return done;
}

async function drawRoute() {
  await saves;
  ui.drawnHash = location.hash;
  // The audit list is the usual first screen: read it while finding out who is here.
  const first = routeName().split("/").filter(Boolean)[0] || "";
  const listing = ["", "audits"].includes(first) ? records.auditList() : null;
  const me = await records.user();
  // The frame (badge, banners, navigation) and the screen load side by side.
  const frame = refreshFrame(me);
  document.body.dataset.route = routeName();
  await screenFor(me, frame, listing);
  await frame;
}

function screenFor(me, frame, listing) {
  ui.screen = "form";
  if (!me || ui.signingIn) return showSignIn(!!me);
  const parts = routeName().split("/").filter(Boolean);
  if (parts[0] === "audit" && parts[1]) return showChecklist(parts[1], parts[2] === "submit");
  if (parts[0] === "raise") return showRaise();
  if (parts[0] === "new-audit" && me.role !== "staff") return showNewAudit();
  ui.screen = "live";
  if (parts[0] === "findings") return showFindings();
  if (parts[0] === "actions") return showActions();
  if (parts[0] === "sync") return frame.then(showSync);
  if (parts[0] !== "audits" && me.role === "staff") { location.replace("#/raise"); return null; }
  return showAudits(listing);
}

// Lists and the sync screen follow the data; forms being filled in are left alone, and so
// is a list while the person is typing into it (a note on "Mark done"): it is redrawn once
// they have moved on.
let redraw = null;
function typingInView() {
  const active = document.activeElement;
  if (active && el.view.contains(active) && active.matches("input, textarea, select")) return true;
  return [...el.view.querySelectorAll("form textarea, form input[type=text]")].some((f) => f.value.trim());
}

function redrawIn(ms) {
  clearTimeout(redraw);
  redraw = setTimeout(() => {
    if (ui.screen !== "live") refreshFrame();
    else if (typingInView()) { refreshFrame(); redrawIn(1000); } // look again in a second
    else refreshLive();
  }, ms);
}

function liveRefresh() {
  redrawIn(50);
}

async function checkStorage() {
  if (!navigator.storage || !navigator.storage.estimate) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  ui.storage = { usage, quota, persisted };
  const free = quota - usage;
  ui.lowStorage = quota && (free < LOW_STORAGE_BYTES || usage / quota > 0.9) ? { free } : null;
}

async function askForPersistence() {
  if (navigator.storage && navigator.storage.persist) {
    try { await navigator.storage.persist(); } catch (e) { /* the browser decides */ }
  }
  await checkStorage();
}

function applyUpdate() {
  // Only the worker taking over at the person's request reloads the page.
  ui.updateRequested = true;
  const waiting = ui.registration && ui.registration.waiting;
  if (waiting) waiting.postMessage({ type: "skip-waiting" });
  else location.reload();
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (ui.updateRequested && !reloading) { reloading = true; location.reload(); }
  });
  try {
    const registration = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    ui.registration = registration;
    const announce = () => { ui.updateReady = true; refreshFrame(); };
    if (registration.waiting && navigator.serviceWorker.controller) announce();
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) announce();
      });
    });
    // Look for a new version when the app comes back to the foreground.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && navigator.onLine) registration.update().catch(() => {});
    });
    await navigator.serviceWorker.ready;
    ui.offlineReady = true;
    document.body.dataset.offlineReady = "yes";
    liveRefresh();
  } catch (e) {
    ui.offlineReady = false;
  }
}

async function main() {
  // Code that sets the hash and then renders must not get a second draw from the event,
  // which would wipe a form the person has begun to fill in.
  addEventListener("hashchange", () => { if (location.hash !== ui.renderedHash) render(); });
  addEventListener("online", () => refreshFrame());
  addEventListener("offline", () => refreshFrame());
  await render();
  sync = await syncModule();
  sync.events.addEventListener("status", () => {
    if (sync.state.paused && !ui.signingIn) refreshFrame();
    liveRefresh();
  });
  sync.events.addEventListener("data", liveRefresh);
  document.body.dataset.ready = "yes";
  registerWorker();
  checkStorage().then(refreshFrame);
  sync.start();
}

main();
