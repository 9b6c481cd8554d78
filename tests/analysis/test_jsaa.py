"""The JSAA on the real Trafford data, checked against independent computations.

Assets: the Trafford demo (``load_demo``: data/assets/trafford, Trafford Council / Trafford
Data Lab, Sport England, OS and OSM open data). Needs: data/jsaa/trafford.toml (ONS LSOA 2011
boundaries, IoD2019, ONS mid-2024 population, NSPL postcodes). The demo is loaded and the
assessment run once per store backend; the tests read that one result.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import geopandas as gpd
import shapely
from pyproj import Geod

from assetmap.analysis.jsaa import (
    METHOD,
    ConfigError,
    JsaaConfig,
    JsaaResult,
    load_config,
    run_jsaa,
    write_outputs,
)
from assetmap.analysis.jsaa.assessment import value_with_unit
from assetmap.analysis.jsaa.outputs import (
    DICTIONARY_FILE,
    OUTPUT_COLUMNS,
    areas_csv_bytes,
    data_dictionary,
    store_provenance,
)
from assetmap.analysis.jsaa.scores import mid_percentile
from assetmap.analysis.needs import NeedsLayerError
from assetmap.cli import cli
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.store import Store, open_store
from tests.conftest import DATA, postgis_url

CONFIG = DATA / "jsaa" / "trafford.toml"
GEOD = Geod(ellps="WGS84")
DEMO_CATEGORIES = (
    "library",
    "leisure_centre",
    "community_centre",
    "park",
    "allotment",
    "place_of_worship",
    "food_bank",
    "childrens_centre",
    "activity_group",
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]
)
def demo_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy
) -> Iterator[Store]:
    """A store holding the real Trafford demo assets (one per backend, per module)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('jsaa') / 'assetmap.db'}"
    else:
        import uuid

        schema = f"test_jsaa_{uuid.uuid4().hex[:10]}"
        base = postgis_url()
        url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    store = open_store(url)
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)
    yield store
    store.close()
    if request.param == "postgis":
        import psycopg

        with psycopg.connect(postgis_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def config(taxonomy: Taxonomy) -> JsaaConfig:
    return load_config(CONFIG, taxonomy)


@pytest.fixture(scope="module")
def result(demo_store: Store, config: JsaaConfig, taxonomy: Taxonomy) -> JsaaResult:
    return run_jsaa(config, demo_store, taxonomy=taxonomy)


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    """The Trafford LSOAs read independently, repaired as the data README advises."""
    raw = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson")
    raw["geometry"] = shapely.make_valid(raw.geometry.values)
    return raw


def published_assets(store: Store) -> gpd.GeoDataFrame:
    assets = store.list_assets(status="published")
    return gpd.GeoDataFrame(
        {"category": [a.category for a in assets]},
        geometry=gpd.points_from_xy([a.lon for a in assets], [a.lat for a in assets]),
        crs=4326,
    )


def test_one_row_per_lsoa_with_the_issue_columns(result: JsaaResult) -> None:
    table = result.areas
    assert len(table) == 138 and table["area_code"].is_unique
    assert list(table.columns[:3]) == ["area_code", "area_name", "population"]
    for name in ("imd_score", "imd_decile", "health_rank", "pct_65plus", "pop_65plus"):
        assert name in table.columns
    for cat in DEMO_CATEGORIES:
        for prefix in ("count_", "per_1000_", "within_catchment_", "nearest_m_"):
            assert f"{prefix}{cat}" in table.columns
    for name in ("need_score", "access_score", "gap_score", "priority", "centroid_method"):
        assert name in table.columns
    assert table.crs == "EPSG:4326"


def test_counts_equal_an_independent_sjoin(
    result: JsaaResult, demo_store: Store, boundaries: gpd.GeoDataFrame
) -> None:
    joined = gpd.sjoin(published_assets(demo_store), boundaries, predicate="intersects")
    assert joined.index.is_unique  # no asset on a shared edge in the real data
    expected = joined.groupby(["LSOA11CD", "category"]).size().unstack(fill_value=0)
    table = result.areas.set_index("area_code")
    for cat in DEMO_CATEGORIES:
        want = expected.get(cat, pd.Series(dtype=int)).reindex(table.index, fill_value=0)
        assert (table[f"count_{cat}"] == want).all(), cat
        per_1000 = (want * 1000 / table["population"].astype(float)).round(4)
        assert np.allclose(table[f"per_1000_{cat}"], per_1000)


def test_nearest_and_catchment_equal_brute_force_geodesic(
    result: JsaaResult, demo_store: Store
) -> None:
    assets = published_assets(demo_store)
    table = result.areas
    lon0 = table["centroid_lon"].to_numpy()[:, None]
    lat0 = table["centroid_lat"].to_numpy()[:, None]
    for cat in DEMO_CATEGORIES:
        pts = assets[assets["category"] == cat]
        lon1, lat1 = pts.geometry.x.to_numpy()[None, :], pts.geometry.y.to_numpy()[None, :]
        shape = (len(table), len(pts))
        _, _, dist = GEOD.inv(
            np.broadcast_to(lon0, shape),
            np.broadcast_to(lat0, shape),
            np.broadcast_to(lon1, shape),
            np.broadcast_to(lat1, shape),
        )
        # Within 2 cm: the table's reference points are rounded to 1e-7 degrees.
        assert np.abs(table[f"nearest_m_{cat}"] - dist.min(axis=1)).max() <= 0.02, cat
        # Exact: the real data has assets 1-3 cm from the 1,600 m edge, and they agree too.
        within = (dist <= 1600.0).sum(axis=1)
        assert (table[f"within_catchment_{cat}"] == within).all(), cat


def test_nearest_distances_keep_their_precision_so_access_can_be_rederived(
    result: JsaaResult, tmp_path: Path
) -> None:
    table = result.areas.set_index("area_code")
    # Real pairs 3.3 cm and 3.5 cm apart, which rounding to 0.1 m showed as equal (922.8 m,
    # 280.7 m) while the method ranked them apart.
    assert table.at["E01006118", "nearest_m_library"] == pytest.approx(922.7703, abs=0.001)
    assert table.at["E01006131", "nearest_m_library"] == pytest.approx(922.8036, abs=0.001)
    assert table.at["E01006192", "nearest_m_park"] == pytest.approx(280.7115, abs=0.001)
    assert table.at["E01006138", "nearest_m_park"] == pytest.approx(280.7468, abs=0.001)
    # Every access_<category> is re-derived from the published areas.csv alone, as METHOD
    # says: percentile of within_catchment and of nearest_m reversed (none = farthest).
    path = tmp_path / "areas.csv"
    path.write_bytes(areas_csv_bytes(result.areas))
    csv = pd.read_csv(path)
    for cat in DEMO_CATEGORIES:
        reach = -csv[f"nearest_m_{cat}"].fillna(np.inf).to_numpy()
        within = csv[f"within_catchment_{cat}"].to_numpy(dtype=np.float64)
        access = np.round(0.5 * mid_percentile(within) + 0.5 * mid_percentile(reach), 4)
        assert list(access) == list(csv[f"access_{cat}"]), cat


def test_imd_deciles_in_the_table_equal_the_published_deciles(result: JsaaResult) -> None:
    published = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz")
    published = published.set_index("lsoa11cd")
    table = result.areas.set_index("area_code")
    for column in ("imd_decile", "imd_rank", "health_rank", "income_decile", "barriers_decile"):
        assert (table[column] == published.loc[table.index, column]).all(), column
    assert (table["imd_score"] == published.loc[table.index, "imd_score"]).all()


def test_split_lsoa_population_is_the_sum_of_its_children(result: JsaaResult) -> None:
    raw = pd.read_csv(DATA / "population" / "trafford_mid2024_population_lsoa21.csv")
    persons = raw[raw["sex"] == "Persons"].set_index("area_code")
    table = result.areas.set_index("area_code")
    children = ["E01034000", "E01034001"]
    assert table.at["E01006185", "population"] == persons.loc[children, "all_ages"].sum()
    assert table.at["E01006185", "pop_65plus"] == persons.loc[children, "aged_65_and_over"].sum()
    assert table["population"].sum() == persons["all_ages"].sum()  # nobody dropped
    notes = result.summary["validation"]["notes"]
    assert any("E01006185" in n and "E01034000" in n and "E01034001" in n for n in notes)
    repaired = result.summary["validation"]["warnings"]
    assert any("E01006195" in w for w in repaired) and any("E01006205" in w for w in repaired)


def test_reference_points_are_inside_their_area_and_use_postcodes(
    result: JsaaResult, boundaries: gpd.GeoDataFrame
) -> None:
    table = result.areas
    assert shapely.intersects_xy(
        table.geometry.values, table["centroid_lon"], table["centroid_lat"]
    ).all()
    assert set(table["centroid_method"]) <= {"postcode_mean", "postcode_nearest_mean"}
    postcodes = pd.read_csv(DATA / "postcodes" / "postcodes_study_las_nspl2025.csv.gz")
    postcodes = postcodes[postcodes["lad_code_pip"] == "E08000009"]
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(postcodes["long"], postcodes["lat"]), crs=4326
    )
    per_area = gpd.sjoin(points, boundaries, predicate="intersects").groupby("LSOA11CD").size()
    counts = table.set_index("area_code")["centroid_postcodes"]
    assert (counts == per_area.reindex(counts.index, fill_value=0)).all()


