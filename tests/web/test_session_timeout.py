"""Staff sessions end after a spell without activity, with a warning and a way to stay."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.domain.errors import ValidationError
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import AppState, create_app
from tests.store.sessions import last_seen, seen_ago
from tests.web.staff import auth_token, csrf, sign_in, signed_in_client

_SECONDS_LEFT = re.compile(r'data-seconds-left="(\d+)"')


def _token(client: FlaskClient, app: Flask) -> str:
    token = auth_token(client, app)
    assert token
    return token


def test_staff_pages_carry_the_warning_and_public_visitors_do_not(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    assert "app-timeout" not in client.get("/").get_data(as_text=True)
    mo = signed_in_client(app, store, "mo", "moderator")
    html = mo.get("/moderate").get_data(as_text=True)
    found = _SECONDS_LEFT.search(html)
    assert found and 1790 <= int(found.group(1)) <= 1800  # 30 minutes, the default
    assert "we sign you out after 30 minutes without any activity" in html
    assert 'data-status-url="/session"' in html and 'data-keep-url="/session"' in html
    assert "/static/js/session-timeout.js" in html
    # A public page seen by someone signed in warns them too: it is the same session.
    assert "app-timeout" in mo.get("/").get_data(as_text=True)


def test_asking_how_long_is_left_does_not_count_as_activity(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    mo = signed_in_client(app, store, "mo", "moderator")
    token = _token(mo, app)
    seen_ago(store, token, 1000)
    before = last_seen(store, token)
    answer = mo.get("/session")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.json is not None and answer.json["signed_in"] is True
    assert 790 <= answer.json["seconds_left"] <= 800
    assert last_seen(store, token) == before
    assert client.get("/session").json == {"signed_in": False, "seconds_left": 0}


def test_staying_signed_in_needs_the_form_token_and_starts_the_spell_again(
    app: Flask, store: Store
) -> None:
    mo = signed_in_client(app, store, "mo", "moderator")
    token = _token(mo, app)
    refused = mo.post("/session")  # no CSRF token
    assert refused.status_code == 400 and refused.json is None
    seen_ago(store, token, 1700)
    kept = mo.post("/session", headers={"X-CSRFToken": csrf(mo, "/moderate")})
    assert kept.status_code == 200 and kept.json is not None
    assert kept.json["signed_in"] is True and 1790 <= kept.json["seconds_left"] <= 1800
    assert datetime.now(UTC) - last_seen(store, token) < timedelta(seconds=10)


def test_after_the_spell_the_next_page_is_signed_out_and_staying_is_refused(
    app: Flask, store: Store
) -> None:
    mo = signed_in_client(app, store, "mo", "moderator")
    token = _token(mo, app)
    form_token = csrf(mo, "/moderate")
    seen_ago(store, token, 1800)
    refused = mo.post("/session", headers={"X-CSRFToken": form_token})
    assert refused.status_code == 401
    assert refused.json == {"signed_in": False, "seconds_left": 0}
    assert auth_token(mo, app) is None  # the dead cookie is removed
    page = mo.get("/moderate")
    assert page.status_code == 302 and page.location.startswith("/login")


def test_a_form_sent_after_the_spell_is_shown_back(app: Flask, store: Store) -> None:
    ada = signed_in_client(app, store, "ada", "admin")
    token = _token(ada, app)
    form_token = csrf(ada, "/moderate")
    seen_ago(store, token, 3600)
    sent = ada.post(
        "/moderate/SUB-X/reject", data={"csrf_token": form_token, "reason": "Closed in May"}
    )
    assert sent.status_code == 401
    assert "Closed in May" in sent.get_data(as_text=True)


def test_no_idle_limit_when_set_to_zero(app: Flask, store: Store) -> None:
    app_state: AppState = app.extensions["assetmap"]
    patient = create_app(replace(app_state.settings, staff_idle_minutes=0), store=store)
    mo = signed_in_client(patient, store, "mo", "moderator")
    seen_ago(store, _token(mo, patient), 5 * 3600)
    page = mo.get("/moderate")
    assert page.status_code == 200 and "app-timeout" not in page.get_data(as_text=True)
    assert mo.get("/session").json == {
        "signed_in": True,
        "seconds_left": pytest.approx(24 * 3600, abs=15),
    }


def test_the_idle_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).staff_idle_minutes == 30
    env = {"ASSETMAP_STAFF_IDLE_MINUTES": "15"}
    assert Settings.from_env(env).staff_idle_minutes == 15
    with pytest.raises(ValidationError) as err:
        Settings.from_env({"ASSETMAP_STAFF_IDLE_MINUTES": "half an hour"})
    assert err.value.field == "ASSETMAP_STAFF_IDLE_MINUTES"
    assert "is not a whole number of 0 or more" in err.value.message


def test_signing_in_again_after_the_spell_works(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    mo = signed_in_client(app, store, "mo", "moderator")
    seen_ago(store, _token(mo, app), 1800)
    assert mo.get("/moderate").status_code == 302
    assert sign_in(mo, "mo").status_code == 303
    assert mo.get("/moderate").status_code == 200
