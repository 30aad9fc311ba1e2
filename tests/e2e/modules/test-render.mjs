// render.js, the redraw scheduler: when the screen is drawn and when it is left alone.
// A fake draw records what is drawn; a fake clock moves time on by hand. Several tests
// replay a race that once reached a person (the commit that fixed it is named).
import { createScheduler, DATA_DELAY_MS, TYPING_RECHECK_MS } from "/app/render.js";
import { deferred, deepEqual, equal, ok, rejects, settle, test } from "./harness.mjs";

/** Timers that fire only when the test moves the clock on. */
function fakeClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    setTimeout(fn, ms) {
      const id = nextId;
      nextId += 1;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) { timers.delete(id); },
    /** Move on `ms`, firing each timer that falls due on the way, in time order. */
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
  };
}

const LIVE = new Set(["#/audits", "#/findings", "#/actions", "#/sync"]);

/**
 * A scheduler over a fake app: `drawn` lists the routes drawn, `frames` counts frame
 * refreshes; set `route` and `typing` as the person would; `hold` (a deferred) keeps the
 * next draw from finishing until it is resolved.
 */
function fakeApp(route = "#/audits") {
  const app = { route, typing: false, drawn: [], frames: 0, hold: null, drawing: 0, mostAtOnce: 0, fail: new Set() };
  app.clock = fakeClock();
  app.screen = createScheduler({
    draw: async (shown) => {
      app.drawing += 1;
      app.mostAtOnce = Math.max(app.mostAtOnce, app.drawing);
      app.drawn.push(shown);
      try {
        const hold = app.hold;
        app.hold = null;
        if (hold) await hold.promise;
        if (app.fail.has(shown)) throw new Error(`could not draw ${shown}`);
        return LIVE.has(shown) ? "live" : "form";
      } finally {
        app.drawing -= 1;
      }
    },
    frame: () => { app.frames += 1; },
    typing: () => app.typing,
    route: () => app.route,
    clock: app.clock,
  });
  /** Data arrives, and the redraw delay passes. */
  app.dataArrives = async () => {
    app.screen.dataChanged();
    app.clock.advance(DATA_DELAY_MS);
    await app.screen.idle();
  };
  return app;
}

test("a navigation draws the route in the address bar", async () => {
  const app = fakeApp("#/findings");
  await app.screen.render();
  deepEqual(app.drawn, ["#/findings"]);
});

test("draws run one at a time, in the order they were asked for", async () => {
  const app = fakeApp("#/audits");
  const held = deferred();
  app.hold = held;
  const first = app.screen.render();
  await settle();
  app.route = "#/findings";
  const second = app.screen.render();
  await settle();
  deepEqual(app.drawn, ["#/audits"], "the second draw waits for the first");
  held.resolve();
  await Promise.all([first, second]);
  deepEqual(app.drawn, ["#/audits", "#/findings"]);
  equal(app.mostAtOnce, 1, "draws at once");
});

test("a draw shows the route in the address bar when its turn comes", async () => {
  const app = fakeApp("#/audits");
  const held = deferred();
  app.hold = held;
  const first = app.screen.render();
  await settle();
  app.route = "#/raise";
  app.screen.routeChanged();
  app.route = "#/findings"; // tapped on before the raise form was drawn
  app.screen.routeChanged();
  held.resolve();
  await first;
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits", "#/findings", "#/findings"], "never the route left behind");
});

// 80ff886: signing in set the route and rendered; the hashchange event then drew the
// screen a second time, wiping a form the person had begun to fill in.
test("a route already asked for is not drawn again by its hashchange event", async () => {
  const app = fakeApp("#/");
  await app.screen.render();
  app.route = "#/raise";
  const asked = app.screen.render();
  equal(app.screen.routeChanged(), null, "the event's answer");
  await asked;
  await app.screen.idle();
  deepEqual(app.drawn, ["#/", "#/raise"]);
});

test("a route changed by a link is drawn", async () => {
  const app = fakeApp("#/audits");
  await app.screen.render();
  app.route = "#/findings";
  ok(app.screen.routeChanged(), "a draw is asked for");
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits", "#/findings"]);
});

test("changed data redraws the live screen on view once, after a short delay", async () => {
  const app = fakeApp("#/audits");
  await app.screen.render();
  app.screen.dataChanged();
  app.screen.dataChanged();
  app.clock.advance(DATA_DELAY_MS - 1);
  app.screen.dataChanged(); // changes close together: one redraw
  app.clock.advance(DATA_DELAY_MS - 1);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits"], "not before the delay");
  app.clock.advance(1);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits", "#/audits"]);
});

test("changed data never redraws a form; only the frame around it", async () => {
  const app = fakeApp("#/raise");
  await app.screen.render();
  await app.dataArrives();
  await app.dataArrives();
  deepEqual(app.drawn, ["#/raise"]);
  equal(app.frames, 2, "frame refreshes");
});

// 80b8ea6: a data redraw drew the route the person had just navigated to (the raise
// form), a second time, wiping it.
test("a data redraw due before the navigation is handled does not draw the new route", async () => {
  const app = fakeApp("#/audits");
  await app.screen.render();
  app.screen.dataChanged();
  app.route = "#/raise"; // the link was tapped; its hashchange event has not run yet
  app.clock.advance(DATA_DELAY_MS);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits"], "the data redraw leaves the new route alone");
  equal(app.frames, 1, "frame refreshes");
  app.screen.routeChanged();
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits", "#/raise"]);
});

