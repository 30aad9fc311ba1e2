// photos.js: a JPEG's size and EXIF orientation read from its header (jpegHeader), and a
// picked file prepared from it (prepare): upright, at the kept size, hashed.
import { jpegHeader, jpegKeptSize, prepare } from "/app/photos.js";
import { deepEqual, equal, ok, rejects, test } from "./harness.mjs";

const u16 = (n) => [(n >> 8) & 0xff, n & 0xff];
const u16le = (n) => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u32le = (n) => u32(n).reverse();
const segment = (marker, body) => [0xff, marker, ...u16(body.length + 2), ...body];
const ascii = (text) => Array.from(text, (c) => c.charCodeAt(0));

/** An APP1 EXIF segment whose first directory holds `entries` ([tag, type, count, value]). */
function exif(entries, { little = false, ifdOffset = 8 } = {}) {
  const w16 = little ? u16le : u16;
  const w32 = little ? u32le : u32;
  const tiff = [...ascii(little ? "II" : "MM"), ...w16(42), ...w32(ifdOffset)];
  const ifd = [...w16(entries.length)];
  for (const [tag, type, count, value] of entries) ifd.push(...w16(tag), ...w16(type), ...w32(count), ...w16(value), 0, 0);
  ifd.push(...w32(0));
  return segment(0xe1, [...ascii("Exif"), 0, 0, ...tiff, ...ifd]);
}

const ORIENTATION = (value) => [0x0112, 3, 1, value];
const MAKE = [0x010f, 2, 4, 0x4142];
const jfif = () => segment(0xe0, [...ascii("JFIF"), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
// A frame header: precision, height, width, one component.
const frame = (width, height, marker = 0xc0) => segment(marker, [8, ...u16(height), ...u16(width), 1, 1, 0x11, 0]);
const scan = () => [...segment(0xda, [1, 1, 0, 0, 63, 0]), 0x12, 0x34, 0xff, 0xd9];
const jpegOf = (...segments) => new Uint8Array([0xff, 0xd8, ...segments.flat(), ...scan()]);

const upright = (width, height) => ({ width, height, orientation: 1, shownWidth: width, shownHeight: height });

test("a JPEG's size and orientation come from its header, in either byte order", () => {
  for (const little of [false, true]) {
    for (let o = 1; o <= 8; o += 1) {
      const turned = o >= 5;
      deepEqual(jpegHeader(jpegOf(jfif(), exif([MAKE, ORIENTATION(o)], { little }), frame(4000, 3000))),
        { width: 4000, height: 3000, orientation: o, shownWidth: turned ? 3000 : 4000, shownHeight: turned ? 4000 : 3000 },
        `orientation ${o}, ${little ? "little" : "big"}-endian`);
    }
  }
});

test("a JPEG without EXIF is upright at its stored size, baseline or progressive", () => {
  deepEqual(jpegHeader(jpegOf(frame(640, 480))), upright(640, 480));
  deepEqual(jpegHeader(jpegOf(jfif(), frame(480, 640, 0xc2))), upright(480, 640));
  // A Huffman table before the frame is not a frame; fill bytes before a marker are skipped.
  deepEqual(jpegHeader(jpegOf(segment(0xc4, [0, 1, 2]), [0xff], frame(33, 17, 0xc1))), upright(33, 17));
  // Segments before the frame can be long (ICC profiles): they are stepped over by length.
  deepEqual(jpegHeader(jpegOf(segment(0xe2, new Array(60000).fill(7)), exif([ORIENTATION(6)]), frame(10, 20))),
    { width: 10, height: 20, orientation: 6, shownWidth: 20, shownHeight: 10 });
  // A slice of a larger buffer is read where it starts.
  const bytes = jpegOf(frame(5, 6));
  const padded = new Uint8Array(bytes.length + 9);
  padded.set(bytes, 9);
  deepEqual(jpegHeader(padded.subarray(9)), upright(5, 6));
  deepEqual(jpegHeader(padded.buffer.slice(9)), upright(5, 6));
});

test("an orientation the browser would not read counts as upright", () => {
  // Not a SHORT, more than one value, out of 1-8, or no orientation at all.
  for (const entry of [[0x0112, 4, 1, 6], [0x0112, 3, 2, 6], ORIENTATION(0), ORIENTATION(9), MAKE]) {
    equal(jpegHeader(jpegOf(exif([entry]), frame(40, 30))).orientation, 1, `entry ${entry}`);
  }
  // A directory offset past the segment's end, or a TIFF header that is not one.
  equal(jpegHeader(jpegOf(exif([ORIENTATION(6)], { ifdOffset: 5000 }), frame(40, 30))).orientation, 1);
  const notTiff = segment(0xe1, [...ascii("Exif"), 0, 0, ...ascii("XX"), 0, 42, 0, 0, 0, 8, 0, 0]);
  equal(jpegHeader(jpegOf(notTiff, frame(40, 30))).orientation, 1);
  // The first EXIF segment that has the tag decides, as in Chromium's decoder.
  equal(jpegHeader(jpegOf(exif([MAKE]), exif([ORIENTATION(8)]), exif([ORIENTATION(3)]), frame(40, 30))).orientation, 8);
});

test("truncated or garbage input gives null and never throws", () => {
  const whole = jpegOf(jfif(), exif([MAKE, ORIENTATION(6)]), frame(4000, 3000));
  const frameEnd = whole.length - scan().length;
  for (let cut = 0; cut < whole.length; cut += 1) {
    const header = jpegHeader(whole.subarray(0, cut));
    if (cut < frameEnd) equal(header, null, `cut at ${cut} of ${whole.length}`);
    else equal(header.orientation, 6, `cut at ${cut}`);
  }
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  let seed = 13;
  const noise = Uint8Array.from({ length: 4096 }, () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; });
  const noisyJpeg = new Uint8Array([0xff, 0xd8, ...noise]);
  for (const input of [new Uint8Array(0), new ArrayBuffer(1), png, noise, noisyJpeg,
    jpegOf(frame(0, 0)), jpegOf(frame(100, 0)), // no size: height comes later (DNL)
    jpegOf([0xff, 0xe1, 0x00, 0x01], frame(10, 10)), // a length below 2
    new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]), // scan data before any frame
    new Uint8Array([0xff, 0xd8, 0x00, 0xc0, 0, 11]), // not a marker where one must be
    null, undefined, "not bytes", 42, {}]) {
    equal(jpegHeader(input), null, `input ${input && input.constructor ? input.constructor.name : input}`);
  }
  // Every cut through a segment's EXIF and every single-byte change: null or a header, no throw.
  for (let i = 2; i < frameEnd; i += 1) {
    for (const value of [0x00, 0xff, 0x01, 0xe1]) {
      const changed = whole.slice();
      changed[i] = value;
      const header = jpegHeader(changed);
      ok(header === null || (header.width > 0 && header.height > 0 && header.orientation >= 1 && header.orientation <= 8),
        `byte ${i} set to ${value}`);
    }
  }
});

