"""Field-app start-up: app-shell size gzipped, and offline cold start with a 4x slower CPU.

Shell size, two figures: the start-up shell (index.html and every file a cold start
fetched before its audit list was interactive, read from the page's resource timing: the
goal applies to it) and the whole precache (every screen, kept for offline use but
loaded when first shown).

Cold start: a fresh Chromium process on a profile that signed in once (12 audits of a
60-question checklist in IndexedDB), with no network, CPU throttled 4x through CDP,
from navigation to the first drawn, interactive audit list (the app's
`gemba-interactive` mark, checked against the audit links being on screen; waited for
through the CDP session, which adds no work to the page: Playwright's selector engine,
injected on first use, once did, in the middle of the start). The split beside it: the
app's modules evaluated (DOMContentLoaded), IndexedDB open and the list's reads done
(the app's `gemba-db-open` and `gemba-list-read` marks). The floors
beside it: the same cold start with JavaScript off (HTML and CSS alone, to
DOMContentLoaded), interleaved run by run so both see the same machine load; and the
navigation's `responseEnd`: the moment the service worker handed
over index.html, before any of the app's own code ran.

Run: .venv/bin/python -m bench.pwa_startup
"""

import gzip
import os
import re
import statistics
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright

from bench._pwa import launch, live_server, open_list, seed_auditor, seed_template, sign_in, throttled_start, write

RUNS = 7
CPU_SLOWDOWN = 4
GOAL_SHELL_GZIP = 60 * 1024
GOAL_START_MS = 500


def seed():
    template = seed_template(60)
    email, audit_ids = seed_auditor(template, 12)
    return {"email": email, "audits": audit_ids}


def shell_sizes(url: str) -> dict:
    """Every file the service worker precaches, as served, raw and gzipped (level 6)."""
    with urllib.request.urlopen(f"{url}/app/sw.js") as response:
        worker = response.read()
    paths = re.findall(r'"(/app/[^"]*)"', re.search(rb"const SHELL = \[(.*?)\];", worker, re.S).group(1).decode())
    files = {"/app/sw.js": worker}
    for path in paths:
        with urllib.request.urlopen(url + path) as response:
            files[path] = response.read()
    raw = sum(len(body) for body in files.values())
    gz = {path: len(gzip.compress(body, 6)) for path, body in files.items()}
    return {"files": len(files), "raw_bytes": raw, "gzip_bytes": sum(gz.values()), "gzip_by_file": gz}


def cold_start(playwright, profile: str, url: str) -> dict:
    with throttled_start(playwright, profile, url, CPU_SLOWDOWN) as (page, cdp):
        open_list(page, cdp)
        return page.evaluate("""() => ({
            interactive: performance.getEntriesByName('gemba-interactive')[0].startTime,
            html: performance.getEntriesByType('navigation')[0].responseEnd,
            modules: performance.getEntriesByType('navigation')[0].domContentLoadedEventStart,
            // The app's own marks: IndexedDB open, the list's reads done (the first frame
            // is drawn after the list, so it may not be there yet).
            db_open: (performance.getEntriesByName('gemba-db-open')[0] || {}).startTime ?? null,
            list_read: (performance.getEntriesByName('gemba-list-read')[0] || {}).startTime ?? null,
            audits: document.querySelectorAll('.card-link').length,
            controlled: !!navigator.serviceWorker.controller,
            // What the page asked for before the list was interactive: the start-up shell.
            startup_files: performance.getEntriesByType('resource')
                .filter((e) => e.startTime <= performance.getEntriesByName('gemba-interactive')[0].startTime)
                .map((e) => new URL(e.name).pathname),
        })""")


def floor_start(playwright, profile: str, url: str) -> float:
    """The same offline cold start with JavaScript off: what HTML and CSS alone cost (DOMContentLoaded)."""
    with throttled_start(playwright, profile, url, CPU_SLOWDOWN, java_script=False) as (page, cdp):
        page.goto("/app/")
        answer = cdp.send("Runtime.evaluate", {
            "expression": "performance.getEntriesByType('navigation')[0].domContentLoadedEventStart",
            "returnByValue": True})
        return answer["result"]["value"]


