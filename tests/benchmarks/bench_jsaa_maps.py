"""JSAA map benchmark: file sizes and headless Chromium render times, Trafford and England.

    .venv/bin/python tests/benchmarks/bench_jsaa_maps.py [--runs 5] [--skip-england]

Trafford: the demo assessment (data/jsaa/trafford.toml on the real Trafford demo assets,
loaded into a scratch SQLite store) written as a site; the published gap map is measured.
England: all 32,844 LSOAs (../shared/data/boundaries/lsoa11_england.geojson.gz, ONS LSOA 2011
via martinjc/UK-GeoJSON, OGL) as a choropleth of the IMD 2019 score (data/imd2019, MHCLG, OGL)
with its table of 32,844 rows.

Render time is Chromium's own clock: from navigation start (``performance.now()`` is 0 there)
to the moment every area has been drawn (two animation frames after the last polygon was
added, which the map records in ``window.amMapReady``). Pages are served over HTTP on
127.0.0.1 from a fresh browser context each run (no cache). Targets: a local authority's map
≤ 2 MB and ≤ 1 s; England ≤ 10 MB and ≤ 3 s. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assetmap.analysis.jsaa import load_config, run_jsaa  # noqa: E402
from assetmap.analysis.needs import (  # noqa: E402
    BoundarySpec,
    IndicatorSpec,
    TableSpec,
    ValidationReport,
    load_boundaries,
    load_indicator_table,
)
from assetmap.domain.taxonomy import load_taxonomy  # noqa: E402
from assetmap.maps.jsaa import ChoroplethSpec, choropleth_map  # noqa: E402
from assetmap.maps.report import MapPlan, copy_static, map_page, write_site  # noqa: E402
from assetmap.store import open_store  # noqa: E402
from tests.maps.jsaa_demo import CONFIG, VENDOR, load_demo_assets  # noqa: E402

ENGLAND = REPO.parent / "shared" / "data" / "boundaries" / "lsoa11_england.geojson.gz"
IMD = REPO / "data" / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MB = 1024 * 1024


def serve(folder: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    """A static file server for ``folder`` on a free port of 127.0.0.1."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def render_ms(url: str, areas: int, runs: int) -> list[float]:
    """Navigation start to all areas drawn, in ms, for ``runs`` fresh page loads."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(url, wait_until="commit")
                page.wait_for_function(
                    "n => window.amMapReady && window.amMapReady.areas === n",
                    arg=areas,
                    timeout=60_000,
                )
                times.append(float(page.evaluate("window.amMapReady.ms")))
                drawn = page.evaluate(
                    "() => document.querySelectorAll('path.am-area').length"
                    " || (window.amMapReady && window.amMapReady.areas)"
                )
                assert drawn == areas, f"{drawn} of {areas} areas drawn"
                context.close()
        finally:
            browser.close()
    return times


def sizes(folder: Path, page: str) -> tuple[int, int]:
    """(page + its data script, + Leaflet and the stylesheets it loads), in bytes."""
    own = (folder / page).stat().st_size + (folder / page.replace(".html", ".js")).stat().st_size
    shared = sum(
        (folder / f).stat().st_size
        for f in (
            "vendor/leaflet/leaflet.js",
            "vendor/leaflet/leaflet.css",
            "vendor/assetmap/assetmap.css",
            "assets/jsaa.css",
        )
    )
    return own, own + shared


def report(
    name: str,
    folder: Path,
    page: str,
    areas: int,
    runs: int,
    *,
    build_s: float,
    size_target_mb: float,
    time_target_s: float,
) -> None:
    own, total = sizes(folder, page)
    base, server = serve(folder)
    try:
        times = render_ms(f"{base}/{page}", areas, runs)
    finally:
        server.shutdown()
    median, worst = statistics.median(times), max(times)
    size_ok = "ok" if total <= size_target_mb * MB else "OVER"
    time_ok = "ok" if median <= time_target_s * 1000 else "OVER"
    print(f"{name}: {areas:,} areas, built in {build_s:.1f} s")
    print(
        f"  size   {own / MB:6.2f} MB page + data; {total / MB:6.2f} MB with Leaflet and CSS"
        f"  (target ≤ {size_target_mb:g} MB: {size_ok})"
    )
    print(
        f"  render median {median:7.0f} ms, max {worst:7.0f} ms over {runs} loads"
        f"  (target ≤ {time_target_s * 1000:.0f} ms: {time_ok})"
    )


def trafford(out: Path, runs: int) -> None:
    taxonomy = load_taxonomy()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            load_demo_assets(store)
            result = run_jsaa(load_config(CONFIG, taxonomy), store, taxonomy=taxonomy)
        finally:
            store.close()
    start = time.perf_counter()
    write_site(result, out, taxonomy=taxonomy, vendor_dir=VENDOR)
    build = time.perf_counter() - start
    report(
        "Trafford gap map (published release page)",
        out,
        "map-gap.html",
        len(result.areas),
        runs,
        build_s=build,
        size_target_mb=2,
        time_target_s=1,
    )


def england(out: Path, runs: int) -> None:
    valid = ValidationReport()
    areas = load_boundaries(
        BoundarySpec(ENGLAND, code_column="LSOA11CD", name_column="LSOA11NM"), valid
    )
    imd = load_indicator_table(
        TableSpec(
            id="imd2019",
            path=IMD,
            code_column="lsoa11cd",
            national=True,
            indicators=(IndicatorSpec(name="imd_score", column="imd_score", label="IMD score"),),
        ),
        list(areas["area_code"]),
        valid,
    )
    areas["imd_score"] = imd.reindex(areas["area_code"])["imd_score"].to_numpy()
    spec = ChoroplethSpec(
        "imd_score",
        "IMD 2019 score",
        unit="score (higher = more deprived)",
        source="MHCLG English Indices of Deprivation 2019",
    )
    start = time.perf_counter()
    data = choropleth_map(areas, spec)
    plan = MapPlan(
        "map-england.html", "IMD 2019 score, England", "all LSOAs", "Every LSOA in England.", spec
    )
    site = {
        "title": "England",
        "config_sha256": "",
        "generated_at": "",
        "version": "bench",
        "prefix": "",
        "home": "index.html",
        "provenance": "",
    }
    page, script = map_page(plan, data, site)
    copy_static(VENDOR, out)
    (out / plan.filename).write_text(page, encoding="utf-8")
    (out / plan.script).write_text(script, encoding="utf-8")
    build = time.perf_counter() - start
    print(f"  (England display tolerance {data.tolerance_m:.0f} m; drawn on one canvas)")
    report(
        "England LSOA choropleth",
        out,
        plan.filename,
        len(areas),
        runs,
        build_s=build,
        size_target_mb=10,
        time_target_s=3,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per map")
    parser.add_argument("--skip-england", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the pages here and keep them")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-jsaa-maps-"))
    root = args.keep or tmp
    try:
        trafford(root / "trafford", args.runs)
        if not args.skip_england:
            england(root / "england", args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
