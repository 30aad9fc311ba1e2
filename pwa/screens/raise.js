// Raise a finding: the floor staff's first screen, usable in under 30 seconds. What is
// typed is kept as a draft as it is typed, and comes back if the app was closed.
import * as records from "../records.js";
import * as docs from "../documents.js";
import * as findingView from "../views/finding.js";

/**
 * Draw the finding form, in the area last used, with the draft if there is one. An area
 * named in the route (a scanned QR label) wins over both.
 * @param {import("../app.js").App} app
 * @param {{areaId?: string}} params
 */
export async function show(app, params = {}) {
  const key = records.raiseDraftKey;
  const [areas, remembered, draft, documents] = await Promise.all([
    records.areas(), records.rememberedArea(), records.draft(key), docs.citable()]);
  const scanned = params.areaId && areas.some((a) => a.id === params.areaId) ? params.areaId : null;
  const areaId = scanned || remembered;
  let drafted = !!draft;
  findingView.render(app.view, {
    areas,
    areaId,
    documents,
    appliesIn: docs.appliesIn,
    draft: draft && (scanned ? { ...draft.fields, area_id: scanned } : draft.fields),
    kinds: records.FINDING_KINDS,
    thumbnailOf: records.thumbnail,
    onPhotos: app.addPhotos,
    onDraft: (fields) => app.saving(async () => {
      await records.saveDraft(key, fields);
      if (!drafted) { drafted = true; await app.frame(); }
    }),
    onDiscard: () => app.saving(async () => { await records.discardDraft(key); drafted = false; await app.frame(); }),
    onPhotoDropped: (sha) => app.saving(() => records.dropUnusedPhoto(sha)),
    onSave: (fields) => app.saving(async () => {
      await records.raiseFinding(fields, key);
      drafted = false;
      await app.changed();
    }),
  });
}
