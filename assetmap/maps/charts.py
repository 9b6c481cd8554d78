"""Charts for the JSAA report: matplotlib figures, each with the table of the numbers it draws.

Every chart is a :class:`Chart`: the image (SVG for charts, PNG for the map figure), a
caption, alternative text that states what the chart shows, and a :class:`ChartTable` holding
exactly the numbers drawn, so the report can put the data beside each figure. The figures
are written without time stamps or random ids, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import geopandas as gpd

from assetmap.analysis.needs import counted
from assetmap.maps.jsaa import VIRIDIS, Classification, display_geometry, format_value

BAR_COLOUR = "#1d70b8"  # GOV.UK blue
MUTED = "#505a5f"
TEXT = "#0b0c0c"
# Decile groups compared in the provision ratio: the most and the least deprived fifth.
MOST_DEPRIVED = (1, 2)
LEAST_DEPRIVED = (9, 10)


@dataclass(frozen=True)
class ChartTable:
    """The numbers a chart draws: the first column names each row."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Chart:
    """One figure for the report.

    Attributes
    ----------
    id
        Short name, also the file stem (``charts/<id>.svg``).
    title, caption, alt
        Heading, the caption under the figure, and the image's alternative text.
    content, suffix
        The image bytes and its file suffix (``.svg`` or ``.png``).
    table
        The numbers drawn.
    """

    id: str
    title: str
    caption: str
    alt: str
    content: bytes
    suffix: str
    table: ChartTable
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        """Path of the image relative to the report."""
        return f"charts/{self.id}{self.suffix}"


