"""Browser tests: Playwright (sync API) drives Debian's Chromium against the live_server fixture.

Every test in this folder gets the `e2e` marker. Chromium is /usr/bin/chromium from apt
(`scripts/install_system_deps.sh chromium`); Playwright's own browsers are never downloaded.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 10_000  # per Playwright action; a page of this app answers in well under a second
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = E2E_DIR / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install_system_deps.sh chromium`")
    # Playwright's sync API keeps an asyncio loop in this thread from here on, and Django refuses
    # ORM calls (SynchronousOnlyOperation) while a loop runs unless this is set.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page: Page, live_server) -> Callable[..., Page]:
    """`login("merchant")` signs in through the login form and returns the page, now on the
    page the login redirects to; raises AssertionError when the login is refused."""

    def log_in(username: str, password: str = "demo") -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        if urlsplit(page.url).path == "/accounts/login/":
            raise AssertionError(f"login as {username!r} was refused")
        return page

    return log_in


@pytest.fixture
def screenshot_dir() -> Path:
    """tests/e2e/artifacts/ (git-ignored): `page.screenshot(path=screenshot_dir / "x.png")`."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
