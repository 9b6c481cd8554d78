"""``jsaa run --out DIR``: the folder holds exactly one complete run, and nothing else is lost.

Data: the Trafford JSAA demo run (tests/maps/jsaa_demo.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetmap.analysis.jsaa import JsaaResult
from assetmap.domain.errors import Conflict
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.jsaa_output import check_output_dir, write_output_dir
from assetmap.maps.report import SiteError


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def earlier_run(out: Path, trafford: JsaaResult, taxonomy: Taxonomy, vendor_dir: Path) -> None:
    """A run written there before, with the map of an indicator the config has since dropped."""
    write_output_dir(trafford, out, taxonomy=taxonomy, vendor_dir=vendor_dir)
    (out / "map-dropped.html").write_text("an indicator no longer in the config")
    provenance = json.loads((out / "provenance.json").read_text())
    provenance["outputs"]["map-dropped.html"] = "0" * 64
    (out / "provenance.json").write_text(json.dumps(provenance))


def test_a_rerun_replaces_the_whole_earlier_run(
    tmp_path: Path, trafford: JsaaResult, taxonomy: Taxonomy, vendor_dir: Path
) -> None:
    out = tmp_path / "out"
    earlier_run(out, trafford, taxonomy, vendor_dir)
    written = write_output_dir(trafford, out, taxonomy=taxonomy, vendor_dir=vendor_dir)
    after = files(out)
    assert "map-dropped.html" not in after
    assert set(after) == set(written)
    listed = json.loads(after["provenance.json"])["outputs"]
    assert set(listed) | {"provenance.json"} == set(after)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left beside


def test_a_failure_part_way_leaves_the_earlier_run_as_it_was(
    tmp_path: Path, trafford: JsaaResult, taxonomy: Taxonomy, vendor_dir: Path
) -> None:
    out = tmp_path / "out"
    earlier_run(out, trafford, taxonomy, vendor_dir)
    before = files(out)
    # No built vendor files: the data files are written, then the site fails.
    with pytest.raises(SiteError, match="is missing"):
        write_output_dir(trafford, out, taxonomy=taxonomy, vendor_dir=tmp_path / "novendor")
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("other", ["charts", "notes.txt", "maps/mine.html"])
def test_a_folder_holding_other_files_is_refused_and_left_alone(
    tmp_path: Path,
    trafford: JsaaResult,
    taxonomy: Taxonomy,
    vendor_dir: Path,
    other: str,
) -> None:
    out = tmp_path / "out"
    (out / other).parent.mkdir(parents=True, exist_ok=True)
    (out / other).write_text("not ours")
    with pytest.raises(Conflict, match=rf"holds files that are not the output .*\({other}\)"):
        check_output_dir(out)
    with pytest.raises(Conflict):
        write_output_dir(trafford, out, taxonomy=taxonomy, vendor_dir=vendor_dir)
    assert files(out) == {other: b"not ours"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_as_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(Conflict, match="is a file, not a folder"):
        check_output_dir(tmp_path / "out")
