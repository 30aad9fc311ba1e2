// Raise a finding: the floor staff's first screen, usable in under 30 seconds.
import * as records from "../records.js";
import * as findingView from "../views/finding.js";

/**
 * Draw the finding form, in the area last used.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  const [areas, areaId] = await Promise.all([records.areas(), records.rememberedArea()]);
  findingView.render(app.view, {
    areas,
    areaId,
    kinds: records.FINDING_KINDS,
    thumbnailOf: records.thumbnail,
    onPhotos: app.addPhotos,
    onSave: async (fields) => { await records.raiseFinding(fields); await app.changed(); },
  });
}
