// screens/frame.js: the badge, the banners and the navigation around every screen.
import * as db from "/app/db.js";
import * as outbox from "/app/outbox.js";
import { createFrame } from "/app/screens/frame.js";
import { deepEqual, equal, test } from "./harness.mjs";

function fakeFrame(sync = { running: false, paused: false }) {
  const el = {};
  for (const name of ["status", "banners", "nav"]) {
    el[name] = document.createElement("div");
    document.body.append(el[name]);
  }
  el.nav.hidden = true;
  const state = { signingIn: false, updateReady: false, offlineReady: false, storage: null, lowStorage: null };
  const refresh = createFrame({ el, state, syncState: () => sync, onSignIn: () => {}, onReload: () => {} });
  return { el, state, sync, refresh };
}

const links = (nav) => [...nav.querySelectorAll("a")].map((a) => a.textContent);

test("the navigation shows once someone is signed in, by role, and hides while they sign in", async () => {
  const frame = fakeFrame();
  await frame.refresh();
  equal(frame.el.nav.hidden, true, "nobody signed in");
  await db.setMeta("user", { id: "u1", email: "a@example.test", role: "auditor" });
  await frame.refresh();
  equal(frame.el.nav.hidden, false);
  deepEqual(links(frame.el.nav), ["My audits", "Raise finding", "My findings", "My actions", "Notifications", "Documents", "Sync"]);
  frame.state.signingIn = true;
  await frame.refresh();
  equal(frame.el.nav.hidden, true, "while signing in");
  frame.state.signingIn = false;
  await frame.refresh({ id: "u2", role: "staff" });
  deepEqual(links(frame.el.nav), ["Raise finding", "My findings", "My actions", "Notifications", "Documents", "Sync"], "staff, as the caller knows");
});

test("the badge counts what is unsent and answers the outbox summary", async () => {
  const frame = fakeFrame();
  equal((await frame.refresh()).ops, 0);
  equal(frame.el.status.querySelector("#unsent-badge").textContent, "All sent");
  await outbox.change("finding", { id: "f1", title: "Spill", server_version: 0 }, { title: "Spill" });
  const summary = await frame.refresh();
  equal(summary.ops, 1);
  equal(frame.el.status.querySelector("#unsent-badge").textContent, "1 unsent (17 B)");
  // A photo the finding holds is part of that one record, not a second unsent thing.
  await outbox.addPhoto({ sha256: "a".repeat(64), bytes: new Uint8Array(3).buffer, size: 3 });
  await outbox.change("finding", { id: "f1", title: "Spill", server_version: 0 }, { photos: ["a".repeat(64)] });
  await frame.refresh();
  equal(frame.el.status.querySelector("#unsent-badge").textContent.split(" (")[0], "1 unsent");
  frame.sync.running = true;
  await frame.refresh();
  equal(frame.el.status.querySelector("#unsent-badge").textContent, "Syncing…");
});

test("the session-expired banner shows while sync is paused, but not on the sign-in form", async () => {
  const frame = fakeFrame({ running: false, paused: true });
  await frame.refresh();
  equal(frame.el.banners.textContent.includes("Session expired"), true);
  frame.state.signingIn = true;
  await frame.refresh();
  equal(frame.el.banners.textContent.includes("Session expired"), false);
  frame.state.updateReady = true;
  await frame.refresh();
  equal(frame.el.banners.querySelector("button").textContent, "Update ready - reload");
});

test("the navigation counts the unread notifications the last sync brought", async () => {
  const frame = fakeFrame();
  await db.setMeta("user", { id: "u1", email: "a@example.test", role: "supervisor" });
  await db.setMeta("notifications", { notifications: [{ id: 1, title: "Major nonconformity: Spill" }], unread: 1 });
  await frame.refresh();
  equal(links(frame.el.nav).includes("Notifications (1)"), true);
  await db.setMeta("notifications", { notifications: [], unread: 0 });
  await frame.refresh();
  equal(links(frame.el.nav).includes("Notifications"), true);
});

test("a redraw keeps the navigation's links, so a tap pressed on one and released after it is not lost", async () => {
  const frame = fakeFrame();
  await db.setMeta("user", { id: "u1", email: "a@example.test", role: "staff" });
  await frame.refresh();
  const before = [...frame.el.nav.querySelectorAll("a")];
  await db.setMeta("notifications", { notifications: [{ id: 1, title: "Audit returned" }], unread: 1 });
  location.hash = "#/sync";
  await frame.refresh();
  const after = [...frame.el.nav.querySelectorAll("a")];
  equal(after.length, before.length);
  equal(after.every((a, n) => a === before[n]), true, "the same elements, updated in place");
  deepEqual(links(frame.el.nav), ["Raise finding", "My findings", "My actions", "Notifications (1)", "Documents", "Sync"]);
  equal(frame.el.nav.querySelector('[aria-current="page"]').textContent, "Sync");
  // Another role has other links: drawn anew.
  await frame.refresh({ id: "u2", role: "auditor" });
  deepEqual(links(frame.el.nav)[0], "My audits");
  location.hash = "";
});

test("the navigation counts the documents waiting to be read and understood", async () => {
  const frame = fakeFrame();
  await db.setMeta("user", { id: "u1", email: "s@example.test", role: "staff", home_area_id: "a1" });
  const current = { id: "r1", rev: 1, ack_roles: [], ack_area_ids: ["a1"] };
  await db.put("documents", { id: "d1", number: "WI-1", current });
  await db.put("documents", { id: "d2", number: "WI-2", current: { ...current, id: "r2", ack_area_ids: ["a2"] } });
  await frame.refresh();
  deepEqual(links(frame.el.nav)[4], "Documents (1)", "asked of my area, not of another");
  await db.put("acknowledgements", { id: "k1", revision_id: "r1" });
  await frame.refresh();
  deepEqual(links(frame.el.nav)[4], "Documents");
});
