// Start an unplanned audit (auditors and up): a published checklist and an area.
import * as records from "../records.js";
import * as newAuditView from "../views/newaudit.js";

/**
 * Draw the choice of checklist and area (the area chosen already when the route names one:
 * a scanned QR label).
 * @param {import("../app.js").App} app
 * @param {{areaId?: string}} params
 */
export async function show(app, params = {}) {
  const [choices, all, me] = await Promise.all([records.adhocChoices(), records.areas(), records.user()]);
  newAuditView.render(app.view, {
    ...choices,
    allAreas: all,
    me,
    areaId: params.areaId || null,
    areaLabel: records.areaLabel,
    onStart: async (templateId, areaId) => {
      const audit = await records.startAdhocAudit(templateId, areaId);
      await app.changed();
      location.hash = `#/audit/${audit.id}`;
    },
  });
}
