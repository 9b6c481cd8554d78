"""Parsing nearby-search parameters: every input a person can get wrong names its field."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetmap.analysis.nearby import (
    COST_FILTERS,
    DEFAULT_RADIUS_M,
    PARAMETER_WORDING,
    NearbyQuery,
    distance_fields,
    fold_text,
    parse_nearby_query,
)
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES
from assetmap.gazetteer.postcodes import PostcodeIndex, load_default_index

# data/postcodes/postcodes_study_las_nspl2025.csv.gz: "M32 0TH,53.45901,-2.28748,..."
M32_0TH = (-2.28748, 53.45901)

Parse = Callable[..., NearbyQuery]


@pytest.fixture(scope="module")
def postcodes() -> PostcodeIndex:
    return load_default_index()


@pytest.fixture
def parse(taxonomy: Taxonomy, postcodes: PostcodeIndex) -> Parse:
    def run(**params: str | list[str]) -> NearbyQuery:
        return parse_nearby_query(params, taxonomy=taxonomy, postcodes=postcodes)

    return run


def test_postcode_defaults(parse: Parse) -> None:
    q = parse(postcode=" m320th ")
    assert (q.lon, q.lat) == M32_0TH
    assert (q.postcode, q.origin_label, q.origin_kind) == ("M32 0TH", "M32 0TH", "unit")
    assert q.radius_m == DEFAULT_RADIUS_M == 1609.344
    assert (q.limit, q.offset, q.categories, q.q, q.open_on) == (50, 0, (), "", None)
    assert q.origin() == {"lon": -2.28748, "lat": 53.45901, "label": "M32 0TH", "kind": "unit"}


def test_sector_and_district_search_from_their_centroids(parse: Parse) -> None:
    sector = parse(postcode="M32 0")
    district = parse(postcode="m32")
    assert (sector.origin_kind, sector.origin_label) == ("sector", "postcode sector M32 0")
    assert (district.origin_kind, district.origin_label) == ("district", "postcode district M32")
    # both centroids lie within a few km of the unit postcode in them
    for q in (sector, district):
        assert abs(q.lon - M32_0TH[0]) < 0.05 and abs(q.lat - M32_0TH[1]) < 0.05


def test_point_radius_units_and_lists(parse: Parse) -> None:
    q = parse(
        lat="53.4",
        lon="-2.3",
        radius="2",
        unit="km",
        category=["library,park", "Library"],
        cost=["free", "time_credits"],
        access=["step_free", "hearing_loop"],
        audience="older_people",
        open_on="Monday@9:05",
        q="  Café  ",
        limit="10",
        offset="20",
    )
    assert (q.lon, q.lat, q.origin_kind, q.origin_label) == (
        -2.3,
        53.4,
        "point",
        "53.40000, -2.30000",
    )
    assert (q.radius_m, q.radius, q.unit) == (2000.0, 2.0, "km")
    assert q.categories == ("library", "park")
    assert q.cost == ("free", "time_credits")
    assert q.access == ("step_free", "hearing_loop")
    assert q.audience == "older_people"
    assert q.open_on == ("mon", "09:05") and q.open_on_text == "mon 09:05"
    assert q.q == "Café" and q.q_terms == ("cafe",)
    assert (q.limit, q.offset) == (10, 20)
    assert parse(lat="53.4", lon="-2.3", radius="1", unit="mi").radius_m == 1609.344
    assert parse(lat="53.4", lon="-2.3", radius_m="50000").radius_m == 50_000.0
    assert parse(lat="53.4", lon="-2.3", radius="50", unit="km").radius_m == 50_000.0
    # The largest radius the error message names is itself accepted.
    assert parse(lat="53.4", lon="-2.3", radius="31.06", unit="mi").radius == 31.06


def test_blank_form_fields_count_as_not_given(parse: Parse) -> None:
    q = parse(postcode="M32 0TH", lat="", lon=" ", radius_m="", q="", category=[""], limit="")
    assert q == parse(postcode="M32 0TH")


# (parameters, the field named, words in the message): every problem the parser can raise.
BAD_INPUT: list[tuple[dict[str, str | list[str]], str, str]] = [
    ({}, "postcode", "say where to search"),
    ({"postcode": "ZZ99 9ZZ9"}, "postcode", "not a UK postcode"),
    ({"postcode": "M32 0QQ"}, "postcode", "not in the postcode directory"),
    ({"postcode": "SW1A 1AA"}, "postcode", "study areas"),
    ({"postcode": "M32 0TH", "lat": "53.4", "lon": "-2.3"}, "postcode", "not both"),
    ({"postcode": "M32 0TH", "lon": "-2.3"}, "postcode", "not both"),
    ({"lat": "53.4"}, "lon", "lon is missing"),
    ({"lon": "-2.3"}, "lat", "lat is missing"),
    ({"lat": "nan", "lon": "-2.3"}, "lat", "finite"),
    ({"lat": "53.4", "lon": "-inf"}, "lon", "finite"),
    ({"lat": "53.4", "lon": "1e999"}, "lon", "too large"),
    ({"lat": "fifty", "lon": "-2.3"}, "lat", "not a number"),
    ({"lat": "1_0", "lon": "-2.3"}, "lat", "not a number"),
    ({"lat": "91", "lon": "-2.3"}, "lat", "outside -90..90"),
    ({"lat": "53.4", "lon": "-181"}, "lon", "outside -180..180"),
    ({"lat": "-2.3", "lon": "53.4"}, "lat", "swapped"),
    ({"lat": "40.7", "lon": "-74.0"}, "lon", "outside the UK"),
    ({"lat": ["53.4", "53.5"], "lon": "-2.3"}, "lat", "once"),
    ({"postcode": "M32 0TH", "radius_m": "0"}, "radius_m", "more than 0"),
    ({"postcode": "M32 0TH", "radius_m": "-5"}, "radius_m", "more than 0"),
    ({"postcode": "M32 0TH", "radius_m": "50000.1"}, "radius_m", "at most 50000"),
    ({"postcode": "M32 0TH", "radius_m": "nan"}, "radius_m", "finite"),
    (
        {"postcode": "M32 0TH", "radius": "31.07", "unit": "mi"},
        "radius",
        "at most 31.06 mi (50 km)",
    ),
    ({"postcode": "M32 0TH", "radius": "51", "unit": "km"}, "radius", "at most 50 km"),
    ({"postcode": "M32 0TH", "radius": "1"}, "unit", "needs a unit"),
    ({"postcode": "M32 0TH", "unit": "mi"}, "unit", "needs a radius"),
    ({"postcode": "M32 0TH", "radius": "1", "unit": "furlong"}, "unit", "m, km, mi"),
    ({"postcode": "M32 0TH", "radius": "1", "unit": "mi", "radius_m": "5"}, "radius", "both"),
    ({"postcode": "M32 0TH", "category": "zoo"}, "category", "valid categories are: library"),
    ({"postcode": "M32 0TH", "category": ["library", "zoo"]}, "category", "'zoo'"),
    ({"postcode": "M32 0TH", "cost": "cheap"}, "cost", "free, personal_budget, time_credits"),
    ({"postcode": "M32 0TH", "access": "lift"}, "access", "step_free"),
    ({"postcode": "M32 0TH", "audience": "cats"}, "audience", "older_people"),
    ({"postcode": "M32 0TH", "audience": ["carers", "older_people"]}, "audience", "once"),
    ({"postcode": "M32 0TH", "open_on": "mon"}, "open_on", "mon 14:00"),
    ({"postcode": "M32 0TH", "open_on": "funday 14:00"}, "open_on", "mon 14:00"),
    ({"postcode": "M32 0TH", "open_on": "mon 24:00"}, "open_on", "24-hour"),
    ({"postcode": "M32 0TH", "open_on": "mon 9:60"}, "open_on", "24-hour"),
    ({"postcode": "M32 0TH", "q": "!!!"}, "q", "no letters or digits"),
    ({"postcode": "M32 0TH", "q": "x" * 201}, "q", "at most 200"),
    ({"postcode": "M32 0TH", "limit": "0"}, "limit", "from 1 to 500"),
    ({"postcode": "M32 0TH", "limit": "501"}, "limit", "from 1 to 500"),
    ({"postcode": "M32 0TH", "limit": "ten"}, "limit", "whole number"),
    ({"postcode": "M32 0TH", "limit": "9" * 5000}, "limit", "whole number"),
    ({"postcode": "M32 0TH", "offset": "-1"}, "offset", "whole number"),
    ({"postcode": "M32 0TH", "offset": "1.5"}, "offset", "whole number"),
    ({"postcode": "M32 0TH", "radius_km": "3"}, "radius_km", "unknown parameter"),
    ({"postcode": "M32 0TH", "radius_m": "0.0004"}, "radius_m", "less than 1 mm"),
    ({"postcode": "M32 0TH", "radius": "1e-7", "unit": "km"}, "radius", "less than 1 mm"),
    # Werkzeug passes bytes that are not UTF-8 on as their escapes; a command line as
    # lone surrogates
    (
        {"postcode": "M32 0TH", "q": "caf%E9"},
        "q",
        "q is not valid UTF-8 text: it holds the byte %E9",
    ),
    (
        {"postcode": "M32 0TH", "q": "caf\udce9"},
        "q",
        "q is not valid UTF-8 text: it holds the byte %E9",
    ),
    ({"postcode": "M32%E90TH"}, "postcode", "postcode is not valid UTF-8"),
    ({"postcode": "M32 0TH", "category": "libr%C3ry"}, "category", "holds the byte %C3"),
    ({"postcode": "M32 0TH", "audience": "carers%FF"}, "audience", "not valid UTF-8"),
]


@pytest.mark.parametrize(("params", "field", "words"), BAD_INPUT)
def test_bad_input_names_the_field(
    parse: Parse, params: dict[str, str | list[str]], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(**params)
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.status == 400


def test_a_wording_names_parameters_in_the_callers_terms(
    taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    wording = replace(
        PARAMETER_WORDING,
        names={"open_on": "the opening time", "q": "the words"},
        byte="0x{:02X}",
        postcode_refused="In the postcode box: {message}",
    )

    def refusal(**params: str) -> ValidationError:
        with pytest.raises(ValidationError) as caught:
            parse_nearby_query(params, taxonomy=taxonomy, postcodes=postcodes, wording=wording)
        return caught.value

    late = refusal(postcode="M32 0TH", open_on="noon")
    assert late.message.startswith("the opening time 'noon' is not a day")
    assert late.field == "open_on"  # the API's parameter, whatever the wording
    assert refusal(postcode="M32 0TH", q="caf%E9").message.startswith(
        "the words is not valid UTF-8 text: it holds the byte 0xE9,"
    )
    assert refusal(postcode="M32 0QQ").message.startswith("In the postcode box: Postcode 'M32 0QQ'")
    assert refusal(postcode="M32 0TH", unit="mi").message == PARAMETER_WORDING.unit_alone


def test_a_plural_name_takes_are(taxonomy: Taxonomy, postcodes: PostcodeIndex) -> None:
    wording = replace(PARAMETER_WORDING, names={"q": "the words"}, plural=frozenset({"q"}))
    for params, start in [
        ({"q": "x" * 201}, "the words are 201 characters"),
        ({"q": "caf%E9"}, "the words are not valid UTF-8 text"),
        ({"limit": "1%E9"}, "limit is not valid UTF-8 text"),
    ]:
        with pytest.raises(ValidationError) as caught:
            parse_nearby_query(
                {"postcode": "M32 0TH", **params},
                taxonomy=taxonomy,
                postcodes=postcodes,
                wording=wording,
            )
        assert caught.value.message.startswith(start)


def test_fold_text_ignores_case_accents_and_punctuation() -> None:
    assert fold_text("  Café—BAR, Straße ") == "cafe bar strasse"
    assert fold_text("Zoë's Ünited") == "zoe s united"
    assert fold_text("!!!") == ""


_words = st.sampled_from(["library", "Café", "park", "st mary's", "Sale"])


@settings(max_examples=60, deadline=None)
@given(
    where=st.one_of(
        st.sampled_from(["M32 0TH", "M33 7", "WA14", "M41 0NA"]).map(lambda p: {"postcode": p}),
        st.tuples(st.floats(53.3, 53.5), st.floats(-2.5, -2.2)).map(
            lambda p: {"lat": repr(p[0]), "lon": repr(p[1])}
        ),
    ),
    radius=st.one_of(
        st.none(),
        st.floats(1, 50_000).map(lambda r: {"radius_m": repr(r)}),
        st.tuples(st.floats(0.1, 31), st.sampled_from(["mi", "km"])).map(
            lambda r: {"radius": repr(r[0]), "unit": r[1]}
        ),
    ),
    category=st.lists(st.sampled_from(["library", "park", "food_bank"]), unique=True),
    cost=st.lists(st.sampled_from(list(COST_FILTERS)), unique=True),
    access=st.lists(st.sampled_from(list(ACCESSIBILITY)), unique=True, max_size=3),
    audience=st.one_of(st.none(), st.sampled_from(list(AUDIENCES))),
    q=st.one_of(st.none(), _words),
    open_on=st.one_of(st.none(), st.sampled_from(["mon 14:00", "sun 09:30"])),
    paging=st.tuples(st.integers(1, 500), st.integers(0, 1000)),
)
def test_to_params_reads_back_as_the_same_query(
    taxonomy: Taxonomy, where, radius, category, cost, access, audience, q, open_on, paging
) -> None:
    params: dict[str, str | list[str]] = {**where, **(radius or {})}
    params.update(category=category, cost=cost, access=access)
    params.update(
        {k: v for k, v in {"audience": audience, "q": q, "open_on": open_on}.items() if v}
    )
    params.update(limit=str(paging[0]), offset=str(paging[1]))
    postcodes = load_default_index()
    query = parse_nearby_query(params, taxonomy=taxonomy, postcodes=postcodes)
    again = parse_nearby_query(query.to_params(), taxonomy=taxonomy, postcodes=postcodes)
    assert again == query
    echo = query.to_dict()
    assert math.isclose(echo["radius_m"], query.radius_m)
    assert echo["category"] == category and echo["cost"] == cost and echo["access"] == access


def test_radius_is_rounded_to_the_millimetre(parse: Parse) -> None:
    q = parse(postcode="M32 0TH", radius="31", unit="mi")
    assert q.radius_m == 49889.664 and q.to_dict()["radius_m"] == 49889.664
    assert (q.radius, q.unit) == (31.0, "mi")
    assert parse(postcode="M32 0TH", radius_m="1600.12345").radius_m == 1600.123
    assert parse(postcode="M32 0TH", radius_m="0.0005").radius_m == 0.001
    assert parse(postcode="M32 0TH", radius="1", unit="mi").radius_m == DEFAULT_RADIUS_M


def test_text_with_escapes_below_0x80_or_in_lower_case_is_kept(parse: Parse) -> None:
    # Only the upper-case escape of a byte of 0x80 or more marks text that was not UTF-8.
    assert parse(postcode="M32 0TH", q="50%20off").q == "50%20off"
    assert parse(postcode="M32 0TH", q="caf%e9").q == "caf%e9"


def test_walking_label_at_the_search_point() -> None:
    assert distance_fields(0.0) == {
        "distance_m": 0.0,
        "distance_miles": 0.0,
        "walking_minutes": 0,
        "walking_label": "less than 1 min walk (straight line at 4.8 km/h)",
    }
    assert distance_fields(5.0)["walking_label"] == "1 min walk (straight line at 4.8 km/h)"


@pytest.mark.parametrize(
    ("params", "field", "start"),
    [
        ({"lat": "95." + "0" * 3000, "lon": "-2.3"}, "lat", "lat 95.000"),
        ({"lat": "53.4", "lon": "-181." + "0" * 3000}, "lon", "lon -181.000"),
        ({"postcode": "M32 0TH", "radius_m": "60000." + "0" * 3000}, "radius_m", "radius_m must"),
        (
            {"postcode": "M32 0TH", "radius": "99." + "0" * 3000, "unit": "mi"},
            "radius",
            "radius must",
        ),
    ],
)
def test_a_pasted_screenful_is_not_repeated_whole(
    parse: Parse, params: dict[str, str], field: str, start: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(**params)
    assert caught.value.field == field
    assert caught.value.message.startswith(start)
    assert "…" in caught.value.message
    assert len(caught.value.message) < 160
