"""The API's HTTP as an integrator meets it: charset, caching and revalidation, CORS, the
document's server under a prefix, and schemas strict enough to catch a wrong value.

Each runs on SQLite and PostGIS, on the Trafford demo (``tests.analysis.trafford``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from assetmap.domain.asset import Asset
from assetmap.store import Store
from tests.analysis.trafford import load_trafford
from tests.web.test_api import NEARBY, SIMILAR, documented, response_validator

ASSET = "/api/v1/assets/{asset_id}"
CATEGORIES = "/api/v1/categories"
DOCUMENT = "/api/v1/openapi.json"
SUBMISSIONS = "/api/v1/submissions"
JSON_UTF8 = "application/json; charset=utf-8"
NEW_PLACE = {"name": "Stretford Knit and Natter", "category": "activity_group"}


@pytest.fixture
def trafford(store: Store) -> list[Asset]:
    return load_trafford(store)


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get(DOCUMENT).get_json()
    return doc


def _cafe(trafford: list[Asset]) -> Asset:
    return next(a for a in trafford if a.status == "published" and "café" in a.description)


def test_answers_say_they_are_utf8(
    client: FlaskClient, trafford: list[Asset], document: dict[str, Any]
) -> None:
    # The text is written as UTF-8, not \\u escapes: a client that reads an unlabelled body
    # as Latin-1 (Windows PowerShell 5.1) showed "café" as "cafÃ©".
    cafe = _cafe(trafford)
    one = client.get(f"/api/v1/assets/{cafe.id}")
    assert one.headers["Content-Type"] == JSON_UTF8
    assert "café".encode() in one.data
    assert one.data.decode("utf-8") == one.get_data(as_text=True)
    documented(document, ASSET, one)
    for response in (
        client.get(f"{NEARBY}?postcode=M32+0TH&q=caf%C3%A9&radius_m=5000"),
        client.get(f"{NEARBY}?postcode=M32+0TH&q=caf%E9"),  # 400
        client.get("/api/v1/assets/a000000000000"),  # 404
        client.delete(CATEGORIES),  # 405
        client.get("/api/v1/nothing-here"),  # 404 for no route
        client.post(SUBMISSIONS, data="{}", content_type="text/plain"),  # 415
    ):
        assert response.headers["Content-Type"] == JSON_UTF8, response.request.path


@pytest.mark.parametrize("url", ["/api/v1/assets/{id}", CATEGORIES, DOCUMENT])
def test_what_caches_may_keep_is_revalidated_by_etag(
    client: FlaskClient, trafford: list[Asset], document: dict[str, Any], url: str
) -> None:
    path = ASSET if "{id}" in url else url
    url = url.format(id=_cafe(trafford).id)
    first = client.get(url)
    assert first.status_code == 200
    documented(document, path, first)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    # The server writes the Date: one from the app as well was a second Date field.
    assert "Date" not in first.headers
    for method in ("GET", "HEAD"):
        again = client.open(url, method=method, headers={"If-None-Match": etag})
        assert again.status_code == 304, method
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "no-cache"
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        assert "Date" not in again.headers
        assert "304" in document["paths"][path]["get"]["responses"]
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert (other.status_code, other.data) == (200, first.data)


def test_an_edited_asset_is_not_answered_from_an_old_etag(
    client: FlaskClient, store: Store, trafford: list[Asset], document: dict[str, Any]
) -> None:
    cafe = _cafe(trafford)
    url = f"/api/v1/assets/{cafe.id}"
    etag = client.get(url).headers["ETag"]
    store.update_asset(cafe.id, {"phone": "0161 912 5000"}, author="test")
    edited = client.get(url, headers={"If-None-Match": etag})
    assert edited.status_code == 200
    assert edited.get_json()["phone"] == "0161 912 5000"
    assert edited.headers["ETag"] != etag
    store.set_status(cafe.id, "archived", author="test")
    gone = client.get(url, headers={"If-None-Match": edited.headers["ETag"]})
    assert gone.status_code == 404
    documented(document, ASSET, gone)
    assert gone.headers["Cache-Control"] == "no-cache" and "ETag" not in gone.headers


def test_a_submission_and_its_status_are_kept_out_of_caches(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    # The status changes when a moderator decides, and the reference alone reads it: a kept
    # copy said "pending" after the decision, as the /submissions pages (no-store) do not.
    sent = client.post(SUBMISSIONS, json={**NEW_PLACE, "postcode": "M32 0TH"})
    assert sent.status_code == 201
    documented(document, SUBMISSIONS, sent, "post")
    assert sent.headers["Cache-Control"] == "no-store"
    ref = sent.get_json()["reference"]
    path = "/api/v1/submissions/{ref}"
    status = client.get(f"/api/v1/submissions/{ref}")
    documented(document, path, status)
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json()["status"] == "pending"
    store.approve(ref, moderator="user:mo", expected_version=1)
    decided = client.get(f"/api/v1/submissions/{ref}")
    assert decided.get_json()["status"] == "approved"
    assert decided.headers["Cache-Control"] == "no-store"
    missing = client.get("/api/v1/submissions/AM-0000-0000")
    documented(document, path, missing)
    assert missing.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "url",
    [
        f"{NEARBY}?postcode=M32+0TH&limit=1",
        f"{NEARBY}?postcode=M32+0QQ",  # 400
        f"{SIMILAR}?name=Stretford+Library&postcode=M32+0TH",
        "/api/v1/assets/{id}",
        "/api/v1/assets/a000000000000",  # 404
        CATEGORIES,
        DOCUMENT,
        "/api/v1/submissions/AM-0000-0000",  # 404
    ],
)
def test_reads_are_open_to_pages_on_other_sites(
    client: FlaskClient, trafford: list[Asset], url: str
) -> None:
    url = url.format(id=_cafe(trafford).id)
    origin = {"Origin": "https://directory.example.org"}
    response = client.get(url, headers=origin)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # A page may read the ETag to revalidate, and Retry-After when the database is away.
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    # A request sending If-None-Match is not a simple one: the browser asks first.
    preflight = client.options(
        url,
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower().split(", ")
    assert "if-none-match" in allowed
    assert preflight.headers["Access-Control-Max-Age"] == "86400"


def test_submissions_are_not_open_to_pages_on_other_sites(
    client: FlaskClient, store: Store
) -> None:
    # A site could otherwise make its visitors' browsers send submissions, each from its own
    # address, past the per-client limit. The preflight is refused (no CORS headers), and so
    # the browser never sends the POST; one sent anyway is not readable by the page.
    origin = {"Origin": "https://elsewhere.example.org"}
    preflight = client.options(
        SUBMISSIONS,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert not [h for h, _ in preflight.headers.items() if h.startswith("Access-Control-")]
    sent = client.post(SUBMISSIONS, json={**NEW_PLACE, "postcode": "M32 0TH"}, headers=origin)
    assert sent.status_code == 201
    assert not [h for h, _ in sent.headers.items() if h.startswith("Access-Control-")]


def test_the_document_names_the_server_the_paths_are_on(client: FlaskClient) -> None:
    # Its paths start /api/v1 from the app's root. Mounted under /assetmap behind a proxy,
    # the document named no server, so a generated client called /api/v1 at the site's root.
    assert client.get(DOCUMENT).get_json()["servers"] == [{"url": "/"}]
    prefix = {"SCRIPT_NAME": "/assetmap"}
    doc = client.get(DOCUMENT, environ_overrides=prefix).get_json()
    assert doc["servers"] == [{"url": "/assetmap"}]
    sent = client.post(
        SUBMISSIONS, json={**NEW_PLACE, "postcode": "M32 0TH"}, environ_overrides=prefix
    )
    # The API's own links are on that server, after its prefix.
    ref = sent.get_json()["reference"]
    want = doc["servers"][0]["url"] + f"{SUBMISSIONS}/{ref}"
    assert sent.get_json()["status_url"] == sent.headers["Location"] == want
    response_validator(doc, SUBMISSIONS, "201", "post").validate(sent.get_json())


def _set(*keys: str | int, to: Any) -> Callable[[Any], None]:
    """A change to one value deep in a parsed answer."""

    def change(body: Any) -> None:
        for key in keys[:-1]:
            body = body[key]
        body[keys[-1]] = to

    return change


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_set("query", "category", to=["zoo"]), "a category the taxonomy does not have"),
        (_set("query", "category", to=["library", "library"]), "a category echoed twice"),
        (_set("query", "cost", to=["cheap"]), "an unknown cost filter"),
        (_set("query", "access", to=["lift"]), "an unknown accessibility feature"),
        (_set("query", "audience", to="cats"), "an unknown audience"),
        (_set("query", "open_on", to="monday 14:00"), "open_on not in its canonical form"),
        (_set("query", "open_on", to="mon 24:00"), "a time that is not one"),
        (_set("query", "limit", to=0), "a page size below 1"),
        (_set("query", "limit", to=501), "a page size over the most"),
        (_set("query", "offset", to=-1), "a negative offset"),
        (_set("query", "q", to=""), "q empty rather than null"),
        (_set("query", "lat", to=95.0), "a latitude off the globe"),
        (_set("origin", "lon", to=-200.0), "a longitude off the globe"),
    ],
)
def test_the_nearby_schema_catches_a_wrong_value(
    client: FlaskClient,
    trafford: list[Asset],
    document: dict[str, Any],
    change: Callable[[Any], None],
    why: str,
) -> None:
    # Typed as any string or integer, each of these passed the tests that validate answers.
    url = f"{NEARBY}?lat=53.45901&lon=-2.28748&category=library&cost=free&open_on=mon+14:00"
    body = client.get(f"{url}&access=step_free&audience=older_people&q=library").get_json()
    validator = response_validator(document, NEARBY, "200")
    validator.validate(body)
    wrong = copy.deepcopy(body)
    change(wrong)
    assert not validator.is_valid(wrong), why


def test_the_similar_and_receipt_schemas_catch_a_wrong_value(
    client: FlaskClient, trafford: list[Asset], document: dict[str, Any]
) -> None:
    similar = client.get(f"{SIMILAR}?name=Town+Hall+Library&postcode=M32+0TH").get_json()
    check = response_validator(document, SIMILAR, "200")
    check.validate(similar)
    assert similar["results"]
    for change in (
        _set("radius_m", to=500),
        _set("min_score", to=0.5),
        _set("results", 0, "url", to="https://elsewhere.example.org/"),
    ):
        wrong = copy.deepcopy(similar)
        change(wrong)
        assert not check.is_valid(wrong)
    receipt = client.post(SUBMISSIONS, json={**NEW_PLACE, "postcode": "M32 0TH"}).get_json()
    check = response_validator(document, SUBMISSIONS, "201", "post")
    check.validate(receipt)
    assert not check.is_valid({**receipt, "status_url": "/submissions/" + receipt["reference"]})


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=iso-8859-1"]
)
def test_a_body_in_latin1_is_refused_saying_it_is_not_utf8(
    client: FlaskClient, store: Store, document: dict[str, Any], content_type: str
) -> None:
    # Python's words were sent: "the body is not valid JSON: 'utf-8' codec can't decode byte
    # 0xe9 in position 13: invalid continuation byte". JSON is UTF-8 whatever the charset says.
    body = '{"name": "Café Nero", "category": "local_business", "postcode": "M32 0TH"}'
    response = client.post(SUBMISSIONS, data=body.encode("latin-1"), content_type=content_type)
    assert response.status_code == 400
    documented(document, SUBMISSIONS, response, "post")
    assert response.get_json()["error"] == {
        "field": None,
        "message": "the body is not valid JSON: it is not UTF-8 text: the byte 0xE9 (at offset"
        " 13) is not part of any character (was it sent in another encoding?); send JSON as UTF-8",
    }
    assert store.count_submissions() == 0
    sent = client.post(SUBMISSIONS, data=body.encode(), content_type=content_type)
    assert sent.status_code == 201, sent.get_json()
