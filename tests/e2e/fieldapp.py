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
