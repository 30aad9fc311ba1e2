// documents.js: which documents ask the person, which apply in an area, acknowledging
// once through the outbox (offline), and the per-device budget for pinned files.
import { deepEqual, equal, ok, rejects, test } from "./harness.mjs";

const me = { id: "u1", role: "staff", home_area_id: "area-1" };
const doc = (id, current = {}, where = {}) => ({
  id, number: `WI-${id}`, title: `Doc ${id}`, type: "work_instruction", area_ids: [], site_ids: [], version: 1, ...where,
  current: { id: `rev-${id}`, rev: 1, sha256: "0".repeat(64), byte_size: 1000, ack_roles: [], ack_area_ids: [], ...current },
});

async function seeded(docs) {
  const db = await import("/app/db.js");
  await db.setMeta("user", me);
  await db.write(["documents", "areas"], async (s) => {
    for (const d of docs) await s.documents.put(d);
    await s.areas.put({ id: "area-1", name: "Assembly", site: "Plant", site_id: "site-1" });
  });
  return { db, documents: await import("/app/documents.js"), outbox: await import("/app/outbox.js") };
}

test("a revision asks by role or by home area", async () => {
  const { documents } = await seeded([]);
  ok(documents.asks(doc("1", { ack_roles: ["staff"] }), me));
  ok(documents.asks(doc("2", { ack_area_ids: ["area-1"] }), me));
  ok(!documents.asks(doc("3", { ack_area_ids: ["area-2"], ack_roles: ["auditor"] }), me));
  ok(!documents.asks(doc("4"), me));
});

test("a document applies in its areas, in the areas of its sites, and everywhere when it names none", async () => {
  const { documents } = await seeded([]);
  const area = { id: "area-1", site_id: "site-1" };
  ok(documents.appliesIn(doc("1"), area), "no place named");
  ok(documents.appliesIn(doc("2", {}, { area_ids: ["area-1"] }), area));
  ok(documents.appliesIn(doc("3", {}, { site_ids: ["site-1"] }), area));
  ok(!documents.appliesIn(doc("4", {}, { area_ids: ["area-9"], site_ids: ["site-9"] }), area));
});

test("acknowledging queues one op, offline, and a second tap adds nothing", async () => {
  const { db, documents } = await seeded([doc("1", { ack_area_ids: ["area-1"] })]);
  equal(await documents.pendingCount(), 1);
  const [asked] = (await documents.overview()).documents;
  await documents.acknowledge(asked);
  await documents.acknowledge(asked);
  const ops = await db.getAll("outbox");
  deepEqual(ops.map((o) => [o.entity, o.fields]), [["acknowledgement", { revision_id: "rev-1" }]]);
  equal(await documents.pendingCount(), 0);
  const [after] = (await documents.overview()).documents;
  ok(after.acknowledgement && after.acknowledgement._pending, "shown as waiting to sync");
});

test("a pin that would go over the device's budget is refused before anything is fetched", async () => {
  const { db, documents } = await seeded([doc("1", { byte_size: 3 * 1024 * 1024 })]);
  await db.setMeta("document_budget", 2 * 1024 * 1024);
  await db.write(["pins"], (s) => s.pins.put({ document_id: "other", size: 1024 * 1024 }));
  const [big] = (await documents.overview()).documents;
  const error = await rejects(documents.pin(big), /Unpin a document first/);
  ok(error instanceof documents.BudgetError);
  ok(/needs 3\.0 MB, but only 1\.0 MB of this device's 2\.0 MB/.test(error.message), error.message);
  deepEqual((await db.getAll("pins")).map((p) => p.document_id), ["other"]);
  equal(documents.DEFAULT_BUDGET, 50 * 1024 * 1024);
});
