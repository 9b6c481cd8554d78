"""Vector importers: any CRS in, WGS84 points out; polygons keep a point inside and an outline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import shape

from assetmap.domain.errors import ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.importers import Record, check_source, load_manifest, parse_source, spec_for_file
from assetmap.settings import REPO_ROOT

TRAFFORD = REPO_ROOT / "data" / "assets" / "trafford"
LIBRARIES = TRAFFORD / "council_assets_libraries_libraries.geojson"
WORSHIP = TRAFFORD / "places_of_worship_trafford_places_of_worship.geojson"


def _libraries_in_bng() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 13 Trafford Council libraries (real data), and the same reprojected to EPSG:27700."""
    original = gpd.read_file(LIBRARIES)
    original["category"] = "library"
    return original, original.to_crs("EPSG:27700")


@pytest.mark.parametrize(("suffix", "driver"), [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_british_national_grid_files_land_within_1_m(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex, suffix: str, driver: str
) -> None:
    original, bng = _libraries_in_bng()
    assert bng.crs.to_epsg() == 27700 and bng.geometry.x.iloc[0] > 300_000  # metres, not degrees
    path = tmp_path / f"libraries_bng{suffix}"
    bng.to_file(path, driver=driver, engine="pyogrio")

    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)

    assert parsed.errors == [] and len(parsed.records) == 13
    for rec, (_, row) in zip(parsed.records, original.iterrows(), strict=True):
        assert rec.asset.name == row["name"]
        assert rec.asset.source == path.name
        dist = distances_m(row.geometry.x, row.geometry.y, [rec.asset.lon], [rec.asset.lat])[0]
        assert dist < 1.0, (rec.asset.name, dist)
        assert rec.asset.footprint is None


def test_polygons_become_a_point_inside_plus_a_small_footprint(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # 12 real OS OpenMap Local building outlines, written in EPSG:27700.
    original = gpd.read_file(WORSHIP).iloc[:12].copy()
    original["category"] = "place_of_worship"
    original = original.rename(columns={"DISTNAME": "name", "ID": "source_id"})
    path = tmp_path / "worship_bng.gpkg"
    original.to_crs("EPSG:27700").to_file(path, driver="GPKG", engine="pyogrio")

    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)

    assert parsed.errors == [] and len(parsed.records) + len(parsed.duplicates) == 12
    outlines = {row["source_id"]: row.geometry for _, row in original.iterrows()}
    for rec in parsed.records:
        polygon = outlines[rec.asset.source_id]
        assert polygon.contains(shapely.Point(rec.asset.lon, rec.asset.lat))
        footprint = rec.asset.footprint
        assert footprint is not None and footprint["type"] == "Polygon"
        # JSON-native (lists, not tuples): a re-import compares equal to what was stored.
        assert footprint == json.loads(json.dumps(footprint))
        ring = footprint["coordinates"][0]
        assert all(round(x, 6) == x and round(y, 6) == y for x, y in ring)
        # Simplified to ~1 m: the outline stays within about a metre of the original.
        kept = gpd.GeoSeries([shape(footprint), polygon], crs="EPSG:4326").to_crs("EPSG:27700")
        assert kept.iloc[0].hausdorff_distance(kept.iloc[1]) < 1.5
        assert len(json.dumps(footprint)) < 3000


def test_multipolygons_keep_every_part(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    sites = gpd.read_file(TRAFFORD / "greenspaces_trafford_greenspace_sites.geojson")
    multi = sites[sites.geom_type == "MultiPolygon"].iloc[:3].copy()
    multi["category"] = "park"
    multi["name"] = [f"Green space {i}" for i in range(3)]
    path = tmp_path / "multi.geojson"
    multi.to_file(path, driver="GeoJSON", engine="pyogrio")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert len(parsed.records) == 3
    for rec, geom in zip(parsed.records, multi.geometry, strict=True):
        assert rec.asset.footprint is not None
        assert rec.asset.footprint["type"] == "MultiPolygon"
        assert len(rec.asset.footprint["coordinates"]) == len(geom.geoms)
        assert geom.buffer(1e-7).contains(shapely.Point(rec.asset.lon, rec.asset.lat))


def test_geojson_without_crs_is_wgs84(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "one.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-2.352157, 53.387055]},
                        "properties": {"name": "Altrincham Library", "category": "Library"},
                    },
                    {
                        "type": "Feature",
                        "geometry": None,
                        "properties": {"name": "Nowhere", "category": "library"},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    [rec] = parsed.records
    assert (rec.asset.lon, rec.asset.lat, rec.asset.category) == (-2.352157, 53.387055, "library")
    [err] = parsed.errors
    assert (err.row, err.field, err.reason) == (2, "geometry", "feature has no geometry")


def test_shapefile_without_prj_needs_a_crs(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    _, bng = _libraries_in_bng()
    path = tmp_path / "noprj.shp"
    bng.to_file(path, driver="ESRI Shapefile", engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(ValidationError, match='crs = "EPSG:27700"'):
        parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)


def test_self_intersecting_polygon_is_mended_not_halved(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    bow_tie = [[-2.30, 53.40], [-2.29, 53.41], [-2.29, 53.40], [-2.30, 53.41], [-2.30, 53.40]]
    path = tmp_path / "bow.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [bow_tie]},
                        "properties": {"name": "Bow-tie green", "category": "park"},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    [rec] = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes).records
    footprint = rec.asset.footprint
    assert footprint is not None and footprint["type"] == "MultiPolygon"
    assert len(footprint["coordinates"]) == 2  # both lobes kept
    assert shape(footprint).buffer(1e-7).contains(shapely.Point(rec.asset.lon, rec.asset.lat))


# Lists as a GeoJSON file holds them, and as GDAL or the app's own GeoPackage export write them.
LISTS = [
    (["step_free", "hearing_loop"], [], ["older_people", "carers"]),
    ([], ["cash", "personal_budget"], []),
    (["disabled_parking"], ["time_credits"], ["everyone"]),
]


def _libraries_with_lists() -> gpd.GeoDataFrame:
    """Three real Trafford Council libraries with accessibility, currencies and audience."""
    frame = gpd.read_file(LIBRARIES).iloc[:3][["name", "geometry"]].copy()
    frame["category"] = "library"
    return frame


def _assert_lists(parsed_records: list[Record]) -> None:
    got = [(r.asset.accessibility, r.asset.currencies, r.asset.audience) for r in parsed_records]
    assert got == [tuple(tuple(v) for v in row) for row in LISTS]


def test_geojson_arrays_are_lists(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    frame = _libraries_with_lists()
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {
                "name": name,
                "category": "library",
                "accessibility": access,
                "currencies": currencies,
                "audience": audience,
            },
        }
        for name, geom, (access, currencies, audience) in zip(
            frame["name"], frame.geometry, LISTS, strict=True
        )
    ]
    path = tmp_path / "lists.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.errors == []
    _assert_lists(parsed.records)


@pytest.mark.parametrize("form", ["json", "semicolons"])
def test_list_text_in_a_geopackage_is_a_list(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex, form: str
) -> None:
    frame = _libraries_with_lists()
    for i, name in enumerate(("accessibility", "currencies", "audience")):
        items = [row[i] for row in LISTS]
        frame[name] = [json.dumps(v) if form == "json" else "; ".join(v) for v in items]
    path = tmp_path / "lists.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.errors == []
    _assert_lists(parsed.records)


def _two_layer_geopackage(path: Path) -> None:
    """Real Trafford libraries and places of worship as two layers of one GeoPackage."""
    libraries, _ = _libraries_in_bng()
    worship = gpd.read_file(WORSHIP).iloc[:3].rename(columns={"DISTNAME": "name", "ID": "id"})
    worship["category"] = "place_of_worship"
    libraries.to_file(path, layer="libraries", driver="GPKG", engine="pyogrio")
    worship.to_file(path, layer="worship", driver="GPKG", engine="pyogrio")


def _layer_manifest(tmp_path: Path, layer: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(
        f'[[source]]\nsource = "w"\nfile = "assets.gpkg"\nlayer = "{layer}"\n'
        'category = "place_of_worship"\n[source.columns]\nname = "name"\nsource_id = "id"\n',
        encoding="utf-8",
    )
    return path


def test_a_geopackage_with_several_layers_names_them_instead_of_reading_the_first(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    path = tmp_path / "assets.gpkg"
    _two_layer_geopackage(path)
    with pytest.raises(
        ValidationError,
        match=r"assets\.gpkg has 2 layers of features \('libraries', 'worship'\) and only one "
        r'can be imported at a time: .* layer = "\.\.\."',
    ):
        check_source(spec_for_file(path))
    [spec] = load_manifest(_layer_manifest(tmp_path, "worship"), taxonomy=taxonomy)
    check_source(spec)
    parsed = parse_source(spec, taxonomy=taxonomy, postcodes=postcodes)
    assert [r.asset.category for r in parsed.records] == ["place_of_worship"] * 3


def test_a_layer_the_file_does_not_have_is_named_not_a_traceback(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    _two_layer_geopackage(tmp_path / "assets.gpkg")
    [spec] = load_manifest(_layer_manifest(tmp_path, "parks"), taxonomy=taxonomy)
    with pytest.raises(
        ValidationError, match=r"assets\.gpkg has no layer 'parks'; its layers are 'libraries', "
    ):
        check_source(spec)


def test_a_table_without_geometry_is_not_a_layer_to_choose_between(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    libraries, _ = _libraries_in_bng()
    path = tmp_path / "libraries.gpkg"
    libraries.to_file(path, layer="libraries", driver="GPKG", engine="pyogrio")
    # QGIS keeps a project's styles in the GeoPackage as a table with no geometry.
    styles = pd.DataFrame({"f_table_name": ["libraries"], "styleQML": ["<qgis/>"]})
    pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.errors == [] and len(parsed.records) == 13


def test_eastings_and_northings_in_a_geojson_without_crs_are_named_as_such(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    _, bng = _libraries_in_bng()
    path = tmp_path / "libraries_bng.geojson"
    bng.to_file(path, driver="GeoJSON", engine="pyogrio")
    collection = json.loads(path.read_text(encoding="utf-8"))
    del collection["crs"]  # as many tools write British National Grid GeoJSON
    path.write_text(json.dumps(collection), encoding="utf-8")

    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)

    assert parsed.records == [] and parsed.rejected == 13
    first = parsed.errors[0]
    x, y = bng.geometry.iloc[0].x, bng.geometry.iloc[0].y
    assert (first.row, first.field, first.value) == (1, "geometry", f"{x:.10g}, {y:.10g}")
    assert first.reason == (
        f"coordinates ({x:.10g}, {y:.10g}) are not a longitude (-180..180) and latitude "
        "(-90..90): they look like eastings and northings; import the file through a manifest "
        'with crs = "EPSG:27700" (or whichever it is)'
    )


def test_degrees_in_a_file_that_says_british_national_grid_are_named_as_such(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    original, _ = _libraries_in_bng()
    path = tmp_path / "libraries.gpkg"
    original.set_crs("EPSG:27700", allow_override=True).to_file(path, engine="pyogrio")
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    assert parsed.records == [] and parsed.rejected == 13
    assert parsed.errors[0].reason.endswith(
        "look like longitude and latitude, not the EPSG:27700 eastings and northings the file "
        'says it holds; import it through a manifest with crs = "EPSG:4326"'
    )


@pytest.mark.parametrize(
    ("coordinates", "reason"),
    [
        # Off the map: converted, 500 wrapped round to 140 and 95 came out off Cornwall.
        ((500, 53.4), "coordinates (500, 53.4) are not a longitude (-180..180) and latitude "),
        ((-2.35, 95), "coordinates (-2.35, 95) are not a longitude (-180..180) and latitude "),
    ],
)
def test_a_point_off_the_map_is_reported_with_the_files_own_numbers(
    tmp_path: Path,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    coordinates: tuple[float, float],
    reason: str,
) -> None:
    path = tmp_path / "one.geojson"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(coordinates)},
        "properties": {"name": "Altrincham Library", "category": "library"},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)
    [err] = parsed.errors
    assert (err.row, err.field) == (1, "geometry")
    assert err.reason.startswith(reason)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("libraries.geojson", b"", "libraries.geojson cannot be read as GeoJSON: it is empty"),
        (
            "libraries.geojson",
            b"name,category\nAltrincham Library,library\n",
            "libraries.geojson cannot be read as GeoJSON: its contents are not GeoJSON (is it "
            "the right file, saved as that type?)",
        ),
        (
            "libraries.gpkg",
            b"<!DOCTYPE html><html><body>Sign in</body></html>",
            "libraries.gpkg cannot be read as a GeoPackage: its contents are not a GeoPackage",
        ),
        (
            "libraries.geojson",
            b'{"type": "FeatureCollection", "features": [{"type": "Feature",',
            "libraries.geojson cannot be read as GeoJSON: At line 1, character ",
        ),
        # Not "has no column 'name', 'category'; its columns are ."
        (
            "libraries.geojson",
            b'{"type": "FeatureCollection", "features": []}',
            "libraries.geojson has no features: nothing to import",
        ),
        (
            "libraries.geojson",
            b'{"type": "Feature", "properties": null, "geometry": {"type": "Point", '
            b'"coordinates": [-2.352157, 53.387055]}}',
            "libraries.geojson has no column 'name', 'category'; its columns are (none). ",
        ),
    ],
)
def test_a_file_gdal_cannot_read_is_refused_in_plain_words(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        check_source(spec_for_file(path))
    assert caught.value.message.startswith(message)
    assert "DRIVER" not in caught.value.message  # GDAL's advice to programmers


@pytest.mark.parametrize(
    ("lost", "message"),
    [
        (".dbf", "libraries.shp is a Shapefile without libraries.dbf (its table of columns) "),
        (".shx", "libraries.shp is a Shapefile without libraries.shx (its index) beside it"),
    ],
)
def test_a_shapefile_missing_one_of_its_files_names_it(
    tmp_path: Path, lost: str, message: str
) -> None:
    original, _ = _libraries_in_bng()
    path = tmp_path / "libraries.shp"
    original.to_file(path, engine="pyogrio")
    path.with_suffix(lost).unlink()
    with pytest.raises(ValidationError) as caught:
        check_source(spec_for_file(path))
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("unclosed", "a ring of the polygon does not end where it starts"),
        ("one_point_line", "the line has only one point"),
    ],
)
def test_a_broken_shape_is_a_row_error_not_a_traceback(
    tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex, damage: str, reason: str
) -> None:
    # Two real OS OpenMap Local building outlines; the second damaged as a hand edit leaves it.
    collection = json.loads(WORSHIP.read_text(encoding="utf-8"))
    features = collection["features"][:2]
    for feature in features:
        feature["properties"] = {
            "name": feature["properties"]["DISTNAME"],
            "category": "place_of_worship",
        }
    ring = features[1]["geometry"]["coordinates"][0]
    if damage == "unclosed":
        features[1]["geometry"]["coordinates"][0] = ring[:-1]
    else:
        features[1]["geometry"] = {"type": "LineString", "coordinates": ring[:1]}
    path = tmp_path / "worship.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    parsed = parse_source(spec_for_file(path), taxonomy=taxonomy, postcodes=postcodes)

    assert len(parsed.records) == 1
    [err] = parsed.errors
    assert (err.row, err.field, err.reason) == (
        2,
        "geometry",
        f"the feature's geometry is broken: {reason}",
    )


def test_a_geopackage_table_without_geometry_is_refused_not_a_traceback(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    original, _ = _libraries_in_bng()
    table = pd.DataFrame(original.drop(columns="geometry"))
    table["lon"], table["lat"] = original.geometry.x, original.geometry.y
    pyogrio.write_dataframe(table, tmp_path / "libraries.gpkg", layer="libraries", driver="GPKG")
    (tmp_path / "m.toml").write_text(
        '[[source]]\nsource = "l"\nfile = "libraries.gpkg"\ncategory = "library"\n'
        'crs = "EPSG:4326"\n[source.columns]\nname = "name"\n',
        encoding="utf-8",
    )
    [spec] = load_manifest(tmp_path / "m.toml", taxonomy=taxonomy)
    with pytest.raises(
        ValidationError,
        match=r"libraries\.gpkg: the file is a table with no points or shapes; import it as a "
        "CSV with lat and lon",
    ):
        check_source(spec)
