"""JSAA maps as HTML: classes, legend, units and source, areas, escaping, display geometry."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import numpy as np

import geopandas as gpd
import shapely

from assetmap.analysis.jsaa import JsaaResult
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps._elements import html_text
from assetmap.maps.embed import map_parts
from assetmap.maps.jsaa import (
    COORD_SCALE,
    SVG_MAX_AREAS,
    VIRIDIS,
    Attribution,
    ChoroplethSpec,
    choropleth_map,
    class_labels,
    classify,
    display_geometry,
    display_tolerance_m,
    encode_geometry,
    gap_map,
    value_text,
)
from assetmap.maps.report import input_sources, map_page, plan_maps, site_context
from tests.maps.html_tables import html_tables
from tests.maps.jsaa_demo import TRAFFORD_AREAS
from tests.maps.trafford import HOSTILE_NAME, JINJA_NAME, SCRIPT_NAME

IMD = ChoroplethSpec(
    "imd_score",
    "IMD 2019 score",
    unit="score (higher = more deprived)",
    source="MHCLG English Indices of Deprivation 2019",
)
_CALL = re.compile(r"^\s*area_decoder_\w+\((\{.*\}), feature_group_\w+\);$", re.M)


def payloads(code: str) -> list[dict[str, Any]]:
    """The area data each choropleth layer hands to the decoder, parsed back from the JS."""
    return [json.loads(m) for m in _CALL.findall(code)]


def decode_ring(flat: list[int]) -> np.ndarray[Any, Any]:
    """The page's decoder, in Python: deltas → absolute lon/lat."""
    pairs = np.asarray(flat, dtype=np.int64).reshape(-1, 2).cumsum(axis=0)
    return pairs / COORD_SCALE


def test_quantiles_put_the_same_number_of_areas_in_each_class() -> None:
    classes = classify(np.arange(1, 101, dtype=float), method="quantiles", k=5)
    assert classes.k == 5
    assert classes.counts == (20, 20, 20, 20, 20)
    assert classes.colours == VIRIDIS[5]
    assert classes.lower[0] == 1 and classes.upper[-1] == 100
    assert list(classes.class_of([1, 20, 21, 100, np.nan])) == [0, 0, 1, 4, -1]


def test_natural_breaks_find_the_clusters_and_are_the_same_every_run() -> None:
    rng = np.random.default_rng(4)
    values = np.concatenate([rng.normal(c, 1.0, 2000) for c in (10, 50, 90)])
    first = classify(values, method="natural_breaks", k=3)
    assert first.counts == (2000, 2000, 2000)
    assert first == classify(values, method="natural_breaks", k=3)


def test_ties_and_missing_values_make_fewer_classes_not_warnings() -> None:
    classes = classify([1.0] * 50 + [2.0] * 50 + [np.nan] * 3, method="quantiles", k=5)
    assert classes.k == 2
    assert classes.counts == (50, 50) and classes.no_data == 3
    assert classes.colours == VIRIDIS[2]


def test_display_geometry_is_simplified_and_the_analysis_geometry_untouched(
    trafford: JsaaResult,
) -> None:
    areas = trafford.areas
    before = areas.geometry.to_wkb()
    bng = areas.geometry.to_crs(27700)
    tolerance = display_tolerance_m(bng.total_bounds)
    assert 3 < tolerance < 6  # Trafford is about 17 km across: a quarter pixel at fit
    shown = display_geometry(areas.geometry, tolerance_m=tolerance)
    assert (areas.geometry.to_wkb() == before).all()
    # The shipped boundaries are already generalised (clipped, about 20 m): little to drop.
    assert (
        shapely.get_num_coordinates(shown.values).sum()
        < shapely.get_num_coordinates(areas.geometry.values).sum()
    )
    assert shapely.is_valid(shown.values).all() and not shown.is_empty.any()
    drift = shapely.hausdorff_distance(bng.values, shown.to_crs(27700).values)
    assert drift.max() <= tolerance + 0.01


def test_coordinates_are_sent_at_five_decimal_places(trafford: JsaaResult) -> None:
    for geom in trafford.areas.geometry.iloc[:20]:
        polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        encoded = encode_geometry(geom)
        assert len(encoded) == len(polygons)
        for polygon, rings in zip(polygons, encoded, strict=True):
            exterior = np.round(np.asarray(polygon.exterior.coords) * COORD_SCALE).astype(int)
            decoded = np.round(decode_ring(rings[0]) * COORD_SCALE).astype(int)
            assert (decoded[0] == exterior[0]).all()
            # Every point sent is an input point rounded to 1e-5 degrees, in order.
            positions = [
                int(np.flatnonzero((exterior == point).all(axis=1))[0]) for point in decoded
            ]
            assert positions == sorted(positions)


