// Photo evidence: downscale on the device, hash, keep the bytes in the outbox.
//
// The picture is decoded straight to its target size (long edge 2048 px, upright) and
// drawn into a canvas of exactly that size: a full-size 12-MP canvas would cost ~48 MB
// and iOS refuses canvases over 16.7 megapixels.

import * as outbox from "./outbox.js";

const LONG_EDGE = 2048;
const THUMB_EDGE = 320;
const QUALITY = 0.8;

function targetSize(width, height, longEdge = LONG_EDGE) {
  const scale = Math.min(1, longEdge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function loadImage(file) {
  // The <img> element reads the size with EXIF orientation applied (CSS image-orientation).
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve({ img, url });
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("This file is not a picture the browser can read.")); };
    img.src = url;
  });
}

async function decodeAt(file, size) {
  if (self.createImageBitmap) {
    try {
      return await createImageBitmap(file, {
        imageOrientation: "from-image",
        resizeWidth: size.width,
        resizeHeight: size.height,
        resizeQuality: "high",
      });
    } catch (error) { /* older Safari: no resize options; fall back to <img> below */ }
  }
  return null;
}

function canvasOf(size) {
  if (self.OffscreenCanvas) return new OffscreenCanvas(size.width, size.height);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  return canvas;
}

async function encode(canvas, quality) {
  const blob = canvas.convertToBlob
    ? await canvas.convertToBlob({ type: "image/jpeg", quality })
    : await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  return blob.arrayBuffer();
}

async function render(source, size, quality) {
  const canvas = canvasOf(size);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(source, 0, 0, size.width, size.height);
  return encode(canvas, quality);
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Turn a picked or captured file into evidence: {sha256, bytes, thumb, width, height}. */
export async function prepare(file) {
  const { img, url } = await loadImage(file);
  try {
    const size = targetSize(img.naturalWidth, img.naturalHeight);
    const bitmap = await decodeAt(file, size);
    const bytes = await render(bitmap || img, size, QUALITY);
    // The thumbnail comes from the downscaled picture, never from the full-size original.
    const thumbSize = targetSize(size.width, size.height, THUMB_EDGE);
    const thumb = await render(bitmap || img, thumbSize, 0.7);
    if (bitmap) bitmap.close();
    return {
      sha256: await sha256Hex(bytes),
      bytes,
      thumb,
      width: size.width,
      height: size.height,
      size: bytes.byteLength,
      original_size: file.size,
      type: "image/jpeg",
      taken_at: new Date(file.lastModified || Date.now()).toISOString(),
    };
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Prepare and keep each file; resolve with their hashes in order. */
export async function addFiles(files) {
  const hashes = [];
  for (const file of files) {
    const photo = await prepare(file);
    await outbox.addPhoto(photo);
    hashes.push(photo.sha256);
  }
  return hashes;
}

/**
 * Keep a drawing made on the device (a signature, an annotated photo) as photo evidence,
 * exactly like a taken photo: its bytes, thumbnail and SHA-256 in the outbox, held until
 * a saved record refers to it. `type` is "image/png" (a signature) or "image/jpeg";
 * `annotates` the hash of the photo an annotated copy was drawn on.
 * Resolves with the kept photo's {sha256, ...}.
 */
export async function keepDrawing(canvas, { type = "image/png", takenAt = null, annotates = null } = {}) {
  const blob = canvas.convertToBlob
    ? await canvas.convertToBlob({ type, quality: QUALITY })
    : await new Promise((resolve) => canvas.toBlob(resolve, type, QUALITY));
  const bytes = await blob.arrayBuffer();
  // A copy drawn on a copy annotates the original: the server keeps one level.
  const source = annotates ? await outbox.photoBytes(annotates) : null;
  if (source && source.annotates) annotates = source.annotates;
  const thumbSize = targetSize(canvas.width, canvas.height, THUMB_EDGE);
  const photo = {
    sha256: await sha256Hex(bytes),
    bytes,
    thumb: await render(canvas, thumbSize, 0.7),
    width: canvas.width,
    height: canvas.height,
    size: bytes.byteLength,
    original_size: bytes.byteLength,
    type,
    taken_at: takenAt || new Date().toISOString(),
    annotates,
  };
  await outbox.addPhoto(photo);
  return photo;
}

/** Decode kept photo bytes (from the outbox) into an image element for drawing on. */
export async function imageOf(sha256) {
  const photo = await outbox.photoBytes(sha256);
  const src = photo && photo.bytes
    ? URL.createObjectURL(new Blob([photo.bytes], { type: photo.type || "image/jpeg" }))
    : `/api/photos/${sha256}?size=original`;
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("This photo is not on the device."));
    img.src = src;
  });
}