// A real picture the browser decodes: `width` x `height` stored pixels, the top-left
// quarter red and the rest blue, with an EXIF orientation put in after the JFIF segment.
async function cameraJpeg(width, height, orientation) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "rgb(0, 0, 255)";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "rgb(255, 0, 0)";
  ctx.fillRect(0, 0, width / 2, height / 2);
  const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 })).arrayBuffer());
  const at = bytes[2] === 0xff && bytes[3] === 0xe0 ? 4 + ((bytes[4] << 8) | bytes[5]) : 2;
  const withExif = [...bytes.subarray(0, at), ...exif([MAKE, ORIENTATION(orientation)]), ...bytes.subarray(at)];
  return new File([new Uint8Array(withExif)], `camera-${orientation}.jpg`, { type: "image/jpeg", lastModified: Date.UTC(2026, 2, 14, 9, 26, 53) });
}

function shownSize(blob) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(blob);
    img.onload = () => { URL.revokeObjectURL(url); resolve([img.naturalWidth, img.naturalHeight]); };
    img.onerror = () => reject(new Error("the browser could not read the test picture"));
    img.src = url;
  });
}

// Where the red quarter is in a kept picture: "top-left", "top-right", ...
async function redCorner(bytes) {
  const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const red = (x, y) => { const [r, , b] = ctx.getImageData(x, y, 1, 1).data; return r > 200 && b < 60; };
  const [w, h] = [bitmap.width, bitmap.height];
  const found = Object.entries({
    "top-left": red(w / 4, h / 4), "top-right": red((3 * w) / 4, h / 4),
    "bottom-left": red(w / 4, (3 * h) / 4), "bottom-right": red((3 * w) / 4, (3 * h) / 4),
  }).filter(([, isRed]) => isRed).map(([corner]) => corner);
  bitmap.close();
  return found.join(",");
}

// Where EXIF orientation n puts the stored top-left quarter once the picture is upright.
const RED_AT = { 1: "top-left", 2: "top-right", 3: "bottom-right", 4: "bottom-left",
  5: "top-left", 6: "top-right", 7: "bottom-right", 8: "bottom-left" };

