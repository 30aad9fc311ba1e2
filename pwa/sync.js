// Talks to the server: sign-in, bootstrap, /api/sync push and pull, /api/photos.
//
// The server is never trusted to answer: only a 2xx carrying a result for an op removes
// that op; network errors and 5xx are retried with capped exponential backoff and
// jitter; a 401 pauses everything until the person signs in again. A 401 whose code is
// `account_disabled` (the person was deactivated) says so, and stops: the work on the
// device can still be exported, and nothing is retried in a loop.

import * as db from "./db.js";
import * as outbox from "./outbox.js";

export const events = new EventTarget();
const channel = "BroadcastChannel" in self ? new BroadcastChannel("gemba-sync") : null;

const BACKOFF_BASE_MS = 2000;
const BACKOFF_CAP_MS = 5 * 60 * 1000;
const REGULAR_MS = 60 * 1000;
const SOON_MS = 1500;
const PULL_LIMIT = 200;
const SNAPSHOT_LIMIT = 500;
const UPLOADS_AT_ONCE = 2;

export const state = {
  running: false,
  paused: false, // the session expired: waiting for a sign-in
  disabled: null, // ...because the account was deactivated: the server's message saying so
  failures: 0,
  lastError: null,
  lastSuccess: null,
  nextAt: null,
  progress: null,
};

function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

function setState(changes) {
  Object.assign(state, changes);
  emit("status", state);
}

class HttpError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `The server answered ${status}.`);
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

class NetworkError extends Error {}

async function request(method, path, { json, body, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (!["GET", "HEAD"].includes(method)) {
    const token = await db.getMeta("csrf_token");
    if (token) init.headers["X-CSRFToken"] = token;
  }
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new NetworkError("No connection to the server.");
  }
  if (method === "HEAD") return response;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { data = await response.json(); } catch (error) { throw new NetworkError("The answer was cut off."); }
  }
  if (!response.ok) throw new HttpError(response.status, data);
  return data;
}

/** Call the API; a stale CSRF token (the session was renewed) is refreshed once. */
async function api(method, path, options) {
  try {
    return await request(method, path, options);
  } catch (error) {
    if (error instanceof HttpError && error.status === 400 && error.code === "csrf") {
      const boot = await request("GET", "/api/bootstrap");
      await db.setMeta("csrf_token", boot.csrf_token);
      return request(method, path, options);
    }
    throw error;
  }
}

export async function signIn(email, password) {
  const session = await request("POST", "/api/auth/login", { json: { email, password } });
  const previous = await db.getMeta("user");
  if (previous && previous.id !== session.user.id && !(await outbox.isEmpty())) {
    await request("POST", "/api/auth/logout", { headers: { "X-CSRFToken": session.csrf_token } });
    throw new Error(`${previous.email} still has unsent work on this device. Sign in as ${previous.email}, or export it first.`);
  }
  if (previous && previous.id !== session.user.id) await db.wipe();
  await db.setMeta("csrf_token", session.csrf_token);
  await bootstrap();
  setState({ paused: false, disabled: null, failures: 0, lastError: null });
  return session.user;
}

/** Fetch what the device needs before it goes offline. */
export async function bootstrap() {
  const boot = await api("GET", "/api/bootstrap");
  await db.write(["meta", "areas", "templates"], async (s) => {
    await s.meta.put({ key: "user", value: boot.user });
    await s.meta.put({ key: "csrf_token", value: boot.csrf_token });
    await s.meta.put({ key: "server_time", value: boot.server_time });
    await s.areas.clear();
    for (const area of boot.areas || []) await s.areas.put(area);
    for (const template of boot.templates || []) await s.templates.put(template);
  });
  await db.setMeta("bootstrapped_at", Date.now());
  await outbox.deviceId();
  emit("data");
  return boot;
}

const BOOTSTRAP_STALE_MS = 15 * 60 * 1000;

/** Who I am and which areas there are change now and then (a new home area): look again
 * when the person or the network wakes the sync, and at least every quarter of an hour. */
async function refreshBootstrap(reason) {
  if (reason === "signed-in") return; // signing in just fetched it
  const age = Date.now() - ((await db.getMeta("bootstrapped_at")) || 0);
  if (reason !== "timer" || age > BOOTSTRAP_STALE_MS) await bootstrap();
}

/** Sign out; refused while anything is still only on this device. */
export async function signOut() {
  if (!(await outbox.isEmpty())) throw new Error("Some work is not sent yet. Sync (or export it) before signing out.");
  try { await api("POST", "/api/auth/logout"); } catch (error) { if (!(error instanceof HttpError)) throw error; }
  await db.wipe();
  setState({ paused: false, disabled: null, lastSuccess: null, lastError: null });
}

