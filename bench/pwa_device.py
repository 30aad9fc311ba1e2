"""Field-app device at scale: offline cold start and an answer's save, with 500 audits on it.

An auditor's device that has signed in once (a few real audits from the server), then
holds 500 audits, ~26,700 answers (54 a checklist; planned audits have none) and 2,000
findings, put into IndexedDB
through the app's own receive path (`outbox.receiveMany`, what a pull does). With the CPU
throttled 4x through CDP:

- cold start: a fresh Chromium process, no network, from navigation to the drawn,
  interactive audit list (the app's `gemba-interactive` mark, the audit links on
  screen). Floors in the same run, interleaved: the same device before the 500 audits
  were put on it (does start-up grow with what is stored?), and the page with
  JavaScript off (HTML and CSS alone, to DOMContentLoaded).
- saving one answer (`records.answer`, what the checklist calls: the response and its
  outbox op in one transaction) against a bare IndexedDB put of one small record in the
  same database, both with the app's strict durability and the bare put also with the
  browser's default, measured in the same page one after the other.

Run: .venv/bin/python -m bench pwa_device
"""

import os
import statistics
import tempfile
import time

from playwright.sync_api import sync_playwright

from bench._pwa import launch, live_server, open_list, seed_auditor, seed_template, sign_in, throttled_start, write
from bench.pwa_startup import floor_start
from server.models import QuestionKind

CPU_SLOWDOWN = 4
RUNS = 5
SMALL_RUNS = 3
AUDITS = 500
QUESTIONS = 54
FINDINGS = 2000
SAVES = 40
GOAL_START_MS = 600
GOAL_SAVE_RATIO = 10

# The statuses the 500 audits are in: a working auditor's history is mostly decided.
STATUSES = [("returned", 4), ("in_progress", 6), ("planned", 3), ("submitted", 20), ("rejected", 10)]

SEED = """
async ({ audits, questions, findings, statuses }) => {
  const outbox = await import('/app/outbox.js');
  const db = await import('/app/db.js');
  const me = await db.getMeta('user');
  const [template] = (await db.getAll('templates'));
  const areas = await db.getAll('areas');
  const qs = [...template.questions].sort((a, b) => a.position - b.position).slice(0, questions);
  const uuid = () => crypto.randomUUID();
  const plan = [];
  for (const [status, n] of statuses) for (let i = 0; i < n; i += 1) plan.push(status);
  while (plan.length < audits) plan.push('approved');
  let items = [];
  const ids = { in_progress: [] };
  const flush = async () => { if (items.length) await outbox.receiveMany(items); items = []; };
  let f = 0;
  for (let n = 0; n < audits; n += 1) {
    const status = plan[n];
    const id = uuid();
    if (status === 'in_progress') ids.in_progress.push(id);
    const day = new Date(Date.UTC(2024, 0, 1) + n * 86400000).toISOString().slice(0, 10);
    const area = areas[n % areas.length];
    items.push({ entity: 'audit', record: { id, version: 3, template_id: template.id, area_id: area.id,
      auditor_id: me.id, planned_date: day, status, summary: '', started_at: null } });
    const answered = status === 'planned' ? 0 : status === 'in_progress' ? Math.floor(questions / 2) : questions;
    for (let q = 0; q < answered; q += 1) {
      items.push({ entity: 'response', record: { id: uuid(), version: 1, audit_id: id, question_id: qs[q].id,
        value: q % 7 === 0 ? 'no' : 'yes', note: q % 7 === 0 ? 'Seen on the walk' : '', photos: [],
        answered_at: '2024-01-01T10:00:00Z' } });
      if (q % 7 === 0 && f < findings) {
        f += 1;
        items.push({ entity: 'finding', record: { id: uuid(), version: 1, kind: 'minor_nc', title: `Finding ${f}`,
          description: 'Found on the walk', area_id: area.id, audit_id: id, question_id: qs[q].id, clause: '8.1',
          location: '', raised_by_id: me.id, status: 'open', raised_at: '2024-01-01T10:00:00Z', photos: [] } });
      }
    }
    if (items.length >= 3000) await flush();
  }
  while (f < findings) {
    f += 1;
    items.push({ entity: 'finding', record: { id: uuid(), version: 1, kind: 'observation', title: `Finding ${f}`,
      description: '', area_id: areas[0].id, audit_id: null, question_id: null, clause: '', location: '',
      raised_by_id: me.id, status: 'open', raised_at: '2024-01-01T10:00:00Z', photos: [] } });
  }
  await flush();
  const counts = await db.read(['audits', 'responses', 'findings'], (s) => Promise.all([
    s.audits.count(), s.responses.count(), s.findings.count()]));
  return { counts, in_progress: ids.in_progress, questions: qs.map((q) => q.id) };
}
"""

