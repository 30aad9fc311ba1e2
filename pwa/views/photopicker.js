// Camera and gallery inputs with thumbnails. `context` makes the labels unique on a page
// with many questions ("Take photo for Question 3").
import { annotate } from "./annotate.js";
import { h, uid } from "./dom.js";

export function photoPicker(options) {
  const parts = photoParts(options);
  const root = h("div", { class: "photo-picker" }, h("div", { class: "row" }, ...parts.take, ...parts.choose), parts.status, parts.list);
  root.redraw = parts.redraw;
  return root;
}

/**
 * The picker's parts, for a layout of the caller's own (the compact question card puts
 * "Take photo" beside the answers): `take` and `choose` (each an input and its label),
 * `status`, `list` (the thumbnails) and `redraw(hashes)`. With `short`, the context is
 * read by screen readers only ("Take photo" on screen, "Take photo for question 3" named).
 */
export function photoParts({ context = "", hashes = [], thumbnailOf, onFiles, onRemove, onAnnotated, disabled = false, short = false }) {
  const suffix = context ? ` for ${context}` : "";
  const status = h("p", { class: "hint", role: "status" });
  const list = h("ul", { class: "thumbs", "aria-label": `Photos${suffix}` });
  let shown = hashes;
  const copies = new Map(); // annotated copy -> original, for the photos annotated on this screen

  // Draw on a photo; the annotated copy goes just before its original (shown first), both kept.
  const annotateOne = async (sha, n) => {
    const photos = await import("../photos.js");
    try {
      const canvas = await annotate(await photos.imageOf(sha), { label: `photo ${n}${suffix}` });
      if (!canvas) return;
      status.textContent = "Saving the annotated copy…";
      const copy = await photos.keepDrawing(canvas, { type: "image/jpeg", annotates: sha });
      copies.set(copy.sha256, sha);
      const at = shown.indexOf(sha);
      const next = [...shown.slice(0, at).filter((x) => x !== copy.sha256), copy.sha256,
        ...shown.slice(at).filter((x) => x !== copy.sha256)];
      drawThumbs(await onAnnotated(next));
      status.textContent = "Annotated copy added; the original is kept.";
    } catch (e) {
      status.textContent = `Could not annotate the photo: ${e.message}`;
    }
  };

  const drawThumbs = (current) => {
    shown = current;
    list.replaceChildren(...current.map((sha, i) => {
      const annotated = copies.has(sha);
      const img = h("img", { alt: `${annotated ? "Annotated photo" : "Photo"} ${i + 1}${suffix}`, width: 96, height: 96, decoding: "async" });
      thumbnailOf(sha).then((url) => { img.src = url; });
      return h("li", { "data-sha256": sha },
        img,
        onAnnotated && !disabled && !annotated
          ? h("button", { type: "button", class: "small", "aria-label": `Annotate photo ${i + 1}${suffix}`, onclick: () => annotateOne(sha, i + 1) }, "Annotate")
          : null,
        onRemove && !disabled
          ? h("button", { type: "button", class: "small", "aria-label": `Remove photo ${i + 1}${suffix}`, onclick: () => onRemove(sha) }, "Remove")
          : null);
    }));
  };
  drawThumbs(hashes);

  const makeInput = (labelText, capture) => {
    const id = uid("photo");
    const input = h("input", { type: "file", id, accept: "image/*", class: "visually-hidden", multiple: !capture, disabled });
    if (capture) input.setAttribute("capture", "environment");
    input.addEventListener("change", async () => {
      const files = Array.from(input.files || []);
      input.value = "";
      if (!files.length) return;
      status.textContent = files.length > 1 ? `Preparing ${files.length} photos…` : "Preparing photo…";
      try {
        const current = await onFiles(files);
        drawThumbs(current);
        status.textContent = `${current.length} photo${current.length === 1 ? "" : "s"} attached`;
      } catch (e) {
        status.textContent = `Could not add the photo: ${e.message}`;
      }
    });
    const text = short ? [labelText, h("span", { class: "visually-hidden" }, suffix)] : [`${labelText}${suffix}`];
    return [input, h("label", { for: id, class: `button${capture && !short ? " primary" : ""}${disabled ? " disabled" : ""}` }, ...text)];
  };

  return { take: makeInput("Take photo", true), choose: makeInput("Choose photo", false), status, list, redraw: drawThumbs };
}
