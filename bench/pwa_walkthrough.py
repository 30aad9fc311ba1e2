"""Field-app walkthrough drain: capture offline, then sync over a slow uplink.

A tablet signs in, goes offline and walks a 60-question audit in the real UI: 60
answers, 8 of them calling for a finding (8 findings, each with a photo), 17 more
answers with a photo: 25 photos picked from 12-megapixel camera JPEGs, downscaled on
the device. Then the network comes back as 1.6 Mbit/s up with 150 ms latency (Chromium's
CDP network emulation) and the clock runs until the outbox is empty.

The floor beside the time is the physical limit: the bytes the server actually
received during the drain (request lines, headers, bodies, counted in WSGI) divided by
the uplink bandwidth. Photo bytes sent are set against the originals' size.

First, the layout: a 26-question audit at tablet size (820 x 1180) with the compact cards,
next to the same cards with every "Note" panel open (the earlier card, which showed its
note box and photo buttons always): a card's height, screens, and the walk's taps and
scrolling, in the same run.

Run: .venv/bin/python -m bench.pwa_walkthrough
"""

import io
import os
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from bench._pwa import CHROMIUM, CHROMIUM_ARGS, live_server, seed_auditor, seed_template, sign_in, write
from bench.images import camera_exif, camera_pixels
from server.extensions import db
from server.models import Finding, Photo, PhotoState, Response
from tests.e2e.fieldapp import FieldApp

QUESTIONS = 60
FINDINGS = 8
PHOTOS = 25
UPLINK_BITS = 1_600_000
LATENCY_MS = 150
GOAL_RATIO = 1.2
DRAIN_TIMEOUT_S = 170
GOAL_PHOTO_SHARE = 1 / 5
OUTBOX_EMPTY = """
() => import('/app/outbox.js').then((o) => o.summary()).then((s) => s.ops + s.photos === 0)
"""


def camera_originals(directory: Path, count: int) -> list[Path]:
    """`count` different 12-MP camera JPEGs (4000 x 3000, EXIF orientation 6, GPS).

    One larger camera-like frame is made once; each photo is a different 4000 x 3000
    window of it, so every file has its own bytes and its own hash on the device.
    """
    base = camera_pixels(4000 + 8 * count, 3000 + 6 * count)
    paths = []
    for i in range(count):
        out = io.BytesIO()
        base.crop((8 * i, 6 * i, 8 * i + 4000, 6 * i + 3000)).save(
            out, "JPEG", quality=90, exif=camera_exif(orientation=6), subsampling="4:2:0")
        path = directory / f"camera-{i + 1:02}.jpg"
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def seed():
    template = seed_template(QUESTIONS)
    email, [audit_id] = seed_auditor(template, 1)
    return {"email": email, "audit": audit_id}


def walk_the_audit(page, photos: list[Path]) -> None:
    """Answer all 60 questions in the UI; 8 "no" answers raise findings, 25 photos in all."""
    photos = list(photos)
    page.get_by_role("link", name="Site safety walk").click()
    finding_at = {3 + 7 * i for i in range(FINDINGS)}
    photo_at = set(range(1, QUESTIONS, 3)) - finding_at
    photo_at = set(sorted(photo_at)[:PHOTOS - FINDINGS])
    for n in range(1, QUESTIONS + 1):
        group = page.get_by_role("group", name=f"Check {n}: is the condition met?")
        if n in finding_at:
            group.get_by_label("No", exact=True).check()
            dialog = page.get_by_role("dialog")
            dialog.get_by_label("Take photo for this finding").set_input_files(photos.pop())
            expect(dialog.get_by_role("img", name="Photo 1 for this finding")).to_be_visible(timeout=60_000)
            dialog.get_by_role("button", name="Save finding").click()
            expect(dialog).to_have_count(0)
        else:
            group.get_by_label("Yes", exact=True).check()
        if n in photo_at:
            group.get_by_label(f"Take photo for question {n}", exact=True).set_input_files(photos.pop())
            expect(group.get_by_role("img", name=f"Photo 1 for question {n}")).to_be_visible(timeout=60_000)
    assert not photos
    expect(page.get_by_text(f"{QUESTIONS} of {QUESTIONS} answered")).to_be_visible()
    page.get_by_role("link", name="Review and submit").click()
    FieldApp(page).sign_off()  # the auditor signs; the auditee's absence is explained
    page.get_by_role("button", name="Submit audit").click()
    expect(page.get_by_role("region", name="Submitted, waiting for review")).to_be_visible()


