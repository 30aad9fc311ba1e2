// An area's QR label opened the app (".../app/#/area/<code>"): say which area it is and
// offer what can be done there - raise a finding, or (auditors and up) start an unplanned
// audit. Offline too: the areas are on the device.
import { findArea } from "../areacodes.js";
import * as records from "../records.js";
import * as areaView from "../views/area.js";

/**
 * @param {import("../app.js").App} app
 * @param {{code: string}} params
 */
export async function show(app, { code }) {
  const [areas, me, choices] = await Promise.all([records.areas(), records.user(), records.adhocChoices()]);
  const { area, code: read } = findArea(areas, decodeURIComponent(code || ""));
  areaView.render(app.view, {
    area,
    code: read,
    label: records.areaLabel,
    canAudit: !!me && me.role !== "staff" && !!area && choices.templates.length > 0,
    ownArea: !!area && !choices.areas.some((a) => a.id === area.id),
  });
}
