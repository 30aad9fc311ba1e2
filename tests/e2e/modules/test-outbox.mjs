// outbox.js: pending ops and photo bytes, kept until the server has acknowledged them.
import * as db from "/app/db.js";
import * as outbox from "/app/outbox.js";
import { deepEqual, equal, ok, rejects, test } from "./harness.mjs";

const finding = (id, title, extra = {}) => ({ id, title, server_version: 0, ...extra });
const seqs = async () => (await db.getAll("outbox")).map((op) => op.seq);
const PHOTO = "a".repeat(64);

test("a change stores the record and queues its op, both at once", async () => {
  const op = await outbox.change("finding", finding("f1", "Blocked exit"), { title: "Blocked exit" });
  deepEqual(await db.get("findings", "f1"), { id: "f1", title: "Blocked exit", server_version: 0, _pending: true });
  const [queued] = await db.getAll("outbox");
  deepEqual(queued, op, "the op answered is the op stored");
  deepEqual({ seq: op.seq, entity: op.entity, id: op.id, base_version: op.base_version, fields: op.fields, record: op.record, sent: op.sent },
    { seq: 1, entity: "finding", id: "f1", base_version: 0, fields: { title: "Blocked exit" }, record: "finding:f1", sent: false });
  ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(op.op_id), `a UUID op id: ${op.op_id}`);
  ok(!Number.isNaN(Date.parse(op.at)), "stamped with the time");
});

test("a change whose op cannot be stored leaves no record and no seq behind", async () => {
  // Fields that cannot be cloned make the op's write fail after the record's was made.
  await rejects(outbox.change("finding", finding("f1", "Blocked exit"), { title: () => "not data" }), /DataCloneError/);
  equal(await db.get("findings", "f1"), undefined, "the record rolled back with its op");
  deepEqual(await db.getAll("outbox"), []);
  equal(await db.getMeta("seq"), null);
  const op = await outbox.change("finding", finding("f2", "Spill"), { title: "Spill" });
  equal(op.seq, 1, "the failed change took no seq");
});

test("seq goes up by one per op and is never handed out again, not even after acknowledgement", async () => {
  for (const id of ["f1", "f2", "f3"]) await outbox.change("finding", finding(id, id), { title: id });
  deepEqual(await seqs(), [1, 2, 3]);
  const batch = await outbox.nextBatch();
  await outbox.acknowledge(batch.map((op) => ({ op_id: op.op_id, status: "applied", version: 1 })));
  deepEqual(await seqs(), []);
  const next = await outbox.change("finding", finding("f4", "f4"), { title: "f4" });
  equal(next.seq, 4);
});

test("an op not yet sent takes in later edits of its record; once sent it is frozen", async () => {
  const rec = finding("f1", "first");
  await outbox.change("finding", rec, { title: "first", kind: "observation" });
  await outbox.change("finding", { ...rec, title: "second" }, { title: "second" });
  deepEqual((await db.getAll("outbox")).map((op) => [op.seq, op.fields]), [[1, { title: "second", kind: "observation" }]]);
  const [sent] = await outbox.nextBatch();
  deepEqual([sent.seq, sent.base_version, sent.fields], [1, 0, { title: "second", kind: "observation" }]);
  await outbox.change("finding", { ...rec, title: "third" }, { title: "third" });
  deepEqual((await db.getAll("outbox")).map((op) => [op.seq, op.sent, op.base_version, op.fields]), [
    [1, true, 0, { title: "second", kind: "observation" }],
    [2, false, null, { title: "third" }], // its base is known only once op 1 is answered
  ]);
  equal((await db.get("findings", "f1")).title, "third", "the record shows the latest edit");
});

test("an audit's status moves are never merged: each reaches the server in turn", async () => {
  const audit = { id: "a1", status: "in_progress", server_version: 4 };
  await outbox.change("audit", audit, { status: "in_progress" });
  await outbox.change("audit", { ...audit, status: "submitted" }, { status: "submitted" });
  deepEqual((await db.getAll("outbox")).map((op) => [op.seq, op.base_version, op.fields]), [
    [1, 4, { status: "in_progress" }],
    [2, null, { status: "submitted" }],
  ]);
});

test("a batch holds one op per record in seq order and stops at a record's second op", async () => {
  const rec = finding("f1", "first");
  await outbox.change("finding", rec, { title: "first" });
  await outbox.nextBatch();
  await outbox.change("finding", { ...rec, title: "again" }, { title: "again" }); // seq 2, same record
  await outbox.change("finding", finding("f2", "other"), { title: "other" }); // seq 3
  // A resend carries op 1 unchanged and stops before op 2: skipping it would leave a gap
  // in seq, which the server never steps over.
  const batch = await outbox.nextBatch();
  deepEqual(batch.map((op) => [op.seq, op.fields]), [[1, { title: "first" }]]);
  deepEqual(Object.keys(batch[0]).sort(), ["at", "base_version", "entity", "fields", "id", "op_id", "seq"],
    "only the fields the sync contract names");
  await outbox.acknowledge([{ op_id: batch[0].op_id, status: "applied", version: 7 }]);
  const next = await outbox.nextBatch();
  deepEqual(next.map((op) => [op.seq, op.base_version]), [[2, 7], [3, 0]], "the base is what the answer said");
});

test("a batch holds at most 100 ops", async () => {
  await db.write(["findings", "outbox", "meta"], async (s) => {
    for (let seq = 1; seq <= 101; seq += 1) {
      await s.findings.put(finding(`f${seq}`, "x"));
      await s.outbox.put({ op_id: outbox.uuid(), seq, entity: "finding", id: `f${seq}`, base_version: 0,
        fields: { title: "x" }, at: "2026-12-01T10:00:00Z", record: `finding:f${seq}`, sent: false });
    }
  });
  const batch = await outbox.nextBatch();
  equal(batch.length, 100);
  equal(batch[99].seq, 100);
  equal((await db.getAll("outbox")).filter((op) => !op.sent).length, 1, "the 101st stays unsent");
});

test("acknowledging removes only the ops answered, and keeps the record's server version", async () => {
  await outbox.change("finding", finding("f1", "one"), { title: "one" });
  await outbox.change("finding", finding("f2", "two"), { title: "two" });
  const [first] = await outbox.nextBatch();
  equal(await outbox.acknowledge([{ op_id: first.op_id, status: "applied", version: 3 }, { op_id: "not-ours", status: "applied" }]), 1,
    "ops removed");
  deepEqual(await seqs(), [2]);
  deepEqual(await db.get("findings", "f1"), { id: "f1", title: "one", server_version: 3, _pending: false });
  equal((await db.get("findings", "f2"))._pending, true, "still waiting");
  equal(await outbox.acknowledge([]), 0);
});

test("a rejected op, or the duplicate of one whose answer was lost, is listed under attention", async () => {
  await outbox.change("finding", finding("f1", "one"), { title: "one" });
  await outbox.change("finding", finding("f2", "two"), { title: "two" });
  const [a, b] = await outbox.nextBatch();
  await outbox.acknowledge([
    { op_id: a.op_id, status: "rejected", reason: "area is not yours", fields: { area_id: ["not yours"] } },
    { op_id: b.op_id, status: "duplicate", original_status: "rejected", reason: "closed" },
  ]);
  deepEqual(await seqs(), [], "a rejected op still leaves the queue");
  const attention = await outbox.attention();
  deepEqual(attention.map((x) => [x.op_id, x.entity, x.id, x.status, x.reason, x.errors]).sort(), [
    [a.op_id, "finding", "f1", "rejected", "area is not yours", { area_id: ["not yours"] }],
    [b.op_id, "finding", "f2", "rejected", "closed", null],
  ].sort());
  equal((await db.get("findings", "f1"))._rejected, "area is not yours");
  await outbox.dismiss(a.op_id);
  deepEqual((await outbox.attention()).map((x) => x.op_id), [b.op_id]);
});

