"""Request-body limits as people are told them: the 413 page, the API's error, the OpenAPI
document and the README all state the limit the app applies, in the unit it is counted in.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.settings import REPO_ROOT
from assetmap.store import Store
from assetmap.web.app import MAX_REQUEST_BYTES
from assetmap.web.jsaa import MAX_UPLOAD_BYTES
from tests.web.residents import GOOD, form_tokens
from tests.web.staff import signed_in_client
from tests.web.test_api import documented

MIB = 1024 * 1024
SUBMISSIONS = "/api/v1/submissions"


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


def test_the_limit_is_a_whole_number_of_mebibytes() -> None:
    # The texts below state it as N MiB; a limit such as 2,000,000 bytes would need others.
    assert MAX_REQUEST_BYTES % MIB == 0


def test_the_413_page_and_api_error_state_the_limit_in_mib(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    # "2 MB" is 2,000,000 bytes: the limit is 2 * 1024 * 1024, which is 2 MiB.
    said = f"larger than {MAX_REQUEST_BYTES // MIB} MiB, the most this service accepts"
    form = {**form_tokens(client), **GOOD, "description": "x" * MAX_REQUEST_BYTES}
    page = client.post("/submit", data=form)
    assert page.status_code == 413
    assert said in page.get_data(as_text=True)

    body = b'{"name": "' + b"x" * MAX_REQUEST_BYTES + b'"}'
    api = client.post(SUBMISSIONS, data=body, content_type="application/json")
    assert api.status_code == 413
    assert said in api.get_json()["error"]["message"]
    documented(document, SUBMISSIONS, api, "post")
    assert store.count_submissions() == 0


def test_the_document_and_readme_state_the_same_limit(document: dict[str, Any]) -> None:
    declared = document["paths"][SUBMISSIONS]["post"]["responses"]["413"]["description"]
    assert declared == f"The body is larger than {MAX_REQUEST_BYTES // MIB} MiB."
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"Request bodies are limited to {MAX_REQUEST_BYTES // MIB} MiB" in readme


def test_a_413_on_an_upload_states_the_uploads_own_limit(app: Flask, store: Store) -> None:
    # The assessment form takes uploads up to its own, larger limit; its 413 said the
    # app-wide one ("larger than 2 MB") to someone who had sent less than 64 MiB.
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    response = commissioner.post(
        "/jsaa/new",
        input_stream=io.BytesIO(b"--x--\r\n"),
        content_type="multipart/form-data; boundary=x",
        # Werkzeug refuses on the declared length before reading: no need to send 64 MiB.
        environ_overrides={"CONTENT_LENGTH": str(MAX_UPLOAD_BYTES + 1)},
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert f"larger than {MAX_UPLOAD_BYTES // MIB} MiB, the most" in html
    assert f"{MAX_REQUEST_BYTES // MIB} MiB" not in html


def test_the_upload_hint_and_readme_state_the_uploads_limit_in_mib(
    app: Flask, store: Store
) -> None:
    # The hint said "up to 64 MB" while the 413 above says 64 MiB: one unit everywhere.
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    page = " ".join(commissioner.get("/jsaa/new").get_data(as_text=True).split())
    assert f"in any coordinate system, up to {MAX_UPLOAD_BYTES // MIB} MiB." in page
    assert " MB." not in page
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"up to {MAX_UPLOAD_BYTES // MIB} MiB; choose its code and name columns" in readme
