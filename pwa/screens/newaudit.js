// Start an unplanned audit (auditors and up): a published checklist and an area.
import * as records from "../records.js";
import * as newAuditView from "../views/newaudit.js";

/**
 * Draw the choice of checklist and area.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  newAuditView.render(app.view, {
    ...(await records.adhocChoices()),
    areaLabel: records.areaLabel,
    onStart: async (templateId, areaId) => {
      const audit = await records.startAdhocAudit(templateId, areaId);
      await app.changed();
      location.hash = `#/audit/${audit.id}`;
    },
  });
}
