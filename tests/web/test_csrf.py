"""CSRF: every state-changing route refuses a request without this session's token.

The routes are read from the app's URL map, so a form route added later is covered without
touching this file. The JSON API is exempt from tokens but accepts writes only as
``application/json``, which no cross-site HTML form can send.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from assetmap.domain.asset import build_asset
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import GOOD, form_tokens, tokens
from tests.web.staff import auth_token, signed_in_client

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def write_rules(app: Flask, *, api: bool) -> list[tuple[Rule, str]]:
    """(rule, method) for every state-changing route, in or out of the JSON API."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) & WRITES)
        if rule.endpoint.startswith("api.") == api
    ]


@pytest.fixture
def world(store: Store, taxonomy: Taxonomy) -> dict[str, str]:
    """A published asset and a pending submission, for URL arguments."""
    (library,) = create_all(store, [LIBRARIES[0]], taxonomy)
    pending, _ = store.submit_new(
        build_asset({**LIBRARIES[1], "name": "New group"}, taxonomy),
        submitter=Submitter(name="Rita", email="rita@example.org", client_key="c1"),
    )
    return {"asset_id": library.id, "ref": pending.ref}


def url_for_rule(rule: Rule, world: dict[str, str]) -> str:
    values = {name: world.get(name, "1") for name in rule.arguments}
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<{name}>", value)
        for converter in ("int", "string", "path"):
            url = url.replace(f"<{converter}:{name}>", value)
    return url


def snapshot(store: Store, client_token: str | None) -> tuple[Any, ...]:
    """Everything a forged request could change."""
    return (
        store.count_assets(),
        store.count_revisions(),
        [(s.ref, s.status, s.version) for s in store.list_submissions(status=None)],
        [(a.id, a.revision, a.status) for a in store.list_assets(status=None)],
        [(u.username, u.role, u.auth_version, u.active) for u in store.list_users()],
        client_token is not None and store.session_user(client_token) is not None,
    )


def payload(world: dict[str, str]) -> dict[str, Any]:
    """Form fields that every route would accept if the token were right."""
    return {
        **GOOD,
        "action": "send",
        "same_as": "none",
        "problem": "closed",
        "expected_version": "1",
        "expected_revision": "1",
        "to_revision": "1",
        "reason": "forged",
        "into": world["asset_id"],
        "username": "mallory",
        "password": "correct horse battery staple",
    }


def test_the_url_map_has_the_form_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule, _ in write_rules(app, api=False)}
    assert {"submit.new_place", "submit.suggest_change", "submit.report_problem"} <= endpoints
    assert {rule.endpoint for rule, _ in write_rules(app, api=True)} >= {"api.create_submission"}


@pytest.mark.parametrize("token", ["missing", "empty", "another session", "another secret"])
def test_every_form_route_refuses_a_missing_or_foreign_token(
    app: Flask, store: Store, settings: Settings, world: dict[str, str], token: str
) -> None:
    # Signed in as an admin, so the request would have had every right but the token.
    client = signed_in_client(app, store, "ada", "admin")
    signed_in = auth_token(client, app)
    assert signed_in
    client.get("/submit")  # the session has its own CSRF secret
    if token == "missing":
        fields: dict[str, str] = {}
    elif token == "empty":
        fields = {"csrf_token": ""}
    elif token == "another session":
        fields = {"csrf_token": form_tokens(app.test_client())["csrf_token"]}
    else:
        other = create_app(replace(settings, secret_key="another-secret"), store=store)
        fields = {"csrf_token": form_tokens(other.test_client())["csrf_token"]}
    rules = write_rules(app, api=False)
    assert rules
    for rule, method in rules:
        url = url_for_rule(rule, world)
        before = snapshot(store, signed_in)
        response = client.open(url, method=method, data={**payload(world), **fields})
        assert response.status_code == 400, (method, url, response.status_code)
        assert "This form has expired or was not sent from this website" in response.get_data(
            as_text=True
        )
        assert snapshot(store, signed_in) == before, (method, url)


def test_the_right_token_is_accepted(client: FlaskClient, store: Store) -> None:
    page = client.post("/submit", data={**form_tokens(client), **GOOD})
    assert page.status_code == 200
    data = {**tokens(page.get_data(as_text=True)), **GOOD, "action": "send"}
    assert client.post("/submit", data=data).status_code == 303
    assert store.count_submissions() == 1


@pytest.mark.parametrize(
    "send",
    [
        {"data": {"name": "x", "category": "library", "postcode": "M32 0TH"}},
        {"data": "name=x", "content_type": "application/x-www-form-urlencoded"},
        {"data": "--b\r\n\r\n--b--\r\n", "content_type": "multipart/form-data; boundary=b"},
        {
            "data": '{"name": "x", "category": "library", "postcode": "M32 0TH"}',
            "content_type": "text/plain",
        },
    ],
)
def test_api_writes_refuse_anything_a_cross_site_form_can_send(
    app: Flask, store: Store, world: dict[str, str], send: dict[str, Any]
) -> None:
    client = signed_in_client(app, store, "ada", "admin")  # cookies give the API no authority
    signed_in = auth_token(client, app)
    for rule, method in write_rules(app, api=True):
        before = snapshot(store, signed_in)
        response = client.open(url_for_rule(rule, world), method=method, **send)
        assert response.status_code == 415, rule.rule
        assert "application/json" in response.get_json()["error"]["message"]
        assert snapshot(store, signed_in) == before


def test_the_api_grants_no_cross_origin_preflight(client: FlaskClient) -> None:
    response = client.options(
        "/api/v1/submissions",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers
