// Photo evidence: downscale on the device, hash, keep the bytes in the outbox.
//
// The picture is decoded once, straight to its target size (long edge 2048 px, upright;
// a JPEG at its decoder's nearest own scale when that is 90 % of it: jpegKeptSize),
// and drawn into a canvas of exactly that size: a full-size 12-MP canvas would cost ~48 MB
// and iOS refuses canvases over 16.7 megapixels. A JPEG's size and EXIF orientation come
// from its header (the first few KB), so nothing decodes the picture just to learn its
// size; other formats, and a header this code cannot read, go through an <img> first.
// The thumbnail is drawn from the decoded picture at its kept size, alongside the kept
// copy's encoding; the kept copy is then hashed.
// Each step leaves a performance measure named "photo:<step>" (bench.pwa_photo reads them).

import * as outbox from "./outbox.js";

const LONG_EDGE = 2048;
const THUMB_EDGE = 320;
const QUALITY = 0.8;
// How much of the file the header is looked for in: the EXIF segment is at most 64 KB,
// but ICC profiles and other segments may come before the frame header.
const HEADER_SLICES = [64 * 1024, 1024 * 1024];

function targetSize(width, height, longEdge = LONG_EDGE) {
  const scale = Math.min(1, longEdge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * The kept size of a JPEG shown `width` x `height`: the largest of its decoder's own
 * scales (M/8 of each side, rounded up as libjpeg does) that fits the long edge, when
 * that keeps at least 90 % of it; otherwise the long edge exactly. A decode to one of
 * those scales needs no resampling afterwards, and the copy encodes sooner: a 12 MP
 * phone photo (4000 x 3000) is kept at 2000 x 1500, about 10 % faster from pick to
 * saved than at 2048 x 1536 (bench.pwa_photo, issue 13).
 */
export function jpegKeptSize(width, height, longEdge = LONG_EDGE) {
  for (let m = 8; m >= 1; m -= 1) {
    const scaled = { width: Math.ceil((width * m) / 8), height: Math.ceil((height * m) / 8) };
    const long = Math.max(scaled.width, scaled.height);
    if (long > longEdge) continue;
    return m === 8 || long >= longEdge * 0.9 ? scaled : targetSize(width, height, longEdge);
  }
  return targetSize(width, height, longEdge);
}

// The orientation tag of the first EXIF segment's first image directory, read as
// Chromium's JPEG decoder reads it (tag 0x0112, type SHORT, one value; 1-8, else 1).
function exifOrientation(view, start, end) {
  // "Exif\0\0", then a TIFF header: byte order, 42, offset of the first directory.
  if (end - start < 14) return null;
  if (view.getUint32(start) !== 0x45786966 || view.getUint8(start + 4) !== 0) return null;
  const tiff = start + 6;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const little = order === 0x4949;
  if (view.getUint16(tiff + 2, little) !== 42) return null;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd < tiff || ifd + 2 > end) return null;
  const count = view.getUint16(ifd, little);
  for (let i = 0, entry = ifd + 2; i < count && entry + 12 <= end; i += 1, entry += 12) {
    if (view.getUint16(entry, little) !== 0x0112) continue;
    if (view.getUint16(entry + 2, little) !== 3 || view.getUint32(entry + 4, little) !== 1) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return null;
}

/**
 * Read a JPEG's size and EXIF orientation from its first bytes (an ArrayBuffer or a
 * typed array): {width, height, orientation} as stored, and {shownWidth, shownHeight}
 * upright (orientations 5-8 turn the picture a quarter). null when the bytes are not a
 * JPEG or end before its frame header; never throws.
 */
export function jpegHeader(bytes) {
  try {
    const view = ArrayBuffer.isView(bytes)
      ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new DataView(bytes);
    const length = view.byteLength;
    if (length < 4 || view.getUint16(0) !== 0xffd8) return null;
    let orientation = null;
    let at = 2;
    while (at + 4 <= length) {
      if (view.getUint8(at) !== 0xff) return null;
      const marker = view.getUint8(at + 1);
      if (marker === 0xff) { at += 1; continue; } // fill byte
      // Markers without a length: TEM, RSTn, SOI.
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { at += 2; continue; }
      if (marker === 0xd9 || marker === 0xda) return null; // end, or scan data before any frame
      const size = view.getUint16(at + 2);
      if (size < 2) return null;
      const start = at + 4;
      const end = at + 2 + size;
      const frame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (frame) {
        if (size < 8 || end > length) return null;
        const height = view.getUint16(start + 1);
        const width = view.getUint16(start + 3);
        if (!width || !height) return null; // height 0: given later (DNL); let the browser say
        const o = orientation || 1;
        const turned = o >= 5;
        return { width, height, orientation: o, shownWidth: turned ? height : width, shownHeight: turned ? width : height };
      }
      if (marker === 0xe1 && orientation === null && end <= length) orientation = exifOrientation(view, start, end);
      at = end;
    }
    return null;
  } catch (error) {
    return null;
  }
}

// The header of a picked file, from a slice of it (a larger one when the first ends
// before the frame header); null when it is not a JPEG this code can read.
async function headerOf(file) {
  for (const bytes of HEADER_SLICES) {
    const slice = await file.slice(0, bytes).arrayBuffer();
    const start = new Uint8Array(slice, 0, Math.min(2, slice.byteLength));
    if (start.length < 2 || start[0] !== 0xff || start[1] !== 0xd8) return null;
    const header = jpegHeader(slice);
    if (header || bytes >= file.size) return header;
  }
  return null;
}

// performance.measure of one step of preparing a photo, from `start` to now; answers now.
function measured(step, start) {
  const end = performance.now();
  if (performance.measure) performance.measure(`photo:${step}`, { start, end });
  return end;
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

// Drawn through a 2D context, which applies the bitmap's EXIF orientation. (A
// "bitmaprenderer" canvas given the bitmap encodes 2-4x faster, but Chromium 156 then
// encodes the stored, unrotated pixels: measured for issue 13, not usable.)
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
  const started = performance.now();
  let at = started;
  const header = await headerOf(file);
  at = measured("header", at);
  let size = header && jpegKeptSize(header.shownWidth, header.shownHeight);
  let bitmap = size ? await decodeAt(file, size) : null;
  let img = null;
  let url = null;
  if (!bitmap) {
    // Not a JPEG whose header this code reads, or no resized decode in this browser: the
    // <img> element gives the upright size (CSS image-orientation) and, if need be, the pixels.
    ({ img, url } = await loadImage(file));
    size = targetSize(img.naturalWidth, img.naturalHeight);
    if (!header) bitmap = await decodeAt(file, size);
  }
  at = measured("decode", at);
  try {
    const source = bitmap || img;
    // The thumbnail comes from the downscaled picture, never from the full-size original;
    // it is encoded alongside the kept copy, which is then hashed (off the main thread).
    const thumbSize = targetSize(size.width, size.height, THUMB_EDGE);
    const thumbnail = render(source, thumbSize, 0.7);
    thumbnail.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    const bytes = await render(source, size, QUALITY);
    at = measured("encode", at);
    const [sha256, thumb] = await Promise.all([sha256Hex(bytes), thumbnail]);
    measured("thumb_and_hash", at);
    measured("prepare", started);
    return {
      sha256,
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
    if (bitmap) bitmap.close();
    if (url) URL.revokeObjectURL(url);
  }
}

/** Prepare and keep each file; resolve with their hashes in order. The next file is
 * prepared while the one before it is written to the outbox. */
export async function addFiles(files) {
  const hashes = [];
  let writing = Promise.resolve();
  for (const file of files) {
    const photo = await prepare(file);
    await writing;
    const at = performance.now();
    writing = outbox.addPhoto(photo).then(() => { measured("keep", at); });
    writing.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    hashes.push(photo.sha256);
  }
  await writing;
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
