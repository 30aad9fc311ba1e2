// The only module that touches IndexedDB. Everything else asks through these functions.
//
// Schema changes are upgrade steps: UPGRADES[n] takes the database from version n to
// n + 1, so a device that skipped releases runs every step it missed, in order.

const NAME = "gemba";

// Keys the list screens read through indexes, worked out from a record each time it is
// put (and for every stored record by the upgrade that added them), so start-up reads
// what the first screen shows and no more (docs/ARCHITECTURE.md, "The device at scale").
const answered = (value) => value !== null && value !== undefined && value !== "";
const DERIVED = {
  // My audits by person, status and planned date: a status group's count and first page.
  audits: (a) => ({ _list: [a.auditor_id || "", a.status || "", a.planned_date || ""] }),
  // My findings, newest first: "My findings" reads its first page, not every finding.
  findings: (f) => ({ _mine: [f.raised_by_id || "", f.raised_at || ""] }),
  // Answers with a value, and with photos: an audit's progress is counted, not read.
  responses: (r) => ({
    _v: answered(r.value) && r.audit_id && r.question_id ? [r.audit_id, r.question_id] : undefined,
    _p: (r.photos || []).length && r.audit_id && r.question_id ? [r.audit_id, r.question_id] : undefined,
  }),
};

/** `value` with the index keys of `store` worked out afresh (a copy; unchanged if none). */
export function derive(store, value) {
  const keys = DERIVED[store];
  if (!keys || !value || typeof value !== "object") return value;
  const out = { ...value };
  for (const [key, derived] of Object.entries(keys(value))) {
    if (derived === undefined) delete out[key];
    else out[key] = derived;
  }
  return out;
}

const DERIVED_NAMES = { audits: ["_list"], findings: ["_mine"], responses: ["_v", "_p"] };

// Records leave db.js as they were put: the derived keys are the indexes' business.
function strip(store, value) {
  const names = DERIVED_NAMES[store];
  if (!names || !value || typeof value !== "object") return value;
  for (const name of names) delete value[name];
  return value;
}

/** Work out the derived keys of every record already in `store` (an upgrade step). */
function deriveAll(tx, store) {
  tx.objectStore(store).openCursor().onsuccess = (event) => {
    const cursor = event.target.result;
    if (!cursor) return;
    cursor.update(derive(store, cursor.value));
    cursor.continue();
  };
}

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
  (db, tx) => {
    // Start-up that does not grow with what is stored: indexes for the audit list's
    // groups and progress, an answer found by its audit and question, my findings newest
    // first, comments by audit and by finding.
    tx.objectStore("audits").createIndex("list", "_list");
    const responses = tx.objectStore("responses");
    responses.createIndex("audit_question", ["audit_id", "question_id"]);
    responses.createIndex("with_value", "_v");
    responses.createIndex("with_photos", "_p");
    tx.objectStore("comments").createIndex("audit_id", "audit_id");
    tx.objectStore("comments").createIndex("finding_id", "finding_id");
    tx.objectStore("findings").createIndex("mine", "_mine");
    deriveAll(tx, "audits");
    deriveAll(tx, "responses");
    deriveAll(tx, "findings");
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
        performance.mark("gemba-db-open"); // the start-up benchmark's split
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
// `query` may be a key or an IDBKeyRange; `limit` caps how many records are read.
class Store {
  constructor(store, name) { this.store = store; this.name = name; }
  one(request) { return promised(request).then((value) => strip(this.name, value)); }
  many(request) { return promised(request).then((values) => { for (const v of values) strip(this.name, v); return values; }); }
  get(key) { return this.one(this.store.get(key)); }
  getAll(query, limit) { return this.many(this.store.getAll(query, limit)); }
  byIndex(index, value, limit) { return this.many(this.store.index(index).getAll(value, limit)); }
  getByIndex(index, value) { return this.one(this.store.index(index).get(value)); }
  countIndex(index, value) { return promised(this.store.index(index).count(value)); }
  /** The last `limit` records of `range` in an index, last first (newest first, say). */
  lastByIndex(index, range, limit) {
    return new Promise((resolve, reject) => {
      const out = [];
      const request = this.store.index(index).openCursor(range, "prev");
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor || out.length >= limit) { resolve(out); return; }
        out.push(strip(this.name, cursor.value));
        cursor.continue();
      };
      request.onerror = () => reject(request.error);
    });
  }
  put(value) { return promised(this.store.put(derive(this.name, value))); }
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
  for (const name of names) stores[name] = new Store(tx.objectStore(name), name);
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

/** Every key in an index whose array key starts with `prefix` (e.g. [audit id]). */
export const startingWith = (prefix) => IDBKeyRange.bound(prefix, [...prefix, []]);
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
