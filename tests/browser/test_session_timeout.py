"""The signing-out warning in headless Chromium: shown, announced, kept off, and the end.

The page's clock is Playwright's, moved on by hand; the server's is real, so each step first
sets the session's last request back in the database to where the page's clock says it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Route

from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.browser.test_map_page import describe, run_axe
from tests.browser.test_moderation_journey import sign_in
from tests.store.sessions import last_seen, seen_ago
from tests.web.staff import add_user

pytestmark = pytest.mark.browser

IDLE_S = 30 * 60  # the default


def signed_in_on_a_clock(watch: PageWatch, store: Store) -> Page:
    """A moderator signed in on a page whose clock the test moves (Playwright's clock)."""
    add_user(store, "mo", "moderator")
    watch.page.clock.install()
    sign_in(watch)
    return watch.page


def test_the_warning_counts_down_keeps_the_session_and_says_when_it_has_ended(
    watch: PageWatch, store: Store
) -> None:
    page = signed_in_on_a_clock(watch, store)
    (token,) = [c["value"] for c in page.context.cookies() if "assetmap-auth" in c["name"]]
    dialog = page.locator("dialog#app-timeout")
    assert not dialog.evaluate("d => d.open")

    # 28 minutes on, with the server's session as idle as that: the warning.
    seen_ago(store, token, IDLE_S - 110)
    page.clock.fast_forward((IDLE_S - 120 + 5) * 1000)
    page.get_by_role("dialog", name="You are about to be signed out").wait_for()
    assert dialog.locator(".app-timeout__countdown").inner_text() == "2 minutes"
    assert page.evaluate("document.getElementById('app-timeout').contains(document.activeElement)")
    announced = dialog.locator("[aria-live='polite']")
    assert announced.inner_text() == "We will sign you out in 2 minutes."
    violations = run_axe(watch)
    assert violations == [], describe(violations)

    # Escape is "Stay signed in": the server starts the spell again, the dialog closes.
    with page.expect_response("**/session") as kept:
        page.keyboard.press("Escape")
    assert kept.value.request.method == "POST" and kept.value.status == 200
    dialog.wait_for(state="hidden")
    assert (datetime.now(UTC) - last_seen(store, token)).total_seconds() < 10

    # Busy in another tab: when this page's warning is due, the server says there is time.
    page.clock.fast_forward((IDLE_S - 120 + 5) * 1000)
    page.wait_for_timeout(300)
    assert not dialog.evaluate("d => d.open")

    # Idle everywhere: the warning, then the end.
    seen_ago(store, token, IDLE_S - 30)
    page.clock.fast_forward((IDLE_S - 120 + 5) * 1000)
    page.get_by_role("dialog", name="You are about to be signed out").wait_for()
    left = dialog.locator(".app-timeout__countdown").inner_text()
    assert left in {"28 seconds", "29 seconds", "30 seconds"}, left
    seen_ago(store, token, IDLE_S)
    page.clock.fast_forward(31_000)
    page.get_by_role("dialog", name="You have been signed out").wait_for()
    close = dialog.get_by_role("button", name="Close")
    assert page.evaluate("document.activeElement.textContent") == "Close"
    violations = run_axe(watch)
    assert violations == [], describe(violations)
    close.click()
    dialog.wait_for(state="hidden")
    assert page.url.endswith("/moderate?from=test")  # the page, and anything typed, stays
    watch.assert_clean()


def test_sign_out_in_the_warning_signs_out(watch: PageWatch, store: Store) -> None:
    page = signed_in_on_a_clock(watch, store)
    (token,) = [c["value"] for c in page.context.cookies() if "assetmap-auth" in c["name"]]
    seen_ago(store, token, IDLE_S - 110)
    page.clock.fast_forward((IDLE_S - 120 + 5) * 1000)
    warning = page.get_by_role("dialog", name="You are about to be signed out")
    with page.expect_navigation():
        warning.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/login")
    assert store.session_user(token) is None
    watch.assert_clean()


def test_with_the_server_out_of_reach_the_page_goes_by_its_own_clock(
    watch: PageWatch, store: Store
) -> None:
    page = signed_in_on_a_clock(watch, store)
    asked: list[str] = []

    def unreachable(route: Route) -> None:
        asked.append(route.request.method)
        route.abort()

    page.route("**/session", unreachable)
    page.clock.fast_forward((IDLE_S - 120 + 5) * 1000)
    page.get_by_role("dialog", name="You are about to be signed out").wait_for()
    page.clock.fast_forward(120_000)
    page.get_by_role("dialog", name="You have been signed out").wait_for()
    page.wait_for_timeout(500)
    assert asked == ["GET", "GET"]  # once before warning, once at zero: not without end
