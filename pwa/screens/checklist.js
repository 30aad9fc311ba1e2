// An audit's checklist: answering, photos, findings raised from an answer, and the
// submit summary.
import * as records from "../records.js";
import * as docs from "../documents.js";
import * as checklistView from "../views/checklist.js";
import * as findingView from "../views/finding.js";

const EDITABLE = new Set(["planned", "in_progress", "returned"]);

async function ensureStarted(detail) {
  if (detail.audit.status === "in_progress") return;
  await records.startAudit(detail.audit);
  detail.audit = { ...detail.audit, status: "in_progress" };
}

/**
 * Draw the checklist of audit `id`, or its submit summary.
 * @param {import("../app.js").App} app
 * @param {{id: string, submit?: boolean, focus?: string|null}} params `focus`: the
 *   question to land on (a blocker link from the submit screen)
 */
export async function show(app, { id, submit = false, focus = null }) {
  const detail = await records.auditDetail(id);
  if (!detail) { checklistView.renderMissing(app.view); return; }
  const sections = records.sections(detail.template || {});
  const progress = () => records.progress(detail.template, detail.responses);
  const [areas, documents] = await Promise.all([records.areas(), docs.citable()]);
  if (submit) {
    const me = await records.user();
    checklistView.renderSubmit(app.view, detail, {
      auditorName: (me && me.name) || "",
      blockers: records.blockers(detail),
      progress,
      sections,
      isAnswered: records.isAnswered,
      shown: records.visibility(detail.template || {}, detail.responses),
      onSubmit: async (summary, signoff) => {
        // Each drawing is kept as a PNG photo, uploaded and linked like any photo evidence.
        const { keepDrawing } = await import("../photos.js");
        const signatures = [];
        for (const s of signoff.signatures) {
          const photo = await keepDrawing(s.canvas, { type: "image/png", takenAt: s.signed_at });
          signatures.push({ role: s.role, name: s.name, signed_at: s.signed_at, sha256: photo.sha256 });
        }
        await ensureStarted(detail);
        await records.submitAudit(detail.audit, summary, { signatures, unsigned_reason: signoff.unsigned_reason });
        await app.changed();
        location.hash = "#/audits";
      },
    });
    return;
  }
  const drafts = await records.auditDrafts(id);
  const onAnswer = (question, changes) => app.saving(async () => {
    await ensureStarted(detail);
    const saved = await records.answer(detail.audit, question, changes);
    detail.responses.set(question.id, saved);
    await app.changed();
    return saved;
  });
  const view = checklistView.render(app.view, detail, {
    sections,
    progress,
    focus,
    liveScore: () => records.liveScore(detail),
    visibility: () => records.visibility(detail.template || {}, detail.responses),
    outOfRange: records.outOfRange,
    editable: EDITABLE.has(detail.audit.status),
    isAnswered: records.isAnswered,
    findingNeed: (question, response) => records.findingNeed(question, response, detail.findings),
    findingOf: (question) => records.findingOf(question, detail.findings),
    draftOf: (question) => drafts.get(question.id) || null,
    thumbnailOf: records.thumbnail,
    onPhotos: app.addPhotos,
    onAnswer,
    onFindingNeeded: (question, value) => {
      const key = records.answerDraftKey(detail.audit.id, question.id);
      const response = detail.responses.get(question.id);
      const draft = drafts.get(question.id);
      findingView.openDialog({
        prefill: {
          title: records.shortTitle(question, value),
          clause: question.clause,
          kind: "minor_nc",
          audit_id: detail.audit.id,
          question_id: question.id,
          photos: (response && response.photos) || [],
          photoContext: "this finding",
        },
        draft: draft && draft.fields,
        areas,
        areaId: detail.audit.area_id,
        documents,
        appliesIn: docs.appliesIn,
        kinds: records.FINDING_KINDS,
        thumbnailOf: records.thumbnail,
        onPhotos: app.addPhotos,
        onDraft: (fields) => app.saving(async () => {
          await records.saveDraft(key, fields);
          drafts.set(question.id, { id: key, fields });
        }),
        onDiscard: () => app.saving(async () => { await records.discardDraft(key); drafts.delete(question.id); }),
        onPhotoDropped: (sha) => app.saving(() => records.dropUnusedPhoto(sha)),
        onClose: () => view.redrawQuestion(question.id, detail.responses.get(question.id)),
        onSave: async (fields) => {
          const finding = await app.saving(() => records.raiseFinding(fields, key));
          drafts.delete(question.id);
          detail.findings.push(finding);
          // One photo serves both: the finding's photos are evidence for the answer too.
          const answerPhotos = (detail.responses.get(question.id) || {}).photos || [];
          const added = fields.photos.filter((sha) => !answerPhotos.includes(sha));
          if (added.length) await onAnswer(question, { photos: [...answerPhotos, ...added] });
          else await app.changed();
          view.showFindings(detail.findings);
        },
      });
    },
  });
}
