// A tiny element builder for the views: h("button", {class: "big", onclick}, "Save").

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(root, ...children) {
  root.replaceChildren();
  append(root, children);
  return root;
}

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${(ids += 1)}`;

/** A labelled field: the visible <label> names the control for people and tests. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid();
  return h("div", { class: "field" },
    h("label", { for: control.id }, labelText),
    hint ? h("p", { class: "hint" }, hint) : null,
    control);
}

/** Whether the person is typing into `root`: a field in it has the focus, or a form in
 * it holds text they have not sent yet. */
export function typingIn(root) {
  const active = document.activeElement;
  if (active && root.contains(active) && active.matches("input, textarea, select")) return true;
  return [...root.querySelectorAll("form textarea, form input[type=text]")].some((f) => f.value.trim());
}

/** How long a press may last before it no longer holds redraws (a lost pointerup). */
export const PRESS_HOLD_MS = 5000;

/**
 * Keep a redraw from swallowing a tap in `root`. When a live list is drawn again between
 * the finger going down and coming up, the element pressed is gone and the browser sends
 * no click: the tap is lost. The returned probe says whether a press is under way, so the
 * redraw scheduler holds live redraws meanwhile; a link or button replaced all the same
 * (by a redraw that began before the press) is followed or pressed on release when the
 * same link, or a button of the same label, is under the finger.
 * @param {Element} root the view
 * @param {() => number} [now] the clock, in ms
 * @returns {() => boolean} whether a press in `root` is under way
 */
export function watchPresses(root, now = () => performance.now()) {
  let pressed = null; // {control, at}
  root.addEventListener("pointerdown", (event) => {
    const control = event.target instanceof Element ? event.target.closest(CONTROLS) : null;
    pressed = { control, at: now() };
  }, true);
  const release = (event) => {
    const was = pressed;
    pressed = null;
    if (!was || !was.control || was.control.isConnected || event.type !== "pointerup") return;
    const under = document.elementFromPoint(event.clientX, event.clientY);
    const control = under && under.closest(CONTROLS);
    if (control && root.contains(control) && sameControl(control, was.control)) control.click();
  };
  addEventListener("pointerup", release, true);
  addEventListener("pointercancel", release, true);
  return () => pressed !== null && now() - pressed.at < PRESS_HOLD_MS;
}

const CONTROLS = "a[href], button";

// The control drawn again in place of the one pressed: a link to the same place, or a
// button of the same label that can be pressed.
function sameControl(drawn, was) {
  if (drawn.tagName !== was.tagName) return false;
  if (drawn.tagName === "A") return drawn.getAttribute("href") === was.getAttribute("href");
  return !drawn.disabled && drawn.type === was.type && drawn.textContent === was.textContent;
}

export function when(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const STATUS_LABELS = {
  planned: "Planned", in_progress: "In progress", submitted: "Submitted", approved: "Approved",
  returned: "Returned", rejected: "Rejected", open: "Open", action_planned: "Action planned",
  action_done: "Action done", verified: "Verified", closed: "Closed",
  done: "Done", effective: "Effective", not_effective: "Not effective",
};
