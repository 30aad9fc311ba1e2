// Raise a finding: the floor staff's first screen, usable in under 30 seconds. What is
// typed is kept as a draft as it is typed, and comes back if the app was closed.
import * as records from "../records.js";
import * as findingView from "../views/finding.js";

/**
 * Draw the finding form, in the area last used, with the draft if there is one.
 * @param {import("../app.js").App} app
 */
export async function show(app) {
  const key = records.raiseDraftKey;
  const [areas, areaId, draft] = await Promise.all([records.areas(), records.rememberedArea(), records.draft(key)]);
  let drafted = !!draft;
  findingView.render(app.view, {
    areas,
    areaId,
    draft: draft && draft.fields,
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
