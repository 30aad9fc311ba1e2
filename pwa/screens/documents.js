// Controlled documents: those that apply to the person or the area being audited, what
// they are asked to read and understand, and the files pinned for offline use.
// Loaded on demand (routes.js), like every screen but the first.
import * as documents from "../documents.js";
import * as view from "../views/documents.js";

const notes = { error: "", info: "" };
let refreshed = false;

/**
 * Draw the documents for `params.area` (an area id; the person's home area when absent).
 * @param {import("../app.js").App} app
 * @param {{area: string|null}} params
 */
export async function show(app, params) {
  if (!refreshed && navigator.onLine) {
    refreshed = true; // once a start: pins of superseded revisions follow the new one
    documents.refreshPins().then((changed) => { if (changed) app.render(); });
  }
  const data = await documents.overview();
  const areaId = params.area || (data.me && data.me.home_area_id) || "";
  const area = data.areas.find((a) => String(a.id) === String(areaId)) || null;
  const shown = params.all ? data.documents : data.documents.filter((d) => documents.appliesIn(d, area));
  const act = (work) => async (doc, ...rest) => {
    notes.error = "";
    notes.info = "";
    try {
      notes.info = (await work(doc, ...rest)) || "";
    } catch (error) {
      notes.error = error.message;
    }
    await app.changed();
    app.render();
  };
  view.render(app.view, {
    ...data,
    area,
    all: !!params.all,
    shown,
    pending: data.documents.filter((d) => d.asked && !d.acknowledgement),
    error: notes.error,
    info: notes.info,
    online: navigator.onLine,
    onAcknowledge: act(async (doc) => { await documents.acknowledge(doc); return `${doc.number} rev ${doc.current.rev}: read and understood, recorded.`; }),
    onPin: act(async (doc) => { await documents.pin(doc); return `${doc.number} is kept on this device.`; }),
    onReport: act(async (doc, what) => {
      await documents.reportOutOfDate(doc, area ? area.id : null, what);
      return `Finding raised: ${doc.number} rev ${doc.current.rev} is out of date. It is sent with the next sync.`;
    }),
    onUnpin: act(async (doc) => { await documents.unpin(doc.id); return `${doc.number} is no longer kept offline.`; }),
    onOpen: async (doc) => {
      const blob = await documents.pinnedFile(doc.id);
      if (blob) return URL.createObjectURL(blob);
      return navigator.onLine ? `/api/documents/${doc.id}/revisions/${doc.current.rev}/file` : null;
    },
  });
}