def test_choropleth_has_classes_legend_units_source_and_every_area(
    trafford: JsaaResult, taxonomy: Taxonomy
) -> None:
    data = choropleth_map(trafford.areas, IMD, assets=trafford.assets, taxonomy=taxonomy)
    parts = map_parts(data.map)
    (payload,) = payloads(parts.code)
    assert len(payload["codes"]) == len(payload["geoms"]) == TRAFFORD_AREAS
    assert sorted(payload["codes"]) == sorted(trafford.areas["area_code"])
    assert payload["canvas"] is False
    assert set(payload["classes"]) == set(range(data.classes.k))
    assert payload["colours"] == list(VIRIDIS[5])
    legend = parts.html
    assert "IMD 2019 score" in legend
    assert "score (higher = more deprived)" in legend
    assert "Source: MHCLG English Indices of Deprivation 2019" in legend
    for colour, count in zip(data.classes.colours, data.classes.counts, strict=True):
        assert f'fill="{colour}"' in legend
        assert f"({count})" in legend
    # One switchable layer per category with assets, named with its count.
    for category in taxonomy:
        n = int((trafford.assets["category"] == category.id).sum())
        if n:
            # HTML-escaped for Leaflet, then JSON-escaped by Folium's template.
            label = html_text(category.label).replace("&", "\\u0026")
            assert f"{label} ({n})" in parts.code
    assert "L.control.layers" in parts.code


HEALTH_RANK = ChoroplethSpec(
    "health_rank",
    "Health deprivation and disability rank",
    unit="rank of 32,844 (1 = most deprived)",
    higher_is_more_need=False,
)


def test_more_need_is_the_darker_colour_on_rank_maps_as_on_value_maps(
    trafford: JsaaResult,
) -> None:
    table = trafford.areas.set_index("area_code")
    palest, darkest = VIRIDIS[5][0], VIRIDIS[5][-1]
    score = replace(IMD, higher_is_more_need=True)
    for spec, lower_is_more_need in ((score, False), (HEALTH_RANK, True)):
        data = choropleth_map(trafford.areas, spec)
        parts = map_parts(data.map)
        (payload,) = payloads(parts.code)
        fill = dict(
            zip(payload["codes"], (payload["colours"][c] for c in payload["classes"]), strict=True)
        )
        values = table[spec.column].astype(float)
        neediest = values.idxmin() if lower_is_more_need else values.idxmax()
        least = values.idxmax() if lower_is_more_need else values.idxmin()
        assert (fill[neediest], fill[least]) == (darkest, palest), spec.column
        # Every area drawn darkest is needier than every area drawn palest.
        dark = values[[c for c, f in fill.items() if f == darkest]]
        pale = values[[c for c, f in fill.items() if f == palest]]
        if lower_is_more_need:
            assert dark.max() < pale.min()
        else:
            assert dark.min() > pale.max()
        # The legend puts the darkest (more need) class on top and says which end is need.
        labels = class_labels(data.classes, data.decimals)
        top, bottom = (labels[0], labels[-1]) if lower_is_more_need else (labels[-1], labels[0])
        assert parts.html.index(f"{top} (") < parts.html.index(f"{bottom} (")
        which = "lower" if lower_is_more_need else "higher"
        legend = parts.html[parts.html.index('<p class="am-legend__direction">') :]
        assert legend.startswith(
            f'<p class="am-legend__direction">Darker: more need ({which} values)</p>'
        )
        if spec is HEALTH_RANK:
            # Trafford 017E, the most deprived area on both measures (health rank 831 of
            # 32,844; IMD score 65.6), is dark on both maps; 027B (rank 31,346) is pale.
            assert (neediest, values[neediest], least) == ("E01006108", 831, "E01006081")
        else:
            assert neediest == "E01006108"


def test_the_sites_need_and_indicator_maps_say_which_end_is_more_need(
    trafford: JsaaResult,
) -> None:
    specs = {p.filename: p.spec for p in plan_maps(trafford.config)}
    need, rank = specs["map-need.html"], specs["map-health_rank.html"]
    assert need is not None and need.higher_is_more_need is True
    assert rank is not None and rank.higher_is_more_need is False
    (payload,) = payloads(map_parts(choropleth_map(trafford.areas, rank).map).code)
    assert payload["colours"] == list(VIRIDIS[5])[::-1]


