"""The JSAA site: report, map pages and index, written beside the per-area table.

:func:`write_site` writes everything one assessment run publishes into one folder::

    index.html          links to everything below
    report.html         the JSAA chapter: method, sources and licences, summary, priority
                        areas, maps, charts (each with its data table)
    map-*.html, .js     interactive maps, each with a table of the same numbers
    charts/             the report's figures (SVG; the map figure is PNG)
    areas.csv, areas.gpkg, summary.json, validation.json, config.toml
    provenance.json     config, inputs and the SHA-256 of every file here
    vendor/, assets/    Leaflet, the GOV.UK Frontend build and our stylesheet

Pages link only to files in the folder, by relative URL, and hold no inline script or style,
so the folder works opened from disk, served by the app under a strict Content-Security-
Policy, or copied to any static host. Leaflet is copied in (not linked to the app) for that
reason: a published release must keep working whatever the app later serves.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from assetmap.analysis.jsaa import JsaaConfig, JsaaResult, write_outputs
from assetmap.analysis.jsaa.outputs import write_provenance
from assetmap.analysis.jsaa.scores import METHOD
from assetmap.analysis.needs import counted, unit_parts
from assetmap.domain.errors import AssetmapError
from assetmap.domain.local_time import when
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.charts import (
    Chart,
    decile_charts,
    gap_map_figure,
    need_access_chart,
    provision_ratio_chart,
)
from assetmap.maps.embed import map_parts
from assetmap.maps.jsaa import (
    METHODS,
    Attribution,
    ChoroplethSpec,
    MapData,
    choropleth_map,
    class_labels,
    format_value,
    gap_map,
)

StepCallback = Callable[[str], None]
STATIC = Path(__file__).with_name("static")
# Files copied from the app's vendor folder (web/static/vendor) into every site.
VENDOR_FILES = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/LICENSE",
    "assetmap/assetmap.css",
)
# The sources section of a map page, which the map's attribution control links to.
SOURCES_ID = "data-sources"
SOURCES_LINK_TEXT = "Data sources and licences"
# Tables longer than this are folded into a disclosure beside the map.
TABLE_OPEN_MAX_ROWS = 5000
DOWNLOADS = (
    ("areas.csv", "the per-area table (one row per area, every indicator, count and score)"),
    ("areas-columns.csv", "the unit and meaning of every column of areas.csv and areas.gpkg"),
    ("areas.gpkg", "the same table with the exact area boundaries (GeoPackage, EPSG:4326)"),
    ("summary.json", "totals, rates per 1,000 residents, priority areas and decile tables"),
    ("validation.json", "every check on the needs layers, with rows and columns"),
    ("provenance.json", "the config, every input's source, licence and SHA-256, and every file's"),
    ("config.toml", "the assessment config this run used"),
)


class SiteError(AssetmapError):
    """The site cannot be written (for example, the vendor files were never built)."""


@dataclass(frozen=True)
class MapPlan:
    """One map page of a site: file name, titles and what it shows (None: the gap map)."""

    filename: str
    title: str
    summary: str
    intro: str
    spec: ChoroplethSpec | None = None

    @property
    def script(self) -> str:
        """The page's script file (same stem)."""
        return self.filename.removesuffix(".html") + ".js"


def _unit_text(unit: str) -> str:
    """A unit as it reads in brackets after a label: its note after a semicolon, not nested.

    ``"score; higher = more deprived"``, the style of the need and access maps' units. Put
    in brackets after a label as they stand, units nested: "IMD 2019 score (score (higher
    = more deprived))".
    """
    base, note = unit_parts(unit)
    return f"{base}; {note}" if note else base


