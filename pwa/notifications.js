// The person's notifications, fetched after each sync and kept on the device (the meta
// store), so the screen shows them offline too. Sync itself does not carry them: they
// are the server's words to one person, not records the device edits.
import * as db from "./db.js";

const EMPTY = { notifications: [], unread: 0 };

/** Fetch the newest notifications and keep them; false when the server could not be asked. */
export async function refresh() {
  let response;
  try {
    response = await fetch("/api/notifications?limit=50", {
      credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
  } catch (error) {
    return false;
  }
  if (!response.ok) return false;
  await db.setMeta("notifications", await response.json());
  return true;
}

/** What the device last heard: {notifications, unread}. */
export async function stored() {
  return (await db.getMeta("notifications")) || EMPTY;
}

/** Mark every notification read on the server, then keep what it says now. */
export async function markAllRead() {
  const token = await db.getMeta("csrf_token");
  const response = await fetch("/api/notifications/read", {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { Accept: "application/json", "Content-Type": "application/json", ...(token ? { "X-CSRFToken": token } : {}) },
    body: "{}",
  });
  if (!response.ok) throw new Error("Could not reach the server; try again when online.");
  await refresh();
}
