"""Compressed request bodies: nothing here decodes one, so each is a 415 asking for the body
uncompressed (the API's error shape, or a page), and ``Content-Encoding: identity`` is as if
no coding were named.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.store import Store
from tests.web.residents import GOOD, error_summary, form_tokens
from tests.web.staff import add_user, csrf, main_text, signed_in_client
from tests.web.test_api import documented

SUBMISSIONS = "/api/v1/submissions"
ASKS = "send the body uncompressed"
JSON = b'{"name": "Lostock Library", "category": "library", "postcode": "M32 0TH"}'


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


def compressed(body: bytes, coding: str) -> bytes:
    if "gzip" in coding:
        return gzip.compress(body)
    if "deflate" in coding:
        return zlib.compress(body)
    return body  # br, zstd and made-up codings: the app refuses them unread all the same


@pytest.mark.parametrize(
    ("coding", "named"),
    [
        ("gzip", "gzip"),
        ("x-gzip", "x-gzip"),
        ("deflate", "deflate"),
        ("br", "br"),
        ("GZIP", "gzip"),
        ("identity, gzip", "gzip"),
        ("zstd", "zstd"),
    ],
)
def test_a_compressed_api_body_is_a_415_asking_for_it_uncompressed(
    client: FlaskClient, store: Store, document: dict[str, Any], coding: str, named: str
) -> None:
    # It was a 400 saying the JSON was malformed ("can't decode byte 0x8b"), and a body
    # labelled deflate or br that happened to be plain JSON was stored.
    response = client.post(
        SUBMISSIONS,
        data=compressed(JSON, coding),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["field"] == "Content-Encoding"
    assert f"(Content-Encoding: {named})" in error["message"]
    assert ASKS in error["message"]
    assert response.headers["Accept-Encoding"] == "identity"
    # The media type was fine: only the Content-Type 415 says which types would do.
    assert "Accept-Post" not in response.headers and "Accept" not in response.headers
    documented(document, SUBMISSIONS, response, "post")
    assert store.count_submissions() == 0


@pytest.mark.parametrize("coding", ["identity", "Identity", " identity ", ""])
def test_identity_is_no_coding_at_all(
    client: FlaskClient, store: Store, document: dict[str, Any], coding: str
) -> None:
    response = client.post(
        SUBMISSIONS,
        data=JSON,
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert response.status_code == 201, response.get_json()
    documented(document, SUBMISSIONS, response, "post")
    assert store.count_submissions() == 1


def test_the_document_declares_the_415_where_a_body_is_accepted(
    document: dict[str, Any],
) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                declared = operation["responses"]["415"]
                assert "Content-Encoding" in declared["description"], (method, path)
                assert "Accept-Encoding" in declared["headers"]


def test_a_header_without_a_body_changes_nothing(client: FlaskClient) -> None:
    # A read has no body to decode; and a path that names nothing is still not found.
    response = client.get("/api/v1/categories", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200
    missing = client.post("/api/v1/nothing", data=b"x", headers={"Content-Encoding": "gzip"})
    assert missing.status_code == 404


def _post_form(client: FlaskClient, path: str, fields: dict[str, Any], coding: str) -> Any:
    body = urlencode(fields, doseq=True).encode()
    return client.post(
        path,
        data=compressed(body, coding),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Encoding": coding,
        },
    )


def test_a_compressed_resident_form_is_a_415_page_not_an_expired_form(
    client: FlaskClient, store: Store
) -> None:
    # Its CSRF token could not be read, so the form came back saying it had expired: a
    # resident, or whoever set up the proxy, would have retried in vain.
    fields = {**form_tokens(client), **GOOD, "action": "send"}
    response = _post_form(client, "/submit", fields, "gzip")
    assert response.status_code == 415
    text = main_text(response)
    assert ASKS in text
    assert "expired" not in text
    assert error_summary(response.get_data(as_text=True)) == []
    assert store.count_submissions() == 0
    # The same answers sent plainly, or as identity, reach the form: the check page.
    plain = _post_form(client, "/submit", {**form_tokens(client), **GOOD}, "identity")
    assert plain.status_code == 200
    assert error_summary(plain.get_data(as_text=True)) == []


def test_a_compressed_staff_form_is_a_415_page(app: Flask, store: Store) -> None:
    add_user(store, "mo", "moderator")
    client = app.test_client()
    fields = {"username": "mo", "password": "wrong", "csrf_token": csrf(client)}
    response = _post_form(client, "/login", fields, "deflate")
    assert response.status_code == 415
    assert ASKS in main_text(response)
    assert "expired" not in main_text(response)
    signed_in = signed_in_client(app, store, "cara", "commissioner")
    token = csrf(signed_in, "/jsaa/new")
    upload = _post_form(signed_in, "/jsaa/new", {"csrf_token": token}, "gzip")
    assert upload.status_code == 415
    assert ASKS in main_text(upload)
