// db.js, the only module that touches IndexedDB: versioned upgrade steps, reads and writes,
// transactions that commit whole or not at all.
//
// db.js opens the database as soon as it is evaluated, so each test imports it only after
// laying down what it needs (an older schema, say); every test has a fresh profile.
import { deepEqual, equal, ok, rejects, test } from "./harness.mjs";

const openDb = () => import("/app/db.js");

const STORES = [
  "acknowledgements", "actions", "areas", "attention", "audits", "comments", "documents", "drafts", "findings", "meta",
  "outbox", "photo_queue", "photos", "pin_bytes", "pins", "responses", "templates",
];

/** Ask IndexedDB directly, bypassing db.js. */
function raw(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Create the "gemba" database exactly as version 1 of the app did, with `rows` in it. */
function version1(rows) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("gemba", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("meta", { keyPath: "key" });
      db.createObjectStore("areas", { keyPath: "id" });
      db.createObjectStore("templates", { keyPath: "id" });
      db.createObjectStore("audits", { keyPath: "id" });
      db.createObjectStore("responses", { keyPath: "id" }).createIndex("audit_id", "audit_id");
      db.createObjectStore("findings", { keyPath: "id" }).createIndex("audit_id", "audit_id");
      db.createObjectStore("comments", { keyPath: "id" }).createIndex("subject", "subject");
      const outbox = db.createObjectStore("outbox", { keyPath: "seq" });
      outbox.createIndex("op_id", "op_id", { unique: true });
      outbox.createIndex("record", "record");
      db.createObjectStore("photos", { keyPath: "sha256" });
      db.createObjectStore("attention", { keyPath: "op_id" });
    };
    request.onsuccess = () => {
      const db = request.result;
      const tx = db.transaction(Object.keys(rows), "readwrite");
      for (const [store, values] of Object.entries(rows)) for (const value of values) tx.objectStore(store).put(value);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    request.onerror = () => reject(request.error);
  });
}

/** Take a version 1 database on to version 2 as that release did (the upload queue). */
function version2() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("gemba", 2);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("photo_queue", { keyPath: "sha256" });
      request.transaction.objectStore("photo_queue").put({ sha256: "c".repeat(64), size: 7, attempted: true, failed: null });
    };
    request.onsuccess = () => { request.result.close(); resolve(); };
    request.onerror = () => reject(request.error);
  });
}

test("a new device opens at the latest version with every store", async () => {
  const db = await openDb();
  const connection = await db.open();
  equal(connection.version, db.VERSION, "opened version");
  equal(db.VERSION, 6, "the latest version (a new upgrade step adds a test here)");
  deepEqual(Array.from(connection.objectStoreNames).sort(), STORES);
});

test("opening again answers the same connection", async () => {
  const db = await openDb();
  ok((await db.open()) === (await db.open()), "one connection");
});

test("a record put is read back by key, in the whole store and by index", async () => {
  const db = await openDb();
  await db.put("responses", { id: "r1", audit_id: "a1", value: "yes" });
  await db.put("responses", { id: "r2", audit_id: "a2", value: "no" });
  deepEqual(await db.get("responses", "r1"), { id: "r1", audit_id: "a1", value: "yes" });
  equal(await db.get("responses", "nope"), undefined, "a missing key");
  deepEqual((await db.getAll("responses")).map((r) => r.id), ["r1", "r2"]);
  deepEqual((await db.byIndex("responses", "audit_id", "a2")).map((r) => r.id), ["r2"]);
});

test("a setting answers its fallback until one is stored", async () => {
  const db = await openDb();
  equal(await db.getMeta("last_area", "none"), "none");
  await db.setMeta("last_area", "area-7");
  equal(await db.getMeta("last_area", "none"), "area-7");
});

test("a transaction resolves with its work's result once every write in it is stored", async () => {
  const db = await openDb();
  const result = await db.write(["meta", "areas"], async (s) => {
    await s.meta.put({ key: "seq", value: 1 });
    await s.areas.put({ id: "ar1", name: "Stores" });
    return "done";
  });
  equal(result, "done");
  // A second connection sees it: the transaction had committed, not merely been asked to.
  const other = await raw(indexedDB.open("gemba"));
  try {
    // (Areas: a store whose records db.js keeps exactly as put, with no index keys added.)
    const area = await raw(other.transaction(["areas"]).objectStore("areas").get("ar1"));
    deepEqual(area, { id: "ar1", name: "Stores" });
  } finally {
    other.close();
  }
});

