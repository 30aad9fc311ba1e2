// When the screen is drawn, and when it is left alone.
//
// Draws happen one at a time, in the order they were asked for. Navigation (a new route,
// or a screen asking to be drawn again) always draws. Data arriving (a sync, a save)
// redraws only a "live" screen - a list, the sync screen - and only while it is still the
// one on view: a form is never drawn again under the person filling it in, and a live list
// they are typing into (a note on "Mark done"), or pressing (a tap on a link, which a redraw
// between finger down and up would swallow), waits until they have moved on.
//
// Each rule here once was a bug; tests/e2e/modules/test-render.mjs holds one test for each.
// The module knows nothing of the DOM or the screens: it is given a draw function, the
// route, a "typing" probe and a clock.

/** How long data changes are gathered before one redraw. */
export const DATA_DELAY_MS = 50;
/** How often a live screen being typed into is looked at again. */
export const TYPING_RECHECK_MS = 1000;

/**
 * Make the scheduler for one screen.
 *
 * @param {object} parts
 * @param {(route: string) => Promise<"live"|"form">} parts.draw draws the screen for
 *   `route` and resolves with its kind: "live" follows the data, "form" is left alone
 * @param {() => (Promise<unknown>|void)} parts.frame refreshes what surrounds the screen
 *   (badge, banners) when data changed but the screen itself is left alone
 * @param {() => boolean} parts.typing whether the person is typing into (or pressing on)
 *   the screen on view
 * @param {() => string} [parts.route] the route now in the address bar
 * @param {{setTimeout: Function, clearTimeout: Function}} [parts.clock] timers
 */
export function createScheduler({
  draw, frame, typing, route = () => location.hash, clock = globalThis,
}) {
  let queue = Promise.resolve();
  let saves = Promise.resolve();
  let asked = null; // the route the latest navigation draw was asked for
  let onView = { route: null, kind: "form" }; // what the latest finished draw shows
  let timer = null;

  function enqueue(step) {
    queue = queue.then(step, step);
    return queue;
  }

  async function drawRoute() {
    // Saves begun before this draw land first: a tap on "Review and submit" right after
    // typing an answer (saved on blur) must see that answer.
    await saves;
    const shown = route();
    let kind = "form"; // a draw that failed half-way is not redrawn over
    try {
      kind = await draw(shown);
    } finally {
      onView = { route: shown, kind };
    }
  }

  // Decided when its turn in the queue comes, so after any draw asked for earlier: the
  // person may have moved on since the data changed.
  function redrawIfLive() {
    if (onView.kind !== "live" || onView.route !== route()) return frame();
    if (typing()) {
      frame();
      later(TYPING_RECHECK_MS);
      return undefined;
    }
    return drawRoute();
  }

  function later(ms) {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = null;
      enqueue(redrawIfLive);
    }, ms);
  }

  /**
   * Draw the screen for the current route, after the draws already asked for.
   * @returns {Promise<void>} settles once this draw is done (rejects if it failed)
   */
  function render() {
    asked = route();
    return enqueue(drawRoute);
  }

  return {
    render,

    /**
     * The route changed (the hashchange event): draw it, unless a draw was already asked
     * for this route - code that sets the route and then renders must not get a second
     * draw from the event, which would wipe a form the person has begun to fill in.
     * @returns {Promise<void>|null} the draw, or null when none was needed
     */
    routeChanged() {
      return route() === asked ? null : render();
    },

    /**
     * Data changed: redraw the live screen on view shortly (changes that come close
     * together give one redraw); a form, or a screen the person has left, only gets its
     * frame refreshed; a live screen being typed into is looked at again a second later.
     */
    dataChanged() {
      later(DATA_DELAY_MS);
    },

    /**
     * Run `work` after the saves already begun; draws asked for from now on wait for it.
     * @template T
     * @param {() => Promise<T>} work
     * @returns {Promise<T>} what `work` resolves with
     */
    saving(work) {
      const done = saves.then(work);
      saves = done.catch(() => {});
      return done;
    },

    /**
     * Settle once every draw asked for so far is done.
     * @returns {Promise<void>}
     */
    idle() {
      return queue.then(() => {}, () => {});
    },
  };
}
