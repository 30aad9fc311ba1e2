// My findings: what became of each finding I raised, with the review conversation. It
// draws the newest page; more, or a search over all of mine, is read when asked for.
import * as records from "../records.js";
import * as findingsView from "../views/findings.js";

// Kept across redraws (the list follows the data).
const asked = { query: "", limit: records.FINDING_PAGE };

/**
 * Draw the findings I raised, newest first.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  const draw = (data) => findingsView.render(app.view, {
    findings: data.findings,
    total: data.total,
    stored: data.stored,
    search: asked,
    kinds: records.FINDING_KINDS,
    areaOf: (f) => records.areaLabel(data.areas.get(f.area_id)),
    commentsOf: (f) => data.comments.get(f.id) || [],
    thumbnailOf: records.thumbnail,
    canChange: (f) => records.canChangeFinding(f, data.me),
    isWithdrawn: records.isWithdrawn,
    more: () => { asked.limit += records.FINDING_PAGE; reread(); },
    reread: () => reread(),
  });
  // Searching or asking for more reads again; an answer overtaken by a newer ask is dropped.
  const reread = async () => {
    const wanted = { ...asked };
    const fresh = await records.findingList(wanted);
    if (wanted.query === asked.query && wanted.limit === asked.limit && document.getElementById("findings-heading")) draw(fresh);
  };
  draw(await records.findingList(asked));
}
