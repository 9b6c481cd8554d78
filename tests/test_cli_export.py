"""``assetmap export assets``: what a mistyped or taken output path says, and what it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.cli_main import run_main
from tests.maps.trafford import LIBRARIES, create_all


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A folder of its own for exports (the SQLite store's files are in tmp_path)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_an_existing_file_is_refused_unless_replace_is_given(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
    exports: Path,
    fmt: str,
) -> None:
    create_all(store, LIBRARIES, taxonomy)
    out = exports / f"assets.{fmt}"
    out.write_text("corrected by hand", encoding="utf-8")

    def export(*extra: str) -> tuple[int, str, str]:
        args = ("--db", store_url, "export", "assets", "--format", fmt, "-o", str(out), *extra)
        return run_main(monkeypatch, capsys, *args)

    assert export() == (
        2,
        "",
        f"error: {out} already exists: give another file name, or --replace to overwrite it\n",
    )
    assert out.read_text(encoding="utf-8") == "corrected by hand"
    status, stdout, _err = export("--replace")
    assert (status, stdout) == (0, f"wrote {len(LIBRARIES)} published assets to {out}\n")
    assert out.read_text(encoding="utf-8", errors="replace") != "corrected by hand"
    assert [p.name for p in exports.iterdir()] == [out.name]


def test_a_path_that_cannot_be_written_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
    exports: Path,
) -> None:
    create_all(store, LIBRARIES, taxonomy)
    notes = exports / "notes.txt"
    notes.write_text("", encoding="utf-8")
    out = notes / "assets.gpkg"  # a file where its folder should be
    status, stdout, stderr = run_main(
        monkeypatch,
        capsys,
        "--db",
        store_url,
        "export",
        "assets",
        "--format",
        "gpkg",
        "-o",
        str(out),
    )
    assert (status, stdout, stderr) == (2, "", f"error: cannot write {out}: File exists\n")
    assert [p.name for p in exports.iterdir()] == ["notes.txt"]