def test_legend_of_whole_numbers_names_the_values_in_each_class(trafford: JsaaResult) -> None:
    # Trafford's IMD deciles: quantile breaks fall between whole numbers (at 6.6, say), and
    # a legend printing the rounded break said "5 to 7" for a class holding deciles 5 and 6.
    spec = ChoroplethSpec("imd_decile", "IMD 2019 decile", unit="decile (1 = most deprived)")
    data = choropleth_map(trafford.areas, spec)
    deciles = trafford.areas["imd_decile"].astype(int)
    labels = class_labels(data.classes, data.decimals)
    assert labels == ["1 to 4", "5 to 6", "7 to 8", "9 to 10"]
    for label, count in zip(labels, data.classes.counts, strict=True):
        low, high = (int(v) for v in label.split(" to "))
        assert ((deciles >= low) & (deciles <= high)).sum() == count
        assert f"{label} ({count})" in map_parts(data.map).html
    assert data.classes.counts == (34, 21, 35, 48)


def test_no_class_label_ends_on_the_number_the_next_one_starts_with(
    trafford: JsaaResult,
) -> None:
    # Trafford's IMD scores: 9.198 ends one quantile class and 9.243 starts the next, so at
    # one decimal the legend said "5.7 to 9.2" and "9.2 to 14.1".
    data = choropleth_map(trafford.areas, IMD)
    assert data.decimals == 1
    labels = class_labels(data.classes, data.decimals)
    # 5.667 and 5.674 meet at two places too, so three.
    assert labels == [
        "2.403 to 5.667",
        "5.674 to 9.198",
        "9.243 to 14.127",
        "14.302 to 25.167",
        "25.375 to 65.582",
    ]
    html = map_parts(data.map).html
    assert "5.674 to 9.198 (27)" in html and "5.7 to 9.2" not in html
    # Whole numbers never need more places.
    assert class_labels(classify([1.0, 2, 3, 4, 5, 6] * 3), 0) == [
        "1 to 2",
        "3",
        "4",
        "5",
        "6",
    ]


def test_tooltip_values_and_the_table_hold_the_same_numbers(
    trafford: JsaaResult, taxonomy: Taxonomy
) -> None:
    data = choropleth_map(trafford.areas, IMD, assets=None, taxonomy=None)
    (payload,) = payloads(map_parts(data.map).code)
    tooltip = dict(zip(payload["codes"], payload["text"], strict=True))
    for row in data.rows:
        assert tooltip[row["code"]] == f"{row['value']} (score, higher = more deprived)"
    table = trafford.areas.set_index("area_code")["imd_score"]
    for row in data.rows:
        assert row["value"] == f"{table[row['code']]:,.1f}"


def test_every_tooltip_of_the_site_gives_the_value_with_its_unit(
    trafford: JsaaResult, taxonomy: Taxonomy
) -> None:
    # Trafford 017D (E01006107), the first priority area. Units longer than 12 characters
    # were left out, so the indicator maps said "27.8" where the reasons say "27.8% of
    # residents". The need, access and gap maps' units are 0-100 scales, in their legends.
    expected = {
        "map-gap.html": "Gap score: 97.5",
        "map-need.html": "Need percentile: 96.8",
        "map-access.html": "Access percentile: 1.8",
        "map-imd_score.html": "IMD 2019 score: 40.8 (score, higher = more deprived)",
        "map-health_rank.html": (
            "Health deprivation and disability rank: 2,401 (rank of 32,844, 1 = most deprived)"
        ),
        "map-pct_60plus_2015.html": ("Share of residents aged 60+ (mid-2015): 27.8% of residents"),
    }
    shown = {}
    for plan in plan_maps(trafford.config):
        data = (
            gap_map(trafford.areas)
            if plan.spec is None
            else choropleth_map(trafford.areas, plan.spec, taxonomy=taxonomy)
        )
        payload = payloads(map_parts(data.map).code)[0]
        i = payload["codes"].index("E01006107")
        assert payload["names"][i] == "Trafford 017D"
        shown[plan.filename] = f"{payload['label']}: {payload['text'][i]}"  # as tip() joins
    assert shown == expected
    # The same figures, with the same units, as the area's priority reason.
    reason = trafford.areas.set_index("area_code").at["E01006107", "priority_reason"]
    for name in trafford.config.need_weights:
        assert expected[f"map-{name}.html"].replace(":", "", 1) in reason


