// One of my findings: correct it or withdraw it until a supervisor has triaged it. The
// change goes through the outbox like any other.
import * as records from "../records.js";
import * as findingView from "../views/finding.js";

/** The fields of a finding its raiser may change, as the sync contract names them. */
const EDITABLE = ["title", "area_id", "location", "kind", "clause", "description", "photos"];

/**
 * Draw my finding `id` for editing.
 * @param {import("../app.js").App} app
 * @param {{id: string}} params
 */
export async function show(app, { id }) {
  const [finding, areas, me] = await Promise.all([records.finding(id), records.areas(), records.user()]);
  findingView.renderEdit(app.view, {
    finding,
    editable: records.canChangeFinding(finding, me),
    areas,
    areaId: finding && finding.area_id,
    kinds: records.FINDING_KINDS,
    thumbnailOf: records.thumbnail,
    onPhotos: app.addPhotos,
    onPhotoDropped: (sha) => app.saving(() => records.dropUnusedPhoto(sha)),
    onSave: (fields) => app.saving(async () => {
      const current = await records.finding(id);
      const changes = {};
      for (const name of EDITABLE) {
        if (JSON.stringify(fields[name]) !== JSON.stringify(current[name])) changes[name] = fields[name];
      }
      if (Object.keys(changes).length) await records.editFinding(current, changes);
      await app.changed();
    }),
    onWithdraw: () => app.saving(async () => {
      await records.withdrawFinding(await records.finding(id));
      await app.changed();
      location.hash = "#/findings";
    }),
  });
}