def test_scores_follow_the_documented_rule(result: JsaaResult, config: JsaaConfig) -> None:
    table = result.areas
    for column in ("need_score", "need_percentile", "access_score", "access_percentile"):
        assert table[column].between(0, 100).all(), column
    flagged = (table["need_percentile"] >= 80) & (table["access_percentile"] <= 20)
    assert (table["priority"] == flagged).all()
    assert flagged.any()
    gap = 0.5 * table["need_percentile"] + 0.5 * (100 - table["access_percentile"])
    assert np.allclose(table["gap_score"], gap, atol=1e-4)
    ranked = table[table["priority"]].sort_values("priority_rank")
    assert list(ranked["priority_rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["gap_score"].is_monotonic_decreasing
    assert (ranked["priority_reason"].str.contains("need percentile")).all()
    assert (table.loc[~table["priority"], "priority_reason"] == "").all()
    # National need: decile 1 (most deprived 10% of England) must rank above the 80th percentile.
    assert (table.loc[table["imd_decile"] == 1, "need_percentile"] > 80).all()
    summary = result.summary
    assert [p["area_code"] for p in summary["priority_areas"]] == list(ranked["area_code"])
    assert summary["assessment"]["config_sha256"] == config.sha256


def test_priority_reasons_give_each_figure_its_unit(result: JsaaResult) -> None:
    # Trafford 017D, the first priority area (IMD 2019 score 40.802, health rank 2,401):
    # its reasons gave "IMD 2019 score 40.8", "... rank 2,401", "... (mid-2015) 27.8" and
    # "2 within 1,600 m", the indicators' units and what was counted left out.
    row = result.areas.set_index("area_code").loc["E01006107"]
    assert (row["area_name"], row["priority_rank"]) == ("Trafford 017D", 1)
    reasons = [
        "need percentile 96.8 in England (priority from 80)",
        "access percentile 1.8 (priority up to 20)",
        "IMD 2019 score 40.8 (score, higher = more deprived)",
        "Health deprivation and disability rank 2,401 (rank of 32,844, 1 = most deprived)",
        "Share of residents aged 60+ (mid-2015) 27.8% of residents",
        "weak access to Park or green space: nearest 1,235 m, 2 assets within 1,600 m",
        "weak access to Activity group: nearest 1,417 m, 1 asset within 1,600 m",
        "weak access to Library: nearest 1,773 m, 0 assets within 1,600 m",
    ]
    assert row["priority_reason"] == "; ".join(reasons)
    # The summary (and the report from it) splits the reasons at "; ", so a unit's note
    # follows it after a comma.
    assert result.summary["priority_areas"][0]["reasons"] == reasons


def test_an_indicator_value_is_written_with_its_unit_and_never_as_an_exponent() -> None:
    assert value_with_unit(1634, "people") == "1,634 people"
    assert value_with_unit(12.5, "% of residents (mid-2024)") == ("12.5% of residents (mid-2024)")
    assert value_with_unit(3, "decile (1 = most deprived 10%)") == (
        "3 (decile, 1 = most deprived 10%)"
    )
    assert value_with_unit(2.5, "beds; care homes (CQC)") == "2.5 (beds, care homes, CQC)"
    assert value_with_unit(0.0123456, "") == "0.0123"
    # A rate above 100 that is not whole was "1.23e+03".
    assert value_with_unit(1234.4, "people per km²") == "1,234 people per km²"


def test_summary_holds_totals_rates_and_deciles(result: JsaaResult) -> None:
    summary = result.summary
    table = result.areas
    assert summary["totals"]["areas"] == 138
    assert summary["totals"]["population"] == table["population"].sum()
    by_id = {c["id"]: c for c in summary["categories"]}
    assert list(by_id) == list(DEMO_CATEGORIES)
    library = by_id["library"]
    expected = round(table["count_library"].sum() * 1000 / table["population"].sum(), 3)
    assert library["per_1000"] == expected
    rows = summary["by_decile"]["rows"]
    assert sum(r["areas"] for r in rows) == 138
    assert sum(r["count"]["park"] for r in rows) == table["count_park"].sum()
    assert "Method" in summary["assessment"]["method"]


def test_method_documents_every_output_measure() -> None:
    for term in (
        "count_<category>",
        "per_1000_<category>",
        "within_catchment_<category>",
        "nearest_m_<category>",
        "need_score",
        "need_percentile",
        "access_score",
        "access_percentile",
        "gap_score",
        "centroid_method",
        "mid-rank percentile",
        "EPSG:27700",
        "geodesic",
    ):
        assert term in METHOD, term


def test_every_output_column_is_described_beside_the_table_and_in_the_readme(
    result: JsaaResult, tmp_path: Path
) -> None:
    written = write_outputs(result, tmp_path / "out")
    dictionary = pd.read_csv(written[DICTIONARY_FILE], keep_default_na=False)
    csv = pd.read_csv(written["areas.csv"], nrows=1)
    gpkg = gpd.read_file(written["areas.gpkg"], layer="areas", rows=1)
    described = dict(zip(dictionary["column"], dictionary["meaning"], strict=True))
    # Every column either table holds, and nothing else, in the table's order.
    assert list(dictionary["column"]) == list(result.areas.columns)
    assert set(csv.columns) | set(gpkg.columns) == set(described)
    for column, meaning in described.items():
        assert len(meaning) > 30 and "{" not in meaning and "<" not in meaning, column
    units = dict(zip(dictionary["column"], dictionary["unit"], strict=True))
    assert all(units.values())
    # Filled in for the run: labels, units, sources and thresholds.
    assert "reference point" in described["centroid_lat"]
    assert described["centroid_method"].startswith("How the reference point")
    assert "three categories with the weakest access" in described["priority_reason"]
    assert "need_percentile ≥ 80 and access_percentile ≤ 20" in described["priority"]
    assert "Library assets within 1,600 m" in described["within_catchment_library"]
    assert units["health_rank"] == "rank of 32,844 (1 = most deprived)"
    assert "lower values mean more need" in described["health_rank"]
    assert "MHCLG English Indices of Deprivation 2019" in described["health_rank"]
    # Not "(Residents (mid-2024))": a label ending in brackets is not put in brackets.
    assert described["population"] == (
        "Residents: the config's population indicator, Residents (mid-2024); assets per 1,000 "
        "residents divide by it."
    )
    assert (
        written[DICTIONARY_FILE].name
        in json.loads(written["provenance.json"].read_text())["outputs"]
    )
    # The README describes every column (or its family) a commissioner finds in the tables.
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    for doc in OUTPUT_COLUMNS:
        assert f"`{doc.name}`" in readme, doc.name


def test_an_undescribed_output_column_is_never_published(
    result: JsaaResult, config: JsaaConfig
) -> None:
    table = result.areas.assign(mystery=1)
    with pytest.raises(ValueError, match="'mystery' is not described"):
        data_dictionary(table, config)


def test_same_config_and_data_give_identical_areas_csv(
    result: JsaaResult, demo_store: Store, config: JsaaConfig, tmp_path: Path, taxonomy: Taxonomy
) -> None:
    again = run_jsaa(config, demo_store, taxonomy=taxonomy)
    assert areas_csv_bytes(again.areas) == areas_csv_bytes(result.areas)
    first = write_outputs(result, tmp_path / "one")
    second = write_outputs(again, tmp_path / "two")
    assert first["areas.csv"].read_bytes() == second["areas.csv"].read_bytes()
    assert first["summary.json"].read_bytes() == second["summary.json"].read_bytes()


def test_cli_run_writes_every_file(demo_store: Store, config: JsaaConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(
        cli, ["--db", demo_store.url, "jsaa", "run", str(CONFIG), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "138 areas" in res.output
    names = {"areas.csv", "areas.gpkg", "summary.json", "validation.json", "provenance.json"}
    # The maps, charts and report come too (tests/maps/test_jsaa_report.py checks them).
    assert names | {"index.html", "report.html", "map-gap.html"} <= {p.name for p in out.iterdir()}
    csv = pd.read_csv(out / "areas.csv")
    assert len(csv) == 138 and csv.columns[0] == "area_code"
    layers = gpd.list_layers(out / "areas.gpkg")
    assert set(layers["name"]) == {"areas", "provenance"}
    gpkg = gpd.read_file(out / "areas.gpkg", layer="areas")
    assert len(gpkg) == 138 and gpkg.crs == "EPSG:4326"
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["config"]["sha256"] == hashlib.sha256(CONFIG.read_bytes()).hexdigest()
    inputs = {i["role"]: i for i in provenance["inputs"]}
    assert {"areas", "table:imd2019", "table:population_mid2024", "postcodes", "assets"} <= set(
        inputs
    )
    for role in ("areas", "table:imd2019", "postcodes"):
        path = (CONFIG.parent / inputs[role]["path"]).resolve()
        assert inputs[role]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert inputs[role]["licence"]
    assert inputs["assets"]["count"] == demo_store.count_assets(status="published")
    written = hashlib.sha256((out / "areas.csv").read_bytes()).hexdigest()
    assert provenance["outputs"]["areas.csv"] == written
    # The store by kind and database name only: where it lives is the publisher's business.
    if demo_store.url.startswith("sqlite:"):
        assert provenance["store"] == {"kind": "sqlite", "database": "assetmap.db"}
        local = demo_store.url.removeprefix("sqlite:///").removesuffix("/assetmap.db")
    else:
        schema = demo_store.url.rpartition("schema=")[2]
        assert provenance["store"] == {
            "kind": "postgresql",
            "database": postgis_url().partition("?")[0].rpartition("/")[2],
            "schema": schema,
        }
        local = postgis_url().partition("//")[2].rpartition("/")[0]  # user and host
    assert local and local not in (out / "provenance.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "published"),
    [
        ("sqlite:////tmp/demo.db", {"kind": "sqlite", "database": "demo.db"}),
        ("sqlite:///instance/assetmap.db", {"kind": "sqlite", "database": "assetmap.db"}),
        (
            "sqlite:////home/cara/My%20Stores/trafford.db",
            {"kind": "sqlite", "database": "trafford.db"},
        ),
        (
            "postgresql://jsaa:s3cret@db.internal.example:5432/assetmap?schema=x",
            {"kind": "postgresql", "database": "assetmap", "schema": "x"},
        ),
        (
            "postgres://jsaa@db.internal.example/assetmap?sslmode=require&password=s3cret",
            {"kind": "postgresql", "database": "assetmap"},
        ),
        (
            # The local socket, named by a directory on the publisher's machine.
            "postgresql:///assetmap?host=/var/run/postgresql&user=jsaa",
            {"kind": "postgresql", "database": "assetmap"},
        ),
        ("postgresql://jsaa:s3cret@db.internal.example", {"kind": "postgresql"}),
    ],
)
def test_provenance_names_the_store_by_kind_and_database_only(
    url: str, published: dict[str, str]
) -> None:
    assert store_provenance(url) == published
    text = json.dumps(store_provenance(url))
    for local in ("s3cret", "jsaa", "db.internal", "5432", "/tmp", "/home", "/var/run", "instance"):
        assert local not in text, local


# -- config checks ------------------------------------------------------------------------


def config_variant(tmp_path: Path, old: str, new: str) -> Path:
    """The demo config with one change, saved in tmp_path with absolute input paths."""
    text = CONFIG.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new)
    text = text.replace('path = "../', f'path = "{DATA}/').replace(
        'path = "lsoa21', f'path = "{DATA}/jsaa/lsoa21'
    )
    path = tmp_path / "variant.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ("catchment_m = 1600", "catchment_m = 0", "assessment.catchment_m", "between"),
        (
            "catchment_m = 1600",
            "catchment_m = 60000",
            "assessment.catchment_m",
            "60,000 must be between 1 and 50,000",
        ),
        ('scope = "national"', 'scope = "region"', "assessment.scope", "national"),
        ("imd_score = 0.6,", "imd_scor = 0.6,", "weights.need.imd_scor", "no indicator"),
        ("imd_score = 0.6,", "imd_score = -1,", "weights.need.imd_score", "≥ 0"),
        # TOML's nan and inf: nan slips past every range check, inf breaks every mean.
        ("catchment_m = 1600", "catchment_m = nan", "assessment.catchment_m", "finite"),
        ("imd_score = 0.6,", "imd_score = nan,", "weights.need.imd_score", "finite"),
        ("imd_score = 0.6,", "imd_score = inf,", "weights.need.imd_score", "finite"),
        (
            "childrens_centre = 0.5",
            "childrens_centre = nan",
            "categories.weights.childrens_centre",
            "finite",
        ),
        ("nearest = 0.5", "nearest = nan", "weights.access.nearest", "finite"),
        ("need_top = 0.2", "need_top = nan", "thresholds.need_top", "finite"),
        ('    "food_bank",\n', '    "food_banks",\n', "categories.ids", "unknown category"),
        (
            "[thresholds]\n",
            "[thresholds]\nneed_bottom = 0.1\n",
            "thresholds.need_bottom",
            "unknown key",
        ),
        # A misspelt required key is missing and unknown at once: the message names both.
        (
            'code_column = "LSOA11CD"',
            'code_colum = "LSOA11CD"',
            "areas.code_column",
            r"^.*: areas\.code_column: is required \(the key 'code_colum' here looks like a "
            r"misspelling of it\)$",
        ),
        (
            "[weights]\n",
            "[weight]\n",
            "weights",
            r"weights: is required \(the key 'weight' here looks like a misspelling of it\)$",
        ),
        # name_column is a key of its own, not a misspelling of code_column.
        ('code_column = "LSOA11CD"\n', "", "areas.code_column", r"is required$"),
        (
            "../boundaries/lsoa11_trafford.geojson",
            "../boundaries/nope.geojson",
            "areas.path",
            "not found",
        ),
        (
            "need = { imd_score = 0.6,",
            "need = { pct_65plus = 0.1, imd_score = 0.6,",
            "weights.need.pct_65plus",
            "national = true",
        ),
        ('name = "imd_rank"', 'name = "count_x"', "table[1].indicator[2].name", "output column"),
        # A count and its percentage under one label: the report and maps could not tell
        # them apart (spaces and case do not make two labels).
        (
            'label = "Share of residents aged 65+ (mid-2024)"',
            'label = "Residents aged  65+ (MID-2024)"',
            "table[2].indicator[3].label",
            r": table\[2\]\.indicator\[3\]\.label: 'Residents aged  65\+ \(MID-2024\)' is also "
            r"the label of indicator pop_65plus \(table population_mid2024\): give each "
            "indicator a label of its own",
        ),
        (
            'decile_indicator = "imd_decile"',
            'decile_indicator = "pct_65plus"',
            "summary.decile_indicator",
            "decile 1 as the most deprived",
        ),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, taxonomy: Taxonomy, old: str, new: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_config(config_variant(tmp_path, old, new), taxonomy)
    assert err.value.field == key


def test_local_scope_ranks_need_among_the_chosen_areas(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    path = config_variant(
        tmp_path,
        "need = { imd_score = 0.6, health_rank = 0.2, pct_60plus_2015 = 0.2 }",
        "need = { imd_score = 0.5, pct_65plus = 0.5 }",
    )
    path.write_text(path.read_text().replace('scope = "national"', 'scope = "local"'))
    cfg = load_config(path, taxonomy)
    table = run_jsaa(cfg, demo_store, taxonomy=taxonomy).areas

    # The METHOD, recomputed with pandas ranks: mid-rank percentile = (average rank − ½) / n.
    def pct(values: pd.Series) -> pd.Series:
        return (values.rank(method="average") - 0.5) / len(values) * 100

    score = ((pct(table["imd_score"]) + pct(table["pct_65plus"])) / 2).round(9)
    assert np.allclose(table["need_score"], score, atol=1e-4)
    assert np.allclose(table["need_percentile"], pct(score), atol=1e-4)
    assert 25 <= (table["need_percentile"] >= 80).sum() <= 28  # a fifth, less any ties


def test_a_decile_indicator_that_is_not_deciles_is_refused(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    # IMD scores grouped as "deciles" made 37 groups, and their "most deprived fifth" was
    # the areas scoring 1 to 2: the least deprived.
    path = config_variant(
        tmp_path, 'decile_indicator = "imd_decile"', 'decile_indicator = "health_rank"'
    )
    cfg = load_config(path, taxonomy)
    with pytest.raises(NeedsLayerError) as err:
        run_jsaa(cfg, demo_store, taxonomy=taxonomy)
    issues = err.value.report.errors
    assert len(issues) == 138 and {i.kind for i in issues} == {"not_a_decile"}
    assert issues[0].column == "health_rank"
    assert "area E01006074 has 10951: a decile is a whole number from 1 to 10" in (
        issues[0].message
    )


def test_a_pinned_input_that_changed_is_refused(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    path = config_variant(tmp_path, 'code_system = "LSOA 2011"', f'sha256 = "{"0" * 64}"')
    cfg = load_config(path, taxonomy)
    with pytest.raises(ValidationError, match="the file changed"):
        run_jsaa(cfg, demo_store, taxonomy=taxonomy)


# -- layers that do not lie on one another -------------------------------------------------


def test_boundaries_with_longitude_and_latitude_swapped_are_refused(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    raw = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson")
    raw["geometry"] = shapely.transform(raw.geometry.values, lambda xy: xy[:, ::-1])
    swapped = tmp_path / "swapped.geojson"
    raw.to_file(swapped)
    path = config_variant(tmp_path, "../boundaries/lsoa11_trafford.geojson", str(swapped))
    cfg = load_config(path, taxonomy)
    with pytest.raises(NeedsLayerError) as err:
        run_jsaa(cfg, demo_store, taxonomy=taxonomy)
    (issue,) = err.value.report.errors
    assert issue.kind == "no_assets_in_areas"
    published = demo_store.count_assets(status="published")
    assert issue.message.startswith(
        f"none of the {published:,} published assets lies inside any of the 138 areas of "
        f"{swapped}: the areas span longitude 53.357 to 53.480, latitude -2.478 to -2.253"
    )
    assert "longitude and latitude the right way round" in issue.message


def test_swapped_postcode_columns_are_refused(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    path = config_variant(
        tmp_path,
        'lon_column = "long"\nlat_column = "lat"',
        'lon_column = "lat"\nlat_column = "long"',
    )
    with pytest.raises(NeedsLayerError) as err:
        run_jsaa(load_config(path, taxonomy), demo_store, taxonomy=taxonomy)
    (issue,) = err.value.report.errors
    assert (issue.kind, issue.column) == ("postcode_columns_swapped", "lat")
    assert "the two columns are swapped in the config" in issue.message


def test_postcodes_that_miss_every_area_are_a_published_warning(
    tmp_path: Path, taxonomy: Taxonomy, demo_store: Store
) -> None:
    # The real directory's Leeds-and-north rows only: none is in Trafford.
    postcodes = pd.read_csv(DATA / "postcodes" / "postcodes_study_las_nspl2025.csv.gz")
    north = postcodes[postcodes["lat"] > 53.7]
    north.to_csv(tmp_path / "north.csv", index=False)
    path = config_variant(
        tmp_path,
        "../postcodes/postcodes_study_las_nspl2025.csv.gz",
        str(tmp_path / "north.csv"),
    )
    result = run_jsaa(load_config(path, taxonomy), demo_store, taxonomy=taxonomy)
    assert (result.areas["centroid_method"] == "representative_point").all()
    (warning,) = [i for i in result.report.issues if i.kind == "no_postcodes_in_areas"]
    assert warning.level == "warning"
    assert f"no postcode of {tmp_path / 'north.csv'} lies in any area" in warning.message
    # The summary carries it into report.html's data checks; the CLI prints every warning.
    assert str(warning) in result.summary["validation"]["warnings"]


def test_areas_csv_is_safe_to_open_in_a_spreadsheet(result: JsaaResult) -> None:
    table = result.areas.copy()
    table.loc[0, "area_name"] = "=cmd|calc!A1"
    text = areas_csv_bytes(table).decode("utf-8")
    assert "'=cmd|calc!A1" in text
    assert "'-2." not in text  # longitudes stay numbers


def test_the_shipped_configs_give_each_indicator_its_own_label() -> None:
    # The catalogue's tables are combined by the commissioner pages, not by load_config.
    for name in ("trafford.toml", "catalogue.toml"):
        config = tomllib.loads((DATA / "jsaa" / name).read_text(encoding="utf-8"))
        labels = [i["label"].casefold() for t in config["table"] for i in t["indicator"]]
        assert len(labels) == len(set(labels)), name
    assert "Share of residents aged 65+ (mid-2024)" in CONFIG.read_text(encoding="utf-8")
