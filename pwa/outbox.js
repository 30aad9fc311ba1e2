// The outbox: pending ops and photo bytes, kept until the server has acknowledged them.
//
// A change and its op are written in one IndexedDB transaction. An op that was never
// sent may still absorb later edits of the same record (fewer ops, same outcome); once
// sent it is frozen, and later edits become a new op.

import * as db from "./db.js";

export const STORE_OF = {
  audit: "audits", response: "responses", finding: "findings", comment: "comments", action: "actions",
  document: "documents", acknowledgement: "acknowledgements",
};
// Status moves must reach the server one by one (planned -> in progress -> submitted).
const NEVER_MERGE = new Set(["audit"]);
const BATCH = 100;

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function deviceId() {
  return db.write(["meta"], async (s) => {
    const row = await s.meta.get("device_id");
    if (row) return row.value;
    const id = uuid();
    await s.meta.put({ key: "device_id", value: id });
    return id;
  });
}

const recordKey = (entity, id) => `${entity}:${id}`;

/**
 * Save `record` locally and queue `fields` as an op on it, in one transaction.
 * `record.server_version` is the version the user saw (0 for a new record).
 * The photos `fields` names are released for upload (a saved record now refers to them);
 * `draft`, when given, is the draft this save turns into a record: it goes in the same
 * transaction, so a crash leaves either the draft or the record, never both or neither.
 * `separate` queues a new op even behind an unsent one (a status move after a creation).
 */
export async function change(entity, record, fields, options = {}) {
  return db.write([STORE_OF[entity], "outbox", "meta", "photo_queue", "drafts"], (s) => queue(s, entity, record, fields, options));
}

/**
 * Like `change`, for a record found by an index of its store (`find.index`, `find.key`)
 * in the same transaction: `build(existing or null)` answers {record, fields}. An answer
 * is saved this way: one keyed read and one put, whatever else the audit holds.
 */
export async function changeFound(entity, find, build, options = {}) {
  const storeName = STORE_OF[entity];
  return db.write([storeName, "outbox", "meta", "photo_queue", "drafts"], async (s) => {
    const existing = (await s[storeName].getByIndex(find.index, find.key)) || null;
    const { record, fields } = build(existing);
    return queue(s, entity, record, fields, options);
  });
}

async function queue(s, entity, record, fields, { draft = null, separate = false } = {}) {
  const storeName = STORE_OF[entity];
  const key = recordKey(entity, record.id);
  const queued = await s.outbox.byIndex("record", key);
  const open = queued.find((op) => !op.sent);
  record._pending = true;
  await s[storeName].put(record);
  const { taken, annotates } = await release(s, fields.photos || [], key);
  // A submission's signatures are drawings kept like photos: released with it.
  await release(s, (fields.signatures || []).map((sig) => sig.sha256), key);
  // The capture time travels with the first record that holds a photo (the re-encoded
  // bytes carry no EXIF): the server keeps it for the register and the PDF.
  if (Object.keys(taken).length) fields = { ...fields, photo_taken: { ...((open && open.fields.photo_taken) || {}), ...taken } };
  // So does which photo an annotated copy was drawn on, when the record holds both.
  if (Object.keys(annotates).length) {
    fields = { ...fields, photo_annotates: { ...((open && open.fields.photo_annotates) || {}), ...annotates } };
  }
  if (draft) await s.drafts.delete(draft);
  // `separate`: a move the server must see on its own, after what is queued (a status).
  if (open && !NEVER_MERGE.has(entity) && !separate) {
    open.fields = { ...open.fields, ...fields };
    open.at = new Date().toISOString();
    await s.outbox.put(open);
    return open;
  }
  const seqRow = await s.meta.get("seq");
  const seq = (seqRow ? seqRow.value : 0) + 1;
  await s.meta.put({ key: "seq", value: seq });
  const op = {
    op_id: uuid(),
    seq,
    entity,
    id: record.id,
    // Behind an unacknowledged op the base is only known once that op is answered:
    // it is filled in when this op is first sent.
    base_version: queued.length ? null : (record.server_version || 0),
    fields,
    at: new Date().toISOString(),
    record: key,
    sent: false,
  };
  await s.outbox.put(op);
  return op;
}

// A photo is held on the device until a saved record refers to it: one taken for a
// finding that is never saved must not reach the server linked to nothing.
// Answers when each photo not uploaded yet was taken ({sha256: ISO time}), and which of
// them are annotated copies of another photo in `hashes` ({annotated: original}).
async function release(s, hashes, key) {
  const taken = {};
  const annotates = {};
  for (const sha of hashes) {
    const queued = await s.photo_queue.get(sha);
    if (!queued) continue;
    if (queued.taken_at) taken[sha] = queued.taken_at;
    if (queued.annotates && hashes.includes(queued.annotates)) annotates[sha] = queued.annotates;
    if (!queued.held && (queued.records || []).includes(key)) continue;
    queued.held = false;
    queued.records = [...new Set([...(queued.records || []), key])];
    await s.photo_queue.put(queued);
  }
  return { taken, annotates };
}

