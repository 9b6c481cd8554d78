"""The category palette: every pair of colours can be told apart, and every marker stands out.

A map's category circles are the only cue to what kind of place each one is, so the whole
palette (data/taxonomy.toml and the "Other" grey of assetmap.maps.assets) is checked, not just
neighbouring entries. Colour difference is CIEDE2000 (tests/maps/colour_difference.py).
"""

from __future__ import annotations

import itertools

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.assets import OTHER
from assetmap.maps.jsaa import VIRIDIS, AreaStyle
from assetmap.maps.popups import OUTLINE
from tests.maps.colour_difference import (
    ciede2000,
    colour_difference,
    contrast_ratio,
    over,
    simulate_dichromacy,
)

# ΔE00 of about 2 is a just-noticeable difference for large patches side by side; map
# circles are 9-14 px and seen apart, where differences look several times smaller, so
# categories need about 15 to be told apart at a glance.
MIN_DELTA_E = 15.0
# As seen with protanopia or deuteranopia (about 1 man in 50 each), 18 colours cannot all
# stay 15 apart; the palette was searched for the largest smallest difference, 7.2.
MIN_DELTA_E_DICHROMATIC = 7.0
# WCAG 2.2 SC 1.4.11: graphical objects needed to understand the content, 3:1.
MIN_CONTRAST = 3.0
# What the circles are drawn on: the page, Leaflet's own background (asset maps without
# tiles), the JSAA maps' background (assetmap/maps/static/jsaa.css) and each class of the
# choropleths the JSAA site draws (5 classes, or fewer where the values have fewer).
JSAA_BACKGROUND = "#f3f2f1"
SITE_CLASSES = 5
BACKGROUNDS = (
    "#ffffff",
    "#dddddd",
    JSAA_BACKGROUND,
    *sorted(
        {
            over(colour, JSAA_BACKGROUND, AreaStyle().fill_opacity)
            for k, ramp in VIRIDIS.items()
            if k <= SITE_CLASSES
            for colour in ramp
        }
    ),
)


def palette(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """Every colour a category circle can have: the taxonomy's and the "Other" grey."""
    return [(c.id, c.colour) for c in taxonomy] + [(OTHER.id, OTHER.colour)]


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [
        # Sharma, Wu and Dalal (2005), table 1: pairs that exercise each branch.
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
        ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
        ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_agrees_with_the_published_test_data(
    lab1: tuple[float, float, float], lab2: tuple[float, float, float], expected: float
) -> None:
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)


def test_colour_helpers_on_known_colours() -> None:
    assert colour_difference("#ffffff", "#000000") == pytest.approx(100.0, abs=1e-3)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#0b0c0c", "#0b0c0c") == 1.0
    assert over("#440154", "#ffffff", 0.5) == "#a280aa"


def test_every_pair_of_category_colours_can_be_told_apart(taxonomy: Taxonomy) -> None:
    colours = palette(taxonomy)
    assert len(colours) == len(taxonomy) + 1
    close = sorted(
        (round(colour_difference(a, b), 1), f"{ida} {a}", f"{idb} {b}")
        for (ida, a), (idb, b) in itertools.combinations(colours, 2)
        if colour_difference(a, b) < MIN_DELTA_E
    )
    assert close == []


def test_every_category_circle_stands_out_on_every_map_background(taxonomy: Taxonomy) -> None:
    # A circle is a fill inside a dark outline: on a pale background the outline gives the
    # contrast, on the darkest classes of a choropleth only the fill can.
    hidden = [
        (ident, colour, background)
        for ident, colour in palette(taxonomy)
        for background in BACKGROUNDS
        if max(contrast_ratio(colour, background), contrast_ratio(OUTLINE, background))
        < MIN_CONTRAST
    ]
    assert hidden == []


@pytest.mark.parametrize("deficiency", ["protanopia", "deuteranopia"])
def test_category_colours_stay_apart_for_red_green_colour_blindness(
    taxonomy: Taxonomy, deficiency: str
) -> None:
    seen = [(ident, simulate_dichromacy(colour, deficiency)) for ident, colour in palette(taxonomy)]
    close = sorted(
        (round(colour_difference(a, b), 1), ida, idb)
        for (ida, a), (idb, b) in itertools.combinations(seen, 2)
        if colour_difference(a, b) < MIN_DELTA_E_DICHROMATIC
    )
    assert close == []


def test_dichromacy_simulation_keeps_greys_and_merges_red_and_green() -> None:
    # Machado et al.'s matrices map each grey to itself (rows sum to 1) and make a red and a
    # darker green hard to tell apart, which is the point of the check above.
    for deficiency in ("protanopia", "deuteranopia"):
        assert simulate_dichromacy("#777777", deficiency) == "#777777"
        normal = colour_difference("#cc3333", "#336600")
        seen = colour_difference(
            simulate_dichromacy("#cc3333", deficiency), simulate_dichromacy("#336600", deficiency)
        )
        assert seen < normal / 4