test("a reset drops what came from the server but keeps queued edits and refused own work", async () => {
  await outbox.receiveMany([{ entity: "finding", record: { id: "f0", title: "from the server", version: 2 } }]);
  await outbox.change("finding", finding("f1", "refused"), { title: "refused" });
  const [sent] = await outbox.nextBatch();
  await outbox.acknowledge([{ op_id: sent.op_id, status: "rejected", reason: "area is not yours" }]);
  await outbox.change("finding", finding("f2", "queued"), { title: "queued" });
  await outbox.dropReceived();
  deepEqual((await db.getAll("findings")).map((f) => f.id).sort(), ["f1", "f2"]);
  equal((await db.get("findings", "f1"))._rejected, "area is not yours", "still shown as not accepted");
});

test("a conflict keeps both values under attention; an applied duplicate does not", async () => {
  await outbox.change("finding", finding("f1", "one"), { title: "one" });
  await outbox.change("finding", finding("f2", "two"), { title: "two" });
  const [a, b] = await outbox.nextBatch();
  const conflicts = [{ field: "title", server_value: "server", device_value: "one" }];
  await outbox.acknowledge([
    { op_id: a.op_id, status: "conflict", version: 5, conflicts },
    { op_id: b.op_id, status: "duplicate", version: 2 },
  ]);
  const attention = await outbox.attention();
  deepEqual(attention.map((x) => [x.op_id, x.status, x.conflicts]), [[a.op_id, "conflict", conflicts]]);
  equal((await db.get("findings", "f2")).server_version, 2);
});

test("a server copy that arrives while edits are queued waits, and replaces the record once they are answered", async () => {
  await outbox.change("finding", finding("f1", "mine"), { title: "mine" });
  await outbox.receiveMany([{ entity: "finding", record: { id: "f1", title: "reviewed", status: "closed", version: 6 } }]);
  equal((await db.get("findings", "f1")).title, "mine", "local edits still on view");
  const [op] = await outbox.nextBatch();
  await outbox.acknowledge([{ op_id: op.op_id, status: "applied", version: 5 }]);
  deepEqual(await db.get("findings", "f1"),
    { id: "f1", title: "reviewed", status: "closed", version: 6, server_version: 6, _pending: false });
});

test("a server copy older than the answer is dropped; a waiting tombstone removes the record", async () => {
  await outbox.change("finding", finding("f1", "mine"), { title: "mine" });
  await outbox.change("finding", finding("f2", "gone"), { title: "gone" });
  await outbox.receiveMany([{ entity: "finding", record: { id: "f1", title: "old", version: 2 } }]);
  await outbox.receiveMany([{ entity: "finding", record: { id: "f2", version: 9, _deleted: true } }]);
  const ops = await outbox.nextBatch();
  await outbox.acknowledge(ops.map((op) => ({ op_id: op.op_id, status: "applied", version: 3 })));
  deepEqual(await db.get("findings", "f1"), { id: "f1", title: "mine", server_version: 3, _pending: false });
  equal(await db.get("findings", "f2"), undefined);
});

test("a record received with nothing queued replaces the local copy; a tombstone removes it", async () => {
  await outbox.receiveMany([
    { entity: "finding", record: { id: "f1", title: "from the server", version: 2 } },
    { entity: "action", record: { id: "ca1", status: "open", version: 1 } },
  ]);
  deepEqual(await db.get("findings", "f1"), { id: "f1", title: "from the server", version: 2, server_version: 2, _pending: false });
  equal((await db.get("actions", "ca1")).status, "open");
  await outbox.receiveMany([{ entity: "finding", record: { id: "f1", version: 3, _deleted: true } }]);
  equal(await db.get("findings", "f1"), undefined);
});

test("a photo waits on the device until a saved record refers to it", async () => {
  await outbox.addPhoto({ sha256: PHOTO, bytes: new Uint8Array([1, 2]).buffer, size: 2 });
  deepEqual(await outbox.photosToUpload(), [], "held: no saved record uses it");
  deepEqual(await outbox.summary(), { ops: 0, photos: 0, bytes: 0, attention: 0, records: 0, drafts: 0 });
  await outbox.change("finding", finding("f1", "Leak"), { title: "Leak", photos: [PHOTO] });
  deepEqual(await outbox.photosToUpload(), [{ sha256: PHOTO, size: 2, attempted: false, failed: null }]);
  const s = await outbox.summary();
  deepEqual([s.ops, s.photos, s.records], [1, 1, 1], "a finding and its photo are one unsent record");
});

