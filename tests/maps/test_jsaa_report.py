"""The JSAA site of the Trafford demo: report content, charts and their data, provenance."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from assetmap.analysis.jsaa import METHOD, JsaaResult
from assetmap.domain.local_time import when
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.report import plan_maps, report_context, write_site
from tests.maps.html_tables import html_tables, page_text
from tests.maps.jsaa_demo import TRAFFORD_AREAS

OWN_PAGES = ("index.html", "report.html")


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_the_site_has_every_output_and_provenance_hashes_them_all(site: Path) -> None:
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    for name in (
        "index.html",
        "report.html",
        "map-gap.html",
        "map-gap.js",
        "map-need.html",
        "map-access.html",
        "areas.csv",
        "areas.gpkg",
        "summary.json",
        "validation.json",
        "provenance.json",
        "config.toml",
        "charts/gap-map.png",
        "charts/provision-ratio.svg",
        "charts/need-access.svg",
        "charts/deciles-library.svg",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/LICENSE",
        "vendor/assetmap/assetmap.css",
        "assets/jsaa.css",
    ):
        assert name in files, name
    provenance = json.loads(read(site, "provenance.json"))
    assert set(provenance["outputs"]) == files - {"provenance.json"}
    for name, digest in provenance["outputs"].items():
        assert hashlib.sha256((site / name).read_bytes()).hexdigest() == digest, name
    config = (site / "config.toml").read_bytes()
    assert hashlib.sha256(config).hexdigest() == provenance["config"]["sha256"]


def test_every_page_records_the_config_hash(site: Path, trafford: JsaaResult) -> None:
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert f'<meta name="assetmap:config-sha256" content="{trafford.config.sha256}">' in html
        assert 'href="provenance.json"' in html, page.name


def test_every_page_says_when_it_was_generated_in_words_and_for_machines(
    site: Path, trafford: JsaaResult
) -> None:
    iso = str(trafford.provenance["generated_at"])
    element = f'<time datetime="{iso}">{when(iso)}</time>'
    report = read(site, "report.html")
    assert (
        '<dt class="govuk-summary-list__key">Generated</dt>'
        f'<dd class="govuk-summary-list__value">{element}</dd>'
    ) in report
    pages = sorted(site.glob("*.html"))
    assert len(pages) == 8  # index, report and six maps
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert f"Generated {element}." in html, page.name
        # The ISO text only in the attribute, for machines; people read the words.
        assert iso not in html.replace(f'datetime="{iso}"', ""), page.name


@pytest.mark.parametrize(
    ("iso", "shown"),
    [
        ("2026-11-23T21:22:48+00:00", "23 November 2026 at 9:22pm"),
        # British Summer Time: an hour ahead of UTC, so 11:00 UTC is midday in London.
        ("2026-07-01T11:00:30+00:00", "1 July 2026 at midday"),
    ],
)
def test_the_report_shows_the_generated_time_as_uk_time(
    trafford: JsaaResult, iso: str, shown: str
) -> None:
    from assetmap.maps.charts import need_access_chart
    from assetmap.maps.report import render, site_context

    result = replace(trafford, provenance={**trafford.provenance, "generated_at": iso})
    need_access = need_access_chart(
        result.areas, need_top=0.2, access_bottom=0.2, scope_text="in England"
    )
    context = report_context(
        result, plans=[], gap_figure=None, deciles=[], ratio=None, need_access=need_access
    )
    element = f'<time datetime="{iso}">{shown}</time>'
    assert str(dict(context["facts"])["Generated"]) == element
    html = render("report.html", site=site_context(result), report=context)
    assert f'<dd class="govuk-summary-list__value">{element}</dd>' in html
    assert f"Generated {element}." in html
    text = page_text(html)
    assert f"Generated {shown}" in text and iso not in text


def test_report_states_the_method(site: Path) -> None:
    text = page_text(read(site, "report.html"))
    for paragraph in METHOD.strip().split("\n\n"):
        assert " ".join(paragraph.split()) in text, paragraph[:60]


def test_report_lists_every_source_and_licence(site: Path, trafford: JsaaResult) -> None:
    text = page_text(read(site, "report.html"))
    for item in trafford.provenance["inputs"]:
        if item["role"] == "assets":
            for line in [*item["sources"], *item["licences"]]:
                assert " ".join(line.split()) in text, line
        else:
            assert item["source"] in text and item["licence"] in text, item["role"]
    assert "Open Government Licence v3.0" in text


def test_every_map_page_carries_the_sources_and_licences(site: Path, trafford: JsaaResult) -> None:
    # The same rows as the report's sources table, built from the same provenance.
    report_rows = html_tables(read(site, "report.html"))["sources-table"]
    assert len(report_rows) == len(trafford.provenance["inputs"]) + 1
    pages = sorted(site.glob("map-*.html"))
    assert len(pages) == 6  # gap, need, access and the three weighted need indicators
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert html_tables(html)["data-sources-table"] == report_rows, page.name
        assert 'id="data-sources"' in html
        text = page_text(html)
        assert "Data sources and licences" in text
        for item in trafford.provenance["inputs"]:
            lines = (
                [*item["sources"], *item["licences"]]
                if item["role"] == "assets"
                else [item["source"], item["licence"]]
            )
            for line in lines:
                assert " ".join(line.split()) in text, (page.name, line)
        # The map's own attribution control links to that section.
        script = read(site, page.name.removesuffix(".html") + ".js")
        assert (
            ".attributionControl.addAttribution("
            '"\\u003ca href=\\"#data-sources\\"\\u003eData sources and licences'
            '\\u003c/a\\u003e");'
        ) in script, page.name


def test_priority_table_equals_summary_json(site: Path) -> None:
    summary = json.loads(read(site, "summary.json"))
    rows = html_tables(read(site, "report.html"))["priority-table"][1:]
    expected = summary["priority_areas"]
    assert len(rows) == len(expected) == summary["totals"]["priority_areas"] > 0
    for row, want in zip(rows, expected, strict=True):
        rank, name, code, population, need, access, gap, reasons = row
        assert (int(rank), name, code) == (want["rank"], want["area_name"], want["area_code"])
        assert population == f"{want['population']:,}"
        assert need == f"{want['need_percentile']:.1f}"
        assert access == f"{want['access_percentile']:.1f}"
        assert gap == f"{want['gap_score']:.1f}"
        for reason in want["reasons"]:
            assert reason in reasons


def test_decile_chart_data_equals_an_independent_groupby(site: Path) -> None:
    areas = pd.read_csv(site / "areas.csv")
    summary = json.loads(read(site, "summary.json"))
    tables = html_tables(read(site, "report.html"))
    groups = areas.groupby("imd_decile")
    for category in summary["categories"]:
        cid = category["id"]
        counts = groups[f"count_{cid}"].sum()
        population = groups["population"].sum()
        rows = tables[f"data-deciles-{cid}"]
        assert rows[0] == ["Decile", "Areas", "Residents", "Assets", "Per 1,000 residents"]
        assert [int(r[0]) for r in rows[1:]] == list(counts.index)
        for decile, n_areas, residents, assets, rate in rows[1:]:
            d = int(decile)
            assert int(n_areas) == int((areas["imd_decile"] == d).sum())
            assert int(residents.replace(",", "")) == population[d]
            assert int(assets) == counts[d]
            assert float(rate) == pytest.approx(counts[d] * 1000 / population[d], abs=5e-4)


def test_every_chart_has_a_caption_alt_text_and_a_data_table(site: Path) -> None:
    html = read(site, "report.html")
    figures = re.findall(r"<figure.*?</figure>", html, re.S)
    assert len(figures) >= 12  # gap map, provision ratio, need/access, 9 categories
    for figure in figures:
        src = re.search(r'<img class="app-figure__image" src="([^"]+)" alt="([^"]+)"', figure)
        assert src, figure[:200]
        assert (site / src.group(1)).is_file()
        assert len(src.group(2)) > 40
        assert re.search(r"<figcaption[^>]*>[^<]{40,}</figcaption>", figure)
        assert '<table class="govuk-table app-chart-table"' in figure


def test_report_summary_and_ranked_maps(site: Path, trafford: JsaaResult) -> None:
    html = read(site, "report.html")
    text = page_text(html)
    assert f"of {TRAFFORD_AREAS} areas are priority areas" in text
    categories = html_tables(html)["categories-table"][1:]
    assert [r[0] for r in categories] == [c["label"] for c in trafford.summary["categories"]]
    for name in ("map-gap.html", "map-need.html", "map-access.html", "map-imd_score.html"):
        assert f'href="{name}"' in html
    index = read(site, "index.html")
    for name in ("report.html", "map-gap.html", "areas.csv", "areas.gpkg", "provenance.json"):
        assert f'href="{name}"' in index


def test_pages_load_nothing_from_another_site(site: Path) -> None:
    own = [site / n for n in OWN_PAGES] + list(site.glob("map-*"))
    for path in [*own, site / "assets" / "jsaa.css"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path.name
        assert "cdn." not in text and "@import" not in text, path.name
        if path.suffix == ".html":
            # No inline script or style: the pages run under script-src/style-src 'self'.
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
            assert "<style" not in text and " style=" not in text, path.name


def test_charts_are_the_same_bytes_for_the_same_numbers(site: Path, trafford: JsaaResult) -> None:
    from assetmap.maps.charts import decile_charts

    again = {c.filename: c.content for c in decile_charts(trafford.summary)}
    for name, content in again.items():
        assert (site / name).read_bytes() == content, name


@pytest.mark.parametrize(
    ("points", "catchment", "headline"),
    [
        (
            {"postcode_mean": 134, "postcode_nearest_mean": 4},
            "1,600 m from each area's population-weighted point",
            "within 1,600 m of where their residents live.",
        ),
        (
            # Boundaries the postcode file does not cover: no point stands for residents.
            {"representative_point": 138},
            "1,600 m from each area's representative point (no postcode lies in any area)",
            "within 1,600 m of their representative point.",
        ),
        (
            {"postcode_mean": 130, "representative_point": 8},
            "1,600 m from each area's population-weighted point, or its representative point "
            "for the 8 with no postcode inside",
            "within 1,600 m of their reference point.",
        ),
    ],
)
def test_the_catchment_is_said_to_start_from_the_points_the_run_used(
    trafford: JsaaResult, points: dict[str, int], catchment: str, headline: str
) -> None:
    summary = json.loads(json.dumps(trafford.summary))
    summary["totals"]["reference_points"] = points
    result = replace(trafford, summary=summary)
    context = report_context(
        result, plans=[], gap_figure=None, deciles=[], ratio=None, need_access=None
    )
    assert dict(context["facts"])["Catchment"] == catchment
    assert any(h.endswith(headline) for h in context["headlines"]), context["headlines"]
    # The access map's introduction names the same points.
    (access,) = [
        p
        for p in plan_maps(trafford.config, reference_points=points)
        if p.filename == "map-access.html"
    ]
    assert f"assets {headline.removesuffix('.')} and the distance" in access.intro


def test_the_access_map_of_a_site_names_the_points_the_run_used(
    trafford: JsaaResult, taxonomy: Taxonomy, vendor_dir: Path, tmp_path: Path
) -> None:
    summary = json.loads(json.dumps(trafford.summary))
    summary["totals"]["reference_points"] = {"representative_point": TRAFFORD_AREAS}
    write_site(
        replace(trafford, summary=summary), tmp_path, taxonomy=taxonomy, vendor_dir=vendor_dir
    )
    text = page_text(read(tmp_path, "map-access.html"))
    assert "assets within 1,600 m of their representative point and the distance" in text
    assert "where their residents live" not in text


def test_a_category_only_in_the_most_deprived_fifth_counts_as_following_need(
    site: Path,
) -> None:
    # Trafford's community centres: 0.088 per 1,000 in the most deprived fifth and none in
    # the least. No finite ratio, but provision plainly follows need; children's centres,
    # none in either fifth, do not count. Every category counted is named (parks 1.77, food
    # banks 14.13 in the ratio chart's table), not only the one without a ratio.
    text = page_text(read(site, "report.html"))
    assert (
        "Provision follows need (ratio 1.25 or more) for 3 of 9 categories: Park or green "
        "space, Food bank, Community centre (some in the most deprived fifth, none in the "
        "least); it runs against need (ratio 0.8 or less) for 1: Allotment."
    ) in text


def one_of_each(trafford: JsaaResult) -> JsaaResult:
    """The demo run with a count of one wherever the report prints a count."""
    summary = json.loads(json.dumps(trafford.summary))
    summary["priority_areas"] = summary["priority_areas"][:1]
    summary["totals"]["assets_in_areas"] = 1
    summary["categories"] = summary["categories"][:1]
    summary["categories"][0]["areas_with_none_within_catchment"] = 1
    summary["validation"] = {"errors": 1, "warnings": ["a warning"], "notes": ["a note"]}
    return replace(trafford, summary=summary)


def test_a_count_of_one_is_singular_in_the_report(trafford: JsaaResult) -> None:
    from assetmap.maps.charts import need_access_chart
    from assetmap.maps.report import render, site_context

    result = one_of_each(trafford)
    need_access = need_access_chart(
        result.areas, need_top=0.2, access_bottom=0.2, scope_text="in England"
    )
    context = report_context(
        result, plans=[], gap_figure=None, deciles=[], ratio=None, need_access=need_access
    )
    first, assets, *_, without = context["headlines"]
    assert first.startswith(f"1 of {TRAFFORD_AREAS} areas is a priority area: ")
    assert " residents live in it (" in first
    assert assets.startswith("1 asset in 1 category is mapped inside the areas: ")
    assert without.startswith("1 area has no ")
    text = page_text(render("report.html", site=site_context(result), report=context))
    assert "1 priority area, largest gap first" in text
    assert "checked before the assessment ran: 1 error, 1 warning and 1 note." in text


def test_a_count_of_one_is_singular_in_charts_map_pages_and_the_index(
    trafford: JsaaResult,
) -> None:
    from assetmap.maps.charts import (
        decile_charts,
        gap_map_figure,
        need_access_chart,
        provision_ratio_chart,
    )
    from assetmap.maps.jsaa import ChoroplethSpec, choropleth_map, class_labels, classify
    from assetmap.maps.report import MapPlan, _index_headline, map_page, site_context

    areas = trafford.areas.copy()
    areas["priority"] = areas["priority_rank"].eq(1).fillna(False).astype(bool)
    chart = need_access_chart(areas, need_top=0.2, access_bottom=0.2, scope_text="in England")
    assert "1 area falls in it, drawn as a triangle." in chart.caption
    assert "with 1 priority area in the shaded" in chart.alt
    ratio = provision_ratio_chart(trafford.summary, decile_charts(trafford.summary)[:1])
    assert " of 1 category" in str(ratio.meta["reading"])
    one_class = classify([50.0] * len(areas))
    figure = gap_map_figure(areas, one_class, class_labels(one_class, 1), tolerance_m=10)
    assert " in 1 class (quantiles)" in figure.caption
    assert "; the priority area is outlined." in figure.caption
    assert "with 1 priority area outlined. The priority areas table lists it;" in figure.alt

    one_area = areas.iloc[:1].assign(flat=1.0)
    spec = ChoroplethSpec("flat", "Flat")
    data = choropleth_map(one_area, spec)
    html, _script = map_page(
        MapPlan("map-flat.html", "Flat", "", "", spec), data, site_context(trafford)
    )
    assert "1 class by quantiles" in html
    assert ">1 area: Flat</caption>" in html

    totals = {"areas": 1, "assets_in_areas": 1, "priority_areas": 1}
    assert _index_headline(totals) == "1 area, 1 asset inside it and 1 priority area."


# Brackets inside brackets: "IMD 2019 score (score (higher = more deprived))".
NESTED = re.compile(r"\([^()]*\(")


def _map_list(html: str) -> list[str]:
    """The text of each item of a page's list of maps."""
    start = html.index('href="map-gap.html"')
    block = html[html.rindex("<ul", 0, start) : html.index("</ul>", start)]
    return [page_text(item) for item in re.findall(r"<li>.*?</li>", block, re.S)]