def _listed(items: Sequence[str]) -> str:
    """``"a, b and c"``."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _indicator_texts(label: str, unit: str, higher_is_more_need: bool) -> tuple[str, str]:
    """An indicator map's summary (in the lists of maps) and introduction (on its page).

    Both say the unit and which values mean more need, once each, and neither repeats the
    label, which is the link or heading just before them: the list read "IMD 2019 score –
    IMD 2019 score (score (higher = more deprived))".
    """
    base, note = unit_parts(unit)
    what = f"{base or 'value'} in each area" + (f" ({note})" if note else "")
    more = "higher" if higher_is_more_need else "lower"
    return f"{what}; {more} values mean more need", f"{what[0].upper()}{what[1:]}. " + (
        f"{more.capitalize()} values mean more need."
    )


def _scope_text(config: JsaaConfig) -> str:
    return "in England" if config.scope == "national" else "among these areas"


def _reference_text(points: Mapping[str, int]) -> tuple[str, str]:
    """The points catchments were measured from, as the report and access map name them.

    ``points`` is the run's ``totals.reference_points`` (areas by ``centroid_method``).
    Returns the phrase after "from" and the phrase after "of" ("where their residents live").
    """
    # A reference point stands for where residents live only when postcodes placed it.
    fallback = int(points.get("representative_point", 0))
    if not fallback:
        return "each area's population-weighted point", "where their residents live"
    if fallback == sum(int(n) for n in points.values()):
        return (
            "each area's representative point (no postcode lies in any area)",
            "their representative point",
        )
    return (
        "each area's population-weighted point, or its representative point for the "
        f"{fallback:,} with no postcode inside",
        "their reference point",
    )


def plan_maps(
    config: JsaaConfig, *, reference_points: Mapping[str, int] | None = None
) -> list[MapPlan]:
    """The map pages a site has: gap, need, access, and each weighted need indicator.

    ``reference_points`` (the run's ``totals.reference_points``) words where the access map
    says catchments start; without it, they start where residents live.
    """
    scope = _scope_text(config)
    _measured_from, where = _reference_text(reference_points or {})
    need_labels = _listed([config.indicator(n).label for n in config.need_weights])
    plans = [
        MapPlan(
            "map-gap.html",
            "Gap between need and access",
            "the gap score of each area, priority areas outlined, assets by category",
            "Where high need meets poor access to community assets. The gap score combines "
            f"each area's need percentile ({scope}) and its access percentile; priority areas, "
            "outlined, have need in the top band and access in the bottom band.",
        ),
        MapPlan(
            "map-need.html",
            "Need",
            f"need percentile of each area ({scope})",
            f"Need percentile of each area {scope}, from the weighted need indicators: "
            f"{need_labels}.",
            ChoroplethSpec(
                "need_percentile",
                "Need percentile",
                unit=f"0 to 100; 100 = most need {scope}",
                source=f"this assessment, from {need_labels}",
                higher_is_more_need=True,
                unit_is_scale=True,
            ),
        ),
        MapPlan(
            "map-access.html",
            "Access to community assets",
            "access percentile of each area among these areas",
            "Access percentile of each area among these areas. In each category, areas are "
            f"compared on the assets within {config.catchment_m:,.0f} m of {where} and the "
            "distance to the nearest.",
            ChoroplethSpec(
                "access_percentile",
                "Access percentile",
                unit="0 to 100; 100 = best access among these areas",
                source="this assessment, from the published assets",
                unit_is_scale=True,
            ),
        ),
    ]
    for name in config.need_weights:
        ind = config.indicator(name)
        source = ", ".join(v for v in (ind.meta.source, ind.meta.date) if v)
        summary, intro = _indicator_texts(ind.label, ind.unit, ind.higher_is_more_need)
        plans.append(
            MapPlan(
                f"map-{name}.html",
                ind.label,
                summary,
                intro + (f" {ind.description}" if ind.description else ""),
                ChoroplethSpec(
                    name,
                    ind.label,
                    unit=ind.unit,
                    source=source,
                    higher_is_more_need=ind.higher_is_more_need,
                ),
            )
        )
    return plans


def site_steps(config: JsaaConfig) -> tuple[str, ...]:
    """Names of the steps :func:`write_site` reports after ``write_outputs``, in order."""
    maps = tuple(f"map {p.filename}" for p in plan_maps(config))
    return ("vendor", *maps, "charts", "report.html", "index.html", "provenance.json")


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("assetmap.maps", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    env.filters["time_element"] = time_element
    return env


def time_element(iso: str) -> Markup:
    """A ``<time>`` element: the time in words for people, its ISO text for machines.

    Parameters
    ----------
    iso
        An ISO 8601 time, as ``provenance.json`` records it (UTC).

    Returns
    -------
    markupsafe.Markup
        ``<time datetime="ISO">23 November 2026 at 9:22pm</time>`` (UK local time, as
        :func:`assetmap.domain.local_time.when` writes it, the same as staff pages); both
        parts escaped.
    """
    return Markup('<time datetime="{}">{}</time>').format(iso, when(iso))


def render(template: str, **context: Any) -> str:
    """Render one of this package's page templates (autoescaped)."""
    return _env().get_template(template).render(**context)


def _version() -> str:
    try:
        return metadata.version("assetmap")
    except metadata.PackageNotFoundError:
        return "unknown"


def site_context(result: JsaaResult, *, prefix: str = "") -> dict[str, Any]:
    """What every page of a site shows in its head and footer.

    ``sources`` is :func:`input_sources` of the run: the report's sources section, and on
    each map page beside the map, because a map page is often shared or embedded on its own.
    """
    return {
        "title": result.config.title,
        "config_sha256": result.config.sha256,
        "generated_at": str(result.provenance.get("generated_at", "")),
        "version": _version(),
        "prefix": prefix,
        "home": "index.html",
        "provenance": "provenance.json",
        "sources": input_sources(result.provenance),
    }


def copy_static(vendor_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Copy Leaflet, the GOV.UK Frontend build and the JSAA stylesheet into a site folder.

    Parameters
    ----------
    vendor_dir
        The app's built vendor folder (``web/static/vendor``, made by ``make setup``).
    out_dir
        The site folder; files go under ``vendor/`` and ``assets/``.

    Returns
    -------
    dict
        Relative name → path of each file copied.

    Raises
    ------
    SiteError
        A vendor file is missing.
    """
    written: dict[str, Path] = {}
    for name in VENDOR_FILES:
        src = vendor_dir / name
        if not src.is_file():
            raise SiteError(
                f"{src} is missing: build the front-end files first (make setup, or "
                "python scripts/vendor_assets.py after npm ci in web/)"
            )
        dest = out_dir / "vendor" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written[f"vendor/{name}"] = dest
    dest = out_dir / "assets" / "jsaa.css"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STATIC / "jsaa.css", dest)
    written["assets/jsaa.css"] = dest
    return written


def _tolerance_text(metres: float) -> str:
    return f"{metres:,.0f} m" if metres >= 10 else f"{metres:.1f} m"


def map_page(plan: MapPlan, data: MapData, site: Mapping[str, Any]) -> tuple[str, str]:
    """The HTML page and its script for one built map.

    Returns
    -------
    tuple
        ``(html, javascript)``; the page loads the script from ``plan.script``.
    """
    parts = map_parts(data.map)
    spec = data.spec
    classes = data.classes
    method = METHODS[classes.method]
    classes_text = f"{counted(classes.k, 'class', 'classes')} by {method}"
    if plan.spec is None:
        headers = [
            {"text": "Rank", "numeric": True},
            {"text": "Area", "numeric": False},
            {"text": "Code", "numeric": False},
            {"text": "Need percentile", "numeric": True},
            {"text": "Access percentile", "numeric": True},
            {"text": "Gap score", "numeric": True},
        ]
        rows = [
            {
                "cells": [r["rank"], r["name"], r["code"], r["need"], r["access"], r["value"]],
                "highlight": r["priority"],
            }
            for r in data.rows
        ]
        row_header = 1
        caption = f"{counted(len(rows), 'area')}, priority areas first"
    else:
        headers = [
            {"text": "Area", "numeric": False},
            {"text": "Code", "numeric": False},
            {"text": spec.label, "numeric": True},
            {"text": "Class", "numeric": False},
        ]
        rows = [
            {"cells": [r["name"], r["code"], r["value"], r["class"]], "highlight": False}
            for r in data.rows
        ]
        row_header = 0
        caption = f"{counted(len(rows), 'area')}: {spec.label}" + (
            f" ({_unit_text(spec.unit)})" if spec.unit else ""
        )
    page = {
        "title": plan.title,
        "intro": plan.intro,
        "label": spec.label,
        # Shown in brackets after the label (map.html's measure).
        "unit": _unit_text(spec.unit),
        "source": spec.source,
        "classes_text": classes_text,
        "tolerance": _tolerance_text(data.tolerance_m),
        "headers": headers,
        "rows": rows,
        "row_header": row_header,
        "table_caption": caption,
        "script": plan.script,
        # Beside a national map the table has tens of thousands of rows: it is folded away
        # (not laid out until opened), so the page stays quick.
        "collapse_table": len(rows) > TABLE_OPEN_MAX_ROWS,
        "sources_id": SOURCES_ID,
        # The map's parts come from assetmap.maps, which escapes all text it puts in them.
        "map_head": Markup(parts.head),  # noqa: S704
        "map_html": Markup(parts.html),  # noqa: S704
    }
    return render("map.html", site=site, page=page), parts.code + "\n"


def _build_map(plan: MapPlan, result: JsaaResult, taxonomy: Taxonomy, *, sources: str) -> MapData:
    # The full attribution is too long for the map's corner: the control links to the
    # page's sources section (map.html), which holds the same rows as the report's.
    attribution = Attribution(SOURCES_LINK_TEXT, f"#{SOURCES_ID}")
    if plan.spec is None:
        return gap_map(
            result.areas,
            assets=result.assets,
            taxonomy=taxonomy,
            source=sources,
            attribution=attribution,
        )
    return choropleth_map(
        result.areas,
        plan.spec,
        assets=result.assets,
        taxonomy=taxonomy,
        attribution=attribution,
    )


def _input_name(role: str) -> str:
    kind, _, name = role.partition(":")
    return {
        "areas": "Area boundaries",
        "table": f"Indicator table {name}",
        "code_map": f"Code lookup for table {name}",
        "postcodes": "Postcode centroids (where residents live)",
        "assets": "Community assets",
    }.get(kind, role)


def input_sources(provenance: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each input's role, source, licence and date, as the report and map pages list them.

    Parameters
    ----------
    provenance
        The run's provenance (``inputs``: one entry per input; the assets entry lists the
        sources and licences of the assets assessed).

    Returns
    -------
    list of dict
        ``role``, ``detail`` (path, or assets per category), ``sources`` and ``licences``
        (lists of plain text) and ``date``; the templates escape them.
    """
    out = []
    for item in provenance.get("inputs", []):
        role = str(item.get("role", ""))
        if role == "assets":
            by_cat = ", ".join(f"{k} {v}" for k, v in item.get("by_category", {}).items())
            out.append(
                {
                    "role": f"{_input_name(role)} ({int(item.get('count', 0)):,} published)",
                    "detail": by_cat,
                    "sources": list(item.get("sources", [])),
                    "licences": list(item.get("licences", [])),
                    "date": "",
                }
            )
            continue
        out.append(
            {
                "role": _input_name(role),
                "detail": str(item.get("path", "")),
                "sources": [str(item.get("source", ""))],
                "licences": [str(item.get("licence", ""))],
                "date": str(item.get("date", "")),
            }
        )
    return out


def _sentence(text: str) -> str:
    """Text with a capital first letter and a full stop ('' stays '')."""
    text = text.strip()
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _method_paragraphs() -> list[str]:
    return [" ".join(p.split()) for p in METHOD.strip().split("\n\n") if p.strip()]


def report_context(
    result: JsaaResult,
    *,
    plans: Iterable[MapPlan],
    gap_figure: Chart | None,
    deciles: list[Chart],
    ratio: Chart | None,
    need_access: Chart,
) -> dict[str, Any]:
    """Everything report.html shows, as plain text and numbers (the template escapes it)."""
    summary = result.summary
    config = result.config
    totals = summary["totals"]
    scope = _scope_text(config)
    catchment = f"{config.catchment_m:,.0f} m"
    population = float(totals["population"] or 0)
    priority = summary["priority_areas"]
    priority_pop = sum(float(p["population"] or 0) for p in priority)
    share = f"{priority_pop * 100 / population:.1f}%" if population else "n/a"
    need_pct, access_pct = config.need_top * 100, config.access_bottom * 100
    one = len(priority) == 1
    residents = int(priority_pop)
    headlines = [
        f"{len(priority):,} of {counted(totals['areas'], 'area')} "
        f"{'is a priority area' if one else 'are priority areas'}: need in the top "
        f"{need_pct:g}% {scope} and access to community assets in the bottom {access_pct:g}% "
        f"of these areas. {counted(residents, 'resident')} "
        f"{'lives' if residents == 1 else 'live'} in {'it' if one else 'them'} ({share}).",
        f"{counted(totals['assets_in_areas'], 'asset')} in "
        f"{counted(len(summary['categories']), 'category', 'categories')} "
        f"{'is' if totals['assets_in_areas'] == 1 else 'are'} mapped inside the areas: "
        f"{totals['assets_in_areas'] * 1000 / population if population else 0:.2f} per 1,000 "
        f"residents.",
    ]
    if ratio is not None:
        headlines.append(str(ratio.meta["reading"]))
    measured_from, where = _reference_text(totals["reference_points"])
    worst = max(summary["categories"], key=lambda c: c["areas_with_none_within_catchment"])
    without = int(worst["areas_with_none_within_catchment"])
    if without:
        headlines.append(
            f"{counted(without, 'area')} {'has' if without == 1 else 'have'} no "
            f"{worst['label'].lower()} within {catchment} of {where}."
        )
    weights = summary["assessment"]["weights"]["need"]
    facts = [
        ("Areas", f"{totals['areas']:,} ({config.areas.code_system or 'areas'})"),
        ("Residents", format_value(totals["population"], 0)),
        ("Assets inside the areas", f"{totals['assets_in_areas']:,}"),
        ("Priority areas", f"{len(priority)}"),
        ("Need ranked", scope),
        ("Catchment", f"{catchment} from {measured_from}"),
        ("Generated", time_element(str(result.provenance.get("generated_at", "")))),
        ("Config SHA-256", config.sha256),
    ]
    by_decile = summary.get("by_decile") or {}
    return {
        "description": config.description,
        "facts": facts,
        "headlines": headlines,
        "catchment": catchment,
        "categories": [
            {
                "label": c["label"],
                "assets": f"{c['assets']:,}",
                "inside": f"{c['assets_in_areas']:,}",
                "per_1000": format_value(c["per_1000"], 3),
                "none_within": f"{c['areas_with_none_within_catchment']:,}",
            }
            for c in summary["categories"]
        ],
        "priority_intro": (
            f"An area is a priority when its need percentile is {100 - need_pct:g} or more "
            f"({scope}) and its access percentile is {access_pct:g} or less (among these "
            "areas). They are ranked by gap score; the reasons give the need indicators and "
            "the three categories with the weakest access."
            if priority
            else "No area meets the priority rule in this assessment."
        ),
        "priority_caption": f"{counted(len(priority), 'priority area')}, largest gap first",
        "priority": [
            {
                "rank": p["rank"],
                "area_code": p["area_code"],
                "area_name": p["area_name"],
                "population": format_value(p["population"], 0),
                "need": format_value(p["need_percentile"], 1),
                "access": format_value(p["access_percentile"], 1),
                "gap": format_value(p["gap_score"], 1),
                "reasons": p["reasons"],
            }
            for p in priority
        ],
        "gap_figure": gap_figure,
        "maps": list(plans),
        "ratio_chart": ratio,
        "decile_charts": deciles,
        "decile_label": str(by_decile.get("label", "decile")),
        "decile_note": _sentence(str(by_decile.get("note", ""))),
        "need_access": need_access,
        "method": _method_paragraphs(),
        "indicators": [
            {**i, "weight": f"{weights[i['name']]:g}" if i["name"] in weights else "–"}
            for i in summary["indicators"]
        ],
        "validation": summary["validation"],
        "validation_counts": (
            f"{counted(int(summary['validation']['errors']), 'error')}, "
            f"{counted(len(summary['validation']['warnings']), 'warning')} and "
            f"{counted(len(summary['validation']['notes']), 'note')}"
        ),
        "config_name": config.path.name,
        "config_text": config.text,
        "command": f"assetmap jsaa run {config.path.name} --out OUTPUT_FOLDER",
        "downloads": [{"href": n, "name": n, "text": t} for n, t in DOWNLOADS],
    }


def _index_headline(totals: Mapping[str, Any]) -> str:
    return (
        f"{counted(totals['areas'], 'area')}, {counted(totals['assets_in_areas'], 'asset')} "
        f"inside {'it' if totals['areas'] == 1 else 'them'} and "
        f"{counted(totals['priority_areas'], 'priority area')}."
    )


def write_site(
    result: JsaaResult,
    out_dir: Path,
    *,
    taxonomy: Taxonomy,
    vendor_dir: Path,
    on_step: StepCallback | None = None,
) -> dict[str, Path]:
    """Write every output of a run: the data files, map pages, charts, report and index.

    Parameters
    ----------
    result
        :func:`assetmap.analysis.jsaa.run_jsaa` output.
    out_dir
        The folder (created if needed). Files already there with the same names are replaced.
    taxonomy
        Category labels and colours for the asset layers.
    vendor_dir
        The app's built vendor folder (``web/static/vendor``); Leaflet and the stylesheet
        are copied from it.
    on_step
        Called with each name of ``WRITE_STEPS`` and then of :func:`site_steps`.

    Returns
    -------
    dict
        Relative file name → path, for every file written. ``provenance.json`` lists the
        SHA-256 of all the others.
    """
    step: StepCallback = on_step or (lambda _name: None)
    written = dict(write_outputs(result, out_dir, on_step=step))
    config_copy = out_dir / "config.toml"
    config_copy.write_text(result.config.text, encoding="utf-8")
    written["config.toml"] = config_copy
    written.update(copy_static(vendor_dir, out_dir))
    step("vendor")

    site = site_context(result)
    plans = plan_maps(result.config, reference_points=result.summary["totals"]["reference_points"])
    sources = "; ".join(
        dict.fromkeys(
            str(i.get("source", "")) for i in result.provenance.get("inputs", []) if i.get("source")
        )
    )
    gap_data: MapData | None = None
    for plan in plans:
        data = _build_map(plan, result, taxonomy, sources=sources)
        if plan.spec is None:
            gap_data = data
        page, script = map_page(plan, data, site)
        for name, text in ((plan.filename, page), (plan.script, script)):
            path = out_dir / name
            path.write_text(text, encoding="utf-8")
            written[name] = path
        step(f"map {plan.filename}")

    deciles = decile_charts(result.summary)
    ratio = provision_ratio_chart(result.summary, deciles)
    need_access = need_access_chart(
        result.areas,
        need_top=result.config.need_top,
        access_bottom=result.config.access_bottom,
        scope_text=_scope_text(result.config),
    )
    gap_figure = None
    if gap_data is not None and gap_data.classes.k:
        gap_figure = gap_map_figure(
            result.areas,
            gap_data.classes,
            class_labels(gap_data.classes, gap_data.decimals),
            tolerance_m=gap_data.tolerance_m,
        )
    charts = [c for c in (gap_figure, ratio, need_access, *deciles) if c is not None]
    (out_dir / "charts").mkdir(exist_ok=True)
    for chart in charts:
        path = out_dir / chart.filename
        path.write_bytes(chart.content)
        written[chart.filename] = path
    step("charts")

    context = report_context(
        result,
        plans=plans,
        gap_figure=gap_figure,
        deciles=deciles,
        ratio=ratio,
        need_access=need_access,
    )
    path = out_dir / "report.html"
    path.write_text(render("report.html", site=site, report=context), encoding="utf-8")
    written["report.html"] = path
    step("report.html")

    totals = result.summary["totals"]
    index = {
        "back": None,
        "description": result.config.description,
        "headline": _index_headline(totals),
        "maps": plans,
        "downloads": [{"href": n, "name": n, "text": t} for n, t in DOWNLOADS],
    }
    path = out_dir / "index.html"
    path.write_text(render("index.html", site=site, index=index), encoding="utf-8")
    written["index.html"] = path
    step("index.html")

    written["provenance.json"] = write_provenance(result, out_dir, written)
    step("provenance.json")
    return written


def default_vendor_dir() -> Path:
    """The app's built front-end files: ``web/static/vendor`` in the repository."""
    from assetmap.settings import REPO_ROOT

    return REPO_ROOT / "web" / "static" / "vendor"
