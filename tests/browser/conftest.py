"""Browser fixtures: the app on a local port, Debian's Chromium through Playwright, offline.

Every request that does not go to the live server is aborted and recorded, and so are CSP
violations, uncaught script errors and JavaScript dialogs; tests end with
``watch.assert_clean()``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from werkzeug.serving import make_server

from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.conftest import skip_or_fail

VENDOR = REPO_ROOT / "web" / "static" / "vendor"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # needed when running as root (containers, CI)
    "--disable-gpu",
    "--disable-background-networking",  # otherwise Chromium keeps calling Google hosts
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

# Runs before any page script: records every Content-Security-Policy violation.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        skip_or_fail("chromium is not installed (bash scripts/system_deps.sh)")
    needed = [VENDOR / "leaflet" / "leaflet.js", VENDOR / "axe-core" / "axe.min.js"]
    if not all(p.is_file() for p in needed):
        skip_or_fail("web/static/vendor is not built (make setup)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def app(settings: Settings, store: Store) -> Flask:
    return create_app(settings, store=store)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by werkzeug on 127.0.0.1 (a free port) in a thread; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass
class PageWatch:
    """A page plus what it did that a test must not allow."""

    page: Page
    base_url: str
    outside_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_csp: list[str] = field(default_factory=list)

    def goto(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None
        assert response.status == status, f"{path}: HTTP {response.status}"

    def wait_for_markers(self, count: int) -> None:
        """Wait until Leaflet has drawn ``count`` asset circles; say why when it does not."""
        try:
            self.page.wait_for_function(
                "n => typeof L !== 'undefined'"
                " && document.querySelectorAll('path.am-marker').length === n",
                arg=count,
                timeout=TIMEOUT_MS,
            )
        except PlaywrightTimeoutError:
            drawn = self.page.locator("path.am-marker").count()
            pytest.fail(
                f"{drawn} of {count} markers drawn; CSP violations: {self.csp_violations()};"
                f" script errors: {self.page_errors}; outside requests: {self.outside_requests}"
            )

    def csp_violations(self) -> list[str]:
        events: list[str] = self.page.evaluate("window.__cspViolations || []")
        return events + self.console_csp

    def assert_clean(self) -> None:
        assert self.outside_requests == [], "requests left 127.0.0.1"
        assert self.csp_violations() == [], "Content-Security-Policy violations"
        assert self.page_errors == [], "uncaught script errors"
        assert self.dialogs == [], "a dialog opened: resident text ran as script"


@pytest.fixture
def watch(browser: Browser, live_server: str) -> Iterator[PageWatch]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = PageWatch(page=page, base_url=live_server)

    def route(r: Route) -> None:
        if r.request.url.startswith(live_server + "/"):
            r.continue_()
        else:
            watch.outside_requests.append(r.request.url)
            r.abort()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            watch.console_csp.append(message.text)

    context.route("**/*", route)
    page.add_init_script(_WATCH_CSP)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("console", on_console)
    try:
        yield watch
        # A test that forgot assert_clean() still fails on outside requests.
        assert watch.outside_requests == [], "requests left 127.0.0.1"
    finally:
        context.close()
