"""Small actions on the field app, in the words a person would use ("sign in", "sync now")."""

from playwright.sync_api import Page, expect

from tests import factories


class FieldApp:
    def __init__(self, page: Page):
        self.page = page

    def open(self, route: str = ""):
        self.page.goto(f"/app/{route}")
        self.page.wait_for_selector("body[data-ready='yes']")
        return self

    def sign_in(self, email: str, password: str = factories.PASSWORD):
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("navigation", name="Main")).to_be_visible()

    def wait_offline_ready(self):
        """The service worker is active, so the next start needs no network."""
        self.page.wait_for_selector("body[data-offline-ready='yes']", state="attached")

    def go(self, name: str):
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()

    def sync_screen(self):
        self.go("Sync")
        expect(self.page.get_by_role("heading", name="Sync", exact=True)).to_be_visible()

    def sync_now(self):
        self.sync_screen()
        self.page.get_by_role("button", name="Sync now").click()

    def expect_idle(self, timeout: int = 30_000):
        """No sync is running: the one that follows sign-in may still be pulling after
        everything is sent, and a test that then holds the next pull would hold that one."""
        self.sync_screen()
        expect(self.page.get_by_role("button", name="Sync now")).to_be_enabled(timeout=timeout)

    def expect_all_sent(self, timeout: int = 30_000):
        self.sync_screen()
        expect(self.page.locator("#pending-summary")).to_have_text("Everything is sent.", timeout=timeout)

    def question(self, text: str):
        return self.page.get_by_role("group", name=text)

    def sign(self, role: str, name: str | None = None):
        """Sign the submit screen's sign-off as `role` (auditor or auditee): type the name if
        given, then draw a zigzag on the pad with the mouse (pointer events)."""
        block = self.page.locator(f"fieldset[data-role='{role}']")
        if name is not None:
            block.get_by_label(f"Name of the {role}").fill(name)
        pad = block.get_by_role("img", name=f"Signature of the {role}")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        mouse = self.page.mouse
        low, high = (0.25, 0.75) if role == "auditor" else (0.4, 0.6)  # two people, two drawings
        mouse.move(box["x"] + 15, box["y"] + box["height"] * high)
        mouse.down()
        for i in range(1, 9):
            mouse.move(box["x"] + 15 + i * box["width"] / 10, box["y"] + box["height"] * (low if i % 2 else high),
                       steps=4)
        mouse.up()
        expect(block.get_by_role("status")).to_contain_text("Signed")

    def sign_off(self, auditee: str | None = None, reason: str = "Not on site at the close-out."):
        """The auditor signs; the auditee signs as `auditee`, or without one the auditor says why not."""
        self.sign("auditor")
        if auditee:
            self.sign("auditee", auditee)
        else:
            block = self.page.locator("fieldset[data-role='auditee']")
            block.get_by_role("checkbox", name="The auditee did not sign").check()
            block.get_by_label("Why the auditee did not sign").fill(reason)
