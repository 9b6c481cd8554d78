"""Thousands of generated hostile submissions, approved and rendered in headless Chromium.

At least 1,000 submissions (5,000 with ``ASSETMAP_LONG=1``; see tests/web/hostile_input.py)
go through the form and the API, full of HTML, script, template and spreadsheet payloads,
and are approved in the store. One browser session then loads the home map (checking a
sample of tooltips and popups, and every name in the table) and every detail page, in
batches of iframes on a light page. Nothing may answer 5xx, run script (a dialog,
``window.__pwned``, or a Content-Security-Policy violation, which is what an injected inline
handler would cause) or show text other than what was stored.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store
from tests.browser.conftest import PageWatch
from tests.web.hostile_input import PROFILE, Sender, submissions

pytestmark = pytest.mark.browser

BATCH = 25  # detail pages loading at once
_ASCII_SPACE = re.compile("[\t\n\f\r ]+")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, without rate limits: one test client sends everything."""
    return replace(settings, submissions_per_client_per_hour=0, submissions_per_email_per_day=0)


_POPUP_JS = """
(name) => {
  const names = document.querySelectorAll(".leaflet-popup-content .am-popup .am-popup__name");
  return names.length > 0 && names[names.length - 1].textContent === name;
}
"""

# Runs in every frame: what an injected handler or script would set or open.
_DETAILS_JS = """
async (urls) => {
  const read = (frame) => new Promise((resolve) => {
    frame.addEventListener("load", () => {
      const win = frame.contentWindow;
      const doc = frame.contentDocument;
      const rows = {};
      doc.querySelectorAll(".govuk-summary-list__row").forEach((row) => {
        rows[row.querySelector("dt").textContent] = row.querySelector("dd").textContent;
      });
      const description = doc.querySelector("h1 + p.app-pre-line");
      resolve({
        url: frame.getAttribute("src"),
        title: doc.title,
        name: doc.querySelector("h1") ? doc.querySelector("h1").textContent : null,
        description: description ? description.textContent : "",
        rows: rows,
        pwned: win.__pwned === 1,
        csp: win.__cspViolations || [],
        markers: doc.querySelectorAll("path.am-marker").length,
      });
      frame.remove();
    }, {once: true});
  });
  const frames = urls.map((url) => {
    const frame = document.createElement("iframe");
    frame.setAttribute("src", url);
    frame.setAttribute("title", "detail page");
    // Loaded, laid out and run like any page, but never painted: nobody looks at them.
    frame.style.visibility = "hidden";
    frame.style.position = "absolute";
    document.body.appendChild(frame);
    return read(frame);
  });
  return Promise.all(frames);
}
"""


def test_generated_hostile_submissions_render_as_plain_text(
    watch: PageWatch, app: Flask, store: Store, taxonomy: Taxonomy
) -> None:
    started = time.monotonic()
    sender = Sender(app.test_client())
    statuses, refs = sender.statuses, sender.refs

    @PROFILE
    @given(sub=submissions(taxonomy.ids), via=st.sampled_from(["api", "api", "api", "form"]))
    def run(sub: dict[str, Any], via: str) -> None:
        sender.send(sub, via)

    run()
    assert sender.requests() >= PROFILE.max_examples
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 201, 303, 400}, statuses
    for ref in refs:
        store.approve(ref, moderator="user:mo", expected_version=1)
    published = {a.id: a for a in store.list_assets(status="published")}
    assert len(published) == len(refs) > PROFILE.max_examples // 2
    generated_s = time.monotonic() - started

    # -- Chromium: one session, the home map and every detail page -------------------------
    page_watch = watch
    page = watch.page
    server_errors: list[str] = []
    page.on("response", lambda r: server_errors.append(r.url) if r.status >= 500 else None)
    page_watch.goto("/")
    page_watch.wait_for_markers(len(published))
    names = page.eval_on_selector_all(
        "table.app-asset-table tbody th a", "links => links.map(a => a.textContent)"
    )
    assert Counter(names) == Counter(a.name for a in published.values())
    for asset_id in random.Random(7).sample(sorted(published), 40):
        asset = published[asset_id]
        marker = page.locator(f'path.am-marker[data-asset-id="{asset_id}"]')
        marker.dispatch_event("mouseover")
        assert page.locator(".leaflet-tooltip .am-tooltip").last.text_content() == asset.name
        marker.dispatch_event("mouseout")
        marker.dispatch_event("click")
        # The last popup is this one (the one before may still be fading out).
        page.wait_for_function(_POPUP_JS, arg=asset.name)
        popup = page.locator(".leaflet-popup-content .am-popup").last
        assert popup.locator(".am-popup__name").text_content() == asset.name
        assert popup.locator("img, script, iframe, svg").count() == 0
    home_s = time.monotonic() - started - generated_s

    # Detail pages load in iframes on a light page (the home page's big table would be laid
    # out again for every frame added to it).
    page_watch.goto("/licences")
    urls = [f"/assets/{asset_id}" for asset_id in sorted(published)]
    seen = 0
    for start in range(0, len(urls), BATCH):
        for result in page.evaluate(_DETAILS_JS, urls[start : start + BATCH]):
            asset = published[result["url"].rsplit("/", 1)[1]]
            assert result["name"] == asset.name, result["url"]
            assert result["description"] == asset.description, result["url"]
            assert result["rows"].get("Address", "") == asset.address, result["url"]
            assert result["rows"].get("Opening times", "") == asset.opening_times.text
            # document.title collapses ASCII whitespace, as HTML defines.
            assert result["title"] == _ASCII_SPACE.sub(" ", f"{asset.name} – Assetmap").strip(
                " \t\n\f\r"
            )
            assert result["markers"] == 1
            assert not result["pwned"] and result["csp"] == [], result
            seen += 1
    assert seen == len(published)
    assert page.evaluate("window.__pwned === undefined")
    assert server_errors == []
    page_watch.assert_clean()
    print(  # timing, shown with -s
        f"\n{sum(statuses.values())} requests {dict(statuses)}; {len(published)} published;"
        f" generate {generated_s:.0f} s, home {home_s:.0f} s,"
        f" total {time.monotonic() - started:.0f} s"
    )