def _pyplot() -> Any:
    # Imported here: matplotlib takes a moment to load and only the report needs it.
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "assetmap-jsaa",  # stable element ids
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": TEXT,
            "xtick.color": TEXT,
            "ytick.color": TEXT,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _save(fig: Any, fmt: str) -> bytes:
    plt = _pyplot()
    buf = io.BytesIO()
    # No date or software version in the file, so the same data give the same bytes.
    metadata: dict[str, Any] = (
        {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    )
    fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
    plt.close(fig)
    return buf.getvalue()


def _rate(rows: Sequence[Mapping[str, Any]], category: str, deciles: Sequence[int]) -> float | None:
    picked = [r for r in rows if int(r["decile"]) in deciles]
    population = sum(float(r["population"] or 0) for r in picked)
    if population <= 0:
        return None
    return sum(int(r["count"][category]) for r in picked) * 1000.0 / population


def decile_charts(summary: Mapping[str, Any]) -> list[Chart]:
    """Assets per 1,000 residents by decile of the configured indicator, one chart per category.

    Parameters
    ----------
    summary
        :func:`assetmap.analysis.jsaa.build_summary` output; ``by_decile`` gives the numbers.

    Returns
    -------
    list of Chart
        Empty when the assessment has no decile indicator.
    """
    by_decile = summary.get("by_decile")
    if not by_decile or not by_decile.get("rows"):
        return []
    plt = _pyplot()
    rows = by_decile["rows"]
    label = str(by_decile["label"])
    deciles = [int(r["decile"]) for r in rows]
    overall_pop = sum(float(r["population"] or 0) for r in rows)
    charts = []
    for cat in summary["categories"]:
        cid, clabel = str(cat["id"]), str(cat["label"])
        rates = [r["per_1000"][cid] for r in rows]
        heights = [float(v) if v is not None else 0.0 for v in rates]
        total = sum(int(r["count"][cid]) for r in rows)
        overall = total * 1000.0 / overall_pop if overall_pop > 0 else 0.0
        fig, ax = plt.subplots(figsize=(5.2, 2.8))
        ax.bar([str(d) for d in deciles], heights, color=BAR_COLOUR, width=0.7)
        ax.axhline(overall, color=TEXT, linestyle="--", linewidth=1)
        ax.annotate(
            f"all areas: {overall:.2f}",
            xy=(1.0, overall),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
        )
        ax.set_xlabel(f"{label} (1 = most deprived)")
        ax.set_ylabel("per 1,000 residents")
        ax.set_title(clabel, loc="left", fontsize=10, fontweight="bold")
        ax.set_ylim(0, max([*heights, overall, 0.01]) * 1.2)
        most, least = _rate(rows, cid, MOST_DEPRIVED), _rate(rows, cid, LEAST_DEPRIVED)
        reading = _reading(clabel, most, least)
        table = ChartTable(
            caption=f"{clabel}: assets per 1,000 residents by {label}",
            headers=("Decile", "Areas", "Residents", "Assets", "Per 1,000 residents"),
            rows=tuple(
                (
                    str(r["decile"]),
                    f"{int(r['areas']):,}",
                    format_value(r["population"], 0),
                    f"{int(r['count'][cid]):,}",
                    format_value(r["per_1000"][cid], 3),
                )
                for r in rows
            ),
            numeric=(False, True, True, True, True),
        )
        charts.append(
            Chart(
                id=f"deciles-{cid}",
                title=clabel,
                caption=(
                    f"{clabel}: assets per 1,000 residents in each {label}; the dashed line is "
                    f"the rate across all areas ({overall:.2f}). {reading}"
                ),
                alt=(
                    f"Bar chart of {clabel.lower()} per 1,000 residents by {label}, deciles "
                    f"{deciles[0]} to {deciles[-1]}. {reading} The table below gives the values."
                ),
                content=_save(fig, "svg"),
                suffix=".svg",
                table=table,
                meta={"category": cid, "overall": overall, "most": most, "least": least},
            )
        )
    return charts


def _reading(label: str, most: float | None, least: float | None) -> str:
    """One sentence on whether provision follows need (more per head where need is higher)."""
    if most is None or least is None:
        return "There are not areas in both the most and the least deprived fifth to compare."
    if least == 0 and most == 0:
        return "There are none in either the most or the least deprived fifth of areas."
    if least == 0:
        return f"There are {most:.2f} per 1,000 in the most deprived fifth and none in the least."
    ratio = most / least
    if ratio >= 1.25:
        trend = "more per head where deprivation is higher: provision follows need"
    elif ratio <= 0.8:
        trend = "fewer per head where deprivation is higher: the inverse of need"
    else:
        trend = "about the same per head whatever the deprivation"
    return (
        f"The most deprived fifth of areas have {most:.2f} per 1,000 residents and the least "
        f"deprived fifth {least:.2f} (ratio {ratio:.2f}): {trend}."
    )


def provision_ratio_chart(summary: Mapping[str, Any], charts: Sequence[Chart]) -> Chart | None:
    """Per category, the rate in the most deprived fifth over the rate in the least deprived.

    Above 1, provision follows need; below 1, it runs the other way (the inverse care law).
    Categories with no assets in the least deprived fifth are listed in the table but not
    drawn (the ratio has no finite value).
    """
    if not charts:
        return None
    plt = _pyplot()
    label = str(summary["by_decile"]["label"])
    names, ratios, table_rows = [], [], []
    for chart in charts:
        most, least = chart.meta["most"], chart.meta["least"]
        ratio = most / least if most is not None and least else None
        table_rows.append(
            (
                chart.title,
                "" if most is None else f"{most:.3f}",
                "" if least is None else f"{least:.3f}",
                "" if ratio is None else f"{ratio:.2f}",
            )
        )
        if ratio is not None:
            names.append(chart.title)
            ratios.append(ratio)
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * max(len(names), 3) + 1.0))
    y = np.arange(len(names))[::-1]
    if names:
        ax.barh(y, ratios, color=BAR_COLOUR, height=0.6)
        ax.set_yticks(y, names)
        ax.set_xscale("log")
        ax.set_xlim(min([*ratios, 0.5]) / 1.5, max([*ratios, 2.0]) * 1.5)
        for yy, r in zip(y, ratios, strict=True):
            ax.annotate(
                f"{r:.2f}",
                (r, yy),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    ax.axvline(1.0, color=TEXT, linewidth=1)
    ax.set_xlabel("Rate in the most deprived fifth ÷ rate in the least deprived fifth (log scale)")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:g}"))
    # Some in the most deprived fifth and none in the least has no finite ratio, but it is
    # provision following need as plainly as a ratio of 1.25 is.
    only_most = [c.title for c in charts if c.meta["least"] == 0 and (c.meta["most"] or 0) > 0]
    # Every category is named on both sides: naming only those without a ratio read as if
    # they were all the categories that follow need.
    follows = [n for n, r in zip(names, ratios, strict=True) if r >= 1.25] + [
        f"{title} (some in the most deprived fifth, none in the least)" for title in only_most
    ]
    inverse = [n for n, r in zip(names, ratios, strict=True) if r <= 0.8]
    reading = (
        f"Provision follows need (ratio 1.25 or more) for {len(follows)} of "
        f"{counted(len(charts), 'category', 'categories')}"
        + (f": {', '.join(follows)}" if follows else "")
        + f"; it runs against need (ratio 0.8 or less) for {len(inverse)}"
        + (f": {', '.join(inverse)}." if inverse else ".")
    )
    return Chart(
        id="provision-ratio",
        title="Does provision follow need?",
        caption=(
            f"Assets per 1,000 residents in the most deprived fifth of areas ({label} "
            f"{MOST_DEPRIVED[0]}–{MOST_DEPRIVED[-1]}) divided by the rate in the least deprived "
            f"fifth ({LEAST_DEPRIVED[0]}–{LEAST_DEPRIVED[-1]}). Right of the line at 1, there is "
            f"more per head where deprivation is higher. {reading}"
        ),
        alt=f"Horizontal bar chart of the provision ratio for each category. {reading}",
        content=_save(fig, "svg"),
        suffix=".svg",
        table=ChartTable(
            caption="Assets per 1,000 residents in the most and least deprived fifths",
            headers=("Category", "Most deprived fifth", "Least deprived fifth", "Ratio"),
            rows=tuple(table_rows),
            numeric=(False, True, True, True),
        ),
        meta={"reading": reading},
    )