def test_each_map_is_listed_with_its_title_once_and_its_unit_and_direction(site: Path) -> None:
    # The report listed "IMD 2019 score – IMD 2019 score (score (higher = more deprived))".
    expected = [
        "Gap between need and access – the gap score of each area, priority areas outlined, "
        "assets by category",
        "Need – need percentile of each area (in England)",
        "Access to community assets – access percentile of each area among these areas",
        "IMD 2019 score – score in each area (higher = more deprived); higher values mean "
        "more need",
        "Health deprivation and disability rank – rank of 32,844 in each area (1 = most "
        "deprived); lower values mean more need",
        "Share of residents aged 60+ (mid-2015) – % of residents in each area; higher values "
        "mean more need",
    ]
    for page in ("report.html", "index.html"):
        items = _map_list(read(site, page))
        assert items == expected, page
        for item in items:
            title, _, summary = item.partition(" – ")
            assert title not in summary, item


def test_no_text_of_the_report_or_a_map_page_nests_brackets(site: Path) -> None:
    for page in sorted(site.glob("*.html")):
        html = page.read_text(encoding="utf-8")
        # The config is shown as it is written, the sources are the inputs' own words, and
        # the method's formulas hold brackets in brackets as formulas do.
        html = re.sub(r'<details class="govuk-details">.*?</details>', "", html, flags=re.S)
        html = re.sub(r'<div class="app-method">.*?</div>', "", html, flags=re.S)
        html = re.sub(r"<table[^>]*sources-table.*?</table>", "", html, flags=re.S)
        text = page_text(re.sub(r"<script.*?</script>", "", html, flags=re.S))
        assert not NESTED.search(text), (page.name, NESTED.search(text))
    imd = page_text(read(site, "map-imd_score.html"))
    assert "Score in each area (higher = more deprived). Higher values mean more need." in imd
    assert "Measure IMD 2019 score (score; higher = more deprived)" in imd
    assert "138 areas: IMD 2019 score (score; higher = more deprived)" in imd
    need = page_text(read(site, "map-need.html"))
    assert (
        "from the weighted need indicators: IMD 2019 score, Health deprivation and disability "
        "rank and Share of residents aged 60+ (mid-2015)."
    ) in need


def test_the_indicators_table_names_each_column_below_its_label(site: Path) -> None:
    html = read(site, "report.html")
    rows = html_tables(html)["indicators-table"][1:]
    labels = [r[0] for r in rows]
    assert "Share of residents aged 65+ (mid-2024) areas.csv column pct_65plus" in labels
    assert "Residents aged 65+ (mid-2024) areas.csv column pop_65plus" in labels
    assert len({r[0].split(" areas.csv column ")[0] for r in rows}) == len(rows)