/** Keep photo bytes (and their thumbnail) until the server has them; held until a saved
 * record refers to them (a photo already kept is left as it is). */
export function addPhoto(photo) {
  return db.write(["photos", "photo_queue"], async (s) => {
    if (await s.photos.get(photo.sha256)) return;
    await s.photos.put({ ...photo, uploaded: false });
    await s.photo_queue.put({
      sha256: photo.sha256, size: photo.size, attempted: false, failed: null, held: true, taken_at: photo.taken_at || null,
      annotates: photo.annotates || null,
    });
  });
}

/** Forget photos no saved record refers to (a discarded draft's): bytes and all. Photos a
 * record has used are left alone. */
export function discardPhotos(hashes) {
  return db.write(["photos", "photo_queue"], async (s) => {
    for (const sha of hashes) {
      const queued = await s.photo_queue.get(sha);
      if (!queued || !queued.held) continue;
      await s.photo_queue.delete(sha);
      await s.photos.delete(sha);
    }
  });
}

/**
 * The next ops to push, in seq order, each at most once per record (a second op on the
 * same record waits for the first one's answer to learn its base version). Marks them
 * sent, which freezes them.
 */
export async function nextBatch() {
  return db.write(["outbox", ...Object.values(STORE_OF)], async (s) => {
    const all = await s.outbox.getAll();
    const batch = [];
    const seen = new Set();
    for (const op of all) {
      if (batch.length >= BATCH || seen.has(op.record)) break;
      seen.add(op.record);
      if (!op.sent) {
        if (op.base_version === null) {
          const rec = await s[STORE_OF[op.entity]].get(op.id);
          op.base_version = (rec && rec.server_version) || 0;
        }
        op.sent = true;
        await s.outbox.put(op);
      }
      batch.push(op);
    }
    return batch.map(({ op_id, seq, entity, id, base_version, fields, at }) => (
      { op_id, seq, entity, id, base_version, fields, at }));
  });
}

/** Apply the server's per-op results: only these remove ops from the outbox. */
export async function acknowledge(results) {
  const stores = ["outbox", "attention", ...Object.values(STORE_OF)];
  return db.write(stores, async (s) => {
    let removed = 0;
    for (const result of results) {
      const [op] = await s.outbox.byIndex("op_id", result.op_id);
      if (!op) continue;
      await s.outbox.delete(op.seq);
      removed += 1;
      const storeName = STORE_OF[op.entity];
      const rec = await s[storeName].get(op.id);
      // A duplicate carries the result the op got the first time (whose answer we lost).
      const status = result.status === "duplicate" ? (result.original_status || "applied") : result.status;
      if (status === "conflict" || status === "rejected") {
        await s.attention.put({
          op_id: op.op_id, entity: op.entity, id: op.id, fields: op.fields, at: op.at,
          status, reason: result.reason || "", errors: result.fields || null, conflicts: result.conflicts || null,
          noted_at: new Date().toISOString(),
        });
      }
      if (!rec) continue;
      if (result.version) rec.server_version = result.version;
      if (status === "rejected") rec._rejected = result.reason || "rejected";
      const left = await s.outbox.countIndex("record", op.record);
      if (!left) {
        rec._pending = false;
        // A server copy that arrived while we were waiting wins if it is newer.
        const server = rec._server;
        delete rec._server;
        if (server && server.version > (rec.server_version || 0)) {
          // A tombstone (deleted, or no longer this person's) removes the local copy.
          if (server._deleted) await s[storeName].delete(rec.id);
          else await s[storeName].put({ ...server, server_version: server.version, _pending: false });
          continue;
        }
      }
      await s[storeName].put(rec);
    }
    return removed;
  });
}

// A record from the server replaces the local copy, unless local edits are still queued,
// in which case it waits beside them until they are answered.
async function storeReceived(s, storeName, entity, incoming) {
  const pending = await s.outbox.countIndex("record", recordKey(entity, incoming.id));
  const local = await s[storeName].get(incoming.id);
  if (pending && local) {
    local._server = incoming;
    await s[storeName].put(local);
    return;
  }
  if (incoming._deleted) {
    await s[storeName].delete(incoming.id);
    return;
  }
  await s[storeName].put({ ...incoming, server_version: incoming.version, _pending: false });
}

