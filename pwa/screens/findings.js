// My findings: what became of each finding I raised, with the review conversation.
import * as records from "../records.js";
import * as findingsView from "../views/findings.js";

/**
 * Draw the findings I raised, newest first.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  const [findings, areas, comments, me] = await Promise.all([records.myFindings(), records.areas(), records.comments(), records.user()]);
  const areaOf = new Map(areas.map((a) => [a.id, a]));
  findingsView.render(app.view, {
    findings,
    kinds: records.FINDING_KINDS,
    areaOf: (f) => records.areaLabel(areaOf.get(f.area_id)),
    commentsOf: (f) => comments.filter((c) => c.finding_id === f.id),
    thumbnailOf: records.thumbnail,
    canChange: (f) => records.canChangeFinding(f, me),
    isWithdrawn: records.isWithdrawn,
  });
}
