// views/dom.js: the probes the redraw scheduler asks before redrawing a live list (typing, pressing).
import { h, mount, PRESS_HOLD_MS, typingIn, watchPresses } from "/app/views/dom.js";
import { equal, test } from "./harness.mjs";

const view = () => mount(document.getElementById("view"));

test("a focused field in the view counts as typing", () => {
  const root = view();
  const note = h("textarea");
  mount(root, h("form", {}, note));
  equal(typingIn(root), false, "nothing focused, nothing written");
  note.focus();
  equal(typingIn(root), true);
});

test("text written into a form counts as typing after the field lost focus", () => {
  const root = view();
  const note = h("textarea");
  const name = h("input", { type: "text" });
  mount(root, h("form", {}, note), h("form", {}, name));
  name.value = "   ";
  equal(typingIn(root), false, "blanks are not a draft");
  note.value = "Replaced the guard";
  equal(typingIn(root), true);
});

test("a focused button, or a field outside the view, is not typing", () => {
  const root = view();
  const button = h("button", { type: "button" }, "Sync now");
  mount(root, button);
  button.focus();
  equal(typingIn(root), false);
  const outside = h("input", { type: "text" });
  document.body.append(outside);
  outside.focus();
  equal(typingIn(root), false);
  outside.remove();
});

/** A pointer event at the middle of `el` (or at `at`), sent to `target`. */
function press(type, target, at) {
  const box = at.getBoundingClientRect();
  target.dispatchEvent(new PointerEvent(type, {
    bubbles: true, composed: true, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2,
  }));
}

const listOfOne = (href) => h("ul", {}, h("li", {}, h("a", { href, style: "display:block;height:48px" }, "Boiler room walk")));

test("a press holds redraws until the finger comes up; a press that is never released stops holding", () => {
  const root = view();
  let clock = 0;
  const pressing = watchPresses(root, () => clock);
  mount(root, listOfOne("#/audit/held"));
  const link = root.querySelector("a");
  equal(pressing(), false, "nothing pressed");
  press("pointerdown", link, link);
  equal(pressing(), true);
  press("pointerup", link, link);
  equal(pressing(), false, "released");
  press("pointerdown", link, link);
  clock += PRESS_HOLD_MS;
  equal(pressing(), false, "a lost pointerup does not hold redraws for ever");
  press("pointercancel", link, link);
});

test("a link redrawn between finger down and up is still followed on release", () => {
  const root = view();
  watchPresses(root);
  history.replaceState(null, "", "#/audits");
  mount(root, listOfOne("#/audit/redrawn"));
  const before = root.querySelector("a");
  press("pointerdown", before, before);
  mount(root, listOfOne("#/audit/redrawn")); // the live list is drawn again under the finger
  const after = root.querySelector("a");
  press("pointerup", after, after);
  equal(location.hash, "#/audit/redrawn");
  history.replaceState(null, "", "#/audits");
});

test("a press whose link was replaced by another one, or a plain tap, does not navigate", () => {
  const root = view();
  watchPresses(root);
  history.replaceState(null, "", "#/audits");
  mount(root, listOfOne("#/audit/first"));
  const first = root.querySelector("a");
  press("pointerdown", first, first);
  mount(root, listOfOne("#/audit/second")); // another audit now sits where the finger is
  const second = root.querySelector("a");
  press("pointerup", second, second);
  equal(location.hash, "#/audits", "a different link under the finger is not followed");
  press("pointerdown", second, second);
  press("pointerup", second, second);
  equal(location.hash, "#/audits", "a link still in place is left to the browser's own click");
});

test("a button redrawn between finger down and up is pressed on release, once", () => {
  const root = view();
  watchPresses(root);
  let pressedTimes = 0;
  const showAll = () => h("button", { type: "button", onclick: () => { pressedTimes += 1; } }, "Show all 80 (70 more)");
  mount(root, showAll());
  const before = root.querySelector("button");
  press("pointerdown", before, before);
  mount(root, showAll()); // the live list is drawn again under the finger
  const after = root.querySelector("button");
  press("pointerup", after, after);
  equal(pressedTimes, 1);
  // Another button under the finger, or one still in place, is left to the browser.
  press("pointerdown", after, after);
  mount(root, h("button", { type: "button", onclick: () => { pressedTimes += 10; } }, "Sync now"));
  const other = root.querySelector("button");
  press("pointerup", other, other);
  press("pointerdown", other, other);
  press("pointerup", other, other);
  equal(pressedTimes, 1);
});
