// screens/routes.js: which screen each route shows, and which of them follow the data.
import { routeName, screenFor } from "/app/screens/routes.js";
import { deepEqual, equal, test } from "./harness.mjs";

const auditor = { id: "u1", role: "auditor" };
const staff = { id: "u2", role: "staff" };
const shown = (route, me = auditor, signingIn = false) => {
  const s = screenFor(route, me, signingIn);
  return s.redirect ? `-> ${s.redirect}` : `${s.name} ${s.live ? "live" : "form"}`;
};

test("lists and the sync screen follow the data; forms do not", () => {
  deepEqual(["#/", "#/audits", "#/findings", "#/actions", "#/sync"].map((r) => shown(r)),
    ["audits live", "audits live", "findings live", "actions live", "sync live"]);
  deepEqual(["#/audit/a1", "#/audit/a1/submit", "#/raise", "#/new-audit"].map((r) => shown(r)),
    ["checklist form", "checklist form", "raise form", "newAudit form"]);
});

test("an audit's route names the audit, and its submit step", () => {
  deepEqual(screenFor("#/audit/a1", auditor, false).params, { id: "a1", submit: false, focus: null });
  deepEqual(screenFor("#/audit/a1/submit", auditor, false).params, { id: "a1", submit: true, focus: null });
  deepEqual(screenFor("#/audit/a1/q/q7", auditor, false).params, { id: "a1", submit: false, focus: "q7" }, "a blocker link");
  deepEqual(screenFor("#/finding/f1", auditor, false), { name: "finding", live: false, params: { id: "f1" } });
  equal(shown("#/audit"), "audits live", "no id: the list");
});

test("nobody signed in, or asking to sign in again, gets the sign-in form", () => {
  deepEqual(screenFor("#/findings", null, false), { name: "signin", live: false, params: { expired: false } });
  deepEqual(screenFor("#/findings", auditor, true), { name: "signin", live: false, params: { expired: true } });
});

test("staff start at raising a finding, and cannot start an audit", () => {
  equal(shown("", staff), "-> #/raise");
  equal(shown("#/new-audit", staff), "-> #/raise");
  equal(shown("#/whatever", staff), "-> #/raise");
  equal(shown("#/audits", staff), "audits live");
  equal(shown("#/raise", staff), "raise form");
  equal(shown("#/whatever"), "audits live", "an auditor's unknown route is the list");
});

test("a route's name drops the hash", () => {
  deepEqual([routeName("#/audit/a1"), routeName(""), routeName("#")], ["/audit/a1", "/", ""]);
});

test("documents: mine, an area's (from an audit), or all; staff too", () => {
  deepEqual(screenFor("#/documents", staff, false), { name: "documents", live: true, params: { all: false, area: null } });
  deepEqual(screenFor("#/documents/area/a9", auditor, false).params, { all: false, area: "a9" });
  deepEqual(screenFor("#/documents/all", staff, false).params, { all: true, area: null });
});

test("a QR label's route opens the area screen for anyone; raise and new-audit may name an area", () => {
  deepEqual(screenFor("#/area/K7QM2X", staff, false), { name: "area", live: false, params: { code: "K7QM2X" } });
  deepEqual(screenFor("#/raise/a9", staff, false).params, { areaId: "a9" });
  deepEqual(screenFor("#/new-audit/a9", auditor, false).params, { areaId: "a9" });
  equal(shown("#/new-audit/a9", staff), "-> #/raise");
});
