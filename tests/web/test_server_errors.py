"""Errors the app raises that are not the visitor's doing: the reason to the log, not the page.

A store's set-up errors are written for the operator and may name the database's host, a
role or a file path (a role that lost its rights on the schema mid-run, say).
"""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from assetmap.domain.errors import AssetmapError
from assetmap.store.base import StoreUnavailable
from assetmap.web.app import SERVER_ERROR_MESSAGE, STORE_UNAVAILABLE_MESSAGE

SECRET = "role 'assetmap_app' on db.internal.example:5432 may not use the schema 'council'"
BUSY = "/srv/assetmap/instance/assetmap.db is busy with another change"


@pytest.fixture
def failing(app: Flask) -> Flask:
    def broken() -> str:
        raise AssetmapError(SECRET)

    def busy() -> str:
        raise StoreUnavailable(BUSY)

    app.add_url_rule("/broken", view_func=broken)
    app.add_url_rule("/api/v1/broken", view_func=broken, endpoint="api_broken")
    app.add_url_rule("/busy", view_func=busy)
    return app


def test_a_server_error_page_keeps_the_reason_in_the_log(
    failing: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/broken")
        api = client.get("/api/v1/broken")
    assert page.status_code == 500 and api.status_code == 500
    html = page.get_data(as_text=True)
    assert SECRET not in html and "db.internal" not in html
    assert "Something went wrong on our side" in html
    assert api.get_json() == {"error": {"field": None, "message": SERVER_ERROR_MESSAGE}}
    logged = [r.getMessage() for r in caplog.records]
    assert logged.count(f"AssetmapError: {SECRET}") == 2


def test_a_busy_store_says_try_again_without_its_path(
    failing: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        page = failing.test_client().get("/busy", headers={"Accept": "application/json"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert page.get_json() == {"error": {"field": None, "message": STORE_UNAVAILABLE_MESSAGE}}
    assert f"database unavailable: {BUSY}" in [r.getMessage() for r in caplog.records]


def test_a_visitors_error_is_still_shown_as_written(failing: Flask) -> None:
    # A 400's message is the person's to act on: unchanged.
    answer = failing.test_client().get("/api/v1/assets/nearby?postcode=ZZ99+9ZZ")
    assert answer.status_code == 400
    assert "ZZ99 9ZZ" in answer.get_json()["error"]["message"]
