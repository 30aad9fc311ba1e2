// My audits: the list an auditor starts from (and the usual first screen, so it loads
// with the app rather than on demand).
import * as records from "../records.js";
import * as auditsView from "../views/audits.js";

/**
 * Draw my audits with their progress and reviewer comments.
 * @param {import("../app.js").App} app
 * @param {{listing?: Promise<object>}} params the audit list, when already being read
 */
export async function show(app, { listing }) {
  const { me, audits, templates, areas, responses, comments } = await (listing || records.auditList());
  const templateOf = new Map(templates.map((t) => [t.id, t]));
  const areaOf = new Map(areas.map((a) => [a.id, a]));
  auditsView.render(app.view, {
    audits,
    canStartAdhoc: !!me && me.role !== "staff",
    labelOf: (a) => `${(templateOf.get(a.template_id) || { name: "Audit" }).name} - ${records.areaLabel(areaOf.get(a.area_id))}`,
    commentsOf: (a) => comments.filter((c) => c.audit_id === a.id),
    progressOf: (a) => {
      const mine = new Map(responses.filter((r) => r.audit_id === a.id).map((r) => [r.question_id, r]));
      const p = records.progress(templateOf.get(a.template_id), mine);
      return `${p.answered} of ${p.total} answered`;
    },
  });
  markInteractive();
}

// The start-up benchmark reads the "gemba-interactive" mark: the audit list is drawn
// and its links answer taps (the badge in the frame may still be filling in).
function markInteractive() {
  if (!performance.getEntriesByName("gemba-interactive").length) performance.mark("gemba-interactive");
}
