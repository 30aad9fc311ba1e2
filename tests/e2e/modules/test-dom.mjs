// views/dom.js's typingIn: the probe the redraw scheduler asks before redrawing a live list.
import { h, mount, typingIn } from "/app/views/dom.js";
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
