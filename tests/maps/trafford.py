"""Real Trafford assets for tests, and hostile text to show resident strings stay inert.

Values copied from data/assets/trafford/ (Trafford Council open data, Open Government
Licence v3.0): libraries_trafford_libraries.csv rows 1-5,
council_assets_leisure_centres_trafford_leisure_centres.csv rows 1-2,
green_flags_trafford_green_flags.csv row 1 and council_assets_community_hubs_... row 2.
"""

from __future__ import annotations

from typing import Any

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store

LIBRARIES: list[dict[str, Any]] = [
    {
        "name": "Altrincham Library",
        "category": "library",
        "address": "2 Pott Street, Altrincham",
        "postcode": "WA14 1AH",
        "email": "altrincham.library@trafford.gov.uk",
        "website": "https://www.trafford.gov.uk/residents/leisure-and-lifestyle/libraries/libraries-in-trafford/altrincham-library.aspx",
        "lon": -2.352156600534233,
        "lat": 53.38705468210445,
    },
    {
        "name": "Coppice Library",
        "category": "library",
        "address": "Coppice Avenue, Sale",
        "postcode": "M33 4ND",
        "email": "coppice.library@trafford.gov.uk",
        "lon": -2.351126,
        "lat": 53.414091,
    },
    {
        "name": "Hale Library",
        "category": "library",
        "address": "25 Cecil Road, Hale",
        "postcode": "WA15 9NT",
        "lon": -2.345594,
        "lat": 53.376032,
    },
    {
        "name": "Lostock Library",
        "category": "library",
        "address": "Selby Road, Stretford",
        "postcode": "M32 9PL",
        "lon": -2.330413,
        "lat": 53.454859,
    },
    {
        "name": "Old Trafford Library at Limelight",
        "category": "library",
        "address": "1 St Brides Way, Old Trafford",
        "postcode": "M16 9NW",
        "lon": -2.261906,
        "lat": 53.461415,
    },
]

OTHERS: list[dict[str, Any]] = [
    {
        "name": "Move Altrincham",
        "category": "leisure_centre",
        "address": "Oakfield Road, Altrincham",
        "postcode": "WA15 8EW",
        "phone": "01617492570",
        "website": "https://twmove.co.uk/altrincham/",
        "opening_times": "Mon-Fri: 6:30am-10:00pm, Sat-Sun: 8:00am-6:00pm",
        "lon": -2.3456813925334914,
        "lat": 53.38834687816429,
    },
    {
        "name": "Sale Leisure Centre",
        "category": "leisure_centre",
        "address": "Broad Road, Sale",
        "postcode": "M33 2AL",
        "phone": "01617492570",
        "website": "https://traffordleisure.co.uk/centres/sale/",
        "lon": -2.3159524585775513,
        "lat": 53.42488843133235,
    },
    {
        "name": "Davyhulme Park",
        "category": "park",
        "phone": "01616726509",
        "lon": -2.352896,
        "lat": 53.453785,
    },
    {
        "name": "Old Trafford",
        "category": "community_centre",
        "address": "St John's Centre, St John's Road, Old Trafford",
        "postcode": "M16 7GX",
        "website": "https://www.stjohnscentre.org/",
        "email": "info@stjohnscentre.org",
        "phone": "0161 872 7795",
        "opening_times": "Monday to Friday, 9.30am-4pm",
        "lon": -2.2684376346649646,
        "lat": 53.4580264631419,
    },
]

TRAFFORD = LIBRARIES + OTHERS

# HTML that would run if parsed, a template literal and two Jinja expressions (the second
# would reach os if Folium's second template pass evaluated it).
HOSTILE_NAME = "<img src=x onerror=alert(1)> ${alert(1)}"
SCRIPT_NAME = "<script>alert(1)</script> ${alert(1)}"
JINJA_NAME = "{{ 7*7 }} {{ lipsum.__globals__['os'].getpid() }}"


def hostile(name: str, **fields: Any) -> dict[str, Any]:
    """Hale Library's row under a hostile name (same place, so it lands on the map)."""
    return {**LIBRARIES[2], "name": name, **fields}


def as_assets(rows: list[dict[str, Any]], taxonomy: Taxonomy) -> list[Asset]:
    """Validated assets with made-up ids, for builders that need no store."""
    return [
        build_asset(row, taxonomy).with_changes(id=f"a{i:012x}") for i, row in enumerate(rows, 1)
    ]


def create_all(store: Store, rows: list[dict[str, Any]], taxonomy: Taxonomy) -> list[Asset]:
    """Store each row as a new asset (author 'test') and return them."""
    return [store.create_asset(build_asset(row, taxonomy), author="test") for row in rows]
