// An audit's checklist: answering, photos, findings raised from an answer, and the
// submit summary.
import * as records from "../records.js";
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
 * @param {{id: string, submit?: boolean}} params
 */
export async function show(app, { id, submit = false }) {
  const detail = await records.auditDetail(id);
  if (!detail) { checklistView.renderMissing(app.view); return; }
  const sections = records.sections(detail.template || {});
  const progress = () => records.progress(detail.template, detail.responses);
  const areas = await records.areas();
  if (submit) {
    checklistView.renderSubmit(app.view, detail, {
      blockers: records.blockers(detail),
      progress,
      sections,
      isAnswered: records.isAnswered,
      onSubmit: async (summary) => {
        await ensureStarted(detail);
        await records.submitAudit(detail.audit, summary);
        await app.changed();
        location.hash = "#/audits";
      },
    });
    return;
  }
  checklistView.render(app.view, detail, {
    sections,
    progress,
    editable: EDITABLE.has(detail.audit.status),
    isAnswered: records.isAnswered,
    callsForFinding: records.callsForFinding,
    thumbnailOf: records.thumbnail,
    onPhotos: app.addPhotos,
    onStart: async () => { await ensureStarted(detail); await app.changed(); await app.render(); },
    onAnswer: (question, changes) => app.saving(async () => {
      await ensureStarted(detail);
      const saved = await records.answer(detail.audit, question, changes);
      detail.responses.set(question.id, saved);
      await app.changed();
      return saved;
    }),
    onFindingNeeded: (question, value) => {
      const response = detail.responses.get(question.id);
      findingView.openDialog({
        prefill: {
          title: `${question.text} - answered "${value}"`,
          clause: question.clause,
          kind: "minor_nc",
          audit_id: detail.audit.id,
          question_id: question.id,
          photos: (response && response.photos) || [],
          photoContext: "this finding",
        },
        areas,
        areaId: detail.audit.area_id,
        kinds: records.FINDING_KINDS,
        thumbnailOf: records.thumbnail,
        onPhotos: app.addPhotos,
        onSave: async (fields) => {
          await records.raiseFinding(fields);
          await app.changed();
          const y = scrollY;
          await app.render();
          scrollTo(0, y);
        },
      });
    },
  });
}
