"""Importing: the Trafford bundle end to end, validation reports, all-or-nothing, re-imports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetmap.cli import cli
from assetmap.domain.asset import Asset
from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.services.importing import ImportReport, load_demo, run_import
from assetmap.store import Store
from tests.services.helpers import (
    BAD_ROWS,
    TRAFFORD,
    UNKNOWN_POSTCODE,
    postcode_centroids,
    real_site_rows,
    write_rows,
)


def _demo(store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex) -> dict[str, ImportReport]:
    reports = load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    return {r.source: r for r in reports}


def _by_source(store: Store, source: str) -> list[Asset]:
    return [a for a in store.list_assets(status=None) if a.source == source]


def test_trafford_bundle_imports_every_source(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    reports = _demo(store, taxonomy, postcodes)
    assert all(r.written and r.rejected == 0 for r in reports.values())

    # Every library in the council file, no more, no fewer.
    with open(TRAFFORD / "council_assets_libraries_libraries.geojson", encoding="utf-8") as f:
        features = json.load(f)["features"]
    libraries = _by_source(store, "trafford-council-libraries")
    assert len(libraries) == len(features) == 13
    assert store.count_assets(category="library") == 13

    # A known asset, at the coordinates the council published.
    altrincham = next(a for a in libraries if a.name == "Altrincham Library")
    assert (altrincham.lon, altrincham.lat) == (-2.352156600534233, 53.38705468210445)
    assert altrincham.postcode == "WA14 1AH"
    assert altrincham.status == "published"
    assert altrincham.licence.startswith("Open Government Licence v3.0")
    sale = store.find_by_source(
        "trafford-council-leisure-centres", "name:sale leisure centre|postcode:M33 2AL"
    )
    assert sale is not None
    assert (sale.lon, sale.lat) == (-2.3159524585775513, 53.42488843133235)
    assert sale.opening_times.schedule is not None
    assert [(r.opens, r.closes) for r in sale.opening_times.schedule.days["sat"]] == [
        ("08:00", "18:00")
    ]

    # Demo totals per category (see the manifest for every decision behind them).
    counts = {c: store.count_assets(category=c, status="published") for c in taxonomy.ids}
    assert {c: n for c, n in counts.items() if n} == {
        "library": 13,
        "leisure_centre": 66,
        "community_centre": 6,
        "park": 96,
        "allotment": 38,
        "place_of_worship": 105,
        "food_bank": 7,
        "activity_group": 64,
        "childrens_centre": 2,
    }


def test_food_banks_sit_on_their_postcode_centroid(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    reports = _demo(store, taxonomy, postcodes)
    assert reports["gmpa-food-banks-trafford"].geocoded == 7
    banks = _by_source(store, "gmpa-food-banks-trafford")
    assert len(banks) == 7
    centroids = postcode_centroids({b.postcode for b in banks})
    for bank in banks:
        assert (bank.lon, bank.lat) == centroids[bank.postcode]
    globe = next(b for b in banks if b.name.startswith("The Globe"))
    assert (globe.postcode, globe.lon, globe.lat) == ("M16 7QB", -2.25914, 53.46241)


def test_sport_sites_are_one_asset_each_with_accessibility_from_any_row(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    report = _demo(store, taxonomy, postcodes)["sport-england-active-places-trafford"]
    # 314 facility rows; 82 "Private Use" rows dropped; 127 public sites; 6 repeat a council
    # leisure centre already stored.
    assert (report.read, report.filtered, report.merged) == (314, 82, 105)
    assert report.imported == 121 and report.duplicates == 6
    repeated = {d["reason"].split("'")[1] for d in report.duplicate_rows}
    assert repeated == {
        "BeActive Urmston",
        "Move Altrincham",
        "Move Urmston",
        "Partington Sports Village",
        "Sale Leisure Centre",
        "Stretford Sports Village, Chester Centre",
    }
    ase = store.find_by_source("sport-england-active-places-trafford", "1043459")
    assert ase is not None
    assert ase.name == "A S E Club"
    assert ase.category == "activity_group"  # only "Sports Club / Community Association"
    assert set(ase.accessibility) == {"disabled_parking", "step_free"}
    assert ase.last_verified == "2025-06-20"


def test_polygon_sources_keep_a_point_inside_and_the_footprint(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    from shapely.geometry import Point, shape

    reports = _demo(store, taxonomy, postcodes)
    worship = _by_source(store, "os-openmap-local-places-of-worship-trafford")
    assert len(worship) == 105 and reports[worship[0].source].duplicates == 13
    for asset in worship:
        assert asset.footprint is not None
        assert shape(asset.footprint).buffer(1e-7).contains(Point(asset.lon, asset.lat))
    # 30 OS allotment polygons contain a named allotment from the council/OSM list.
    green = reports["os-open-greenspace-trafford"]
    contains = [d for d in green.duplicate_rows if "outline contains" in d["reason"]]
    assert len(contains) == 30


def test_second_run_of_the_manifest_changes_nothing(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    first = _demo(store, taxonomy, postcodes)
    assets, revisions = store.count_assets(), store.count_revisions()
    second = _demo(store, taxonomy, postcodes)
    assert sum(r.imported for r in first.values()) == assets == 397
    for report in second.values():
        assert (report.imported, report.updated) == (0, 0), report.source
        assert report.unchanged == first[report.source].imported
    assert (store.count_assets(), store.count_revisions()) == (assets, revisions)


def test_bad_rows_are_reported_and_nothing_is_stored(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, hundred_csv: Path
) -> None:
    store.create_asset(
        Asset(name="Existing asset", category="library", lon=-2.3, lat=53.4), author="test"
    )
    before = (store.count_assets(), store.count_revisions())

    [report] = run_import(
        store, hundred_csv, taxonomy=taxonomy, postcodes=postcodes, progress=False
    )

    assert not report.written
    assert (report.read, report.rejected, report.valid, report.imported) == (100, 3, 97, 0)
    assert [(e["row"], e["line"], e["field"]) for e in report.errors] == [
        (12, 13, "postcode"),
        (40, 41, "lat"),
        (77, 78, "name"),
    ]
    reasons = {e["row"]: e["reason"] for e in report.errors}
    assert reasons[12].startswith(f"unknown postcode: Postcode '{UNKNOWN_POSTCODE}'")
    assert reasons[40] == "lat is NaN, not a finite number"
    assert reasons[77] == "name is missing"
    assert {e["row"]: e["value"] for e in report.errors} == {
        12: UNKNOWN_POSTCODE,
        40: "NaN",
        77: "",
    }
    assert (store.count_assets(), store.count_revisions()) == before
    text = report.to_text()
    assert "NOT WRITTEN" in text
    assert "row 40 (line 41 of the file)" in text
    assert "--skip-bad to store the 97 good row(s)" in text
    assert store.import_runs(1)[0]["report"]["written"] is False


def test_skip_bad_stores_the_good_rows(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, hundred_csv: Path
) -> None:
    [report] = run_import(
        store, hundred_csv, taxonomy=taxonomy, postcodes=postcodes, skip_bad=True, progress=False
    )
    assert report.written
    assert (report.imported, report.rejected, len(report.errors)) == (97, 3, 3)
    assert store.count_assets(status="published") == 97
    assert store.count_revisions() == 97
    assert {a.source for a in store.list_assets()} == {"trafford_sites.csv"}


def test_a_changed_row_is_one_new_revision_naming_what_changed(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    rows = real_site_rows(100)
    path = write_rows(tmp_path / "sites.csv", rows)
    [first] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert first.imported == 100

    rows[4]["description"] = "Facilities: Grass pitches (reopened 2025)"
    write_rows(path, rows)
    [second] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (second.imported, second.updated, second.unchanged) == (0, 1, 99)

    changed = store.find_by_source(
        "sites.csv", f"name:afc urmston meadowside|postcode:{rows[4]['postcode']}"
    )
    assert changed is not None and changed.revision == 2
    history = store.history(changed.id)
    assert [h.action for h in history] == ["import", "import"]
    assert history[-1].changed == ("description",)
    assert history[-1].state["description"] == "Facilities: Grass pitches (reopened 2025)"
    assert store.count_revisions() == 101


def test_reimport_keeps_a_moderators_status(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "sites.csv", real_site_rows(5))
    run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    asset = store.list_assets()[0]
    store.set_status(asset.id, "archived", author="moderator", reason="closed")
    [again] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (again.updated, again.unchanged) == (0, 5)
    assert store.get_asset(asset.id).status == "archived"


def test_reimport_keeps_staff_corrections_and_takes_the_sources_own_changes(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    rows = real_site_rows(5)
    path = write_rows(tmp_path / "sites.csv", rows)
    run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    key = f"name:{rows[0]['name'].lower()}|postcode:{rows[0]['postcode']}"
    asset = store.find_by_source("sites.csv", key)
    assert asset is not None and asset.phone == ""
    # A moderator corrects two fields, as an approved suggestion would.
    store.update_asset(
        asset.id,
        {"phone": "0161 912 2000", "description": "Pitches closed on Sundays"},
        author="user:mod",
    )
    revisions = store.count_revisions()

    # The same file again: nothing the source says has changed, so nothing is undone.
    [same] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (same.updated, same.unchanged) == (0, 5)
    assert same.kept_edits == {asset.id: ["description", "phone"]}
    note = "kept staff corrections the source has not changed since its last import"
    assert f"{note}: {asset.id} (description, phone)" in same.to_text()
    kept = store.get_asset(asset.id)
    assert (kept.phone, kept.description) == ("0161 912 2000", "Pitches closed on Sundays")
    assert store.count_revisions() == revisions

    # The source changes the description and the website: those are taken, the phone kept.
    rows[0]["description"] = "Facilities: Grass pitches (reopened 2025)"
    rows[0]["website"] = "https://www.trafford.gov.uk/sport"
    write_rows(path, rows)
    [changed] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (changed.updated, changed.unchanged) == (1, 4)
    now = store.get_asset(asset.id)
    assert now.description == "Facilities: Grass pitches (reopened 2025)"
    assert now.website == "https://www.trafford.gov.uk/sport"
    assert now.phone == "0161 912 2000"
    last = store.history(asset.id)[-1]
    assert (last.action, last.changed) == ("import", ("description", "website"))
    # The staff description stays in the history.
    assert store.history(asset.id)[-2].state["description"] == "Pitches closed on Sundays"

    # And again: the merged revision is not mistaken for what the source said, so the
    # source's blank phone still does not replace the correction.
    [again] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (again.updated, again.unchanged) == (0, 5)
    assert store.get_asset(asset.id).phone == "0161 912 2000"


def test_duplicates_within_a_file_are_reported_not_stored(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    rows = real_site_rows(3)
    twin = dict(
        rows[0], name=rows[0]["name"].upper(), postcode="", lon=str(float(rows[0]["lon"]) + 0.0003)
    )
    same_key = dict(rows[1], description="again")
    path = write_rows(tmp_path / "dups.csv", [*rows, twin, same_key])
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.written and report.imported == 3 and report.duplicates == 2
    first, second = report.duplicate_rows
    assert first["row"] == 4 and first["existing"] == "row 1"
    assert first["reason"].startswith("same name as row 1 ('A S E Club'), 20 m away")
    assert second["row"] == 5 and second["reason"].startswith("same source id")


def test_a_corrected_postcode_is_held_back_while_its_old_listing_is_published(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    # The council's libraries GeoJSON (data/assets/trafford) has no id column, so its rows
    # are keyed on name and postcode: a corrected postcode is a new key.
    with open(TRAFFORD / "council_assets_libraries_libraries.geojson", encoding="utf-8") as f:
        libraries = json.load(f)
    [(feature, hale)] = [
        (i, f)
        for i, f in enumerate(libraries["features"], start=1)
        if f["properties"]["name"] == "Hale Library"
    ]
    assert hale["properties"]["postcode"] == "WA15 9NT"
    hale["properties"]["postcode"] = "WA15 9NS"  # a real postcode, a street away
    path = tmp_path / "libraries.geojson"
    path.write_text(json.dumps(libraries), encoding="utf-8")
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        '[[source]]\nsource = "libraries"\nfile = "libraries.geojson"\ncategory = "library"\n'
        '[source.columns]\nname = "name"\npostcode = "postcode"\n',
        encoding="utf-8",
    )

    def run() -> ImportReport:
        [report] = run_import(
            store, manifest, taxonomy=taxonomy, postcodes=postcodes, progress=False
        )
        return report

    assert run().imported == 13
    old = store.find_by_source("libraries", "name:hale library|postcode:WA15 9NS")
    assert old is not None

    hale["properties"]["postcode"] = "WA15 9NT"
    path.write_text(json.dumps(libraries), encoding="utf-8")
    corrected = run()
    assert corrected.written
    assert (corrected.imported, corrected.unchanged, corrected.duplicates) == (0, 12, 1)
    [dup] = corrected.duplicate_rows
    assert (dup["row"], dup["existing"]) == (feature, old.id)
    assert dup["reason"].startswith(
        "same name as 'Hale Library' from this source, 0 m away, stored under the key "
        "'name:hale library|postcode:WA15 9NS', which no row of the file has now (this row's "
        "is 'name:hale library|postcode:WA15 9NT'). The file has no id column"
    )
    assert dup["reason"].endswith(
        f"If it is the same place, archive {old.id} (assetmap set-status {old.id} archived"
        " --reason ...) and import again"
    )
    assert f"feature {feature}  {old.id}  same name as 'Hale Library'" in corrected.to_text()
    # Listed once, and the old listing is as it was.
    assert [a.id for a in _by_source(store, "libraries") if a.name == "Hale Library"] == [old.id]
    kept = store.get_asset(old.id)
    assert (kept.status, kept.revision, kept.postcode) == ("published", 1, "WA15 9NS")

    # Once staff archive the old listing, the corrected row is imported.
    store.set_status(old.id, "archived", author="moderator", reason="listed under a new key")
    after = run()
    assert (after.imported, after.unchanged, after.duplicates) == (1, 12, 0)
    new = store.find_by_source("libraries", "name:hale library|postcode:WA15 9NT")
    assert new is not None and new.status == "published"


def test_errors_name_every_reason(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    good = real_site_rows(1)[0]
    rows = [
        dict(good, category="lido"),
        dict(good, postcode="NOT A CODE"),
        dict(good, lon="53.38898", lat="-2.351755"),
        dict(good, lon="2.3522", lat="48.8566"),
        dict(good, lat="", lon="", postcode=""),
        dict(good, lat="", lon="", postcode="M33"),  # a district cannot place a row
    ]
    path = write_rows(tmp_path / "bad.csv", rows)
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    got = {e["row"]: (e["field"], e["reason"]) for e in report.errors}
    assert got[1][0] == "category"
    assert got[1][1].startswith("unknown category 'lido'; valid categories are: library, ")
    assert got[2][0] == "postcode" and got[2][1].startswith("bad postcode:")
    assert got[3] == (
        "lat",
        "lon 53.38898, lat -2.351755 look swapped: as lat 53.38898, lon -2.351755 the point is "
        "in the UK",
    )
    assert got[4] == ("lon", "point (lon 2.3522, lat 48.8566) is outside the UK")
    assert got[5] == ("postcode", "no coordinates and no postcode: cannot place this row")
    assert [e["row"] for e in report.errors] == [1, 2, 3, 4, 5, 6]  # one error per row
    assert got[6] == ("postcode", "bad postcode: 'M33' is not a full UK postcode (like M33 7XX)")
    assert store.count_assets() == 0


@pytest.mark.parametrize(
    ("suffix", "heading", "where"),
    [
        (
            ".csv",
            "rejected rows (rows count data rows from 1; the header is line 1)",
            "row 3 (line 4 of the file)",
        ),
        (
            ".geojson",
            "rejected features (features count from 1 in the order of the file's features list)",
            "feature 3",
        ),
        (
            ".gpkg",
            "rejected features (features count from 1 in the layer's order, which is not its "
            "fid where features were deleted)",
            "feature 3",
        ),
        (
            ".shp",
            "rejected features (features count from 1 in the order of the file's records, so "
            "feature 1 is fid 0)",
            "feature 3",
        ),
    ],
)
def test_the_report_numbers_rows_as_the_file_does(
    store: Store,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    tmp_path: Path,
    suffix: str,
    heading: str,
    where: str,
) -> None:
    import geopandas as gpd

    # The council's 13 libraries (data/assets/trafford); the third, Hale Library, loses its name.
    libraries = gpd.read_file(TRAFFORD / "council_assets_libraries_libraries.geojson")
    libraries = libraries[["name", "postcode", "geometry"]].assign(category="library")
    assert libraries.loc[2, "name"] == "Hale Library"
    libraries.loc[2, "name"] = None
    path = tmp_path / f"libraries{suffix}"
    if suffix == ".csv":
        libraries.assign(lon=libraries.geometry.x, lat=libraries.geometry.y).drop(
            columns="geometry"
        ).to_csv(path, index=False)
    else:
        libraries.to_file(path, engine="pyogrio")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert [(e["row"], e["field"]) for e in report.errors] == [(3, "name")]
    text = report.to_text()
    assert f"  {heading}:" in text
    assert f"    {where}  name " in text
    if suffix != ".csv":
        assert "header" not in text and "line" not in text


def test_a_date_last_checked_in_the_future_stops_the_import(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    today = date.today().isoformat()
    path = tmp_path / "checked.csv"
    path.write_text(
        "name,category,postcode,lat,lon,last_verified\n"
        f"Altrincham Library,library,WA14 1AH,53.38705,-2.35216,{today}\n"
        "Hale Library,library,WA15 9NT,53.376032,-2.345594,2099-06-30\n",
        encoding="utf-8",
    )
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    # Listed as fresh for 70 years otherwise: the whole file waits, as for any bad row.
    assert not report.written and store.count_assets() == 0
    [error] = report.errors
    assert (error["row"], error["line"], error["field"], error["value"]) == (
        2,
        3,
        "last_verified",
        "2099-06-30",
    )
    assert error["reason"].startswith(
        f"last_verified 2099-06-30 is in the future (today is {today})"
    )
    assert "row 2 (line 3 of the file)  last_verified" in report.to_text()
    [report] = run_import(
        store, path, taxonomy=taxonomy, postcodes=postcodes, skip_bad=True, progress=False
    )
    assert [(a.name, a.last_verified) for a in store.list_assets()] == [
        ("Altrincham Library", today)
    ]


def test_cli_import_exit_status_and_report(
    store_url: str, hundred_csv: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", store_url, "import", str(hundred_csv), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "row 12 (line 13 of the file)" in result.output
    assert "NOT WRITTEN" in result.output

    result = runner.invoke(
        cli,
        ["--db", store_url, "import", str(hundred_csv), "--skip-bad", "--json", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert (report["imported"], report["rejected"], report["written"]) == (97, 3, True)
    assert [e["row"] for e in report["errors"]] == sorted(BAD_ROWS)


def test_manifest_paths_are_relative_to_the_manifest(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    write_rows(folder / "sites.csv", real_site_rows(4))
    (folder / "m.toml").write_text(
        '[[source]]\nsource = "test-sites"\nfile = "sites.csv"\ncategory = "activity_group"\n'
        'licence = "OGL"\n[source.columns]\nname = "name"\npostcode = "postcode"\n',
        encoding="utf-8",
    )
    [report] = run_import(
        store, folder / "m.toml", taxonomy=taxonomy, postcodes=postcodes, progress=False
    )
    assert report.imported == 4
    stored = store.list_assets()
    assert {a.category for a in stored} == {"activity_group"}
    # lon/lat were not mapped but are found by name, so rows keep their own coordinates.
    ase = next(a for a in stored if a.name == "A S E Club")
    assert distances_m(-2.351755, 53.38898, [ase.lon], [ase.lat])[0] < 0.01


def test_manifest_errors_stop_before_anything_is_written(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    from assetmap.domain.errors import ValidationError

    write_rows(tmp_path / "sites.csv", real_site_rows(2))
    (tmp_path / "m.toml").write_text(
        '[[source]]\nsource = "a"\nfile = "sites.csv"\ncategory = "library"\n'
        '[[source]]\nsource = "b"\nfile = "sites.csv"\ncategory = "library"\n'
        '[source.columns]\nname = "site_name"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="has no column\\(s\\) 'site_name'"):
        run_import(store, tmp_path / "m.toml", taxonomy=taxonomy, postcodes=postcodes)
    assert store.count_assets() == 0


def test_the_report_says_how_the_file_was_read(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex, tmp_path: Path
) -> None:
    row = real_site_rows(1)[0]
    header = "name,category,lat,lon,Opening Hours Note"
    line = f"Café {row['name']},{row['category']},{row['lat']},{row['lon']},ask at desk"
    path = tmp_path / "excel.csv"
    path.write_bytes(f"{header}\r\n{line}\r\n".encode("cp1252"))
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.written and report.imported == 1
    assert store.list_assets()[0].name == f"Café {row['name']}"
    text = report.to_text()
    assert "note: " in text and "Windows-1252" in text
    assert any("Opening Hours Note" in note for note in report.notes)