def test_a_value_has_the_places_of_its_column_and_its_unit() -> None:
    assert value_text(1634.0, 0, "people") == "1,634 people"
    assert value_text(12.345, 1, "% of residents (mid-2024)") == "12.3% of residents (mid-2024)"
    assert value_text(3, 0, "decile (1 = most deprived 10%)") == (
        "3 (decile, 1 = most deprived 10%)"
    )
    assert value_text(2.5, 2, "beds; care homes (CQC)") == "2.50 (beds, care homes, CQC)"
    assert value_text(0.5, 3, "") == "0.500"
    assert value_text(float("nan"), 1, "% of residents") == "no data"
    assert value_text(None, 1, "people") == "no data"
    # A unit that starts with a figure is still a unit.
    assert value_text(12.0, 0, "1,000s of people") == "12 1,000s of people"


def test_no_cdn_or_other_off_site_address(trafford: JsaaResult, taxonomy: Taxonomy) -> None:
    data = choropleth_map(trafford.areas, IMD, assets=trafford.assets, taxonomy=taxonomy)
    parts = map_parts(data.map)
    for text in (parts.head, parts.html, parts.code):
        assert "http://" not in text and "https://" not in text
        assert "cdn" not in text.lower()
    assert '<script src="vendor/leaflet/leaflet.js"></script>' in parts.head


def squares(names: list[str], *, size: float = 0.01) -> gpd.GeoDataFrame:
    """Small square areas in a row near Trafford, one per name."""
    geoms = [
        shapely.box(-2.4 + i * size, 53.4, -2.4 + (i + 1) * size, 53.4 + size)
        for i in range(len(names))
    ]
    return gpd.GeoDataFrame(
        {
            "area_code": [f"E0{i:07d}" for i in range(len(names))],
            "area_name": names,
            "value": np.arange(len(names), dtype=float),
        },
        geometry=geoms,
        crs=4326,
    )


def test_area_asset_and_label_text_never_reaches_a_parser(taxonomy: Taxonomy) -> None:
    names = [HOSTILE_NAME, SCRIPT_NAME, JINJA_NAME, "Plain"]
    areas = squares(names)
    assets = gpd.GeoDataFrame(
        {"id": ["a1", "a2"], "name": [SCRIPT_NAME, JINJA_NAME], "category": ["library", "park"]},
        geometry=gpd.points_from_xy([-2.395, -2.385], [53.405, 53.405]),
        crs=4326,
    )
    spec = ChoroplethSpec("value", HOSTILE_NAME, unit=JINJA_NAME, source=SCRIPT_NAME)
    data = choropleth_map(areas, spec, assets=assets, taxonomy=taxonomy)
    parts = map_parts(data.map)
    everything = parts.html + parts.code
    assert "<img" not in everything and "<script" not in everything.lower()
    # {{ 7*7 }} was never evaluated (a bare 49; ids and hashes may contain the digits)
    assert re.search(r"\b49\b", parts.html) is None
    assert "&lt;img src=x onerror=alert(1)&gt;" in parts.html
    assert "&#123;&#123; 7*7 &#125;&#125;" in parts.html
    (payload,) = payloads(parts.code)
    assert payload["names"] == names  # as data, decoded only by textContent
    # The unit follows each value in its tooltip, as data too: set by textContent, never rendered.
    assert payload["text"][1] == f"1 {JINJA_NAME}"
    assert "\\u003cscript\\u003e" in parts.code
    # The page around a map escapes the same text in its table, headings and notes.
    fresh = choropleth_map(areas, spec, assets=assets, taxonomy=taxonomy)
    page, script = map_page(plan_maps_for_test(spec), fresh, site_for_test())
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "A test &lt;b&gt;map&lt;/b&gt;" in page and "Site &lt;i&gt;title&lt;/i&gt;" in page
    assert "intro {{ 7*7 }}" in page
    assert [p["names"] for p in payloads(script)] == [names]


