"""Postcode syntax: normalising and classifying what people type."""

from __future__ import annotations

import pytest

from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.domain.postcode import PostcodeQuery, normalise_postcode, parse_postcode_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m320th", "M32 0TH"),
        ("M32 0TH", "M32 0TH"),
        ("  m32   0th ", "M32 0TH"),
        ("M3 20TH", "M32 0TH"),  # misplaced space: the inward code is always the last 3
        ("ls101aa", "LS10 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("wc2h 9aa", "WC2H 9AA"),
        ("w1n0bs", "W1N 0BS"),  # terminated London district still in the NSPL
        ("gir0aa", "GIR 0AA"),
        ("b1\t1aa", "B1 1AA"),
    ],
)
def test_normalise_postcode(text: str, expected: str) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["M33", "M33 7", "XYZ", "", "M33 7CX"])
def test_normalise_postcode_rejects_anything_but_a_full_postcode(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_postcode(text)
    assert caught.value.field == "postcode"
    assert repr(text) in caught.value.message


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("M33", "district", "M33"),
        ("m33 ", "district", "M33"),
        ("wc2h", "district", "WC2H"),
        ("EC1A", "district", "EC1A"),
        ("B1", "district", "B1"),
        ("M33 7", "sector", "M33 7"),
        ("m33  7", "sector", "M33 7"),
        ("ls10 1", "sector", "LS10 1"),
        ("M33 7XX", "unit", "M33 7XX"),
        ("m337xx", "unit", "M33 7XX"),
        ("GIR 0AA", "unit", "GIR 0AA"),
        ("sw1a 1aa", "unit", "SW1A 1AA"),
    ],
)
def test_parse_postcode_query(text: str, kind: str, value: str) -> None:
    assert parse_postcode_query(text) == PostcodeQuery(kind, value)  # type: ignore[arg-type]


def test_query_is_frozen() -> None:
    query = parse_postcode_query("M33")
    with pytest.raises(AttributeError):
        query.value = "M32"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "XYZ",
        "",
        "   ",
        "M3 3 3 3",
        "M33 7X",  # inward code cut short
        "M337",  # a sector needs its space
        "Q1 1AA",  # Q never starts a postcode
        "MI1 1AA",  # I never comes second
        "M33 7CX",  # C never appears in the inward code
        "M33 0TH 1",
        "12345",
        "M33-7XX",
    ],
)
def test_malformed_queries_name_the_value(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_postcode_query(text)
    error = caught.value
    assert isinstance(error, AssetmapError)
    assert error.status == 400
    assert error.field == "postcode"
    assert error.row is None
    assert repr(text) in error.message
    assert "postcode district (M33) or sector (M33 7)" in error.message


def test_malformed_message_matches_the_documented_wording() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_postcode_query("XYZ")
    assert caught.value.message == (
        "'XYZ' is not a UK postcode (M33 7XX), postcode district (M33) or sector (M33 7)"
    )
    assert str(caught.value).startswith("field 'postcode': 'XYZ' is not")


def test_too_many_parts_says_why() -> None:
    with pytest.raises(ValidationError, match="4 space-separated parts"):
        parse_postcode_query("M3 3 3 3")


def test_empty_query_says_it_is_empty() -> None:
    with pytest.raises(ValidationError, match="'' is empty"):
        parse_postcode_query("")


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_postcode_query("x" * 500)
    assert len(caught.value.message) < 200


def test_non_text_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_postcode_query(None)  # type: ignore[arg-type]