test("a transaction whose work throws stores none of its writes and passes the error on", async () => {
  const db = await openDb();
  await rejects(db.write(["meta", "findings"], async (s) => {
    await s.meta.put({ key: "seq", value: 1 });
    await s.findings.put({ id: "f1", title: "Blocked exit" });
    throw new Error("the op could not be built");
  }), /could not be built/);
  equal(await db.getMeta("seq"), null, "the first write rolled back");
  equal(await db.get("findings", "f1"), undefined, "the second write rolled back");
});

test("a write IndexedDB refuses (a unique index) rolls back the writes before it", async () => {
  const db = await openDb();
  await rejects(db.write(["outbox", "findings"], async (s) => {
    await s.findings.put({ id: "f1" });
    await s.outbox.put({ seq: 1, op_id: "o-1", record: "finding:f1" });
    await s.outbox.put({ seq: 2, op_id: "o-1", record: "finding:f1" }); // the same op id twice
  }), /ConstraintError/);
  deepEqual(await db.getAll("outbox"), []);
  deepEqual(await db.getAll("findings"), []);
});

test("a transaction that rolls back after its work has finished rejects (its writes never happened)", async () => {
  const db = await openDb();
  await db.put("outbox", { seq: 1, op_id: "o-1", record: "finding:f0" });
  // The work shrugs off a refused write, but the refusal still aborts the transaction.
  await rejects(db.write(["outbox", "findings"], async (s) => {
    await s.findings.put({ id: "f1" });
    await s.outbox.put({ seq: 2, op_id: "o-1", record: "finding:f1" }).catch(() => {});
    return "looked fine";
  }), /ConstraintError/);
  equal(await db.get("findings", "f1"), undefined);
});

test("a read-only transaction refuses writes", async () => {
  const db = await openDb();
  await rejects(db.read(["meta"], (s) => s.meta.put({ key: "x", value: 1 })), /ReadOnlyError/);
  equal(await db.getMeta("x"), null);
});

test("wiping forgets everything on the device", async () => {
  const db = await openDb();
  await db.setMeta("user", { id: "u1" });
  await db.put("audits", { id: "a1" });
  await db.put("photos", { sha256: "a".repeat(64), bytes: new Uint8Array([1]).buffer });
  await db.wipe();
  const connection = await db.open();
  for (const name of connection.objectStoreNames) deepEqual(await db.getAll(name), [], name);
});

test("a device on version 1 keeps all its data and queues the photos it has not uploaded", async () => {
  const op = { op_id: "o-1", seq: 1, entity: "finding", id: "f-1", base_version: 0, fields: { title: "Kept" },
    at: "2026-12-01T10:00:00Z", record: "finding:f-1", sent: true };
  await version1({
    meta: [{ key: "device_id", value: "d-1" }],
    findings: [{ id: "f-1", title: "Kept", _pending: true }],
    outbox: [op],
    photos: [
      { sha256: "a".repeat(64), bytes: new Uint8Array([1, 2, 3, 4]).buffer, size: 4, uploaded: false, attempted: true },
      { sha256: "b".repeat(64), bytes: null, size: 9, uploaded: true },
      { sha256: "d".repeat(64), bytes: new Uint8Array([5]).buffer, size: 1, uploaded: false, failed: "too big" },
    ],
  });
  const db = await openDb();
  equal((await db.open()).version, db.VERSION);
  deepEqual(Array.from((await db.open()).objectStoreNames).sort(), STORES);
  equal(await db.getMeta("device_id"), "d-1");
  deepEqual(await db.getAll("outbox"), [op]);
  deepEqual(await db.get("findings", "f-1"), { id: "f-1", title: "Kept", _pending: true });
  deepEqual(await db.getAll("photo_queue"), [
    { sha256: "a".repeat(64), size: 4, attempted: true, failed: null },
    { sha256: "d".repeat(64), size: 1, attempted: false, failed: "too big" },
  ], "only photos not uploaded, with their state");
  deepEqual(new Uint8Array((await db.get("photos", "a".repeat(64))).bytes), new Uint8Array([1, 2, 3, 4]), "the bytes stay");
});

test("a device on version 2 runs only the steps it missed", async () => {
  await version1({ meta: [{ key: "device_id", value: "d-2" }] });
  await version2();
  const db = await openDb();
  equal((await db.open()).version, db.VERSION);
  deepEqual(Array.from((await db.open()).objectStoreNames).sort(), STORES);
  deepEqual(await db.getAll("photo_queue"), [{ sha256: "c".repeat(64), size: 7, attempted: true, failed: null }],
    "the upload queue is not made again");
  await db.put("actions", { id: "ca-1" });
  deepEqual(await db.getAll("actions"), [{ id: "ca-1" }]);
  await db.put("drafts", { id: "finding:raise", fields: { title: "Half" } });
  deepEqual(await db.getAll("drafts"), [{ id: "finding:raise", fields: { title: "Half" } }], "version 4 keeps drafts");
  await db.remove("drafts", "finding:raise");
  deepEqual(await db.getAll("drafts"), []);
});