def test_sources_licences_and_attribution_are_escaped_on_map_pages() -> None:
    provenance = {
        "inputs": [
            {
                "role": "areas",
                "path": "areas.geojson",
                "source": SCRIPT_NAME,
                "licence": HOSTILE_NAME,
                "date": JINJA_NAME,
            },
            {
                "role": "assets",
                "count": 1,
                "by_category": {"library": 1},
                "sources": [HOSTILE_NAME],
                "licences": [JINJA_NAME],
            },
        ]
    }
    spec = ChoroplethSpec("value", "Value")
    data = choropleth_map(
        squares(["Plain"]), spec, attribution=Attribution(HOSTILE_NAME, '#x"><b>')
    )
    site = {**site_for_test(), "sources": input_sources(provenance)}
    page, script = map_page(plan_maps_for_test(spec), data, site)
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page  # shown as text, never evaluated
    rows = html_tables(page)["data-sources-table"]
    assert rows[1][1:] == [SCRIPT_NAME, HOSTILE_NAME, JINJA_NAME]
    assert rows[2][1:3] == [HOSTILE_NAME, JINJA_NAME]
    # The attribution control gets escaped HTML, as JSON that cannot close the script.
    (line,) = [x for x in script.splitlines() if "addAttribution(" in x]
    html = json.loads(line.split("addAttribution(", 1)[1].removesuffix(");"))
    assert html == (
        '<a href="#x&quot;&gt;&lt;b&gt;">'
        "&lt;img src=x onerror=alert(1)&gt; $&#123;alert(1)&#125;</a>"
    )
    assert "<" not in line


def plan_maps_for_test(spec: ChoroplethSpec) -> Any:
    from assetmap.maps.report import MapPlan

    return MapPlan("map-test.html", "A test <b>map</b>", "summary", "intro {{ 7*7 }}", spec)


def site_for_test() -> dict[str, Any]:
    return {
        "title": "Site <i>title</i>",
        "config_sha256": "0" * 64,
        "generated_at": "",
        "version": "test",
        "prefix": "",
        "home": "index.html",
        "provenance": "provenance.json",
    }


def test_gap_map_outlines_the_priority_areas_and_ranks_them_first(
    trafford: JsaaResult, taxonomy: Taxonomy
) -> None:
    data = gap_map(trafford.areas, assets=trafford.assets, taxonomy=taxonomy)
    parts = map_parts(data.map)
    layers = payloads(parts.code)
    fills = [p for p in layers if p["className"] == "am-area"]
    outlines = [p for p in layers if p["className"] == "am-priority"]
    assert len(fills) == 1 and len(fills[0]["codes"]) == TRAFFORD_AREAS
    priority = [p["area_code"] for p in trafford.summary["priority_areas"]]
    assert priority, "the demo has priority areas"
    # A white halo under a black outline, neither catching the pointer.
    assert [sorted(o["codes"]) for o in outlines] == [sorted(priority)] * 2
    assert all(o["style"]["interactive"] is False for o in outlines)
    ranked = [r["code"] for r in data.rows if r["priority"]]
    assert ranked == priority
    assert [r["rank"] for r in data.rows[: len(priority)]] == [
        str(i) for i in range(1, len(priority) + 1)
    ]
    assert f"Priority area ({len(priority)})" in parts.html


def test_a_national_map_draws_on_a_canvas() -> None:
    areas = squares([f"Area {i}" for i in range(SVG_MAX_AREAS + 1)], size=0.0005)
    data = choropleth_map(areas, ChoroplethSpec("value", "Value"))
    (payload,) = payloads(map_parts(data.map).code)
    assert payload["canvas"] is True
    again = choropleth_map(areas, ChoroplethSpec("value", "Value"))
    page, _script = map_page(
        plan_maps_for_test(ChoroplethSpec("value", "Value")), again, site_for_test()
    )
    assert "Show the table of 5,001 areas" in page  # folded away, still on the page
    assert page.count("<tr>") == SVG_MAX_AREAS + 1


def test_every_map_of_a_site_has_a_page(trafford: JsaaResult, taxonomy: Taxonomy) -> None:
    plans = plan_maps(trafford.config)
    names = [p.filename for p in plans]
    assert names[:3] == ["map-gap.html", "map-need.html", "map-access.html"]
    for name in trafford.config.need_weights:
        assert f"map-{name}.html" in names
    plan = plans[3]
    assert plan.spec is not None
    data = choropleth_map(trafford.areas, plan.spec, assets=trafford.assets, taxonomy=taxonomy)
    page, script = map_page(plan, data, site_context(trafford))
    tables = html_tables(page)
    assert set(tables) == {"table-0", "data-sources-table"}  # the areas, then the sources
    table = tables["table-0"]
    assert len(table) == TRAFFORD_AREAS + 1  # and the header
    assert [r[1] for r in table[1:]] == [r["code"] for r in data.rows]
    assert "Show the table of" not in page  # a local authority's table is open beside the map
    assert f'<script src="{plan.script}"></script>' in page
    assert "<script>" not in page and "<style" not in page  # nothing inline (strict CSP)
    assert trafford.config.sha256 in page
    assert payloads(script)
