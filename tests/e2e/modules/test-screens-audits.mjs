// screens/audits.js: My audits follows the data without undoing what the person asked for.
import * as db from "/app/db.js";
import * as audits from "/app/screens/audits.js";
import { equal, test, until } from "./harness.mjs";

const ME = { id: "u-me", role: "auditor", name: "Me" };

async function seedApproved(count) {
  await db.setMeta("user", ME);
  await db.write(["templates", "areas", "audits"], async (s) => {
    await s.templates.put({ id: "t-1", name: "Safety walk", status: "published", questions: [] });
    await s.areas.put({ id: "ar-1", site: "Leeds", name: "Stores" });
    for (let n = 0; n < count; n += 1) {
      await s.audits.put({ id: `a-${String(n).padStart(3, "0")}`, template_id: "t-1", area_id: "ar-1",
        auditor_id: ME.id, planned_date: "2026-03-01", status: "approved", server_version: 1 });
    }
  });
}

test("a redraw read before a group was opened does not close it again", async () => {
  await seedApproved(45);
  const app = { view: document.getElementById("view") };
  await audits.show(app, {});
  const cards = () => app.view.querySelector('section[aria-label="Approved"]').querySelectorAll(".card-link").length;
  equal(cards(), 10, "the first page");
  const stale = audits.listing(); // a live redraw's read, begun before the tap
  app.view.querySelector('section[aria-label="Approved"] button').click(); // "Show all 45 (35 more)"
  await until(() => cards() === 45, "the group opened in full");
  await audits.show(app, { listing: stale }); // that redraw finishes last
  equal(cards(), 45, "still open in full");
});
