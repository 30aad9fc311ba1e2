// Drawing on a photo: a circle, an arrow or a line of text, by finger, pen or mouse
// (pointer events). Saving keeps an annotated copy as a new photo; the original stays.
import { h } from "./dom.js";

const RED = "#e00000";

function drawArrow(ctx, from, to, width) {
  const angle = Math.atan2(to.y - from.y, to.x - from.x);
  const head = Math.max(18, width * 5);
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(to.x, to.y);
  ctx.lineTo(to.x - head * Math.cos(angle - Math.PI / 7), to.y - head * Math.sin(angle - Math.PI / 7));
  ctx.lineTo(to.x - head * Math.cos(angle + Math.PI / 7), to.y - head * Math.sin(angle + Math.PI / 7));
  ctx.closePath();
  ctx.fill();
}

function drawShape(ctx, shape, scale) {
  const width = Math.max(3, 4 * scale);
  ctx.strokeStyle = RED;
  ctx.fillStyle = RED;
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  if (shape.tool === "circle") {
    const r = Math.hypot(shape.to.x - shape.from.x, shape.to.y - shape.from.y);
    ctx.beginPath();
    ctx.arc(shape.from.x, shape.from.y, Math.max(r, 4), 0, Math.PI * 2);
    ctx.stroke();
  } else if (shape.tool === "arrow") {
    drawArrow(ctx, shape.from, shape.to, width);
  } else if (shape.tool === "text" && shape.text) {
    const size = Math.round(28 * scale);
    ctx.font = `bold ${size}px sans-serif`;
    ctx.lineWidth = Math.max(2, size / 6);
    ctx.strokeStyle = "#fff";
    ctx.strokeText(shape.text, shape.from.x, shape.from.y);
    ctx.fillText(shape.text, shape.from.x, shape.from.y);
  }
}

/**
 * Open the editor on `image` (an <img> that has loaded). Resolves with a canvas holding the
 * annotated copy when the person saves, or null when they cancel or drew nothing.
 */
export function annotate(image, { label = "photo" } = {}) {
  return new Promise((resolve) => {
    const width = image.naturalWidth;
    const height = image.naturalHeight;
    // Strokes and text sized for the picture as seen, whatever its pixel size.
    const scale = Math.max(width, height) / 800;
    const canvas = h("canvas", { width, height, class: "annotate-canvas", role: "img",
      "aria-label": `Drawing area over the ${label}` });
    const ctx = canvas.getContext("2d");
    const shapes = [];
    let drawing = null;
    let tool = "circle";
    const text = h("input", { type: "text", maxlength: 80, placeholder: "Text to place", "aria-label": "Text to place" });

    const redraw = () => {
      ctx.drawImage(image, 0, 0, width, height);
      for (const shape of shapes) drawShape(ctx, shape, scale);
      if (drawing) drawShape(ctx, drawing, scale);
      undo.disabled = shapes.length === 0;
      save.disabled = shapes.length === 0;
    };
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return { x: (event.clientX - box.left) * (width / box.width), y: (event.clientY - box.top) * (height / box.height) };
    };
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      if (canvas.setPointerCapture) { try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* synthetic */ } }
      const point = at(event);
      if (tool === "text") {
        const words = text.value.trim();
        if (!words) { text.focus(); status.textContent = "Type the text first, then tap where it goes."; return; }
        shapes.push({ tool, from: point, text: words });
        redraw();
        return;
      }
      drawing = { tool, from: point, to: point };
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      drawing.to = at(event);
      redraw();
    });
    const finish = () => {
      if (!drawing) return;
      shapes.push(drawing);
      drawing = null;
      redraw();
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    const tools = h("div", { class: "row tools", role: "radiogroup", "aria-label": "Drawing tool" },
      ...[["circle", "Circle"], ["arrow", "Arrow"], ["text", "Text"]].map(([value, name]) => {
        const input = h("input", { type: "radio", name: "annotate-tool", value, checked: value === tool });
        input.addEventListener("change", () => { tool = value; status.textContent = ""; });
        return h("label", { class: "button" }, input, ` ${name}`);
      }));
    const status = h("p", { class: "hint", role: "status" });
    const undo = h("button", { type: "button", onclick: () => { shapes.pop(); redraw(); } }, "Undo");
    const cancel = h("button", { type: "button" }, "Cancel");
    const save = h("button", { type: "button", class: "primary" }, "Save annotated copy");
    const dialog = h("dialog", { class: "annotate", "aria-label": `Annotate ${label}` },
      h("h2", {}, `Annotate ${label}`),
      h("p", { class: "hint" }, "Draw a circle or an arrow, or type text and tap where it goes. The original photo is kept."),
      tools, text, h("div", { class: "annotate-frame" }, canvas), status,
      h("div", { class: "row actions" }, undo, cancel, save));
    const close = (result) => { dialog.close(); dialog.remove(); resolve(result); };
    cancel.addEventListener("click", () => close(null));
    save.addEventListener("click", () => close(shapes.length ? canvas : null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    document.body.append(dialog);
    redraw();
    dialog.showModal();
  });
}