/** Forget the records that came from the server, keeping those with edits still queued. */
export async function dropReceived() {
  const stores = Object.values(STORE_OF);
  return db.write(["outbox", ...stores], async (s) => {
    for (const [entity, storeName] of Object.entries(STORE_OF)) {
      for (const rec of await s[storeName].getAll()) {
        // Queued edits stay, and so does the device's own work the server refused (marked
        // "Not accepted" until the person deals with it): a reset must not hide it.
        if (rec._pending || rec._rejected || await s.outbox.countIndex("record", recordKey(entity, rec.id))) continue;
        await s[storeName].delete(rec.id);
      }
    }
  });
}

/** Take many server records in one transaction (a pulled page). */
export async function receiveMany(items) {
  const names = new Set(["outbox"]);
  for (const { entity } of items) names.add(STORE_OF[entity]);
  return db.write([...names], async (s) => {
    for (const { entity, record } of items) await storeReceived(s, STORE_OF[entity], entity, record);
  });
}

/** Photos still to upload (sizes and states; the bytes are read one at a time). */
export async function photosToUpload() {
  return (await db.getAll("photo_queue")).filter((p) => !p.failed && !p.held)
    .map(({ sha256, size, attempted, failed }) => ({ sha256, size, attempted, failed }));
}

export const photoBytes = (sha256) => db.get("photos", sha256);

export function markPhotoAttempted(sha256) {
  return db.write(["photo_queue"], async (s) => {
    const p = await s.photo_queue.get(sha256);
    if (p && !p.attempted) { p.attempted = true; await s.photo_queue.put(p); }
  });
}

/** The server has these bytes: drop them, keep the thumbnail for the screens. */
export function markPhotoUploaded(sha256) {
  return db.write(["photos", "photo_queue"], async (s) => {
    await s.photo_queue.delete(sha256);
    const p = await s.photos.get(sha256);
    if (!p) return;
    p.uploaded = true;
    p.bytes = null;
    await s.photos.put(p);
  });
}

/** The server will never take these bytes: keep them (export can save them) and say so. */
export function markPhotoRefused(sha256, reason) {
  return db.write(["photo_queue", "attention"], async (s) => {
    const p = await s.photo_queue.get(sha256);
    if (!p) return;
    p.failed = reason;
    await s.photo_queue.put(p);
    await s.attention.put({ op_id: `photo:${sha256}`, entity: "photo", id: sha256, status: "rejected", reason,
      fields: { size: p.size }, noted_at: new Date().toISOString() });
  });
}

const encoder = new TextEncoder();

/**
 * What is still on this device only: ops, photos (held ones, a draft's, are not unsent:
 * they are counted as `drafts`), their bytes, and `records`: the records with something
 * unsent (a finding and its photo are one record), which the unsent badge shows.
 */
export async function summary() {
  return db.read(["outbox", "photo_queue", "attention", "drafts"], async (s) => {
    const ops = await s.outbox.getAll();
    const photos = (await s.photo_queue.getAll()).filter((p) => !p.held);
    const opBytes = ops.reduce((n, op) => n + encoder.encode(JSON.stringify(op.fields)).length, 0);
    const photoBytes = photos.reduce((n, p) => n + (p.size || 0), 0);
    const records = new Set(ops.map((op) => op.record));
    for (const p of photos) for (const key of (p.records && p.records.length ? p.records : [`photo:${p.sha256}`])) records.add(key);
    return {
      ops: ops.length,
      photos: photos.length,
      bytes: opBytes + photoBytes,
      attention: await s.attention.count(),
      records: records.size,
      drafts: await s.drafts.count(),
    };
  });
}

/** Nothing unsent and no draft: signing out would lose nothing. */
export async function isEmpty() {
  const { ops, photos, drafts } = await summary();
  return ops === 0 && photos === 0 && drafts === 0;
}

export const attention = () => db.getAll("attention");
export const dismiss = (opId) => db.write(["attention"], (s) => s.attention.delete(opId));

function base64(bytes) {
  const view = new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < view.length; i += 0x8000) out += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(out);
}

/** Everything not yet acknowledged, as one JSON document a person can keep or send on. */
export async function exportUnsent() {
  const ops = await db.getAll("outbox");
  const queued = await db.getAll("photo_queue");
  const photos = [];
  for (const q of queued) photos.push({ ...q, ...((await photoBytes(q.sha256)) || {}) });
  return {
    exported_at: new Date().toISOString(),
    device_id: await db.getMeta("device_id"),
    user: await db.getMeta("user"),
    ops: ops.map(({ op_id, seq, entity, id, base_version, fields, at }) => (
      { op_id, seq, entity, id, base_version, fields, at })),
    photos: photos.map((p) => ({
      sha256: p.sha256, type: p.type, width: p.width, height: p.height, taken_at: p.taken_at,
      bytes_base64: p.bytes ? base64(p.bytes) : null,
    })),
    needs_attention: await attention(),
  };
}
