"""The JSON API: nearby search, one asset, categories, and the OpenAPI document kept true.

The app is built here with ``create_app(settings, store=store)`` over the shared ``settings``
and ``store`` fixtures, so every test runs on SQLite and on PostGIS.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from assetmap.analysis.nearby import PARAMETERS, describe_asset
from assetmap.domain.asset import Asset
from assetmap.domain.taxonomy import Taxonomy, default_taxonomy_path
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.store.sqlite import SQLiteStore
from assetmap.web.app import MAX_REQUEST_BYTES, create_app
from tests.analysis.trafford import brute_force, load_trafford
from tests.maps.trafford import LIBRARIES, create_all

NEARBY = "/api/v1/assets/nearby"
SIMILAR = "/api/v1/assets/similar"
DOC_URI = "urn:assetmap:openapi"
M32_0TH = (-2.28748, 53.45901)  # data/postcodes: "M32 0TH,53.45901,-2.28748"


@pytest.fixture
def api_app(settings: Settings, store: Store) -> Iterator[Flask]:
    yield create_app(settings, store=store)


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


@pytest.fixture
def trafford(store: Store) -> list[Asset]:
    return load_trafford(store)


@pytest.fixture
def document(api: FlaskClient) -> dict[str, Any]:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.get_json()
    return doc


def documented(doc: dict[str, Any], path: str, response: TestResponse, method: str = "get") -> None:
    """Validate a real response against the schema and headers declared for its status."""
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    declared = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{path} answered {status}, which the document does not declare"
    headers = declared[status].get("headers", {})
    for name, header in headers.items():
        if header.get("required"):
            assert name in response.headers, f"{path} {status} was sent without {name}"
        if name in response.headers and "const" in header["schema"]:
            assert response.headers[name] == header["schema"]["const"], (path, status, name)
    # CORS is declared where it is sent, and sent only there (never on the POST).
    cors = "Access-Control-Allow-Origin"
    assert (cors in response.headers) == (cors in headers), (path, method, status)
    response_validator(doc, path, status, method).validate(response.get_json())


def response_validator(
    doc: dict[str, Any], path: str, status: str, method: str = "get"
) -> Draft202012Validator:
    """A validator of the JSON body the document declares for one path, method and status."""
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ["paths", path, method, "responses", status, "content", "application/json"]
    )
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/{pointer}/schema"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def test_openapi_document_is_valid_and_covers_every_api_route(
    api_app: Flask, document: dict[str, Any]
) -> None:
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}"), method.lower()): api_app.view_functions[
            rule.endpoint
        ]
        for rule in api_app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert {path for path, _ in routes} == set(document["paths"])
    for (path, method), view in routes.items():
        # every route and method is documented; a view's one-line docstring is its summary
        assert document["paths"][path][method]["summary"] == view.__doc__
    nearby = document["paths"][NEARBY]["get"]
    assert [p["name"] for p in nearby["parameters"]] == list(PARAMETERS)
    assert all(p["description"] and p["schema"] for p in nearby["parameters"])
    schemas = document["components"]["schemas"]
    assert {"Error", "NearbyResponse", "NearbyAsset", "Asset", "CategoryList"} <= set(schemas)


@pytest.mark.parametrize(
    "query",
    [
        "postcode=M32+0TH",
        "postcode=m33+7&radius=2&unit=km&category=library&category=park",
        "lat=53.42&lon=-2.35&radius_m=50000&q=caf%C3%A9&limit=500",
        "postcode=M41&radius=5&unit=mi&cost=free,time_credits&audience=older_people&offset=3",
        "postcode=M16+9NW&radius_m=6000&open_on=tue%4011:00&access=step_free",
    ],
)
def test_nearby_equals_brute_force_and_matches_the_document(
    api: FlaskClient,
    trafford: list[Asset],
    document: dict[str, Any],
    query: str,
) -> None:
    response = api.get(f"{NEARBY}?{query}")
    assert response.status_code == 200, response.get_json()
    documented(document, NEARBY, response)
    body = response.get_json()
    echo, origin = body["query"], body["origin"]
    want = brute_force(
        trafford,
        lon=origin["lon"],
        lat=origin["lat"],
        radius_m=echo["radius_m"],
        categories=echo["category"],
        q=echo["q"] or "",
        cost=echo["cost"],
        access=echo["access"],
        audience=echo["audience"],
        open_on=(echo["open_on"][:3], echo["open_on"][4:]) if echo["open_on"] else None,
        today=date.today(),
    )
    window = slice(echo["offset"], echo["offset"] + echo["limit"])
    assert body["total"] == len(want.results) > 0
    assert [r["id"] for r in body["results"]] == [i for i, _ in want.results[window]]
    for record, (_, distance) in zip(body["results"], want.results[window], strict=True):
        assert abs(record["distance_m"] - distance) <= 1.0
    assert [r["id"] for r in body["hours_unknown"]] == [i for i, _ in want.hours_unknown[window]]


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("category", ["library,park", "food_bank"], ["library,zoo"]),
        ("cost", ["free,time_credits"], ["free,gratis"]),
        ("access", ["step_free", "step_free,hearing_loop"], ["step_free,lift"]),
    ],
)
def test_id_lists_the_api_takes_are_the_ones_its_document_allows(
    api: FlaskClient, document: dict[str, Any], name: str, good: list[str], bad: list[str]
) -> None:
    # "Repeat or comma-separate": the schema must let a comma-separated list of ids through,
    # and still refuse what the API refuses. (The API is the more lenient: it also takes
    # stray commas, spaces and capitals, which the document leaves out.)
    (schema,) = [
        p["schema"] for p in document["paths"][NEARBY]["get"]["parameters"] if p["name"] == name
    ]
    validator = Draft202012Validator(schema)
    assert validator.is_valid(good)
    assert not validator.is_valid(bad)
    query = "&".join(f"{name}={value}" for value in good)
    assert api.get(f"{NEARBY}?postcode=M32+0TH&{query}").status_code == 200
    assert api.get(f"{NEARBY}?postcode=M32+0TH&{name}={bad[0]}").status_code == 400


def test_nearby_from_m32_0th(api: FlaskClient, trafford: list[Asset]) -> None:
    body = api.get(f"{NEARBY}?postcode=m320th&radius_m=1600&category=library").get_json()
    assert body["origin"] == {
        "lon": M32_0TH[0],
        "lat": M32_0TH[1],
        "label": "M32 0TH",
        "kind": "unit",
    }
    assert [r["name"] for r in body["results"]] == ["Trafford Town Hall Library"]
    assert 30 < body["results"][0]["distance_m"] < 35
    assert body["query"]["postcode"] == "M32 0TH" and body["query"]["radius_m"] == 1600


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "postcode"),
        ("postcode=M32+0QQ", "postcode"),
        ("postcode=not+a+postcode", "postcode"),
        ("postcode=M32+0TH&lat=53.4&lon=-2.3", "postcode"),
        ("lat=53.4", "lon"),
        ("lat=NaN&lon=-2.3", "lat"),
        ("lat=53.4&lon=inf", "lon"),
        ("lat=95&lon=-2.3", "lat"),
        ("lat=53.4&lon=200", "lon"),
        ("lat=-2.3&lon=53.4", "lat"),
        ("postcode=M32+0TH&radius_m=50001", "radius_m"),
        ("postcode=M32+0TH&radius_m=0", "radius_m"),
        ("postcode=M32+0TH&radius=40&unit=mi", "radius"),
        ("postcode=M32+0TH&radius=1", "unit"),
        ("postcode=M32+0TH&radius=1&unit=parsec", "unit"),
        ("postcode=M32+0TH&category=library&category=zoo", "category"),
        ("postcode=M32+0TH&cost=cheap", "cost"),
        ("postcode=M32+0TH&access=lift", "access"),
        ("postcode=M32+0TH&audience=cats", "audience"),
        ("postcode=M32+0TH&open_on=someday", "open_on"),
        ("postcode=M32+0TH&limit=1000", "limit"),
        ("postcode=M32+0TH&offset=-3", "offset"),
        ("postcode=M32+0TH&q=%21%21", "q"),
        ("postcode=M32+0TH&categories=library", "categories"),
        # the API stays strict: tracking parameters are unknown ones here
        ("postcode=M32+0TH&utm_source=newsletter", "utm_source"),
        # bytes that are not UTF-8, on whichever parameter they are
        ("postcode=M32+0TH&radius_m=5000&q=caf%E9", "q"),
        ("postcode=M32%E9+0TH", "postcode"),
        ("postcode=M32+0TH&category=libr%E9ry", "category"),
        ("postcode=M32+0TH&cost=fr%FF%FEe", "cost"),
        ("postcode=M32+0TH&open_on=mon%A014%3A00", "open_on"),
        ("postcode=M32+0TH&radius_m=0.0004", "radius_m"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    api: FlaskClient, document: dict[str, Any], query: str, field: str
) -> None:
    response = api.get(f"{NEARBY}?{query}")
    assert response.status_code == 400
    documented(document, NEARBY, response)
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]


def test_q_that_is_not_utf8_is_refused_not_searched(
    api: FlaskClient, document: dict[str, Any], trafford: list[Asset]
) -> None:
    response = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=5000&q=caf%E9")
    assert response.status_code == 400
    documented(document, NEARBY, response)
    assert response.get_json()["error"] == {
        "field": "q",
        "message": "q is not valid UTF-8 text: it holds the byte %E9, which is not part of any"
        " character (was it sent in another encoding?); enter it again",
    }
    # the same word sent as UTF-8 is searched (and finds a café, accents ignored)
    body = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=5000&q=caf%C3%A9").get_json()
    assert body["query"]["q"] == "café" and body["total"] > 0


def test_a_page_past_the_end_is_empty_with_the_true_total(
    api: FlaskClient, document: dict[str, Any], trafford: list[Asset]
) -> None:
    first = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=1600").get_json()
    assert 0 < first["total"] < 9999
    for extra in ("", "&open_on=mon+14%3A00"):
        response = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=1600&offset=9999{extra}")
        assert response.status_code == 200
        documented(document, NEARBY, response)
        body = response.get_json()
        assert body["results"] == [] and body["hours_unknown"] == []
        assert body["query"]["offset"] == 9999
        whole = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=1600{extra}").get_json()
        assert (body["total"], body["hours_unknown_total"]) == (
            whole["total"],
            whole["hours_unknown_total"],
        )
    assert body["hours_unknown_total"] > 0


def test_radius_is_echoed_to_the_millimetre(api: FlaskClient, document: dict[str, Any]) -> None:
    for query, radius_m in [
        ("radius=31&unit=mi", 49889.664),  # 31 * 1609.344, not 49889.664000000004
        ("radius=0.1&unit=mi", 160.934),
        ("radius_m=1600.12345", 1600.123),
        ("radius_m=0.5", 0.5),
        ("radius=0.000001&unit=km", 0.001),
    ]:
        response = api.get(f"{NEARBY}?postcode=M32+0TH&limit=1&{query}")
        assert response.status_code == 200
        documented(document, NEARBY, response)
        assert response.get_json()["query"]["radius_m"] == radius_m, query


def test_a_place_at_the_search_point_is_less_than_a_minute_away(
    api: FlaskClient, document: dict[str, Any], trafford: list[Asset]
) -> None:
    library = next(a for a in trafford if a.name == "Trafford Town Hall Library")
    response = api.get(f"{NEARBY}?lat={library.lat}&lon={library.lon}&radius_m=100")
    documented(document, NEARBY, response)
    hit = response.get_json()["results"][0]
    assert (hit["id"], hit["distance_m"], hit["distance_miles"]) == (library.id, 0.0, 0.0)
    assert hit["walking_minutes"] == 0
    assert hit["walking_label"] == "less than 1 min walk (straight line at 4.8 km/h)"


def test_unknown_category_message_lists_the_valid_ones(
    api: FlaskClient, taxonomy: Taxonomy
) -> None:
    message = api.get(f"{NEARBY}?postcode=M32+0TH&category=zoo").get_json()["error"]["message"]
    assert all(category_id in message for category_id in taxonomy.ids)


def test_random_input_never_breaks_the_api(api_app: Flask, document: dict[str, Any]) -> None:
    client = api_app.test_client()
    values = st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                "M32 0TH",
                "M33",
                "53.4",
                "-2.3",
                "1e400",
                "nan",
                "1",
                "mi",
                "library",
                "mon 14:00",
                "",
            ]
        ),
    )

    @hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=st.lists(st.tuples(st.sampled_from([*PARAMETERS, "x"]), values), max_size=6))
    def check(params: list[tuple[str, str]]) -> None:
        response = client.get(NEARBY, query_string=params)
        assert response.status_code in (200, 400)
        documented(document, NEARBY, response)

    check()


def test_one_asset_is_published_only(
    api: FlaskClient, trafford: list[Asset], taxonomy: Taxonomy, document: dict[str, Any]
) -> None:
    published = next(a for a in trafford if a.status == "published")
    archived = next(a for a in trafford if a.status == "archived")
    pending = next(a for a in trafford if a.status == "pending")
    path = "/api/v1/assets/{asset_id}"
    response = api.get(f"/api/v1/assets/{published.id}")
    assert response.status_code == 200
    documented(document, path, response)
    assert response.get_json() == describe_asset(
        published, taxonomy=taxonomy, today=date.today(), stale_after_days=365
    )
    for hidden in (archived.id, pending.id, "a000000000000"):
        missing = api.get(f"/api/v1/assets/{hidden}")
        assert missing.status_code == 404
        documented(document, path, missing)
        assert missing.get_json()["error"] == {
            "field": None,
            "message": f"no published asset has the id '{hidden}'",
        }


def test_nearby_results_carry_the_same_record_as_the_asset_endpoint(
    api: FlaskClient, trafford: list[Asset]
) -> None:
    (first,) = api.get(f"{NEARBY}?postcode=M32+0TH&limit=1").get_json()["results"]
    one = api.get(f"/api/v1/assets/{first['id']}").get_json()
    distance_keys = {"distance_m", "distance_miles", "walking_minutes", "walking_label"}
    assert {k: v for k, v in first.items() if k not in distance_keys} == one


def test_categories_in_taxonomy_order(
    api: FlaskClient, taxonomy: Taxonomy, document: dict[str, Any]
) -> None:
    response = api.get("/api/v1/categories")
    documented(document, "/api/v1/categories", response)
    categories = response.get_json()["categories"]
    assert [c["id"] for c in categories] == list(taxonomy.ids)
    assert categories[0] == {
        "id": "library",
        "label": "Library",
        "description": taxonomy.get("library").description,
        "colour": taxonomy.get("library").colour,
    }


def test_an_asset_whose_category_the_taxonomy_dropped_is_answered_as_documented(
    settings: Settings, store: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    # The taxonomy is a setting and stored assets keep their category: served with one
    # without "library", a library was answered with a category the enum did not allow.
    (library,) = create_all(store, LIBRARIES[:1], taxonomy)
    shipped = default_taxonomy_path().read_text(encoding="utf-8")
    head, *blocks = shipped.split("[[category]]")
    kept = [b for b in blocks if 'id = "library"' not in b]
    assert len(kept) == len(blocks) - 1
    path = tmp_path / "taxonomy.toml"
    path.write_text("[[category]]".join([head, *kept]), encoding="utf-8")
    app = create_app(replace(settings, taxonomy_path=path), store=store)
    api = app.test_client()
    document = api.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)

    one = api.get(f"/api/v1/assets/{library.id}")
    assert one.status_code == 200
    assert (one.get_json()["category"], one.get_json()["category_label"]) == ("library", "library")
    documented(document, "/api/v1/assets/{asset_id}", one)
    lon, lat = LIBRARIES[0]["lon"], LIBRARIES[0]["lat"]
    found = api.get(NEARBY, query_string={"lon": lon, "lat": lat})
    assert [r["id"] for r in found.get_json()["results"]] == [library.id]
    documented(document, NEARBY, found)
    # Asking for the category is still checked against the taxonomy in use.
    asked = api.get(NEARBY, query_string={"lon": lon, "lat": lat, "category": "library"})
    assert asked.status_code == 400
    documented(document, NEARBY, asked)
    category = next(
        p for p in document["paths"][NEARBY]["get"]["parameters"] if p["name"] == "category"
    )
    assert "library" not in category["schema"]["items"]["anyOf"][0]["enum"]


def test_wrong_method_and_unknown_path_answer_json(api: FlaskClient) -> None:
    wrong = api.post(NEARBY)
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["field"] is None
    # RFC 9110: a 405 says which methods the resource has.
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert wrong.headers["Content-Type"] == "application/json; charset=utf-8"
    assert api.get("/api/v1/nothing-here").get_json()["error"]["field"] is None


def test_a_search_the_store_keeps_renumbering_is_a_documented_409(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite alone renumbers (Store.cluster). Here another process clusters every time a
    # search has taken its keys, so each try finds them gone; three tries, then a 409.
    store = SQLiteStore(f"sqlite:///{tmp_path / 'busy.db'}")
    store.migrate()
    load_trafford(store)
    other = SQLiteStore(store.url)
    clusters = []

    def then_cluster(find: Callable[..., Any]) -> Callable[..., Any]:
        def found_then_clustered(*args: Any, **kwargs: Any) -> Any:
            found = find(*args, **kwargs)
            clusters.append(other.cluster())
            return found

        return found_then_clustered

    # Both searches find their keys here: store.nearby, and store.nearby_set for the API.
    monkeypatch.setattr(store, "_measure", then_cluster(store._measure))
    settings = Settings(
        database_url=store.url,
        instance_path=tmp_path / "instance",
        secret_key="test-secret-key",
        tile_url="",
        maps_path=tmp_path / "maps",
        testing=True,
    )
    api = create_app(settings, store=store).test_client()
    document = api.get("/api/v1/openapi.json").get_json()
    for path, query in (
        (NEARBY, "postcode=M32+0TH"),
        ("/api/v1/assets/similar", "name=Stretford+Library&postcode=M32+0TH"),
    ):
        clusters.clear()
        response = api.get(f"{path}?{query}")
        assert response.status_code == 409 and len(clusters) == 3
        documented(document, path, response)
        assert response.get_json()["error"]["message"] == (
            "the assets were renumbered (assetmap cluster) while this search ran; search again"
        )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "name=Library&postcode=M32+0TH&radius_m=50",
            "radius_m",
            "unknown parameter 'radius_m'; known parameters are: name, postcode, lat, lon",
        ),
        (
            "name=Library&postcode=M32+0TH&category=library",
            "category",
            "unknown parameter 'category'; known parameters are: name, postcode, lat, lon",
        ),
        ("name=Library&name=Park&postcode=M32+0TH", "name", "give name once, not 2 times"),
        (
            "name=Caf%E9+Bar&postcode=M32+0TH",
            "name",
            "name is not valid UTF-8 text: it holds the byte %E9, which is not part of any"
            " character (was it sent in another encoding?); enter it again",
        ),
    ],
)
def test_similar_refuses_what_it_would_not_read_as_sent(
    api: FlaskClient, document: dict[str, Any], query: str, field: str, message: str
) -> None:
    # Ignored, these answered 200 for another question than the one asked: all 200 m, every
    # category, the first name only, or a Latin-1 name compared as its escapes.
    response = api.get(f"{SIMILAR}?{query}")
    assert response.status_code == 400
    documented(document, SIMILAR, response)
    assert response.get_json()["error"] == {"field": field, "message": message}


def test_an_asset_id_holding_a_nul_is_a_404_on_either_store(
    api: FlaskClient, document: dict[str, Any]
) -> None:
    # PostgreSQL refuses NUL in text: the lookup itself failed with a 500 there.
    response = api.get("/api/v1/assets/a%00b")
    assert response.status_code == 404
    documented(document, "/api/v1/assets/{asset_id}", response)
    assert response.get_json()["error"] == {
        "field": None,
        "message": "Nothing here has this address: it holds a NUL character (%00).",
    }


class _Unreachable(Exception):
    """Stands for the database's own error when it cannot be reached (psycopg's, on PostGIS)."""


def test_a_database_out_of_reach_is_a_documented_503_wherever_the_api_uses_it(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "unavailable_errors", (_Unreachable,))
    client = create_app(settings, store=store).test_client()
    document = client.get("/api/v1/openapi.json").get_json()

    def unreachable() -> Any:
        raise _Unreachable("connection refused")

    monkeypatch.setattr(store, "_conn", unreachable)
    for method, path, url, body in [
        ("get", NEARBY, f"{NEARBY}?postcode=M32+0TH", None),
        ("get", "/api/v1/assets/{asset_id}", "/api/v1/assets/a000000000000", None),
        ("get", SIMILAR, f"{SIMILAR}?name=Library&postcode=M32+0TH", None),
        ("get", "/api/v1/submissions/{ref}", "/api/v1/submissions/AM-7K3Q-9XPD", None),
        (
            "post",
            "/api/v1/submissions",
            "/api/v1/submissions",
            {"name": "Lostock Library", "category": "library", "postcode": "M32 0TH"},
        ),
    ]:
        response = client.open(url, method=method.upper(), json=body)
        assert response.status_code == 503, (url, response.get_json())
        documented(document, path, response, method)
        assert response.headers["Retry-After"] == "30"
        declared = document["paths"][path][method]["responses"]["503"]
        assert "Retry-After" in declared["headers"]


@pytest.mark.parametrize(
    "url",
    [
        f"{NEARBY}?postcode=M32+0TH",
        f"{NEARBY}?postcode=M32+0TH&radius_m=0",
        f"{SIMILAR}?name=Library&postcode=M32+0TH",
        f"{SIMILAR}?postcode=M32+0TH",
    ],
)
def test_searches_are_kept_out_of_caches(api: FlaskClient, url: str) -> None:
    # Their URLs hold a person's postcode, as the /nearby page's do (sent no-store too).
    response = api.get(url)
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        "no-store"
        in (
            api.get("/api/v1/openapi.json").get_json()["paths"][url.split("?")[0]]["get"][
                "description"
            ]
        )
    )
    # The categories say nothing about anyone: caches may keep them (and revalidate).
    assert api.get("/api/v1/categories").headers["Cache-Control"] == "no-cache"


def test_a_chunked_body_over_the_limit_is_a_413_not_broken_json(
    api: FlaskClient, document: dict[str, Any], store: Store
) -> None:
    # Sent without a Content-Length, a body used to be cut at the limit and parsed: a 400
    # saying the JSON was unterminated. The limit itself is still allowed.
    limit = MAX_REQUEST_BYTES
    good = b'{"name": "Lostock Library", "category": "library", "postcode": "M32 0TH"}'
    for body, status in [
        (good.ljust(limit), 201),
        (good.ljust(limit + 1), 413),
        (b'{"name": "' + b"x" * limit + b'"}', 413),
    ]:
        response = api.post(
            "/api/v1/submissions",
            input_stream=io.BytesIO(body),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
        )
        assert response.status_code == status, response.get_json()
        documented(document, "/api/v1/submissions", response, "post")
    assert store.count_submissions() == 1


@pytest.mark.parametrize(
    ("per_client", "per_email", "said"),
    [
        (10, 5, "Limits: 10 submissions an hour per client address, 5 a day per submitter email."),
        (1, 20, "Limits: 1 submission an hour per client address, 20 a day per submitter email."),
        (0, 0, "Limits: none per client address, none per submitter email."),
    ],
)
def test_the_document_states_this_instances_submission_limits(
    settings: Settings, store: Store, per_client: int, per_email: int, said: str
) -> None:
    # They are settings (ASSETMAP_SUBMISSIONS_PER_...): the defaults were written in as fact.
    limits = replace(
        settings,
        submissions_per_client_per_hour=per_client,
        submissions_per_email_per_day=per_email,
    )
    api = create_app(limits, store=store).test_client()
    document = api.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    assert document["paths"]["/api/v1/submissions"]["post"]["description"].endswith(said)


def test_an_integer_too_long_to_read_is_a_400_in_the_apis_terms(
    api: FlaskClient, document: dict[str, Any], store: Store
) -> None:
    # Python's own message told the sender to call sys.set_int_max_str_digits().
    body = b'{"name": "Big", "category": "library", "lon": -2.3, "lat": ' + b"1" * 5000 + b"}"
    response = api.post(
        "/api/v1/submissions", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    documented(document, "/api/v1/submissions", response, "post")
    assert response.get_json()["error"] == {
        "field": None,
        "message": f"the body is not valid JSON: the number '{'1' * 39}…' has 5,000 digits,"
        f" more than the {sys.get_int_max_str_digits():,} this service reads",
    }
    assert store.count_submissions() == 0


def test_the_origin_labels_the_document_shows_are_the_ones_searches_give(
    api: FlaskClient, document: dict[str, Any]
) -> None:
    # It said "Postcode or 'lat, lon'", while sectors and districts come with words before.
    label = document["components"]["schemas"]["Origin"]["properties"]["label"]
    given = [
        api.get(f"{NEARBY}?{query}&limit=1").get_json()["origin"]["label"]
        for query in (
            "postcode=m320th",
            "postcode=M33+7",
            "postcode=m33",
            f"lat={M32_0TH[1]}&lon={M32_0TH[0]}",
        )
    ]
    assert given == label["examples"]


def test_answers_carry_each_assets_source_and_licence_as_stored(
    api: FlaskClient, store: Store, trafford: list[Asset], document: dict[str, Any]
) -> None:
    # The licences ask for credit wherever the data is passed on: the API passes it on.
    stored = {a.id: a for a in trafford}
    allotment = next(
        a for a in trafford if a.status == "published" and a.source == "trafford-allotments-osm"
    )
    one = api.get(f"/api/v1/assets/{allotment.id}")
    documented(document, "/api/v1/assets/{asset_id}", one)
    assert (one.get_json()["source"], one.get_json()["licence"]) == (
        "trafford-allotments-osm",
        "Open Government Licence v3.0 and Open Database Licence (ODbL) 1.0."
        " Trafford Council; © OpenStreetMap contributors",
    )
    found = api.get(f"{NEARBY}?postcode=M32+0TH&radius_m=5000&limit=500")
    documented(document, NEARBY, found)
    results = found.get_json()["results"]
    assert len({r["source"] for r in results}) > 3
    for record in results:
        asset = stored[record["id"]]
        assert (record["source"], record["licence"]) == (asset.source, asset.licence)

    # A resident's place, once approved, carries what the store records for it.
    lon, lat = M32_0TH
    body = {"name": "Stretford Knit and Natter", "category": "activity_group"}
    receipt = api.post("/api/v1/submissions", json={**body, "lon": lon, "lat": lat})
    assert receipt.status_code == 201
    ref = receipt.get_json()["reference"]
    store.approve(ref, moderator="user:mo", expected_version=1)
    resident = store.get_asset(store.get_submission(ref).asset_id)
    near = api.get(NEARBY, query_string={"lon": lon, "lat": lat, "radius_m": 1, "limit": 1})
    documented(document, NEARBY, near)
    (record,) = near.get_json()["results"]
    assert record["id"] == resident.id
    assert (record["source"], record["licence"]) == ("resident", resident.licence)
    documented(document, "/api/v1/assets/{asset_id}", api.get(f"/api/v1/assets/{resident.id}"))


def test_the_document_says_the_data_is_under_mixed_licences_and_links_the_page(
    api: FlaskClient, document: dict[str, Any]
) -> None:
    validate_openapi(document)
    licence = document["info"]["license"]
    # Absolute, as OpenAPI asks of a URL: the document is read away from the site.
    assert licence["url"] == "http://localhost/licences"
    assert "identifier" not in licence  # no one SPDX licence covers the data
    assert licence["name"] == (
        "Mixed: mostly Open Government Licence v3.0; each asset's licence field says which applies"
    )
    page = api.get("/licences")
    assert page.status_code == 200
    assert '<h1 class="govuk-heading-l">Data sources and licences</h1>' in page.text
