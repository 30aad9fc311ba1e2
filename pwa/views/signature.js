// The sign-off at submission: a drawn signature (finger, pen or mouse, through pointer
// events), the signer's typed name, and the time they signed. The auditee may decline:
// then a reason is asked instead.
import { field, h } from "./dom.js";

const WIDTH = 600;
const HEIGHT = 200;
export const NAME_LIMIT = 200; // fieldrules LIMITS["name"]

/** A canvas to sign on, white (the register shows the drawing on any background). */
function drawingPad(label, onChange) {
  const canvas = h("canvas", { width: WIDTH, height: HEIGHT, class: "signature-pad", role: "img", "aria-label": label });
  const ctx = canvas.getContext("2d");
  let strokes = 0;
  let last = null;
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    strokes = 0;
    onChange(false);
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * (WIDTH / box.width), y: (event.clientY - box.top) * (HEIGHT / box.height) };
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    if (canvas.setPointerCapture) { try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* synthetic events */ } }
    last = at(event);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
    ctx.fillStyle = "#000";
    ctx.fill();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const point = at(event);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(point.x, point.y);
    ctx.stroke();
    last = point;
  });
  const end = () => {
    if (!last) return;
    last = null;
    strokes += 1;
    onChange(true);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);
  clear();
  return { canvas, clear, drawn: () => strokes > 0 };
}

/**
 * One person's signature block: name, pad, Clear; `optional` adds "did not sign" and a reason.
 * The element has `state()`: {role, name, signed_at, canvas} when signed, {role, declined,
 * reason} when declined, or {role, missing} with what is missing; and `onchange`.
 */
export function signatureBlock({ role, title, defaultName = "", optional = false, onChange = () => {} }) {
  let signedAt = null;
  const name = h("input", { type: "text", maxlength: NAME_LIMIT, autocomplete: "name", value: defaultName });
  const status = h("p", { class: "hint", role: "status" }, "Not signed yet.");
  const pad = drawingPad(`Signature of the ${role}`, (drawn) => {
    signedAt = drawn ? new Date().toISOString() : null;
    status.textContent = drawn ? `Signed ${new Date(signedAt).toLocaleTimeString()}.` : "Not signed yet.";
    onChange();
  });
  const clear = h("button", { type: "button", onclick: () => pad.clear() }, `Clear ${role} signature`);
  const declined = h("input", { type: "checkbox" });
  const reason = h("textarea", { rows: 2, maxlength: 5000 });
  const reasonField = field("Why the auditee did not sign", reason);
  reasonField.hidden = true;
  declined.addEventListener("change", () => { reasonField.hidden = !declined.checked; onChange(); });
  name.addEventListener("input", onChange);
  reason.addEventListener("input", onChange);
  const block = h("fieldset", { class: "card signature", "data-role": role },
    h("legend", {}, title),
    field(`Name of the ${role}`, name),
    h("p", { class: "hint" }, `Sign in the box below with a finger, a pen or the mouse.`),
    pad.canvas,
    h("div", { class: "row" }, clear),
    status,
    optional ? h("label", { class: "check" }, declined, " The auditee did not sign") : null,
    optional ? reasonField : null);
  block.state = () => {
    if (optional && declined.checked) {
      return reason.value.trim() ? { role, declined: true, reason: reason.value.trim() } : { role, missing: "a reason why the auditee did not sign" };
    }
    if (!pad.drawn()) return { role, missing: `the ${role}'s signature` };
    if (!name.value.trim()) return { role, missing: `the ${role}'s name` };
    return { role, name: name.value.trim(), signed_at: signedAt, canvas: pad.canvas };
  };
  return block;
}
