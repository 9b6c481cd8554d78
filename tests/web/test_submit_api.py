"""The submission API: POST /api/v1/submissions, GET /api/v1/submissions/<ref> and the
duplicate check GET /api/v1/assets/similar, validated against the OpenAPI document.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from assetmap.domain.taxonomy import Taxonomy
from assetmap.settings import Settings
from assetmap.store import Store, open_store
from assetmap.web.app import create_app
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import GOOD, M32_0TH

SUBMISSIONS = "/api/v1/submissions"
SIMILAR = "/api/v1/assets/similar"
DOC_URI = "urn:assetmap:openapi"
PRIVATE = ("Rita", "rita@example.org", "client_key", "submitter", "Lostock Tuesday")


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


def documented(doc: dict[str, Any], path: str, method: str, response: TestResponse) -> None:
    """Validate a response against the schema the document declares for its status."""
    assert response.mimetype == "application/json"
    declared = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{method} {path} answered {status}, which is not documented"
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ["paths", path, method, "responses", status, "content", "application/json"]
    )
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    Draft202012Validator(
        {"$ref": f"{DOC_URI}#/{pointer}/schema"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    ).validate(response.get_json())


def request_schema_accepts(doc: dict[str, Any], body: dict[str, Any]) -> bool:
    schema = {"$ref": f"{DOC_URI}#/components/schemas/SubmissionRequest"}
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(schema, registry=registry).is_valid(body)


def post(client: FlaskClient, body: Any, key: str | None = None) -> TestResponse:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(SUBMISSIONS, json=body, headers=headers)


def test_a_new_asset_is_stored_pending_and_answered_with_a_receipt(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    assert request_schema_accepts(document, GOOD)
    response = post(client, GOOD)
    assert response.status_code == 201
    documented(document, SUBMISSIONS, "post", response)
    receipt = response.get_json()
    ref = receipt["reference"]
    assert (receipt["kind"], receipt["status"], receipt["decided_at"]) == ("new", "pending", None)
    assert response.headers["Location"] == receipt["status_url"] == f"{SUBMISSIONS}/{ref}"
    sub = store.get_submission(ref)
    assert (sub.submitter.name, sub.submitter.email) == ("Rita Resident", "rita@example.org")
    asset = store.get_asset(sub.asset_id)
    assert (asset.status, asset.lon, asset.lat) == ("pending", *M32_0TH)
    status = client.get(receipt["status_url"])
    documented(document, "/api/v1/submissions/{ref}", "get", status)
    assert status.get_json() == receipt
    for private in PRIVATE:
        assert private not in response.get_data(as_text=True)
        assert private not in status.get_data(as_text=True)


def test_lon_lat_place_it_and_null_means_not_given(client: FlaskClient, store: Store) -> None:
    body = {"name": "Time Bank", "category": "time_bank", "lon": -2.3, "lat": 53.45}
    response = post(client, {**body, "postcode": None, "accessibility": None, "phone": None})
    assert response.status_code == 201
    asset = store.get_asset(store.get_submission(response.get_json()["reference"]).asset_id)
    assert (asset.lon, asset.lat, asset.postcode, asset.accessibility) == (-2.3, 53.45, "", ())


def test_decided_submissions_report_their_status(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    ref = post(client, GOOD).get_json()["reference"]
    store.reject(ref, moderator="user:mo", expected_version=1, reason="not in Trafford")
    response = client.get(f"{SUBMISSIONS}/{ref.lower()}")
    documented(document, "/api/v1/submissions/{ref}", "get", response)
    body = response.get_json()
    assert (body["status"], body["reference"]) == ("rejected", ref)
    assert body["decided_at"] is not None
    assert "not in Trafford" not in response.get_data(as_text=True)


@pytest.mark.parametrize("ref", ["AM-0000-0000", "nope", "AM-" + "X" * 500])
def test_unknown_reference_is_404(client: FlaskClient, document: dict[str, Any], ref: str) -> None:
    response = client.get(f"{SUBMISSIONS}/{ref}")
    assert response.status_code == 404
    documented(document, "/api/v1/submissions/{ref}", "get", response)


def test_a_retry_with_the_same_idempotency_key_returns_the_first_submission(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    key = str(uuid.uuid4())
    first = post(client, GOOD, key)
    again = post(client, GOOD, key)
    quoted = post(client, GOOD, f'"{key}"')  # the structured-field string form
    assert (first.status_code, again.status_code, quoted.status_code) == (201, 200, 200)
    documented(document, SUBMISSIONS, "post", again)
    assert first.get_json() == again.get_json() == quoted.get_json()
    assert store.count_submissions() == 1 and store.count_assets(status="pending") == 1
    # Another body under the same key is refused, not silently answered with the first.
    other = post(client, {**GOOD, "name": "Something else"}, key)
    assert other.status_code == 422
    documented(document, SUBMISSIONS, "post", other)
    assert other.get_json()["error"]["field"] == "Idempotency-Key"
    assert store.count_submissions() == 1
    # Another key for the same body from the same sender is a resend: the first submission.
    resent = post(client, GOOD, str(uuid.uuid4()))
    assert (resent.status_code, resent.get_json()) == (200, first.get_json())
    # Without a key, a new body is a new submission.
    assert post(client, {**GOOD, "name": "Something else"}).status_code == 201
    assert store.count_submissions() == 2


def test_the_same_body_again_without_a_key_is_the_first_submission(
    client: FlaskClient, store: Store, document: dict[str, Any]
) -> None:
    """A client retrying after a time-out, with no Idempotency-Key: one submission."""
    first = post(client, GOOD)
    again = post(client, GOOD)
    assert (first.status_code, again.status_code) == (201, 200)
    documented(document, SUBMISSIONS, "post", again)
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.get_json()["status_url"]
    assert store.count_submissions() == 1 and store.count_assets(status="pending") == 1
    # Any field that differs is something new the resident wrote: stored.
    for changed in ({"phone": "0161 912 5921"}, {"submitter_email": "rita@example.com"}):
        answer = post(client, {**GOOD, **changed})
        assert answer.status_code == 201
        assert answer.get_json()["reference"] != first.get_json()["reference"]
    assert store.count_submissions() == 3
    # A decided submission is not sent again: the same body is a new one.
    ref = first.get_json()["reference"]
    store.reject(ref, moderator="user:mod", expected_version=1, reason="Already listed")
    after = post(client, GOOD)
    assert after.status_code == 201 and after.get_json()["reference"] != ref
    assert store.count_submissions() == 4


def test_a_retry_is_answered_even_after_the_rate_limit(settings: Settings, store: Store) -> None:
    app = create_app(replace(settings, submissions_per_client_per_hour=1), store=store)
    client = app.test_client()
    key = str(uuid.uuid4())
    assert post(client, GOOD, key).status_code == 201
    assert post(client, GOOD, key).status_code == 200
    # The same body under a new key is a resend, answered as well; anything new is limited.
    assert post(client, GOOD, str(uuid.uuid4())).status_code == 200
    assert post(client, {**GOOD, "name": "Sale Walkers"}, str(uuid.uuid4())).status_code == 429
    assert store.count_submissions() == 1


@pytest.mark.parametrize("key", ["short", "x" * 201, "has space in it ok?", "ключ-ключ-ключ-ключ"])
def test_a_malformed_idempotency_key_is_400(client: FlaskClient, store: Store, key: str) -> None:
    # Werkzeug sends header values as latin-1; the Cyrillic key is encoded first.
    header = key.encode().decode("latin-1")
    response = post(client, GOOD, header)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "Idempotency-Key"
    assert store.count_submissions() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": None}, "name", "Enter the name of the place or group"),
        ({"category": "zoo"}, "category", "Unknown category 'zoo'"),
        ({"postcode": "M33"}, "postcode", "Enter a full postcode"),
        ({"postcode": None}, "postcode", "Enter the postcode of the place"),
        ({"lon": -2.3}, "lat", "Lat is missing"),
        ({"lon": 53.45, "lat": -2.3}, "lat", "Lon 53.45, lat -2.3 look swapped"),
        ({"lon": 200.0, "lat": 53.4}, "lon", "Longitude 200.0 is outside -180..180"),
        ({"lon": -2.3, "lat": 95}, "lat", "Latitude 95.0 is outside -90..90"),
        ({"lon": 2.35, "lat": 48.85}, "lon", "Point (lon 2.35, lat 48.85) is outside the UK"),
        ({"lon": "-2.3", "lat": 53.4}, "lon", "lon must be a number"),
        ({"lon": True, "lat": 53.4}, "lon", "lon must be a number"),
        ({"name": 7}, "name", "name must be a string"),
        ({"accessibility": "step_free"}, "accessibility", "accessibility must be an array"),
        ({"accessibility": [["step_free"]]}, "accessibility", "accessibility must be an array"),
        ({"audience": ["aliens"]}, "audience", "'aliens' is not one of"),
        ({"website": "javascript:alert(1)"}, "website", "Enter a website address"),
        ({"status": "published"}, "status", "unknown field 'status'"),
        ({"id": "a1"}, "id", "unknown field 'id'"),
        ({"submitter_email": "nope"}, "submitter_email", "Enter your email address"),
    ],
)
def test_bad_fields_are_a_400_naming_the_field(
    client: FlaskClient,
    store: Store,
    document: dict[str, Any],
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = post(client, {**GOOD, **change})
    assert response.status_code == 400, response.get_json()
    documented(document, SUBMISSIONS, "post", response)
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(message), error["message"]
    assert store.count_submissions() == 0 and store.count_assets() == 0


def test_rate_limit_is_a_429_with_retry_after(
    settings: Settings, store: Store, document: dict[str, Any]
) -> None:
    client = create_app(
        replace(settings, submissions_per_email_per_day=2), store=store
    ).test_client()
    for day in ("Mondays", "Tuesdays"):
        assert post(client, {**GOOD, "opening_times": f"{day} 10am-11am"}).status_code == 201
    response = post(client, {**GOOD, "opening_times": "Fridays 10am-11am"})
    assert response.status_code == 429
    documented(document, SUBMISSIONS, "post", response)
    assert response.headers["Retry-After"] == "86400"
    assert response.get_json()["error"]["field"] == "submitter_email"
    # Without an email only the per-client limit (10 an hour) applies.
    assert post(client, {**GOOD, "submitter_email": None}).status_code == 201


def test_writes_must_be_json(client: FlaskClient, store: Store, document: dict[str, Any]) -> None:
    for kwargs in (
        {"data": {"name": "x"}},  # what an HTML form on another site would send
        {"data": '{"name": "x"}', "content_type": "text/plain"},
        {"data": '{"name": "x"}'},
    ):
        response = client.post(SUBMISSIONS, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 415
        documented(document, SUBMISSIONS, "post", response)
    assert store.count_submissions() == 0


def test_similar_finds_likely_duplicates_within_200_m(
    client: FlaskClient, store: Store, taxonomy: Taxonomy, document: dict[str, Any]
) -> None:
    lostock, _ = create_all(store, [LIBRARIES[3], LIBRARIES[4]], taxonomy)
    create_all(
        store, [{**LIBRARIES[3], "name": "Lostock Library (old)", "status": "pending"}], taxonomy
    )
    response = client.get(
        SIMILAR, query_string={"name": "lostock library", "lon": -2.331, "lat": 53.455}
    )
    assert response.status_code == 200
    documented(document, SIMILAR, "get", response)
    body = response.get_json()
    assert [r["id"] for r in body["results"]] == [lostock.id]  # pending ones are not public
    hit = body["results"][0]
    assert (hit["url"], hit["score"], hit["category_label"]) == (
        f"/assets/{lostock.id}",
        1.0,
        "Library",
    )
    assert 0 < hit["distance_m"] < 200
    assert (body["radius_m"], body["min_score"]) == (200.0, 0.8)
    far = client.get(SIMILAR, query_string={"name": "Lostock Library", "postcode": "M32 0TH"})
    assert far.get_json()["results"] == []
    other = client.get(
        SIMILAR, query_string={"name": "Knit and natter", "lon": -2.331, "lat": 53.455}
    )
    assert other.get_json()["results"] == []


def test_similar_by_postcode_counts_assets_with_that_postcode_up_to_1_km(
    client: FlaskClient, store: Store, taxonomy: Taxonomy, document: dict[str, Any]
) -> None:
    # WA15 9NT's middle is 210 m from Hale Library, which has that postcode: the hint while
    # typing looked within 200 m only, and missed what the check page then offered.
    (hale,) = create_all(store, [LIBRARIES[2]], taxonomy)
    response = client.get(SIMILAR, query_string={"name": "Hale library", "postcode": "wa15 9nt"})
    documented(document, SIMILAR, "get", response)
    (hit,) = response.get_json()["results"]
    assert hit["id"] == hale.id and 200 < hit["distance_m"] < 220
    # A district is no full postcode, and a point is not one: only 200 m counts then.
    district = client.get(SIMILAR, query_string={"name": "Hale library", "postcode": "WA15 9"})
    assert district.get_json()["results"] == []
    origin = response.get_json()["origin"]
    at_point = {"name": "Hale library", "lon": origin["lon"], "lat": origin["lat"]}
    assert client.get(SIMILAR, query_string=at_point).get_json()["results"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lon": -2.3, "lat": 53.4}, "name"),
        ({"name": "x" * 201, "lon": -2.3, "lat": 53.4}, "name"),
        ({"name": "Library"}, "postcode"),
        ({"name": "Library", "lon": "nan", "lat": 53.4}, "lon"),
        ({"name": "Library", "lon": 53.4, "lat": -2.3}, "lat"),
    ],
)
def test_similar_bad_input_is_400(
    client: FlaskClient, document: dict[str, Any], query: dict[str, Any], field: str
) -> None:
    response = client.get(SIMILAR, query_string=query)
    assert response.status_code == 400
    documented(document, SIMILAR, "get", response)
    assert response.get_json()["error"]["field"] == field


def test_two_apps_share_idempotency_through_the_database(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    try:
        key = str(uuid.uuid4())
        one = post(first.test_client(), GOOD, key)
        two = post(second.test_client(), GOOD, key)
        assert (one.status_code, two.status_code) == (201, 200)
        assert one.get_json()["reference"] == two.get_json()["reference"]
    finally:
        for app in (first, second):
            app.extensions["assetmap"].store.close()


# A lone surrogate ("\ud800" with no low half) is not text: json.loads lets it through, and
# storing it failed with a 500. Values below are JSON source, so the escapes reach the parser.
_TIME_BANK = {"name": '"Sale Time Bank"', "category": '"time_bank"', "lon": "-2.3", "lat": "53.4"}


def _body(**values: str) -> bytes:
    pairs = {**_TIME_BANK, **values}
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in pairs.items()) + "}").encode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(name=r'"a\ud800b"'), "name"),
        (_body(submitter_name=r'"\ud83d"'), "submitter_name"),
        (_body(opening_times=r'"Mon \udc00 10am-12pm"'), "opening_times"),
        (_body(currencies=r'["cash", "\udfff"]'), "currencies"),
        (_body(website=r'"https://\ud800.example.org"'), "website"),
        # The surrogate's own bytes, which json.loads decodes with "surrogatepass".
        (_body(name='"a#b"').replace(b"#", b"\xed\xa0\x80"), "name"),
        (b'{"\\ud800": 1}', "\\ud800"),
    ],
    ids=["escaped", "submitter", "low-half", "in-array", "website", "utf-8-bytes", "key"],
)
def test_a_lone_surrogate_is_a_400_naming_the_field(
    client: FlaskClient, store: Store, document: dict[str, Any], body: bytes, field: str
) -> None:
    response = client.post(SUBMISSIONS, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    documented(document, SUBMISSIONS, "post", response)
    error = response.get_json()["error"]
    assert error["field"] == field
    assert "unpaired surrogate" in error["message"] and "not a character" in error["message"]
    response.get_data().decode("utf-8")  # the answer itself is valid UTF-8
    assert store.count_submissions() == 0 and store.count_assets() == 0


def test_a_surrogate_pair_is_one_character_and_is_stored(client: FlaskClient, store: Store) -> None:
    body = _body(name=r'"Sale Time Bank \ud83d\ude00"')  # one character, as a pair of halves
    response = client.post(SUBMISSIONS, data=body, content_type="application/json")
    assert response.status_code == 201
    asset = store.get_asset(store.get_submission(response.get_json()["reference"]).asset_id)
    assert asset.name == "Sale Time Bank \U0001f600"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  \u200b "}, "name", "Enter the name of the place or group"),
        ({"name": "\u2060\ufeff\u3164"}, "name", "Enter the name of the place or group"),
        (
            {"website": "https://exa mple.com"},
            "website",
            "Enter the website address without spaces",
        ),
        (
            {"website": "https://example.org/it's"},
            "website",
            "Enter the website address without an apostrophe or quotation mark ('), like"
            " https://example.org",
        ),
        (
            {"website": "https://example.org/<script>"},
            "website",
            "Enter the website address without an angle bracket (<), like https://example.org",
        ),
    ],
)
def test_a_blank_name_or_a_website_with_a_space_is_refused(
    client: FlaskClient, store: Store, change: dict[str, Any], field: str, message: str
) -> None:
    response = post(client, {**GOOD, **change})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["field"], error["message"][: len(message)]) == (field, message)
    assert store.count_submissions() == 0


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_submission_behind_another_writer_is_a_documented_503_and_writes_nothing(
    client: FlaskClient,
    document: dict[str, Any],
    store: Store,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import assetmap.store.sqlite as sqlite_module

    # An import holding the SQLite write lock past the busy timeout (10 s; here 0.2 s).
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 200)
    importer = open_store(store_url)
    store.close()  # the app's connections reopen with the short timeout
    with importer.transaction():
        response = post(client, GOOD)
    importer.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    documented(document, SUBMISSIONS, "post", response)
    assert "try again" in response.get_json()["error"]["message"].lower()
    assert store.list_submissions() == []
    assert post(client, GOOD).status_code == 201