function bytesOf(value) {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

async function push(progress) {
  const device_id = await outbox.deviceId();
  for (;;) {
    const ops = await outbox.nextBatch();
    if (!ops.length) return;
    const answer = await api("POST", "/api/sync/push", { json: { device_id, ops } });
    if (!answer || !Array.isArray(answer.results)) throw new HttpError(502, null);
    const removed = await outbox.acknowledge(answer.results);
    progress.opsDone += removed;
    progress.bytesDone += bytesOf(ops.slice(0, removed));
    emit("progress", progress);
    emit("data");
    if (!removed) throw new Error(`The server stopped before op ${ops[0].seq} (it has up to ${answer.last_seq}).`);
  }
}

// Photos go up in parts (`/api/photos/<sha>/upload`, Content-Range): a connection cut at
// 90 % resumes from the bytes the server holds, resending at most the part in flight.
const PART_BYTES = 256 * 1024;

/** Send `bytes` from where the server's part ends (asked only when `resuming`: a first
 * attempt starts at 0, and a 409 says if the server holds more); resolves once stored. */
async function sendInParts(sha256, bytes, type, resuming) {
  const path = `/api/photos/${sha256}/upload`;
  const total = bytes.byteLength;
  let offset = resuming ? await heldBytes(path) : 0;
  for (;;) {
    if (!(offset >= 0 && offset <= total)) offset = 0;
    const end = Math.min(total, offset + PART_BYTES);
    const range = end > offset ? `bytes ${offset}-${end - 1}/${total}` : `bytes */${total}`;
    let answer;
    try {
      answer = await api("PUT", path, { body: bytes.subarray(offset, end), headers: { "Content-Type": type, "Content-Range": range } });
    } catch (error) {
      // The part did not start where the server's ends (an answer was lost): ask, go on from there.
      if (error instanceof HttpError && error.code === "upload_offset") { offset = await heldBytes(path); continue; }
      throw error;
    }
    if (answer && answer.sha256) return; // the last part: the whole checked and stored
    if (!answer || typeof answer.received !== "number" || answer.received <= offset) throw new HttpError(502, null);
    offset = answer.received; // 202: part kept
  }
}

async function heldBytes(path) {
  const head = await request("HEAD", path);
  if (head.status === 401) throw new HttpError(401, null);
  return head.ok ? Number(head.headers.get("Upload-Offset") || 0) : 0;
}

async function uploadPhoto(queued, progress) {
  const path = `/api/photos/${queued.sha256}`;
  const photo = await outbox.photoBytes(queued.sha256);
  if (!photo || !photo.bytes) { await outbox.markPhotoUploaded(queued.sha256); return; }
  if (queued.attempted) {
    // An earlier upload may have arrived without us hearing back.
    const head = await request("HEAD", path);
    if (head.ok) { await outbox.markPhotoUploaded(photo.sha256); return; }
    if (head.status === 401) throw new HttpError(401, null);
  }
  await outbox.markPhotoAttempted(photo.sha256);
  try {
    await sendInParts(photo.sha256, new Uint8Array(photo.bytes), photo.type || "image/jpeg", !!queued.attempted);
  } catch (error) {
    if (error instanceof HttpError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 408 && error.status !== 429) {
      await outbox.markPhotoRefused(photo.sha256, error.message);
      return;
    }
    throw error;
  }
  await outbox.markPhotoUploaded(photo.sha256);
  progress.photosDone += 1;
  progress.bytesDone += photo.size || 0;
  emit("progress", progress);
}

async function uploadPhotos(progress) {
  const queue = await outbox.photosToUpload();
  let failure = null;
  const worker = async () => {
    while (queue.length && !failure) {
      const photo = queue.shift();
      try { await uploadPhoto(photo, progress); } catch (error) { failure = failure || error; }
    }
  };
  await Promise.all(Array.from({ length: UPLOADS_AT_ONCE }, worker));
  if (failure) throw failure;
}

function recordOf(change) {
  return { ...(change.fields || {}), id: change.id, version: change.version, _deleted: !!change.deleted };
}

async function receive(changes) {
  const items = [];
  const templates = [];
  for (const change of changes || []) {
    const record = recordOf(change);
    if (change.entity === "template") templates.push(record);
    else if (change.entity === "comment") {
      record.subject = record.audit_id ? `audit:${record.audit_id}` : `finding:${record.finding_id}`;
      items.push({ entity: "comment", record });
    } else if (outbox.STORE_OF[change.entity]) items.push({ entity: change.entity, record });
  }
  if (items.length) await outbox.receiveMany(items);
  if (templates.length) {
    await db.write(["templates"], async (s) => {
      for (const t of templates) {
        if (t._deleted) await s.templates.delete(t.id);
        else await s.templates.put(t);
      }
    });
  }
  if (items.length || templates.length) emit("data");
}

// A device without a cursor takes a snapshot of what its person may see now, in pages;
// the page token is kept so that an interrupted first sync resumes where it stopped.
async function snapshot() {
  let token = await db.getMeta("snapshot_token");
  for (;;) {
    const query = new URLSearchParams({ limit: String(SNAPSHOT_LIMIT) });
    if (token) query.set("token", token);
    const page = await api("GET", `/api/sync/snapshot?${query}`);
    await receive(page.changes);
    if (!page.more) {
      await db.setMeta("scope", page.scope);
      await db.setMeta("cursor", page.cursor);
      await db.setMeta("snapshot_token", null);
      return;
    }
    token = page.token;
    await db.setMeta("snapshot_token", token);
  }
}

async function pull() {
  let cursor = await db.getMeta("cursor");
  if (cursor === null || cursor === undefined) {
    await snapshot();
    cursor = await db.getMeta("cursor");
  }
  for (;;) {
    const scope = await db.getMeta("scope");
    const query = new URLSearchParams({ limit: String(PULL_LIMIT), cursor: String(cursor) });
    if (scope) query.set("scope", scope);
    const page = await api("GET", `/api/sync/pull?${query}`);
    if (page.reset) {
      // What decides this person's records changed (a site taken away, a new role):
      // drop what came from the server (queued edits stay) and take a new snapshot.
      await outbox.dropReceived();
      await db.setMeta("cursor", null);
      await snapshot();
      cursor = await db.getMeta("cursor");
      emit("data");
      continue;
    }
    await receive(page.changes);
    cursor = page.cursor;
    await db.setMeta("cursor", cursor);
    if (!scope && page.scope) await db.setMeta("scope", page.scope); // a device from before snapshots
    if (!page.more) return;
  }
}

async function runOnce(reason) {
  await refreshBootstrap(reason);
  const before = await outbox.summary();
  const progress = {
    opsTotal: before.ops, opsDone: 0, photosTotal: before.photos, photosDone: 0,
    bytesTotal: before.bytes, bytesDone: 0,
  };
  setState({ progress });
  await push(progress);
  await uploadPhotos(progress);
  await push(progress); // anything queued while photos went up
  await pull();
}

let timer = null;
let changedWhileRunning = false; // a change saved during a sync goes out right after it

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(() => syncNow("timer"), ms);
  setState({ nextAt: Date.now() + ms });
}

