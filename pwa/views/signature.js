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
    ctx.lineWidth = 4; // the pad is shown at half size on a phone
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

/**
 * The sign-off section of the submit screen: the auditor signs (required), the auditee
 * signs or the auditor says why they did not. `collect()` answers {signatures: [{role,
 * name, signed_at, canvas}], unsigned_reason} or throws an Error naming what is missing.
 */
export function signOff({ auditorName = "" } = {}) {
  const blocks = [
    signatureBlock({ role: "auditor", title: "Auditor's signature", defaultName: auditorName }),
    signatureBlock({ role: "auditee", title: "Auditee's signature", optional: true }),
  ];
  const section = h("section", { class: "signoff", "aria-labelledby": "signoff-heading" },
    h("h2", { id: "signoff-heading" }, "Sign-off"),
    h("p", { class: "hint" }, "The auditor signs to submit. The auditee signs too, or you say why they did not."),
    ...blocks);
  section.collect = () => {
    const states = blocks.map((b) => b.state());
    const missing = states.filter((st) => st.missing).map((st) => st.missing);
    if (missing.length) throw new Error(`Sign-off needs ${missing.join(" and ")}.`);
    const declined = states.find((st) => st.declined);
    return {
      signatures: states.filter((st) => !st.declined),
      unsigned_reason: declined ? declined.reason : "",
    };
  };
  return section;
}
