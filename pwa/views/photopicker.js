// Camera and gallery inputs with thumbnails. `context` makes the labels unique on a page
// with many questions ("Take photo for Question 3").
import { h, uid } from "./dom.js";

export function photoPicker({ context = "", hashes = [], thumbnailOf, onFiles, onRemove, disabled = false }) {
  const suffix = context ? ` for ${context}` : "";
  const status = h("p", { class: "hint", role: "status" });
  const list = h("ul", { class: "thumbs", "aria-label": `Photos${suffix}` });

  const drawThumbs = (current) => {
    list.replaceChildren(...current.map((sha, i) => {
      const img = h("img", { alt: `Photo ${i + 1}${suffix}`, width: 96, height: 96, decoding: "async" });
      thumbnailOf(sha).then((url) => { img.src = url; });
      return h("li", {}, img, onRemove && !disabled
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
    return [input, h("label", { for: id, class: `button${capture ? " primary" : ""}${disabled ? " disabled" : ""}` }, `${labelText}${suffix}`)];
  };

  const root = h("div", { class: "photo-picker" },
    h("div", { class: "row" }, ...makeInput("Take photo", true), ...makeInput("Choose photo", false)),
    status, list);
  root.redraw = drawThumbs;
  return root;
}
