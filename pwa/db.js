// The only module that touches IndexedDB. Everything else asks through these functions.
//
// Schema changes are upgrade steps: UPGRADES[n] takes the database from version n to
// n + 1, so a device that skipped releases runs every step it missed, in order.

const NAME = "gemba";

const UPGRADES = [
  (db) => {
    db.createObjectStore("meta", { keyPath: "key" });
    db.createObjectStore("areas", { keyPath: "id" });
    db.createObjectStore("templates", { keyPath: "id" });
    db.createObjectStore("audits", { keyPath: "id" });
    const responses = db.createObjectStore("responses", { keyPath: "id" });
    responses.createIndex("audit_id", "audit_id");
    const findings = db.createObjectStore("findings", { keyPath: "id" });
    findings.createIndex("audit_id", "audit_id");
    const comments = db.createObjectStore("comments", { keyPath: "id" });
    comments.createIndex("subject", "subject");
    const outbox = db.createObjectStore("outbox", { keyPath: "seq" });
    outbox.createIndex("op_id", "op_id", { unique: true });
    outbox.createIndex("record", "record");
    // Photo bytes live in their own store, as ArrayBuffers: Safari has lost Blobs.
    db.createObjectStore("photos", { keyPath: "sha256" });
    db.createObjectStore("attention", { keyPath: "op_id" });
  },
  (db, tx) => {
    // The upload queue: sizes and states only, so counting what is unsent never reads
    // megabytes of photo bytes. Photos kept by version 1 join it here.
    const queue = db.createObjectStore("photo_queue", { keyPath: "sha256" });
    tx.objectStore("photos").openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const p = cursor.value;
      if (!p.uploaded) queue.put({ sha256: p.sha256, size: p.size || 0, attempted: !!p.attempted, failed: p.failed || null });
      cursor.continue();
    };
  },
  (db) => {
    // Corrective actions the person owns, from the pull feed ("My actions").
    db.createObjectStore("actions", { keyPath: "id" });
  },
  (db) => {
    // What a person is still writing (a finding not saved yet), kept as they type so a
    // closed or killed app loses nothing. Photos of a draft wait, held, in photo_queue.
    db.createObjectStore("drafts", { keyPath: "id" });
  },
  (db) => {
    // Controlled documents that apply to the person (pulled: metadata of the current
    // revision), their "read and understood" acknowledgements (pulled, and queued from
    // here), and the files the person pinned for offline use (what and how big in `pins`,
    // the bytes as ArrayBuffers in `pin_bytes`; bounded by the device's document budget).
    db.createObjectStore("documents", { keyPath: "id" });
    const acks = db.createObjectStore("acknowledgements", { keyPath: "id" });
    acks.createIndex("revision_id", "revision_id");
    db.createObjectStore("pins", { keyPath: "document_id" });
    db.createObjectStore("pin_bytes", { keyPath: "document_id" });
  },
];

export const VERSION = UPGRADES.length;

let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = (event) => {
        for (let step = event.oldVersion; step < VERSION; step += 1) UPGRADES[step](request.result, request.transaction);
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab holds a newer version: let it upgrade, and start afresh next time.
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
      request.onblocked = () => reject(new Error("Close the other Gemba tabs to finish an upgrade."));
    });
  }
  return opening;
}

// A store inside a running transaction, with promise-returning requests. Awaiting these
// (and nothing else) keeps the transaction open.
class Store {
  constructor(store) { this.store = store; }
  get(key) { return promised(this.store.get(key)); }
  getAll(query) { return promised(this.store.getAll(query)); }
  byIndex(index, value) { return promised(this.store.index(index).getAll(value)); }
  countIndex(index, value) { return promised(this.store.index(index).count(value)); }
  put(value) { return promised(this.store.put(value)); }
  delete(key) { return promised(this.store.delete(key)); }
  clear() { return promised(this.store.clear()); }
  count() { return promised(this.store.count()); }
}

/**
 * Run `work(stores)` in one transaction over `names`; resolve with its result once the
 * transaction has committed (so a caller never acts on a write that then rolled back).
 */
export async function transaction(names, mode, work) {
  const db = await open();
  const tx = db.transaction(names, mode, { durability: "strict" });
  const stores = {};
  for (const name of names) stores[name] = new Store(tx.objectStore(name));
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    // The failed request carries the error; the transaction's own is set only on abort.
    tx.onerror = (event) => reject(event.target.error || tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
  let result;
  try {
    result = await work(stores);
  } catch (error) {
    // The work's own error is the one to report; the abort it causes is expected.
    done.catch(() => {});
    try { tx.abort(); } catch (_) { /* already finished */ }
    throw error;
  }
  await done;
  return result;
}

export const read = (names, work) => transaction(names, "readonly", work);
export const write = (names, work) => transaction(names, "readwrite", work);

export const get = (name, key) => read([name], (s) => s[name].get(key));
export const getAll = (name) => read([name], (s) => s[name].getAll());
export const byIndex = (name, index, value) => read([name], (s) => s[name].byIndex(index, value));
export const put = (name, value) => write([name], (s) => s[name].put(value));
export const remove = (name, key) => write([name], (s) => s[name].delete(key));

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row ? row.value : fallback;
}

export const setMeta = (key, value) => put("meta", { key, value });

/** Forget everything on this device (after sign-out, when nothing is unsent). */
export async function wipe() {
  const db = await open();
  const names = Array.from(db.objectStoreNames);
  await write(names, async (s) => { for (const name of names) await s[name].clear(); });
}

// Opening IndexedDB is the slowest step of a cold start: begin as soon as this module
// runs (index.html loads it async, ahead of the app's module graph).
open().catch(() => { opening = null; });
