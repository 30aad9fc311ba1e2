// "Scan area": pick an area by its QR label. The camera reads it where the browser has
// BarcodeDetector (Chrome on Android, for one); everywhere, the code printed under the QR
// can be typed. Works offline: the areas are already on the device.
import { findArea } from "../areacodes.js";
import { field, h } from "./dom.js";

const canScan = () => "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/**
 * A "Scan area" button and the panel it opens (camera and/or a code box).
 * @param {object} options
 * @param {object[]} options.areas the areas a pick may land on
 * @param {(area: object) => void} options.onPick called with the area read
 * @param {(area: object) => string} options.label how an area is named
 * @param {(area: object) => string|null} [options.refuse] why this area cannot be picked here, if so
 * @returns {HTMLElement}
 */
export function areaScanner({ areas, onPick, label, refuse = () => null }) {
  let stream = null;
  let scanning = false;
  const message = h("p", { class: "hint", role: "status" });
  const video = h("video", { class: "scan-video", playsinline: true, muted: true, hidden: true, "aria-label": "Camera" });
  const code = h("input", { type: "text", inputmode: "text", autocomplete: "off", autocapitalize: "characters",
    spellcheck: false, maxlength: 32, enterkeyhint: "go", class: "code-input" });
  const stop = () => {
    scanning = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.srcObject = null;
    video.hidden = true;
  };
  const pick = (text) => {
    const { area, code: read } = findArea(areas, text);
    if (!read) { message.textContent = "That is not an area code: 6 letters and digits, like K7QM2X."; return false; }
    if (!area) { message.textContent = `No area on this device has the code ${read}. Sync when online, then try again.`; return false; }
    const why = refuse(area);
    if (why) { message.textContent = why; return false; }
    stop();
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    message.textContent = "";
    code.value = "";
    onPick(area);
    picked.textContent = `Area from its label: ${label(area)}`;
    return true;
  };
  const use = h("button", { type: "button", onclick: () => pick(code.value) }, "Use code");
  // What is typed here is not part of the form around it (a finding's draft keeps the area picked, not the code).
  for (const type of ["input", "change"]) code.addEventListener(type, (event) => event.stopPropagation());
  code.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); pick(code.value); } });
  const startCamera = async () => {
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      scanning = true;
      message.textContent = "Point the camera at the area's QR label.";
      const look = async () => {
        if (!scanning || !video.isConnected) { stop(); return; }
        try {
          const found = await detector.detect(video);
          for (const barcode of found) if (pick(barcode.rawValue)) return;
        } catch (e) { /* a frame not ready yet: look again */ }
        setTimeout(look, 250);
      };
      look();
    } catch (e) {
      stop();
      message.textContent = "The camera cannot be used here; type the code printed under the QR.";
    }
  };
  const cancel = h("button", { type: "button", onclick: () => { stop(); panel.hidden = true; toggle.setAttribute("aria-expanded", "false"); } }, "Close");
  const panel = h("div", { class: "scan-panel card", hidden: true, role: "group", "aria-label": "Scan a label" },
    video,
    // Named so as not to contain "area": the form's own "Area" list keeps its one label.
    field("Code on the label", code, "The 6 characters printed under the QR."),
    h("div", { class: "row" }, use, cancel),
    message);
  const toggle = h("button", { type: "button", class: "scan-toggle", "aria-expanded": "false", onclick: () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (panel.hidden) { stop(); return; }
    if (canScan()) startCamera(); else code.focus();
  } }, canScan() ? "Scan area QR" : "Type area code");
  const picked = h("p", { class: "hint scan-picked", role: "status" });
  return h("div", { class: "area-scan" }, toggle, panel, picked);
}