LAYOUT_QUESTIONS = 26
TABLET = {"width": 820, "height": 1180}
# The earlier card had its note box and photo buttons always open: opening every card's
# "Note" panel in the same run draws that layout from the same code, as the floor.
OPEN_EVERY_NOTE = """
() => { for (const b of document.querySelectorAll('fieldset.question .tools button[aria-expanded="false"]')) b.click(); }
"""
CHECKLIST_HEIGHT = """
() => {
  const cards = [...document.querySelectorAll('fieldset.question')];
  const first = cards[0].getBoundingClientRect().top + scrollY;
  const last = cards[cards.length - 1].getBoundingClientRect().bottom + scrollY;
  return { span: last - first, card: cards[0].getBoundingClientRect().height, page: document.documentElement.scrollHeight };
}
"""


def layout_seed():
    template = seed_template(LAYOUT_QUESTIONS)
    email, [audit_id] = seed_auditor(template, 1)
    return {"email": email, "audit": audit_id}


def walk_26(page) -> dict:
    """Answer the 26 questions with the compact cards: taps, scroll distance, time."""
    taps, scrolled, last_y = 0, 0.0, page.evaluate("scrollY")
    started = time.perf_counter()
    for n in range(1, LAYOUT_QUESTIONS + 1):
        group = page.get_by_role("group", name=f"Check {n}: is the condition met?")
        group.get_by_label("Yes", exact=True).click()  # scrolls into view as a person would
        taps += 1
        y = page.evaluate("scrollY")
        scrolled += abs(y - last_y)
        last_y = y
    expect(page.get_by_text(f"{LAYOUT_QUESTIONS} of {LAYOUT_QUESTIONS} answered", exact=False)).to_be_visible()
    return {"taps": taps, "scroll_px": round(scrolled), "seconds": round(time.perf_counter() - started, 2)}


def layout_figures() -> dict:
    """A 26-question audit at tablet size: compact cards next to every card opened (the old layout)."""
    with live_server(layout_seed) as (url, _app, _counter, seeded), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=url, viewport=TABLET)
        context.set_default_timeout(30_000)
        page = context.new_page()
        sign_in(page, seeded["email"])
        page.get_by_role("link", name="Site safety walk").click()
        page.get_by_role("group", name="Check 1: is the condition met?").wait_for()
        compact = page.evaluate(CHECKLIST_HEIGHT)
        page.evaluate(OPEN_EVERY_NOTE)
        opened = page.evaluate(CHECKLIST_HEIGHT)
        page.reload()
        page.get_by_role("group", name="Check 1: is the condition met?").wait_for()
        walk = walk_26(page)
        # The same walk again over the opened cards (the answers are saved already, so
        # this walk's time leaves out the saves: its taps and scrolling are the figures).
        page.evaluate("scrollTo(0, 0)")
        page.evaluate(OPEN_EVERY_NOTE)
        old_walk = walk_26(page)
        browser.close()
    screen = TABLET["height"]
    return {
        "questions": LAYOUT_QUESTIONS, "viewport": TABLET,
        "compact_card_px": round(compact["card"]), "old_card_px": round(opened["card"]), "goal_card_px": 160,
        "compact_screens": round(compact["span"] / screen, 1), "old_screens": round(opened["span"] / screen, 1),
        "compact_walk": walk, "old_walk": old_walk,
    }


def main() -> dict:
    layout = layout_figures()
    print(f"layout, {LAYOUT_QUESTIONS} yes/no/N/A questions at {TABLET['width']}x{TABLET['height']}: card "
          f"{layout['compact_card_px']} px compact vs {layout['old_card_px']} px with every note open (the old card; "
          f"goal <= 160); {layout['compact_screens']} vs {layout['old_screens']} screens; compact walk "
          f"{layout['compact_walk']['taps']} taps, {layout['compact_walk']['scroll_px']} px scrolled, "
          f"{layout['compact_walk']['seconds']} s; every note open {layout['old_walk']['taps']} taps, "
          f"{layout['old_walk']['scroll_px']} px scrolled")
    result = drain()
    result["layout"] = layout
    write("pwa_walkthrough", result)
    return result


