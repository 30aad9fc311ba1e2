// Controlled documents on the device: the current documents that apply to the person
// (pulled), which of them ask for "read and understood", acknowledging (through the
// outbox, offline too), and the files pinned for offline use within a per-device budget.

import * as db from "./db.js";
import * as outbox from "./outbox.js";

export const DEFAULT_BUDGET = 50 * 1024 * 1024;

export class BudgetError extends Error {}

/** The bytes this device may keep for pinned documents. */
export const budget = async () => (await db.getMeta("document_budget")) || DEFAULT_BUDGET;

/** Whether `doc`'s current revision asks `me` to read and understand it. */
export function asks(doc, me) {
  const current = doc && doc.current;
  if (!current || !me) return false;
  return (current.ack_roles || []).includes(me.role)
    || (!!me.home_area_id && (current.ack_area_ids || []).includes(String(me.home_area_id)));
}

/** Whether `doc` applies in `area` (a document naming no place applies everywhere). */
export function appliesIn(doc, area) {
  if (!area) return true;
  const areas = doc.area_ids || [];
  const sites = doc.site_ids || [];
  if (!areas.length && !sites.length) return true;
  return areas.includes(String(area.id)) || (!!area.site_id && sites.includes(String(area.site_id)));
}

/** Everything the documents screen shows, read in one transaction. */
export async function overview() {
  const data = await db.read(["meta", "documents", "acknowledgements", "pins", "areas"], async (s) => {
    const [me, docs, acks, pins, areas, budgetRow] = await Promise.all([
      s.meta.get("user"), s.documents.getAll(), s.acknowledgements.getAll(), s.pins.getAll(), s.areas.getAll(),
      s.meta.get("document_budget"),
    ]);
    return { me: me && me.value, docs, acks, pins, areas, budget: (budgetRow && budgetRow.value) || DEFAULT_BUDGET };
  });
  const acknowledged = new Map(data.acks.map((a) => [a.revision_id, a]));
  const pins = new Map(data.pins.map((p) => [p.document_id, p]));
  const documents = data.docs.filter((d) => d.current)
    .sort((a, b) => String(a.number).localeCompare(String(b.number)))
    .map((d) => ({
      ...d,
      asked: asks(d, data.me),
      acknowledgement: acknowledged.get(d.current.id) || null,
      pin: pins.get(d.id) || null,
    }));
  const used = data.pins.reduce((n, p) => n + (p.size || 0), 0);
  return { me: data.me, documents, areas: data.areas, used, budget: data.budget };
}

/** How many current revisions ask the person and are not acknowledged yet (the badge). */
export async function pendingCount() {
  // Drawn with every frame: read only what decides it (no pins, no areas).
  const { me, docs, acks } = await db.read(["meta", "documents", "acknowledgements"], async (s) => {
    const [row, all, done] = await Promise.all([s.meta.get("user"), s.documents.getAll(), s.acknowledgements.getAll()]);
    return { me: row && row.value, docs: all, acks: done };
  });
  const acknowledged = new Set(acks.map((a) => a.revision_id));
  return docs.filter((d) => asks(d, me) && !acknowledged.has(d.current.id)).length;
}

/** Say "read and understood" for `doc`'s current revision: saved here, sent with the next sync. */
export async function acknowledge(doc) {
  const me = await db.getMeta("user");
  const existing = await db.byIndex("acknowledgements", "revision_id", doc.current.id);
  if (existing.length) return existing[0];
  const record = {
    id: outbox.uuid(), revision_id: doc.current.id, document_id: doc.id, user_id: me && me.id,
    acknowledged_at: new Date().toISOString(), server_version: 0,
  };
  await outbox.change("acknowledgement", record, { revision_id: doc.current.id });
  return record;
}

/** Raise a finding that `doc`'s current revision is out of date, in `areaId`: sent with the
 * next sync; approving its corrective action starts the document's next revision. */
export async function reportOutOfDate(doc, areaId, what) {
  if (!areaId) throw new Error("Choose the area where the document is out of date.");
  const text = String(what || "").trim();
  if (!text) throw new Error("Say in a line what is out of date.");
  const records = await import("./records.js");
  return records.raiseFinding({
    kind: "observation", title: `${doc.number} rev ${doc.current.rev} is out of date`.slice(0, 200), description: text,
    area_id: areaId, document_revision_id: doc.current.id, document_outdated: true,
  });
}

/** The current documents on this device a finding may cite, by number. */
export async function citable() {
  return (await db.getAll("documents")).filter((d) => d.current)
    .sort((a, b) => String(a.number).localeCompare(String(b.number)));
}

const fileUrl = (doc) => `/api/documents/${doc.id}/revisions/${doc.current.rev}/file`;

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Keep `doc`'s current file on this device. :throws BudgetError when it would not fit in
 * the budget (nothing is downloaded), Error when offline or the server refuses.
 */
export async function pin(doc) {
  const { used, budget: limit, documents } = await overview();
  const held = documents.find((d) => d.id === doc.id);
  const freed = held && held.pin ? held.pin.size || 0 : 0;
  const size = doc.current.byte_size || 0;
  if (used - freed + size > limit) {
    throw new BudgetError(`Pinning ${doc.number} needs ${mb(size)}, but only ${mb(Math.max(0, limit - used + freed))} `
      + `of this device's ${mb(limit)} for documents is free. Unpin a document first.`);
  }
  let response;
  try {
    response = await fetch(fileUrl(doc), { credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new Error("No connection: a document can be pinned only while online.");
  }
  if (!response.ok) throw new Error(`The server answered ${response.status}; the document was not pinned.`);
  const bytes = await response.arrayBuffer();
  const sha = await sha256Hex(bytes);
  if (sha !== doc.current.sha256) throw new Error("The file arrived damaged; try again.");
  await db.write(["pins", "pin_bytes"], async (s) => {
    await s.pins.put({
      document_id: doc.id, revision_id: doc.current.id, rev: doc.current.rev, sha256: sha, size: bytes.byteLength,
      content_type: doc.current.content_type, file_name: doc.current.file_name, pinned_at: new Date().toISOString(),
    });
    await s.pin_bytes.put({ document_id: doc.id, bytes });
  });
}

export const unpin = (documentId) => db.write(["pins", "pin_bytes"], async (s) => {
  await s.pins.delete(documentId);
  await s.pin_bytes.delete(documentId);
});

/** A pinned file as a Blob, or null when it is not on this device. */
export async function pinnedFile(documentId) {
  const [row, stored] = await db.read(["pins", "pin_bytes"], (s) => Promise.all([s.pins.get(documentId), s.pin_bytes.get(documentId)]));
  return row && stored ? new Blob([stored.bytes], { type: row.content_type || "application/octet-stream" }) : null;
}

/** Pins of revisions since superseded are fetched again (online), those of documents
 * no longer held are dropped. Answers how many changed. */
export async function refreshPins() {
  const { documents } = await overview();
  const byId = new Map(documents.map((d) => [d.id, d]));
  let changed = 0;
  for (const row of await db.getAll("pins")) {
    const doc = byId.get(row.document_id);
    if (!doc) { await unpin(row.document_id); changed += 1; continue; }
    if (doc.current.id !== row.revision_id && navigator.onLine) {
      try { await pin(doc); changed += 1; } catch (error) { /* kept as it was; the screen says it is old */ }
    }
  }
  return changed;
}

export function mb(n) {
  return `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MB`;
}