function backoff(failures) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

async function withSyncLock(work) {
  // One sync at a time across tabs of this app; a tab that finds it taken just skips.
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request("gemba-sync", { ifAvailable: true }, (lock) => (lock ? work() : "busy"));
  }
  return work();
}

/** Sync now (unless a sync is running here or in another tab); never throws. */
export async function syncNow(reason = "button") {
  if (state.running) return "busy";
  if (!(await db.getMeta("user"))) return "signed-out";
  if (state.paused) return "paused";
  if (!navigator.onLine) {
    setState({ lastError: "Offline: changes wait on this device.", nextAt: null });
    return "offline";
  }
  clearTimeout(timer);
  setState({ running: true, lastError: null, reason });
  changedWhileRunning = false;
  const outcome = await withSyncLock(async () => {
    try {
      await runOnce(reason);
      const now = new Date().toISOString();
      await db.setMeta("last_success", now);
      setState({ failures: 0, lastSuccess: now, progress: null });
      if (channel) channel.postMessage({ type: "synced" });
      return "ok";
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        const disabled = error.code === "account_disabled" ? error.message : null;
        setState({ paused: true, disabled, nextAt: null,
          lastError: disabled || "Your session has expired. Sign in to resume syncing." });
        return "paused";
      }
      const failures = state.failures + 1;
      const message = error instanceof HttpError && error.status >= 500
        ? `The server had a problem (${error.status}); retrying.`
        : error.message;
      setState({ failures, lastError: message });
      return "failed";
    }
  });
  setState({ running: false });
  if (outcome === "ok") schedule(changedWhileRunning ? SOON_MS : REGULAR_MS);
  else if (outcome === "failed") schedule(backoff(state.failures));
  else if (outcome === "busy") schedule(5000);
  emit("data");
  return outcome;
}

/** Ask for a sync soon after a local change, when there is a network. */
export function soon() {
  if (!navigator.onLine || state.paused || state.failures > 0) return; // the backoff timer is already set
  if (state.running) changedWhileRunning = true; // the running sync may have pushed before this change
  else schedule(SOON_MS);
}

/** Start syncing: now, when the network returns, when the app becomes visible. */
export async function start() {
  state.lastSuccess = await db.getMeta("last_success");
  addEventListener("online", () => syncNow("online"));
  addEventListener("offline", () => setState({ lastError: "Offline: changes wait on this device." }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") syncNow("visible");
  });
  if (channel) channel.onmessage = () => emit("data");
  syncNow("start");
}

/** After signing in again: resume where the expired session left off. */
export function resume() {
  setState({ paused: false, disabled: null, failures: 0, lastError: null });
  return syncNow("resume");
}
