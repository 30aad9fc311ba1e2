"""Areas by their QR label in the field app: the code typed to pick a finding's area, a
label's URL opening the app on the area - offline, from the areas already on the device - and
the camera path as far as Chromium on Linux can drive it.

Debian's Chromium on Linux has no BarcodeDetector (Chrome has it on Android, macOS and
ChromeOS). The camera test therefore runs Chromium's real fake camera (getUserMedia gives
live frames) under a stand-in BarcodeDetector that answers what the label's QR holds once
the video plays: it proves the app's wiring (camera opened, frames read, the detected URL
turned into the area, the camera stopped), not that a QR is decoded - the QR's content is
proved module for module in tests/server/test_area_codes.py.
"""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Finding
from server.services import feed
from tests import factories
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, TIMEOUT_MS
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e


def seed():
    tag = uuid.uuid4().hex[:6]
    home, press, paint = (factories.area(name=f"{name} {tag}") for name in ("Stores", "Press shop", "Paint line"))
    template = factories.template(questions=1, name=f"Walk {tag}")
    feed.publish("template", template.id, template.version)
    staff = factories.user("staff", email=f"qr-staff-{tag}@example.test", home_area=home)
    auditor = factories.user("auditor", email=f"qr-auditor-{tag}@example.test", home_area=home)
    return {"tag": tag, "staff": staff.email, "auditor": auditor.email, "home": home.label,
            "press": (press.label, press.code, str(press.id)), "paint": (paint.label, paint.code, str(paint.id)),
            "home_code": home.code, "home_id": str(home.id), "template": template.name}


def test_typing_an_areas_code_picks_the_area_of_a_finding_offline(phone, live_server):
    s = live_server.run(seed)
    app = FieldApp(phone).open()
    app.sign_in(s["staff"])
    app.wait_offline_ready()
    phone.context.set_offline(True)
    expect(phone.get_by_role("heading", name="Raise a finding")).to_be_visible()
    area = phone.get_by_label("Area")
    expect(area).to_have_value(s["home_id"])

    assert phone.evaluate("() => 'BarcodeDetector' in window") is False  # so the button offers typing
    phone.get_by_role("button", name="Type area code").click()
    code = phone.get_by_label("Code on the label")
    expect(code).to_be_focused()
    expect(phone.get_by_label("Camera")).to_be_hidden()  # no camera on this path
    code.fill("K7Q")
    expect(phone.get_by_text("Draft - kept on this device")).to_be_hidden()  # a code typed is not a draft
    code.fill("K7QM2")
    phone.get_by_role("button", name="Use code").click()
    expect(phone.get_by_role("status").filter(has_text="That is not an area code")).to_be_visible()
    unknown = "ZZZZZZ" if s["paint"][1] != "ZZZZZZ" and s["press"][1] != "ZZZZZZ" else "YYYYYY"
    code.fill(unknown)
    code.press("Enter")
    expect(phone.get_by_role("status").filter(has_text=f"No area on this device has the code {unknown}")).to_be_visible()
    # Typed as people do: lower case, a dash in the middle.
    label, typed, paint_id = s["paint"]
    code.fill(f"{typed[:3].lower()}-{typed[3:].lower()}")
    code.press("Enter")
    expect(area).to_have_value(paint_id)
    expect(phone.get_by_text(f"Area from its label: {label}")).to_be_visible()
    expect(phone.get_by_label("Code on the label")).to_be_hidden()

    phone.get_by_label("What did you see?").fill(f"Drum leaking {s['tag']}")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_text("Finding saved on this device.")).to_be_visible()
    phone.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()

    def saved_area():
        finding = db.session.scalar(select(Finding).where(Finding.title == f"Drum leaking {s['tag']}"))
        return finding.area.label
    assert live_server.run(saved_area) == label
    assert phone.errors == []


