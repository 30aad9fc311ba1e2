// How much room the browser gives this app, and asking it to keep our data: unsent work
// lives only here, so the person is warned before the browser runs out of space.

const LOW_STORAGE_BYTES = 50 * 1024 * 1024;

/**
 * Read the storage estimate.
 * @returns {Promise<{storage: object|null, lowStorage: {free: number}|null}>} usage, quota
 *   and persistence, and how much is free when that is running low
 */
export async function check() {
  if (!navigator.storage || !navigator.storage.estimate) return { storage: null, lowStorage: null };
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  const free = quota - usage;
  const low = quota && (free < LOW_STORAGE_BYTES || usage / quota > 0.9);
  return { storage: { usage, quota, persisted }, lowStorage: low ? { free } : null };
}

/** Ask the browser not to evict our data under pressure (it decides), then read the estimate. */
export async function persist() {
  if (navigator.storage && navigator.storage.persist) {
    try { await navigator.storage.persist(); } catch (e) { /* the browser decides */ }
  }
  return check();
}
