"""The API's own errors: every path under /api answers in its JSON error shape, and a write
with the wrong Content-Type names that header and says what to send instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound

from assetmap.store import Store
from tests.web.test_api import documented

SUBMISSIONS = "/api/v1/submissions"
JSON_UTF8 = "application/json; charset=utf-8"
SEND_JSON = "Send the body as JSON, with the header Content-Type: application/json."


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


@pytest.mark.parametrize(
    "path",
    ["/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/assets/nearby", "/api/v1/nothing-here"],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_every_unknown_path_under_the_api_answers_in_its_error_shape(
    client: FlaskClient, path: str, method: str
) -> None:
    # GET /api was the site's HTML 404 page: only paths under /api/ counted as the API's.
    response = client.open(path, method=method)
    assert response.status_code == 404, path
    assert response.headers["Content-Type"] == JSON_UTF8, path
    assert response.get_json() == {"error": {"field": None, "message": NotFound.description}}


def test_the_api_root_is_the_apis_under_a_prefix_too(client: FlaskClient) -> None:
    response = client.get("/api", environ_overrides={"SCRIPT_NAME": "/assetmap"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == NotFound.description


@pytest.mark.parametrize("path", ["/apix", "/apis/v1", "/no-such-page"])
def test_paths_merely_starting_with_api_are_pages(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "application/jsonx",
    ],
)
def test_a_write_with_the_wrong_content_type_names_the_header_and_what_to_send(
    client: FlaskClient,
    store: Store,
    document: dict[str, Any],
    content_type: str | None,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"name": "Lostock Library", "category": "library", "postcode": "M32 0TH"}'
    response = client.post(SUBMISSIONS, data=body, headers=headers)
    assert response.status_code == 415
    # field was null, though the Content-Encoding 415 names its header.
    assert response.get_json() == {"error": {"field": "Content-Type", "message": SEND_JSON}}
    # RFC 9110 section 15.5.16 (Accept) and W3C LDP (Accept-Post): what would have done.
    assert response.headers["Accept"] == "application/json"
    assert response.headers["Accept-Post"] == "application/json"
    assert "Accept-Encoding" not in response.headers
    documented(document, SUBMISSIONS, response, "post")
    assert store.count_submissions() == 0


def test_the_document_declares_the_accept_headers_of_every_415(document: dict[str, Any]) -> None:
    declared = [
        (path, method, operation["responses"]["415"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "415" in operation["responses"]
    ]
    assert [(path, method) for path, method, _ in declared] == [(SUBMISSIONS, "post")]
    for _, _, response in declared:
        headers = response["headers"]
        for name in ("Accept", "Accept-Post"):
            assert headers[name]["schema"] == {"type": "string", "const": "application/json"}
            assert not headers[name].get("required")  # not with a Content-Encoding 415
        assert headers["Accept-Encoding"]["schema"]["const"] == "identity"
        assert "Content-Type or Content-Encoding" in response["description"]