def need_access_chart(
    areas: Any, *, need_top: float, access_bottom: float, scope_text: str
) -> Chart:
    """Each area's need percentile against its access percentile, the priority corner shaded.

    Parameters
    ----------
    areas
        The per-area table (``need_percentile``, ``access_percentile``, ``priority``,
        ``area_code``, ``area_name``, ``gap_score``).
    need_top, access_bottom
        The priority thresholds (fractions), drawn as the shaded corner.
    scope_text
        Where need is ranked ("in England", "among these areas").
    """
    plt = _pyplot()
    need = areas["need_percentile"].to_numpy(dtype=np.float64)
    access = areas["access_percentile"].to_numpy(dtype=np.float64)
    flag = areas["priority"].to_numpy(dtype=bool)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    need_cut, access_cut = 100 * (1 - need_top), 100 * access_bottom
    ax.fill_between([0, access_cut], need_cut, 100, color="#f3d8d2", zorder=0)
    ax.text(2, 98, "priority", va="top", fontsize=8, color=TEXT)
    ax.scatter(
        access[~flag], need[~flag], s=14, c=MUTED, marker="o", label="other areas", linewidths=0
    )
    ax.scatter(
        access[flag],
        need[flag],
        s=30,
        c="#d4351c",
        marker="^",
        label="priority areas",
        edgecolors=TEXT,
        linewidths=0.6,
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Access percentile (100 = best access among these areas)")
    ax.set_ylabel(f"Need percentile ({scope_text})")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    order = np.lexsort((areas["area_code"].to_numpy(), -areas["gap_score"].to_numpy()))
    rows = tuple(
        (
            f"{areas['area_name'].iat[i]} ({areas['area_code'].iat[i]})",
            format_value(need[i], 1),
            format_value(access[i], 1),
            "yes" if flag[i] else "no",
        )
        for i in map(int, order)
    )
    count = int(flag.sum())
    return Chart(
        id="need-access",
        title="Need and access, area by area",
        caption=(
            f"Each point is an area: its need percentile ({scope_text}) against its access "
            f"percentile. The shaded corner is the priority rule (need percentile "
            f"{need_cut:g} or more, access percentile {access_cut:g} or less); "
            f"{counted(count, 'area')} {'falls' if count == 1 else 'fall'} in it, drawn as "
            f"{'a triangle' if count == 1 else 'triangles'}."
        ),
        alt=(
            f"Scatter chart of {counted(len(areas), 'area')}, need percentile against access "
            f"percentile, with {counted(count, 'priority area')} in the shaded high-need, "
            "low-access corner."
        ),
        content=_save(fig, "svg"),
        suffix=".svg",
        table=ChartTable(
            caption="Need and access percentiles of every area, largest gap first",
            headers=("Area", "Need percentile", "Access percentile", "Priority"),
            rows=rows,
            numeric=(False, True, True, False),
        ),
    )


def gap_map_figure(
    areas: gpd.GeoDataFrame, classes: Classification, labels: Sequence[str], *, tolerance_m: float
) -> Chart:
    """A static map of the gap score (PNG), priority areas outlined: for a board paper.

    Parameters
    ----------
    areas
        The per-area table with polygons.
    classes, labels
        The gap map's classes and their labels (the interactive map's legend).
    tolerance_m
        Display simplification (metres), as for the interactive map.
    """
    plt = _pyplot()
    from matplotlib.patches import Patch

    display = gpd.GeoDataFrame(
        areas[["area_code", "gap_score", "priority"]].copy(),
        geometry=display_geometry(areas.geometry, tolerance_m=tolerance_m),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    cls = classes.class_of(display["gap_score"].to_numpy(dtype=np.float64))
    colours = [classes.colours[c] if c >= 0 else "#b1b4b6" for c in cls]
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    display.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.25)
    flagged = display[display["priority"].to_numpy(dtype=bool)]
    if len(flagged):
        flagged.boundary.plot(ax=ax, color="white", linewidth=2.6)
        flagged.boundary.plot(ax=ax, color=TEXT, linewidth=1.3)
    ax.set_axis_off()
    handles = [
        Patch(facecolor=classes.colours[c], edgecolor=MUTED, label=labels[c])
        for c in reversed(range(classes.k))
    ]
    handles.append(
        Patch(
            facecolor="none", edgecolor=TEXT, linewidth=1.3, label=f"priority area ({len(flagged)})"
        )
    )
    ax.legend(
        handles=handles,
        title="Gap score",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        title_fontsize=9,
        frameon=False,
    )
    rows = tuple((labels[c], f"{classes.counts[c]:,}") for c in reversed(range(classes.k)))
    each = "the area" if len(areas) == 1 else f"each of the {len(areas):,} areas"
    outlined = (
        "the priority area is" if len(flagged) == 1 else f"the {len(flagged):,} priority areas are"
    )
    return Chart(
        id="gap-map",
        title="Gap between need and access",
        caption=(
            f"Gap score of {each} in {counted(classes.k, 'class', 'classes')} "
            f"({classes.method.replace('_', ' ')}), from pale (low need, good access) to dark "
            f"(high need, poor access); {outlined} outlined. The interactive gap map has every "
            "area's values."
        ),
        alt=(
            f"Map of the gap score in {counted(classes.k, 'class', 'classes')} with "
            f"{counted(len(flagged), 'priority area')} outlined. The priority areas table "
            f"lists {'it' if len(flagged) == 1 else 'them'}; the interactive map and its table "
            "give every area."
        ),
        content=_save(fig, "png"),
        suffix=".png",
        table=ChartTable(
            caption="Areas in each gap score class",
            headers=("Gap score", "Areas"),
            rows=rows,
            numeric=(False, True),
        ),
        meta={"palette": VIRIDIS[classes.k] if classes.k else ()},
    )