def test_a_labels_url_opens_the_area_with_what_can_be_done_there(tablet, live_server):
    s = live_server.run(seed)
    app = FieldApp(tablet).open()
    app.sign_in(s["auditor"])
    app.wait_offline_ready()
    tablet.context.set_offline(True)
    label, code, press_id = s["press"]

    # What a phone's camera opens: the label's URL, offline from the service worker's cache.
    app.open(f"#/area/{code}")
    expect(tablet.get_by_role("heading", name=label, level=1)).to_be_visible()
    tablet.get_by_role("link", name="Raise a finding here").click()
    expect(tablet.get_by_label("Area")).to_have_value(press_id)

    app.open(f"#/area/{code}")
    tablet.get_by_role("link", name="Start an unplanned audit here").click()
    expect(tablet.get_by_role("heading", name="Start an unplanned audit")).to_be_visible()
    expect(tablet.get_by_label("Area")).to_have_value(press_id)

    # The auditor's own area: a finding yes, an audit no.
    app.open(f"#/area/{s['home_code']}")
    expect(tablet.get_by_role("heading", name=s["home"], level=1)).to_be_visible()
    expect(tablet.get_by_role("link", name="Raise a finding here")).to_be_visible()
    expect(tablet.get_by_role("link", name="Start an unplanned audit here")).to_have_count(0)
    expect(tablet.get_by_text("This is your own area")).to_be_visible()

    # On the unplanned-audit form, typing the own area's code is refused with the reason.
    app.open("#/new-audit")
    tablet.get_by_role("button", name="Type area code").click()
    tablet.get_by_label("Code on the label").fill(s["home_code"])
    tablet.get_by_role("button", name="Use code").click()
    expect(tablet.get_by_role("status").filter(has_text="it is your own area")).to_be_visible()
    tablet.get_by_label("Code on the label").fill(s["paint"][1])
    tablet.get_by_role("button", name="Use code").click()
    expect(tablet.get_by_label("Area")).to_have_value(s["paint"][2])

    # A code no area on the device has.
    app.open("#/area/ZZZZZZ" if code != "ZZZZZZ" else "#/area/YYYYYY")
    expect(tablet.get_by_role("heading", name="Area not found")).to_be_visible()
    assert tablet.errors == []


# Stands in for the browser's BarcodeDetector (see the module's docstring): it reads nothing
# from a frame it was not given, and answers only while the camera's video really plays.
STAND_IN_DETECTOR = """
window.__labelSeen = null;
window.__detectCalls = 0;
window.BarcodeDetector = class {
  constructor(options) { this.formats = options && options.formats; }
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect(video) {
    window.__detectCalls += 1;
    const live = video && video.srcObject && video.srcObject.getVideoTracks().some((t) => t.readyState === "live");
    if (!live || !video.videoWidth || !window.__labelSeen) return [];
    return [{ format: "qr_code", rawValue: window.__labelSeen }];
  }
};
"""


@pytest.fixture
def camera_phone(playwright_instance, live_server):
    args = CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=args)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  permissions=["camera"])
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(STAND_IN_DETECTOR)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()
    browser.close()


def test_the_camera_reads_a_label_into_the_findings_area(camera_phone, live_server):
    page = camera_phone
    s = live_server.run(seed)
    app = FieldApp(page).open()
    app.sign_in(s["staff"])
    expect(page.get_by_role("heading", name="Raise a finding")).to_be_visible()
    page.get_by_role("button", name="Scan area QR").click()
    video = page.get_by_label("Camera")
    expect(video).to_be_visible()
    page.wait_for_function("() => { const v = document.querySelector('video.scan-video'); "
                           "return v && v.videoWidth > 0 && !v.paused && window.__detectCalls > 0; }")
    # The person points the camera at the label of the paint line.
    label, code, paint_id = s["paint"]
    page.evaluate("(url) => { window.__labelSeen = url; }", f"{live_server.url}/app/#/area/{code}")
    expect(page.get_by_label("Area")).to_have_value(paint_id)
    expect(page.get_by_text(f"Area from its label: {label}")).to_be_visible()
    expect(video).to_be_hidden()
    assert page.evaluate("() => document.querySelector('video.scan-video').srcObject") is None  # camera released
    assert page.errors == []