def drain() -> dict:
    with tempfile.TemporaryDirectory(prefix="gemba-originals-") as tmp:
        started = time.perf_counter()
        originals = camera_originals(Path(tmp), PHOTOS)
        made_s = time.perf_counter() - started
        original_bytes = sum(p.stat().st_size for p in originals)
        with live_server(seed) as (url, app, counter, seeded), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=url, viewport={"width": 1024, "height": 768})
            context.set_default_timeout(30_000)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            sign_in(page, seeded["email"])
            page.get_by_role("link", name="Site safety walk").wait_for()
            # Offline through CDP as well, so one later call can bring the network back slow.
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions",
                     {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
            started = time.perf_counter()
            walk_the_audit(page, originals)
            capture_s = time.perf_counter() - started
            pending = page.evaluate("() => import('/app/outbox.js').then((o) => o.summary())")

            counter.reset()
            page.get_by_role("link", name="Sync", exact=True).click()
            started = time.perf_counter()
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": LATENCY_MS,
                "uploadThroughput": UPLINK_BITS / 8, "downloadThroughput": -1,
            })
            # Coming online starts the sync by itself (the `online` event).
            while not page.evaluate(OUTBOX_EMPTY):  # polled from here: the check is async
                if time.perf_counter() - started > DRAIN_TIMEOUT_S:
                    raise TimeoutError(f"the outbox was not empty after {DRAIN_TIMEOUT_S} s")
                time.sleep(0.1)
            drain_s = time.perf_counter() - started
            sent = dict(counter.up)
            requests = dict(counter.requests)
            browser.close()
            with app.app_context():
                responses = db.session.scalar(select(func.count()).select_from(Response))
                findings = db.session.scalar(select(func.count()).select_from(Finding))
                # The camera's photos; the sign-off's drawing (a PNG) is counted apart.
                stored = db.session.scalar(select(func.count()).select_from(Photo).where(
                    Photo.state == PhotoState.STORED, Photo.content_type != "image/png"))
                signatures = db.session.scalar(select(func.count()).select_from(Photo).where(
                    Photo.state == PhotoState.STORED, Photo.content_type == "image/png"))
                db.session.remove()
    assert (responses, findings, stored, signatures) == (QUESTIONS, FINDINGS, PHOTOS, 1), \
        (responses, findings, stored, signatures, pending, drain_s)
    bytes_up = sent["photos"] + sent["sync"] + sent["other"]
    limit_s = bytes_up * 8 / UPLINK_BITS
    result = {
        "questions": QUESTIONS, "findings": FINDINGS, "photos": PHOTOS,
        "uplink_mbit_s": UPLINK_BITS / 1e6, "latency_ms": LATENCY_MS,
        "originals_bytes": original_bytes,
        "outbox_before_drain": pending,
        "drain_s": round(drain_s, 2),
        "bytes_sent": bytes_up,
        "bytes_sent_by_kind": sent,
        "requests": requests,
        "limit_s": round(limit_s, 2),
        "drain_over_limit": round(drain_s / limit_s, 3),
        "goal_drain_over_limit": GOAL_RATIO,
        "photo_bytes_sent": sent["photo_bodies"],
        "photo_share_of_originals": round(sent["photo_bodies"] / original_bytes, 3),
        "goal_photo_share": GOAL_PHOTO_SHARE,
        "capture_s": round(capture_s, 1),
        "originals_made_s": round(made_s, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    path = write("pwa_walkthrough", result)
    print(f"captured offline: {QUESTIONS} answers, {FINDINGS} findings, {PHOTOS} photos from 12-MP JPEGs "
          f"({original_bytes / 1e6:.1f} MB of originals) in {capture_s:.1f} s")
    print(f"drain at {UPLINK_BITS / 1e6} Mbit/s up, {LATENCY_MS} ms latency: empty outbox after {drain_s:.1f} s; "
          f"limit {limit_s:.1f} s ({bytes_up / 1e6:.2f} MB sent / bandwidth) -> {drain_s / limit_s:.2f}x "
          f"(goal <= {GOAL_RATIO}x); {requests['sync']} sync and {requests['photos']} photo requests")
    print(f"photo bytes sent {sent['photo_bodies'] / 1e6:.2f} MB = {sent['photo_bodies'] / original_bytes:.3f} of the "
          f"originals (goal <= {GOAL_PHOTO_SHARE:.2f})")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
