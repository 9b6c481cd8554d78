"""Import manifests: the shipped Trafford manifest, templates, and errors that name the problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.importers import check_source, load_manifest
from assetmap.importers.manifest import fill_template
from assetmap.settings import REPO_ROOT

TRAFFORD = REPO_ROOT / "data" / "assets" / "trafford"


def test_trafford_manifest_names_files_inside_the_repository(taxonomy: Taxonomy) -> None:
    specs = load_manifest(TRAFFORD / "manifest.toml", taxonomy=taxonomy)
    assert [s.source for s in specs] == [
        "trafford-council-libraries",
        "trafford-council-leisure-centres",
        "trafford-council-community-hubs",
        "dfe-gias-childrens-centres-trafford",
        "gmpa-food-banks-trafford",
        "trafford-allotments-osm",
        "sport-england-active-places-trafford",
        "os-openmap-local-places-of-worship-trafford",
        "os-open-greenspace-trafford",
    ]
    for spec in specs:
        assert spec.path.parent == TRAFFORD.resolve()
        assert spec.licence.startswith("Open Government Licence v3.0")
        check_source(spec)  # file exists and has every column the spec reads
    libraries = [s for s in specs if s.path.name.startswith(("libraries", "council_assets_lib"))]
    assert len(libraries) == 1  # the council GeoJSON or the CSV, never both


def test_templates_fill_from_columns_and_vanish_when_empty() -> None:
    row = {"community_hub": "Sale", "street": "", "town": "Sale"}
    assert fill_template("{community_hub} Community Response Hub", row) == (
        "Sale Community Response Hub"
    )
    assert fill_template("town", row) == "Sale"
    assert fill_template("Street: {street}", row) == ""


def _manifest(tmp_path: Path, body: str) -> Path:
    (tmp_path / "x.csv").write_text("name,lat,lon\n", encoding="utf-8")
    path = tmp_path / "m.toml"
    path.write_text('[[source]]\nsource = "x"\nfile = "x.csv"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('category = "library"\nlicense = "OGL"\n', "unknown key\\(s\\) license"),
        ('category = "lido"\n', "unknown category 'lido'; valid categories are: library, "),
        (
            'category = "library"\n[source.fixed]\ncost = "cheap"\n',
            "fixed.cost: 'cheap' is not one of: free, low_cost, paid",
        ),
        ('category = "library"\n[source.columns]\ntitle = "name"\n', "columns.title: not an asset"),
        (
            'category = "library"\n[source.fixed]\ncost = ["free", "paid"]\n',
            r"fixed\.cost takes one value, got \['free', 'paid'\]",
        ),
        (
            'category = "library"\n[source.fixed]\nlast_verified = "March 2024"\n',
            r"fixed\.last_verified: 'March 2024' is not a date \(YYYY-MM-DD\)",
        ),
        (
            'category = "library"\n[source.accessibility.columns]\nramp = "ramps"\n',
            "'ramps' is not one of: step_free",
        ),
        ("", "'category' is required"),
        (
            'category = "library"\ncrs = "EPSG:99999"\n',
            "source 'x'.crs: 'EPSG:99999' is not a coordinate reference system; give an EPSG",
        ),
        (
            'category = "library"\n[source.group]\njoin = ["activity"]\n',
            "group: 'by' is required; its keys are by, category_order, join",
        ),
        (
            'category = "library"\n[source.accessibility]\ncolumns = ["ramp"]\n',
            r"accessibility\.columns must be a dict, got \['ramp'\]",
        ),
        (
            'category = "library"\n[source.accessibility.keywords]\nnotes = "hearing loop"\n',
            "accessibility.keywords.notes must be a dict, got 'hearing loop'",
        ),
        (
            'category = "library"\n[source.accessibility.column]\nramp = "step_free"\n',
            "accessibility: unknown key\\(s\\) column; its keys are columns, keywords, yes",
        ),
        (
            'category = "library"\n'
            '[[source]]\nsource = "x"\nfile = "x.csv"\ncategory = "library"\n',
            "source names must be unique; repeated: x",
        ),
    ],
)
def test_manifest_mistakes_are_named(
    tmp_path: Path, taxonomy: Taxonomy, body: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        load_manifest(_manifest(tmp_path, body), taxonomy=taxonomy)


def test_a_fixed_date_may_be_a_toml_date(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = _manifest(tmp_path, 'category = "library"\n[source.fixed]\nlast_verified = 2024-03-14\n')
    [spec] = load_manifest(path, taxonomy=taxonomy)
    assert spec.fixed["last_verified"] == date(2024, 3, 14)


def test_missing_file_is_named(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[[source]]\nsource = "x"\nfile = "gone.csv"\ncategory = "library"\n')
    [spec] = load_manifest(path, taxonomy=taxonomy)
    with pytest.raises(ValidationError, match=r"gone\.csv does not exist"):
        check_source(spec)


def test_a_manifest_saved_with_a_byte_order_mark_loads(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = _manifest(tmp_path, 'category = "library"\n')
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Windows Notepad saves UTF-8
    [spec] = load_manifest(path, taxonomy=taxonomy)
    assert spec.source == "x"


def test_a_manifest_that_is_not_utf8_is_named_with_its_line(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    path = _manifest(tmp_path, 'category = "library"\nlicence = "Caf\u00e9 list"\n')
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(ValidationError, match=r"m\.toml is not UTF-8: byte 0xE9 on line 5"):
        load_manifest(path, taxonomy=taxonomy)


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_source_name_is_refused(tmp_path: Path, taxonomy: Taxonomy, name: str) -> None:
    # The source is half of every asset's import key: "" and "   " both stored as "" and
    # took each other's assets for their own.
    (tmp_path / "x.csv").write_text("name,lat,lon\n", encoding="utf-8")
    path = tmp_path / "m.toml"
    path.write_text(
        f'[[source]]\nsource = "{name}"\nfile = "x.csv"\ncategory = "library"\n', encoding="utf-8"
    )
    with pytest.raises(
        ValidationError, match="source 1: 'source' is blank; give the source a name"
    ):
        load_manifest(path, taxonomy=taxonomy)