# records.answer against a bare put, alternated so both see the same moment of the machine.
SAVE = """
async ({ auditId, questions, saves }) => {
  const records = await import('/app/records.js');
  const db = await import('/app/db.js');
  const connection = await db.open();
  const audit = await db.get('audits', auditId);
  const bare = (durability) => new Promise((resolve, reject) => {
    const tx = connection.transaction(['meta'], 'readwrite', { durability });
    tx.objectStore('meta').put({ key: 'bench-bare-put', value: { at: Date.now(), text: 'a small record' } });
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  const out = { answer: [], bare_strict: [], bare_default: [] };
  for (let n = 0; n < saves; n += 1) {
    const question = { id: questions[n % questions.length], kind: 'yes_no_na' };
    let t = performance.now();
    await records.answer(audit, question, { value: n % 2 ? 'yes' : 'no' });
    out.answer.push(performance.now() - t);
    t = performance.now();
    await bare('strict');
    out.bare_strict.push(performance.now() - t);
    t = performance.now();
    await bare('default');
    out.bare_default.push(performance.now() - t);
  }
  return out;
}
"""


def seed():
    template = seed_template(QUESTIONS, kinds=[QuestionKind.YES_NO_NA])
    email, audit_ids = seed_auditor(template, 3)
    return {"email": email, "audits": audit_ids}