/** Create the "gemba" database exactly as version 4 of the app left it, with `rows` in it. */
function version4(rows) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("gemba", 4);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const name of ["meta"]) db.createObjectStore(name, { keyPath: "key" });
      for (const name of ["areas", "templates", "audits", "actions", "drafts"]) db.createObjectStore(name, { keyPath: "id" });
      db.createObjectStore("responses", { keyPath: "id" }).createIndex("audit_id", "audit_id");
      db.createObjectStore("findings", { keyPath: "id" }).createIndex("audit_id", "audit_id");
      db.createObjectStore("comments", { keyPath: "id" }).createIndex("subject", "subject");
      const outbox = db.createObjectStore("outbox", { keyPath: "seq" });
      outbox.createIndex("op_id", "op_id", { unique: true });
      outbox.createIndex("record", "record");
      db.createObjectStore("photos", { keyPath: "sha256" });
      db.createObjectStore("attention", { keyPath: "op_id" });
      db.createObjectStore("photo_queue", { keyPath: "sha256" });
    };
    request.onsuccess = () => {
      const db = request.result;
      const tx = db.transaction(Object.keys(rows), "readwrite");
      for (const [store, values] of Object.entries(rows)) for (const value of values) tx.objectStore(store).put(value);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    request.onerror = () => reject(request.error);
  });
}

test("a device on version 4 keeps its unsent work and its stored records get the list's index keys", async () => {
  const op = { op_id: "o-4", seq: 7, entity: "response", id: "r-1", base_version: 2, fields: { value: "no" },
    at: "2026-12-01T10:00:00Z", record: "response:r-1", sent: false };
  const audit = { id: "a-1", auditor_id: "u-1", status: "in_progress", planned_date: "2026-12-02", template_id: "t-1", area_id: "ar-1" };
  await version4({
    meta: [{ key: "user", value: { id: "u-1", role: "auditor" } }, { key: "seq", value: 7 }],
    audits: [audit],
    responses: [
      { id: "r-1", audit_id: "a-1", question_id: "q-1", value: "no", photos: [], _pending: true, server_version: 2 },
      { id: "r-2", audit_id: "a-1", question_id: "q-2", value: null, photos: ["e".repeat(64)] },
      { id: "r-3", audit_id: "a-1", question_id: "q-3", value: "", photos: [] },
    ],
    outbox: [op],
    drafts: [{ id: "finding:raise", fields: { title: "Half written" } }],
    photo_queue: [{ sha256: "e".repeat(64), size: 5, attempted: false, failed: null, held: false, records: ["response:r-2"] }],
  });
  const db = await openDb();
  const connection = await db.open();
  equal(connection.version, db.VERSION);
  deepEqual(Array.from(connection.objectStoreNames).sort(), STORES);
  deepEqual(await db.getAll("outbox"), [op], "the unsent op is kept as it was");
  deepEqual(await db.getAll("drafts"), [{ id: "finding:raise", fields: { title: "Half written" } }]);
  equal((await db.getAll("photo_queue")).length, 1, "the upload queue is kept");
  equal(await db.getMeta("seq"), 7);
  const listed = await db.byIndex("audits", "list", db.startingWith(["u-1", "in_progress"]));
  deepEqual(listed.map((a) => a.id), ["a-1"], "the stored audit is found through the new index");
  const withValue = await db.byIndex("responses", "with_value", db.startingWith(["a-1"]));
  deepEqual(withValue.map((r) => r.id), ["r-1"], "answers with a value");
  deepEqual((await db.byIndex("responses", "with_photos", db.startingWith(["a-1"]))).map((r) => r.id), ["r-2"]);
  deepEqual((await db.byIndex("responses", "audit_question", ["a-1", "q-2"])).map((r) => r.id), ["r-2"]);
  const kept = await db.get("responses", "r-1");
  equal(kept._pending, true);
  equal(kept.value, "no");
});

test("another tab's upgrade is not blocked: this connection closes and the next open starts afresh", async () => {
  const db = await openDb();
  await db.open();
  const newer = indexedDB.open("gemba", db.VERSION + 1);
  const outcome = await new Promise((resolve) => {
    newer.onsuccess = () => { newer.result.close(); resolve("upgraded"); };
    newer.onblocked = () => resolve("blocked");
    newer.onerror = () => resolve(`failed: ${newer.error}`);
  });
  equal(outcome, "upgraded");
  // This tab's code is now older than the database: it must not hand out the closed
  // connection, and asking again fails until the page reloads with the new code.
  await rejects(db.open(), /VersionError/);
});