def main() -> dict:
    with live_server(seed) as (url, _app, _counter, seeded), sync_playwright() as playwright, \
            tempfile.TemporaryDirectory(prefix="gemba-profile-") as profile:
        shell = shell_sizes(url)
        # Sign in once, online, and let the first sync fill IndexedDB.
        context = launch(playwright, profile, url, offline=False)
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, seeded["email"])
        page.wait_for_function("() => document.querySelectorAll('.card-link').length === 12")
        context.close()
        runs = []
        for _ in range(RUNS):
            started = time.perf_counter()
            runs.append(cold_start(playwright, profile, url) | {"wall_s": round(time.perf_counter() - started, 2)})
            # Interleaved, so both see the same load on the machine.
            runs[-1]["floor_no_js"] = floor_start(playwright, profile, url)
    assert all(r["audits"] == 12 and r["controlled"] for r in runs), runs
    # The start-up shell: index.html and every file a cold start fetched before its list
    # was interactive (the other screens come from the precache when first shown).
    startup = sorted({"/app/"} | {path for r in runs for path in r.pop("startup_files")})
    startup_gzip = sum(shell["gzip_by_file"].get(path, 0) for path in startup)
    interactive = [r["interactive"] for r in runs]
    html = [r["html"] for r in runs]
    modules = [r["modules"] for r in runs]
    no_js = [r["floor_no_js"] for r in runs]
    db_open = [r["db_open"] for r in runs if r["db_open"] is not None]
    list_read = [r["list_read"] for r in runs if r["list_read"] is not None]
    result = {
        "shell": shell,
        "precache_gzip_kb": round(shell["gzip_bytes"] / 1024, 1),
        "startup_shell_files": startup,
        "startup_shell_gzip_kb": round(startup_gzip / 1024, 1),
        "shell_goal_kb": GOAL_SHELL_GZIP / 1024,
        "cpu_slowdown": CPU_SLOWDOWN,
        "runs": RUNS,
        "interactive_ms_median": round(statistics.median(interactive), 1),
        "interactive_ms_max": round(max(interactive), 1),
        "floor_html_from_worker_ms_median": round(statistics.median(html), 1),
        "modules_evaluated_ms_median": round(statistics.median(modules), 1),
        "indexeddb_open_ms_median": round(statistics.median(db_open), 1) if db_open else None,
        "list_read_ms_median": round(statistics.median(list_read), 1) if list_read else None,
        "floor_no_js_dom_content_loaded_ms_median": round(statistics.median(no_js), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "start_goal_ms": GOAL_START_MS,
        "per_run": runs,
    }
    path = write("pwa_startup", result)
    print(f"start-up shell (what a cold start fetches before its list is interactive): {len(startup)} files, "
          f"{result['startup_shell_gzip_kb']} KB gzipped (goal <= {GOAL_SHELL_GZIP // 1024} KB); the whole precache "
          f"(every screen, for offline use): {shell['files']} files, {shell['raw_bytes'] / 1024:.1f} KB raw, "
          f"{result['precache_gzip_kb']} KB gzipped")
    print(f"offline cold start, CPU {CPU_SLOWDOWN}x slower, {RUNS} runs: interactive audit list at "
          f"{result['interactive_ms_median']} ms median, {result['interactive_ms_max']} ms max "
          f"(goal <= {GOAL_START_MS} ms); floor (index.html from the service worker) "
          f"{result['floor_html_from_worker_ms_median']} ms median, app modules evaluated at "
          f"{result['modules_evaluated_ms_median']} ms median, IndexedDB open at {result['indexeddb_open_ms_median']} ms, "
          f"the list's reads done at {result['list_read_ms_median']} ms; floor (the same page with JavaScript off, "
          f"DOMContentLoaded) {result['floor_no_js_dom_content_loaded_ms_median']} ms median; "
          f"load average {result['load_average_1min']} on {os.cpu_count()} cores")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