def cold_start(playwright, profile, url, then=None):
    with throttled_start(playwright, profile, url, CPU_SLOWDOWN) as (page, cdp):
        open_list(page, cdp)
        timing = page.evaluate("""() => ({
            interactive: performance.getEntriesByName('gemba-interactive')[0].startTime,
            // The split (the app's marks): modules evaluated, IndexedDB open, the list's reads done.
            modules: performance.getEntriesByType('navigation')[0].domContentLoadedEventStart,
            db_open: (performance.getEntriesByName('gemba-db-open')[0] || {}).startTime ?? null,
            list_read: (performance.getEntriesByName('gemba-list-read')[0] || {}).startTime ?? null,
            cards: document.querySelectorAll('.card-link').length,
            headings: [...document.querySelectorAll('#view section h2')].map((h) => h.textContent),
            controlled: !!navigator.serviceWorker.controller,
        })""")
        if then:
            page.wait_for_selector("body[data-ready='yes']", state="attached")  # start-up has finished
            timing["then"] = then(page)
        return timing


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> dict:
    with live_server(seed) as (url, _app, _counter, seeded), sync_playwright() as playwright, \
            tempfile.TemporaryDirectory(prefix="gemba-device-") as profile:
        context = launch(playwright, profile, url, offline=False)
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, seeded["email"])
        page.wait_for_function("() => document.querySelectorAll('.card-link').length === 3")
        context.close()
        small, no_js = [], []
        for _ in range(SMALL_RUNS):
            small.append(cold_start(playwright, profile, url))
            no_js.append(floor_start(playwright, profile, url))
        # Put the history on the device, offline (no sync may run meanwhile).
        context = launch(playwright, profile, url)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/app/")
        page.wait_for_selector("body[data-ready='yes']")
        started = time.perf_counter()
        stored = page.evaluate(SEED, {"audits": AUDITS, "questions": QUESTIONS, "findings": FINDINGS,
                                      "statuses": STATUSES})
        seed_s = time.perf_counter() - started
        context.close()
        large = []
        for n in range(RUNS):
            large.append(cold_start(playwright, profile, url))
            no_js.append(floor_start(playwright, profile, url))
        saves = cold_start(playwright, profile, url, then=lambda p: p.evaluate(SAVE, {
            "auditId": stored["in_progress"][0], "questions": stored["questions"], "saves": SAVES}))["then"]
    load = os.getloadavg()
    assert all(r["controlled"] for r in small + large), (small, large)
    assert all(r["cards"] == 3 for r in small), small
    answer = statistics.median(saves["answer"])
    bare_strict = statistics.median(saves["bare_strict"])
    bare_default = statistics.median(saves["bare_default"])
    result = {
        "cpu_slowdown": CPU_SLOWDOWN,
        "stored": stored["counts"],
        "seed_s": round(seed_s, 1),
        "cold_start_large_ms_median": round(statistics.median(r["interactive"] for r in large), 1),
        "cold_start_large_ms_max": round(max(r["interactive"] for r in large), 1),
        "cold_start_small_ms_median": round(statistics.median(r["interactive"] for r in small), 1),
        "large_split_ms_median": {
            name: round(statistics.median(r[name] for r in large), 1) if all(r[name] is not None for r in large) else None
            for name in ("modules", "db_open", "list_read")},
        "floor_no_js_ms_median": round(statistics.median(no_js), 1),
        "cards_drawn_large": large[0]["cards"],
        "headings_large": large[0]["headings"],
        "answer_save_ms_median": round(answer, 2),
        "answer_save_ms_p95": round(pct(saves["answer"], 95), 2),
        "bare_put_strict_ms_median": round(bare_strict, 2),
        "bare_put_default_ms_median": round(bare_default, 2),
        "save_ratio_to_strict_put": round(answer / bare_strict, 1),
        "save_ratio_to_default_put": round(answer / bare_default, 1),
        "goal_start_ms": GOAL_START_MS,
        "goal_save_ratio": GOAL_SAVE_RATIO,
        "load_average": [round(x, 2) for x in load],
        "cores": os.cpu_count(),
        "per_run": {"small": small, "large": large, "saves": saves},
    }
    path = write("pwa_device", result)
    counts = stored["counts"]
    print(f"device: {counts[0]} audits, {counts[1]} answers, {counts[2]} findings in IndexedDB "
          f"(seeded through outbox.receiveMany in {result['seed_s']} s)")
    print(f"offline cold start to an interactive audit list, CPU {CPU_SLOWDOWN}x slower: "
          f"{result['cold_start_large_ms_median']} ms median, {result['cold_start_large_ms_max']} ms max "
          f"({RUNS} runs, {result['cards_drawn_large']} cards drawn; goal <= {GOAL_START_MS} ms); "
          f"floors: the same device with 3 audits {result['cold_start_small_ms_median']} ms, "
          f"JavaScript off {result['floor_no_js_ms_median']} ms (medians); split (medians): modules evaluated, "
          f"IndexedDB open, the list's reads done at {result['large_split_ms_median']}")
    print(f"saving an answer: {result['answer_save_ms_median']} ms median, {result['answer_save_ms_p95']} ms p95; "
          f"bare IndexedDB put {result['bare_put_strict_ms_median']} ms strict, "
          f"{result['bare_put_default_ms_median']} ms default durability (medians, {SAVES} each); ratio "
          f"{result['save_ratio_to_strict_put']}x strict, {result['save_ratio_to_default_put']}x default "
          f"(goal <= {GOAL_SAVE_RATIO}x)")
    print(f"load average {result['load_average']} on {result['cores']} cores")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
