// My audits: the list an auditor starts from (and the usual first screen, so it loads
// with the app rather than on demand). It draws each status group's first page and
// counts; the rest of a group, or a search over all my audits, is read when asked for.
import * as records from "../records.js";
import * as auditsView from "../views/audits.js";

// Kept across redraws (the list follows the data): what is searched and which groups
// the person opened in full.
const asked = { query: "", expanded: new Set() };

const current = () => ({ query: asked.query, expanded: new Set(asked.expanded) });
const stillAsked = (wanted) => wanted.query === asked.query && wanted.expanded.size === asked.expanded.size
  && [...wanted.expanded].every((status) => asked.expanded.has(status));

/** Read the list as the person last left it (routes.js starts this with the draw); the
 * list carries what it was read for (`asked`). */
export async function listing() {
  const wanted = current();
  const list = await records.auditList(wanted);
  return Object.assign(list, { asked: wanted });
}

/**
 * Draw my audits with their progress and reviewer comments.
 * @param {import("../app.js").App} app
 * @param {{listing?: Promise<object>}} params the audit list, when already being read
 */
export async function show(app, { listing: reading }) {
  let list = await (reading || listing());
  // A redraw whose reads began before the person searched or opened a group would draw
  // the list as it was: read again for what is asked now.
  while (!stillAsked(list.asked)) list = await listing();
  markOnce("gemba-list-read");
  let drawn = list;
  const draw = (data) => {
    drawn = data;
    auditsView.render(app.view, {
      groups: data.groups,
      stored: data.stored,
      search: asked,
      canStartAdhoc: !!data.me && data.me.role !== "staff",
      labelOf: (a) => records.auditLabel(a, data),
      commentsOf: (a) => data.comments.get(a.id) || [],
      progressOf: (a) => {
        const p = data.progress.get(a.id) || { answered: 0, total: 0 };
        return `${p.answered} of ${p.total} answered`;
      },
      // Searching or opening a group reads again; an answer that arrives after a newer
      // one was asked for is dropped.
      reread: async () => {
        const fresh = await listing();
        if (stillAsked(fresh.asked) && app.view.contains(listRoot())) draw(fresh);
      },
    });
  };
  draw(list);
  markInteractive();
  return drawn;
}

const listRoot = () => document.getElementById("audits-heading");

// The start-up benchmark reads the "gemba-interactive" mark: the audit list is drawn
// and its links answer taps (the badge in the frame may still be filling in); and
// "gemba-list-read": the list's reads from IndexedDB are done.
const markInteractive = () => markOnce("gemba-interactive");

function markOnce(name) {
  if (!performance.getEntriesByName(name).length) performance.mark(name);
}