test("a data redraw due while the next route is being drawn does not draw it again", async () => {
  const app = fakeApp("#/audits");
  await app.screen.render();
  app.route = "#/raise";
  app.hold = deferred();
  const held = app.hold;
  app.screen.routeChanged(); // drawing the form, not finished yet
  app.screen.dataChanged();
  app.clock.advance(DATA_DELAY_MS);
  held.resolve();
  await app.screen.idle();
  deepEqual(app.drawn, ["#/audits", "#/raise"]);
  await app.dataArrives();
  deepEqual(app.drawn, ["#/audits", "#/raise"], "the form stays as the person fills it in");
});

test("data changed while a live screen is being drawn redraws it once that draw is done", async () => {
  const app = fakeApp("#/raise");
  await app.screen.render();
  app.route = "#/findings";
  app.hold = deferred();
  const held = app.hold;
  app.screen.routeChanged();
  app.screen.dataChanged();
  app.clock.advance(DATA_DELAY_MS);
  held.resolve();
  await app.screen.idle();
  deepEqual(app.drawn, ["#/raise", "#/findings", "#/findings"], "the list may have been read before the change");
});

test("a live screen the person came back to follows the data again", async () => {
  const app = fakeApp("#/audits");
  await app.screen.render();
  app.route = "#/raise";
  app.screen.routeChanged();
  await app.screen.idle();
  app.route = "#/audits";
  app.screen.routeChanged();
  await app.dataArrives();
  deepEqual(app.drawn, ["#/audits", "#/raise", "#/audits", "#/audits"]);
});

// 94b935f: a sync's status events redrew "My actions" while the person was typing a note
// to mark one done, wiping the reason shown under the note.
test("a live screen is not redrawn while the person types in it, and is once they stop", async () => {
  const app = fakeApp("#/actions");
  await app.screen.render();
  app.typing = true;
  await app.dataArrives();
  deepEqual(app.drawn, ["#/actions"], "not while typing");
  equal(app.frames, 1, "the frame still follows the data");
  app.clock.advance(TYPING_RECHECK_MS);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/actions"], "still typing a second later");
  app.typing = false;
  app.clock.advance(TYPING_RECHECK_MS - 1);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/actions"], "looked at again only after a second");
  app.clock.advance(1);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/actions", "#/actions"]);
});

// 47a253b: typing was also judged when the redraw was scheduled, which delayed a redraw
// by a second when the person had stopped in between.
test("typing is judged when the redraw is due, not when the data arrives", async () => {
  const app = fakeApp("#/actions");
  await app.screen.render();
  app.typing = true;
  app.screen.dataChanged();
  app.typing = false;
  app.clock.advance(DATA_DELAY_MS);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/actions", "#/actions"], "drawn after the short delay");
  app.screen.dataChanged();
  app.typing = true;
  app.clock.advance(DATA_DELAY_MS);
  await app.screen.idle();
  deepEqual(app.drawn, ["#/actions", "#/actions"], "the person began typing meanwhile");
});

test("a navigation draws even while the person types (they asked for it)", async () => {
  const app = fakeApp("#/actions");
  await app.screen.render();
  app.typing = true;
  await app.screen.render(); // e.g. after "Mark done" saved
  deepEqual(app.drawn, ["#/actions", "#/actions"]);
});

// 37d8f85: a tap on "Review and submit" right after typing an answer (saved on blur)
// drew the summary without that answer.
test("a draw waits for the saves begun before it", async () => {
  const app = fakeApp("#/audit/a1");
  await app.screen.render();
  const save = deferred();
  let saved = false;
  const saving = app.screen.saving(async () => { await save.promise; saved = true; return "answer"; });
  app.route = "#/audit/a1/submit";
  app.screen.routeChanged();
  await settle();
  deepEqual(app.drawn, ["#/audit/a1"], "the summary waits for the answer");
  save.resolve();
  equal(await saving, "answer", "the save's own result");
  await app.screen.idle();
  ok(saved, "saved");
  deepEqual(app.drawn, ["#/audit/a1", "#/audit/a1/submit"]);
});

test("saves run one after another, and a failed one stops neither saves nor draws", async () => {
  const app = fakeApp("#/audit/a1");
  const order = [];
  const first = deferred();
  const a = app.screen.saving(async () => { order.push("a starts"); await first.promise; order.push("a ends"); throw new Error("disk full"); });
  const b = app.screen.saving(async () => { order.push("b"); });
  const drawn = app.screen.render();
  await settle();
  deepEqual(order, ["a starts"]);
  deepEqual(app.drawn, [], "the draw waits for both saves");
  first.resolve();
  await rejects(a, /disk full/, "the failed save rejects for its caller");
  await b;
  await drawn;
  deepEqual(order, ["a starts", "a ends", "b"]);
  deepEqual(app.drawn, ["#/audit/a1"]);
});

test("a failed draw rejects for its caller, does not stop the next draws, and is not redrawn by data", async () => {
  const app = fakeApp("#/findings");
  app.fail.add("#/findings");
  await rejects(app.screen.render(), /could not draw/);
  await app.dataArrives();
  deepEqual(app.drawn, ["#/findings"], "half a screen is not drawn over");
  app.route = "#/audits";
  await app.screen.render();
  deepEqual(app.drawn, ["#/findings", "#/audits"]);
});
