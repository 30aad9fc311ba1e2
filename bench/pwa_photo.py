"""A 12-megapixel camera photo from pick to saved on the device, at 4x CPU throttle.

An auditor's tablet (Chromium, 1024 x 768) opens an audit and attaches camera JPEGs
(4000 x 3000, 3 MB, EXIF orientation 6 and GPS) one at a time through the question's
"Take photo" input, with the CPU slowed four times (CDP `Emulation.setCPUThrottlingRate`),
as a mid-range phone would be. Timed in the page: from the input's `change` event to the
photo's thumbnail drawn on its card, which the app draws once the downscaled copy (long
edge 2000 px: half the frame, the JPEG decoder's own scale nearest 2048; before
2026-12-06 2048 px), its thumbnail and its SHA-256 are in IndexedDB's outbox.

The floor, on the same files in the same page at the same throttle: the browser's own
decode of the file straight to the kept size, 1500 x 2000 upright (`createImageBitmap` with
resize), which any way of keeping a smaller copy has to pay.

Where the time goes: photos.js leaves a performance measure per step (photo:header,
decode, encode, thumb_and_hash, prepare, keep), reported here as medians and in order.
CDP throttling slows the renderer's main thread; work the browser does on its own threads
(most of the decode, the SHA-256 digest) is slowed less than a real slow phone would be.

Goal (issue 13): pick to saved <= 0.6 s (it was 0.9 s).

Run: .venv/bin/python -m bench.pwa_photo
"""

import base64
import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from bench._pwa import launch, live_server, seed_auditor, seed_template, sign_in, write
from bench.pwa_walkthrough import camera_originals

PHOTOS = 6
CPU_SLOWDOWN = 4
GOAL_MS = 600

# Page-side clocks: the pick (the file input's change, seen first on the document) and the
# moment each question's thumbnail appears.
WATCH = """
() => {
  window.__picked = {};
  window.__saved = {};
  document.addEventListener('change', (event) => {
    if (event.target.type === 'file') window.__picked[event.target.id] = performance.now();
  }, true);
  new MutationObserver(() => {
    for (const img of document.querySelectorAll('img[alt^="Photo 1 for question"]')) {
      if (!(img.alt in window.__saved)) window.__saved[img.alt] = performance.now();
    }
  }).observe(document.body, { childList: true, subtree: true });
}
"""

FLOOR = """
async (base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const file = new Blob([bytes], { type: 'image/jpeg' });
  const started = performance.now();
  const bitmap = await createImageBitmap(file, {
    imageOrientation: 'from-image', resizeWidth: 1500, resizeHeight: 2000, resizeQuality: 'high' });
  const ms = performance.now() - started;
  bitmap.close();
  return ms;
}
"""


# The app's own performance measures of each step (photos.js, the picker), in order.
STEPS = """
() => performance.getEntriesByType('measure').filter((m) => m.name.startsWith('photo:'))
  .map((m) => [m.name.slice(6), m.duration])
"""


def seed():
    template = seed_template(PHOTOS)
    email, [audit_id] = seed_auditor(template, 1)
    return {"email": email, "audit": audit_id}


def main() -> dict:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gemba-photos-") as directory, \
            live_server(seed) as (url, _app, _counter, seeded), sync_playwright() as playwright, \
            tempfile.TemporaryDirectory(prefix="gemba-profile-") as profile:
        photos = camera_originals(Path(directory), PHOTOS)
        bytes_each = photos[0].stat().st_size
        context = launch(playwright, profile, url, offline=False)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            sign_in(page, seeded["email"])
            page.get_by_role("link", name="Site safety walk").click()
            expect(page.get_by_role("group", name="Check 1: is the condition met?")).to_be_visible()
            page.evaluate(WATCH)
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            picks = []
            for n, photo in enumerate(photos, start=1):
                group = page.get_by_role("group", name=f"Check {n}: is the condition met?")
                group.get_by_label("Yes", exact=True).check()
                take = group.get_by_label(f"Take photo for question {n}", exact=True)
                input_id = take.get_attribute("id")
                take.set_input_files(photo)
                expect(group.get_by_role("img", name=f"Photo 1 for question {n}")).to_be_visible(timeout=60_000)
                picked, saved = page.evaluate(
                    "([id, alt]) => [window.__picked[id], window.__saved[alt]]", [input_id, f"Photo 1 for question {n}"])
                picks.append(saved - picked)
            steps = page.evaluate(STEPS)
            floors = [page.evaluate(FLOOR, base64.b64encode(photo.read_bytes()).decode()) for photo in photos]
        finally:
            context.close()
    load_after = os.getloadavg()
    # The first pick also loads the photo modules: reported, and left out of the median.
    result = {
        "photos": PHOTOS, "cpu_slowdown": CPU_SLOWDOWN, "bytes_each": bytes_each,
        "pick_to_saved_ms": [round(ms, 1) for ms in picks],
        "pick_to_saved_median_ms": round(statistics.median(picks[1:]), 1),
        "floor_decode_ms": [round(ms, 1) for ms in floors],
        "floor_decode_median_ms": round(statistics.median(floors), 1),
        "goal_ms": GOAL_MS,
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
    }
    by_step = {}
    for name, ms in steps:
        by_step.setdefault(name, []).append(ms)
    # Each step's median over the photos after the first (as for the total).
    result["steps_ms"] = [[name, round(ms, 1)] for name, ms in steps]
    result["steps_median_ms"] = {name: round(statistics.median(v[1:] or v), 1) for name, v in by_step.items()}
    result["ratio_to_floor"] = round(result["pick_to_saved_median_ms"] / result["floor_decode_median_ms"], 2)
    result["goal_met"] = result["pick_to_saved_median_ms"] <= GOAL_MS
    print(f"12 MP photo, pick to saved at {CPU_SLOWDOWN}x throttle: median {result['pick_to_saved_median_ms']} ms "
          f"(each: {result['pick_to_saved_ms']}; the first also loads the photo modules)")
    print(f"floor, the browser's decode to the kept size alone: median {result['floor_decode_median_ms']} ms "
          f"(ratio {result['ratio_to_floor']})")
    print("steps (median, ms): " + ", ".join(f"{k} {v}" for k, v in result["steps_median_ms"].items()))
    print(f"goal <= {GOAL_MS} ms: {'met' if result['goal_met'] else 'NOT met'}; "
          f"load average before {result['load_before']}, after {result['load_after']}")
    write("pwa_photo", result)
    return result


if __name__ == "__main__":
    main()