test("a JPEG is kept at its decoder's own scale when that keeps 90 % of the long edge", () => {
  const kept = (w, h) => { const size = jpegKeptSize(w, h); return [size.width, size.height]; };
  deepEqual(kept(4000, 3000), [2000, 1500]); // 12 MP: exactly half
  deepEqual(kept(3000, 4000), [1500, 2000]);
  deepEqual(kept(4032, 3024), [2016, 1512]);
  deepEqual(kept(3264, 2448), [2040, 1530]); // 8 MP: five eighths
  deepEqual(kept(8000, 6000), [2000, 1500]); // 48 MP: a quarter
  deepEqual(kept(4001, 3001), [2001, 1501]); // rounded up, as libjpeg does
  // No scale of the decoder's lands within 90 % of 2048: resampled to it exactly.
  deepEqual(kept(4624, 3468), [2048, 1536]); // 3/8 would be 1734
  deepEqual(kept(2100, 1575), [2048, 1536]); // 7/8 would be 1838
  deepEqual(kept(6000, 4000), [2048, 1365]); // 2/8 would be 1500
  // At most the long edge already: as it is.
  deepEqual(kept(2048, 1536), [2048, 1536]);
  deepEqual(kept(800, 600), [800, 600]);
  deepEqual(kept(1, 1), [1, 1]);
});

test("a 12 MP camera JPEG is kept at half its size, upright", async () => {
  for (const o of [1, 6]) {
    const photo = await prepare(await cameraJpeg(4000, 3000, o));
    deepEqual([photo.width, photo.height], o >= 5 ? [1500, 2000] : [2000, 1500], `orientation ${o}`);
    deepEqual(await shownSize(new Blob([photo.bytes])), [photo.width, photo.height], `orientation ${o}: the bytes`);
    equal(await redCorner(photo.bytes), RED_AT[o], `orientation ${o}: the red quarter`);
  }
});

test("the header gives the size the browser shows, for every orientation", async () => {
  for (let o = 1; o <= 8; o += 1) {
    const file = await cameraJpeg(120, 80, o);
    const header = jpegHeader(await file.arrayBuffer());
    deepEqual([header.shownWidth, header.shownHeight], await shownSize(file), `orientation ${o}`);
  }
});

test("a camera JPEG is kept upright at 2048 px, with its thumbnail and hash", async () => {
  for (const o of [1, 6, 3, 8]) {
    const file = await cameraJpeg(2100, 1575, o);
    const photo = await prepare(file);
    const turned = o >= 5;
    deepEqual([photo.width, photo.height], turned ? [1536, 2048] : [2048, 1536], `orientation ${o}`);
    equal(await redCorner(photo.bytes), RED_AT[o], `orientation ${o}: the red quarter`);
    deepEqual(await shownSize(new Blob([photo.thumb])), turned ? [240, 320] : [320, 240], `orientation ${o}: thumbnail`);
    equal(await redCorner(photo.thumb), RED_AT[o], `orientation ${o}: the thumbnail's red quarter`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", photo.bytes));
    equal(photo.sha256, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
    equal(photo.size, photo.bytes.byteLength);
    equal(photo.original_size, file.size);
    equal(photo.taken_at, "2026-03-14T09:26:53.000Z");
  }
  const steps = performance.getEntriesByType("measure").map((m) => m.name);
  for (const step of ["photo:header", "photo:decode", "photo:encode", "photo:thumb_and_hash", "photo:prepare"]) {
    ok(steps.includes(step), `a ${step} measure`);
  }
});

test("a picture whose header cannot be read goes through the browser's own reading", async () => {
  // A PNG: no JPEG header at all.
  const canvas = new OffscreenCanvas(300, 100);
  canvas.getContext("2d").fillRect(0, 0, 300, 100);
  const png = await canvas.convertToBlob({ type: "image/png" });
  const fromPng = await prepare(new File([png], "drawing.png", { type: "image/png" }));
  deepEqual([fromPng.width, fromPng.height, fromPng.type], [300, 100, "image/jpeg"]);
  // A JPEG whose frame header lies beyond the header slices this code reads.
  const file = await cameraJpeg(64, 48, 6);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const padded = new Uint8Array([...bytes.subarray(0, 2), ...[].concat(...Array.from({ length: 17 },
    () => segment(0xe2, new Array(65000).fill(1)))), ...bytes.subarray(2)]);
  equal(jpegHeader(padded.subarray(0, 1024 * 1024)), null, "the frame header is past the first megabyte");
  const far = await prepare(new File([padded], "padded.jpg", { type: "image/jpeg" }));
  deepEqual([far.width, far.height], [48, 64]);
  equal(await redCorner(far.bytes), RED_AT[6]);
});

test("a file that is not a picture is refused with a message", async () => {
  await rejects(prepare(new File(["not a picture"], "notes.jpg", { type: "image/jpeg" })), /not a picture/);
  // JPEG's first two bytes and noise after them: no header, and nothing the browser reads.
  let seed = 7;
  const noise = Uint8Array.from({ length: 20000 }, () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; });
  await rejects(prepare(new File([new Uint8Array([0xff, 0xd8]), noise], "noise.jpg", { type: "image/jpeg" })), /not a picture/);
});