test("an annotated copy names its original in the first op whose record holds both", async () => {
  const COPY = "c".repeat(64);
  await outbox.addPhoto({ sha256: PHOTO, bytes: new Uint8Array([1]).buffer, size: 1 });
  await outbox.addPhoto({ sha256: COPY, bytes: new Uint8Array([2]).buffer, size: 1, annotates: PHOTO });
  const alone = await outbox.change("finding", finding("f1", "Leak"), { title: "Leak", photos: [COPY] });
  equal(alone.fields.photo_annotates, undefined, "not without its original: the server checks both are held");
  const op = await outbox.change("finding", finding("f2", "Leak"), { title: "Leak", photos: [COPY, PHOTO] });
  deepEqual(op.fields.photo_annotates, { [COPY]: PHOTO });
  deepEqual((await outbox.photosToUpload()).map((p) => p.sha256).sort(), [PHOTO, COPY].sort(), "both go up");
});

test("a submission's signature drawings are released with its op", async () => {
  const SIGNED = "d".repeat(64);
  await outbox.addPhoto({ sha256: SIGNED, bytes: new Uint8Array([1]).buffer, size: 1, type: "image/png" });
  deepEqual(await outbox.photosToUpload(), [], "held until the submission names it");
  await outbox.change("audit", { id: "a1", status: "submitted", server_version: 1 }, {
    status: "submitted", signatures: [{ role: "auditor", name: "Ada", signed_at: "2026-12-06T08:00:00Z", sha256: SIGNED }],
  });
  deepEqual((await outbox.photosToUpload()).map((p) => p.sha256), [SIGNED]);
});

test("discarding photos deletes the bytes of those no record uses, and only those", async () => {
  const other = "c".repeat(64);
  await outbox.addPhoto({ sha256: PHOTO, bytes: new Uint8Array([1]).buffer, size: 1 });
  await outbox.addPhoto({ sha256: other, bytes: new Uint8Array([2]).buffer, size: 1 });
  await outbox.change("response", { id: "r1", server_version: 0 }, { photos: [other] });
  await outbox.discardPhotos([PHOTO, other]);
  equal(await outbox.photoBytes(PHOTO), undefined, "the held photo is gone");
  deepEqual((await db.getAll("photo_queue")).map((p) => p.sha256), [other]);
  ok((await outbox.photoBytes(other)).bytes, "the photo the answer uses stays");
});

test("a save made from a draft removes the draft in the same transaction", async () => {
  await db.put("drafts", { id: "finding:raise", fields: { title: "Half" } });
  equal((await outbox.summary()).drafts, 1);
  equal(await outbox.isEmpty(), false, "a draft would be lost by signing out");
  await outbox.change("finding", finding("f1", "Whole"), { title: "Whole" }, { draft: "finding:raise" });
  deepEqual(await db.getAll("drafts"), []);
});

test("photo bytes are kept until the server has them; then only the thumbnail stays", async () => {
  const bytes = new Uint8Array([255, 216, 255, 224, 1, 2, 3]).buffer;
  const thumb = new Uint8Array([9, 9]).buffer;
  await outbox.addPhoto({ sha256: PHOTO, bytes, thumb, size: 7, type: "image/jpeg", width: 4, height: 3 });
  await outbox.change("finding", finding("f1", "Leak"), { photos: [PHOTO] });
  deepEqual(await outbox.photosToUpload(), [{ sha256: PHOTO, size: 7, attempted: false, failed: null }]);
  deepEqual((await outbox.photoBytes(PHOTO)).bytes, bytes);
  await outbox.markPhotoAttempted(PHOTO);
  deepEqual(await outbox.photosToUpload(), [{ sha256: PHOTO, size: 7, attempted: true, failed: null }]);
  deepEqual((await outbox.photoBytes(PHOTO)).bytes, bytes, "an attempt is not an acknowledgement");
  await outbox.markPhotoUploaded(PHOTO);
  deepEqual(await outbox.photosToUpload(), []);
  const kept = await outbox.photoBytes(PHOTO);
  deepEqual([kept.uploaded, kept.bytes, kept.thumb], [true, null, thumb]);
});

