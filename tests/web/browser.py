"""What the browser tests share: Chromium (Debian's, through Playwright) against
pytest-django's `live_server`, a fresh context per test, screenshots, logging in, and the
ways a person hands the pages an image (a file picker, a drop, a paste).

Chromium must be at /usr/bin/chromium (.ci/run installs Debian's package when it is
missing); without it these tests fail rather than skip, so CI cannot pass without them.
Screenshots go to test-output/screenshots/ (git-ignored).

Playwright's sync API runs an asyncio loop in the test's thread, which trips Django's
"async unsafe" guard on every ORM call the test makes; the test thread never runs Django
code concurrently with that loop, so the guard is switched off while the browser runs.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from django_q.brokers import get_broker
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_tab(browser: Browser, base: str, viewport: dict = DESKTOP, **options) -> Page:
    """A page in a fresh context (no cookies); `tab.console` collects what it logs, and a
    script error fails the test when the tab is closed with `close_tab`."""
    context = browser.new_context(viewport=viewport, accept_downloads=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.console = []
    tab.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: tab.console.append(f"pageerror: {error}"))
    tab.base = base
    return tab


def close_tab(tab: Page) -> None:
    tab.context.close()
    print("\n".join(tab.console))
    errors = [line for line in tab.console if line.startswith("pageerror")]
    assert not errors, errors


@pytest.fixture
def page(browser, live_server) -> Page:
    """A desktop tab (1280 x 900); the broker is left empty after it."""
    tab = new_tab(browser, live_server.url)
    try:
        yield tab
    finally:
        # Jobs run in-process or by a test's own cluster; their tasks must not reach a later worker.
        get_broker().purge_queue()
        close_tab(tab)


@pytest.fixture
def phone(browser, live_server) -> Page:
    """A phone tab: 390 x 844 CSS pixels at a device scale of 3."""
    tab = new_tab(browser, live_server.url, PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    try:
        yield tab
    finally:
        get_broker().purge_queue()
        close_tab(tab)


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page: Page, user, *, next_path: str = "/upload/", screenshot: str | None = None) -> None:
    page.goto(page.base + next_path)
    expect(page).to_have_url(page.base + "/accounts/login/?next=" + next_path)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(page.base + next_path)
    page.wait_for_load_state()  # the page's scripts have run: its buttons do something


def write_file(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


_FILES_JS = """(files) => { const transfer = new DataTransfer();
    for (const f of files) {
        const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, {type: f.type}));
    }
    return transfer; }"""


def _files(files: list[tuple[str, bytes, str]]) -> list[dict]:
    return [{"name": name, "b64": base64.b64encode(body).decode(), "type": kind} for name, body, kind in files]


def drop_files(page: Page, selector: str, files: list[tuple[str, bytes, str]]) -> None:
    """Drop (name, bytes, type) files on the element, as a drag from the desktop does."""
    transfer = page.evaluate_handle(_FILES_JS, _files(files))
    target = page.locator(selector)
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": transfer})


def paste_files(page: Page, files: list[tuple[str, bytes, str]]) -> None:
    """Paste files into the page, as Ctrl+V of a copied picture does."""
    page.evaluate(
        f"""(files) => {{ const transfer = ({_FILES_JS})(files);
            document.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: transfer, bubbles: true}})); }}""",
        _files(files),
    )


def no_sideways_scroll(page: Page) -> None:
    """Nothing is wider than the window: no sideways scroll (SPEC of the pages: phones too)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def load_every_image(page: Page) -> None:
    """Scroll to the end (lazy images load near the viewport) until every <img> with a
    src has loaded; then back to the top."""
    page.wait_for_load_state("load")
    for _ in range(20):
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(100)
        if page.evaluate("() => [...document.images].every(i => i.complete)"):
            break
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(
        "() => [...document.images].filter(i => i.getAttribute('src') && !i.closest('[hidden]'))"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.evaluate("() => window.scrollTo(0, 0)")
