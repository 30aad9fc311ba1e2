"""The field app's modules tested one by one in Chromium: db.js, outbox.js, render.js, ...

Each `test-<name>.mjs` in this folder registers one JS test per behaviour (harness.mjs);
here each of them is one pytest test, run in a page of its own in a fresh browser profile,
so every test starts with an empty IndexedDB and freshly evaluated modules. A JS test fails
by throwing; its message and stack become the pytest failure.
"""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

MODULES_DIR = Path(__file__).resolve().parent
# harness.mjs asks for each test to open a line with test("name", ...).
TEST_CALL = re.compile(r'^test\("((?:[^"\\]|\\.)*)"', re.M)


def registered_tests() -> dict[str, list[str]]:
    return {path.name: TEST_CALL.findall(path.read_text(encoding="utf-8"))
            for path in sorted(MODULES_DIR.glob("test-*.mjs"))}


FILES = registered_tests()
CASES = [(file, name) for file, names in FILES.items() for name in names]


def load(page, file: str) -> list[str]:
    """Open the harness on `file`; answer the names of the tests the page registered."""
    page.goto(f"/modules/index.html?module={file}")
    page.wait_for_function("() => window.moduleTests !== undefined")
    loaded = page.evaluate("() => window.moduleTests.loadError || null")
    assert loaded is None, f"{file} did not load: {loaded}"
    return page.evaluate("() => window.moduleTests.names")


@pytest.mark.parametrize("file", sorted(FILES))
def test_every_test_in_the_file_is_collected(module_page, file):
    """A test pytest cannot see (a name that is not a plain string, say) would never run."""
    assert load(module_page, file) == FILES[file]
    assert FILES[file], f"{file} holds no tests"


@pytest.mark.parametrize(("file", "name"), CASES, ids=[f"{file}::{name}" for file, name in CASES])
def test_module(module_page, file, name):
    load(module_page, file)
    result = module_page.evaluate("(name) => window.moduleTests.run(name)", name)
    if not result["ok"]:
        pytest.fail(result.get("stack") or result["error"], pytrace=False)
    assert module_page.errors == [], "uncaught errors in the page"