test("a photo the server refuses keeps its bytes, stays unsent, and is listed under attention", async () => {
  const bytes = new Uint8Array([1, 2, 3]).buffer;
  await outbox.addPhoto({ sha256: PHOTO, bytes, size: 3, type: "image/jpeg" });
  await outbox.change("finding", finding("f1", "Leak"), { photos: [PHOTO] });
  const [op] = await outbox.nextBatch();
  await outbox.acknowledge([{ op_id: op.op_id, status: "applied", version: 1 }]);
  await outbox.markPhotoRefused(PHOTO, "not an image");
  deepEqual(await outbox.photosToUpload(), [], "not tried again");
  deepEqual((await outbox.photoBytes(PHOTO)).bytes, bytes, "the export can still save it");
  deepEqual((await outbox.attention()).map((x) => [x.op_id, x.entity, x.status, x.reason]),
    [[`photo:${PHOTO}`, "photo", "rejected", "not an image"]]);
  equal((await outbox.summary()).photos, 1);
  equal(await outbox.isEmpty(), false);
});

test("the summary counts unsent ops and photos, their bytes, and what needs attention", async () => {
  deepEqual(await outbox.summary(), { ops: 0, photos: 0, bytes: 0, attention: 0, records: 0, drafts: 0 });
  equal(await outbox.isEmpty(), true);
  await outbox.addPhoto({ sha256: PHOTO, bytes: new Uint8Array(1000).buffer, size: 1000 });
  await outbox.change("finding", finding("f1", "é"), { title: "é" }); // {"title":"é"} is 14 bytes in UTF-8
  await outbox.change("response", { id: "r1", server_version: 0 }, { photos: [PHOTO] }); // 79 bytes
  deepEqual(await outbox.summary(), { ops: 2, photos: 1, bytes: 1093, attention: 0, records: 2, drafts: 0 });
  const [, second] = await outbox.nextBatch();
  await outbox.acknowledge([{ op_id: second.op_id, status: "applied", version: 1 }]);
  equal((await outbox.summary()).records, 2, "the answer is sent, its photo not yet: still unsent");
  equal(await outbox.isEmpty(), false);
  const [op] = await outbox.nextBatch();
  await outbox.acknowledge([{ op_id: op.op_id, status: "rejected", reason: "no" }]);
  await outbox.markPhotoUploaded(PHOTO);
  deepEqual(await outbox.summary(), { ops: 0, photos: 0, bytes: 0, attention: 1, records: 0, drafts: 0 });
  equal(await outbox.isEmpty(), true, "attention items are not unsent work");
});

test("the device id is made once and kept", async () => {
  const id = await outbox.deviceId();
  ok(/^[0-9a-f-]{36}$/.test(id), id);
  equal(await outbox.deviceId(), id);
  equal(await db.getMeta("device_id"), id);
});

test("the export of unsent data carries the ops, the photo bytes and what needs attention", async () => {
  await db.setMeta("user", { id: "u1", email: "staff@example.test" });
  const device = await outbox.deviceId();
  const op = await outbox.change("finding", finding("f1", "Spill"), { title: "Spill" });
  await outbox.addPhoto({ sha256: PHOTO, bytes: new Uint8Array([104, 105]).buffer, size: 2, type: "image/png", width: 1, height: 1, taken_at: "2026-12-01T10:00:00Z" });
  await outbox.markPhotoRefused("b".repeat(64), "never queued"); // nothing to refuse: no entry
  const out = await outbox.exportUnsent();
  equal(out.device_id, device);
  deepEqual(out.user, { id: "u1", email: "staff@example.test" });
  deepEqual(out.ops, [{ op_id: op.op_id, seq: 1, entity: "finding", id: "f1", base_version: 0, fields: { title: "Spill" }, at: op.at }]);
  deepEqual(out.photos, [{ sha256: PHOTO, type: "image/png", width: 1, height: 1, taken_at: "2026-12-01T10:00:00Z", bytes_base64: "aGk=" }]);
  deepEqual(out.needs_attention, []);
  ok(!Number.isNaN(Date.parse(out.exported_at)));
});
