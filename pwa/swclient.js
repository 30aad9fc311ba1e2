// The page's side of the service worker: registering it, telling the app when the shell
// is cached (offline ready) and when a new version waits, and switching to that version
// only when the person asks.

let registration = null;
let updateRequested = false;

/**
 * Register the worker for /app/.
 * @param {object} on
 * @param {() => void} on.updateReady a new version is installed and waits for a reload
 * @param {() => void} on.offlineReady the shell is cached: the next start needs no network
 * @returns {Promise<boolean>} whether the app is ready to start offline
 */
export async function register({ updateReady, offlineReady }) {
  if (!("serviceWorker" in navigator)) return false;
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only the worker taking over at the person's request reloads the page.
    if (updateRequested && !reloading) { reloading = true; location.reload(); }
  });
  try {
    registration = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    if (registration.waiting && navigator.serviceWorker.controller) updateReady();
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) updateReady();
      });
    });
    // Look for a new version when the app comes back to the foreground.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && navigator.onLine) registration.update().catch(() => {});
    });
    await navigator.serviceWorker.ready;
    offlineReady();
    return true;
  } catch (e) {
    return false;
  }
}

/** Switch to the waiting version (the page reloads once it has taken over). */
export function applyUpdate() {
  updateRequested = true;
  const waiting = registration && registration.waiting;
  if (waiting) waiting.postMessage({ type: "skip-waiting" });
  else location.reload();
}
