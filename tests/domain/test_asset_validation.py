"""Asset field checks: dates last checked that are to come, and what a website may hold."""

from __future__ import annotations

from datetime import date

import pytest

from assetmap.domain.asset import future_verified_error, validate_asset
from assetmap.domain.taxonomy import Taxonomy

TODAY = date(2026, 3, 14)


@pytest.mark.parametrize("text", ["2026-03-14", "2026-03-13", "2019-01-01", "2026-03-14T23:59"])
def test_a_date_last_checked_up_to_today_is_fine(text: str) -> None:
    assert future_verified_error(text, TODAY) is None


def test_a_date_last_checked_after_today_is_refused_without_grace() -> None:
    err = future_verified_error("2026-03-15", TODAY)
    assert err is not None
    assert err.field == "last_verified"
    assert err.message == (
        "last_verified 2026-03-15 is in the future (today is 2026-03-14): it must be the date"
        " the details were last checked, today or earlier"
    )
    assert future_verified_error(" 2099-01-01T00:00:00Z ", TODAY) is not None


@pytest.mark.parametrize("text", ["", None, "next week", "2026-13-01"])
def test_text_that_is_no_date_is_left_to_validate_asset(text: str | None) -> None:
    assert future_verified_error(text, TODAY) is None


# -- websites ------------------------------------------------------------------------------

LIBRARY = {"name": "Sale Library", "category": "library", "lon": -2.3181, "lat": 53.4246}


@pytest.mark.parametrize(
    ("website", "what"),
    [
        ('"https://www.trafford.gov.uk/"', 'a quotation mark (")'),
        ("https://example.org/it's", "an apostrophe or quotation mark (')"),
        ("\u201chttps://example.org\u201d", "a quotation mark (\u201c)"),
        ("<https://example.org>", "an angle bracket (<)"),
        ("https://example.org/a>b", "an angle bracket (>)"),
        ("https://example.org/{id}", "the character {"),
        ("https://example.org/a|b", "the character |"),
        ("https://example.org\\walkers", "the character \\"),
        ("https://example.org/\u200bwalkers", "an invisible character (U+200B)"),
        ("https://[example.org", "a square bracket ([ or ]) outside an IPv6 address"),
    ],
)
def test_a_website_with_a_character_no_web_address_has_is_refused(
    taxonomy: Taxonomy, website: str, what: str
) -> None:
    asset, errors = validate_asset({**LIBRARY, "website": website}, taxonomy)
    assert asset is None
    assert [(e.field, e.message) for e in errors] == [
        ("website", f"website '{website}' has {what}, which cannot be in a web address")
    ]


@pytest.mark.parametrize(
    "website",
    [
        "https://www.trafford.gov.uk/residents/libraries.aspx?id=7&tab=2#opening",
        "https://example.org/Sale%20Library",
        "https://example.org/search?tags[]=walks",  # brackets in a query: browsers open it
        "https://caf\u00e9-de-la-gare.example/men\u00fc",  # an internationalised address
        "http://[2001:db8::1]/",
        "https://user@example.org:8443/a;b=c,d!*()~$+",
    ],
)
def test_every_character_a_web_address_may_have_is_kept(taxonomy: Taxonomy, website: str) -> None:
    asset, errors = validate_asset({**LIBRARY, "website": website}, taxonomy)
    assert errors == [] and asset is not None and asset.website == website


def test_bidirectional_overrides_are_removed_from_listing_text(taxonomy: Taxonomy) -> None:
    # An override in a name would show the rest of its line reversed on every page and map;
    # the letters themselves, right-to-left ones included, are kept.
    name = "Stretford \u202eyrarbiL\u202c \u2067\u05e1\u05e4\u05e8\u05d9\u05d9\u05d4\u2069"
    asset, errors = validate_asset(
        {**LIBRARY, "name": name, "description": "Open\u202d daily\u2066"}, taxonomy
    )
    assert errors == [] and asset is not None
    assert asset.name == "Stretford yrarbiL \u05e1\u05e4\u05e8\u05d9\u05d9\u05d4"
    assert asset.description == "Open daily"


@pytest.mark.parametrize(
    "text", ["5_3.4", "\uff15\uff13.\uff14", "\u0665\u0663.\u0664", "53\u00b74"]
)
def test_a_coordinate_must_be_written_in_plain_digits(taxonomy: Taxonomy, text: str) -> None:
    # float() would read the first three as 53.4: a typing slip or a pasted character that
    # no spreadsheet writes as a number is refused, naming the field and the text.
    asset, errors = validate_asset({**LIBRARY, "lat": text}, taxonomy)
    assert asset is None
    assert [(e.field, e.message) for e in errors] == [("lat", f"lat '{text}' is not a number")]


@pytest.mark.parametrize("text", ["53.4", "+53.40", "5.34e1", " 53.4 "])
def test_a_coordinate_in_plain_digits_is_read(taxonomy: Taxonomy, text: str) -> None:
    asset, errors = validate_asset({**LIBRARY, "lat": text}, taxonomy)
    assert errors == [] and asset is not None
    assert asset.lat == 53.4


def test_line_breaks_in_one_line_fields_become_spaces(taxonomy: Taxonomy) -> None:
    # A quoted newline in a CSV cell would otherwise be part of the name on every list.
    asset, errors = validate_asset(
        {
            **LIBRARY,
            "name": "Stretford\nLibrary\t(branch)",
            "postcode": "m32\r\n0th",
            "address": "Kingsway\nStretford",
            "description": "Books.\n\nComputers.",
        },
        taxonomy,
    )
    assert errors == [] and asset is not None
    assert asset.name == "Stretford Library (branch)"
    assert asset.postcode == "M32 0TH"
    # Addresses and descriptions keep their lines (shown with them on the check page).
    assert asset.address == "Kingsway\nStretford"
    assert asset.description == "Books.\n\nComputers."
