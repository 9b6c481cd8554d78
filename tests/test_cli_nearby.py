"""``assetmap nearby``: the same results as the API, a readable table, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from assetmap.cli import main
from assetmap.domain.asset import Asset
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.analysis.trafford import load_trafford


@pytest.fixture
def trafford(store: Store) -> list[Asset]:
    return load_trafford(store)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str
) -> tuple[int, str, str]:
    """Run the installed entry point in-process; returns (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["assetmap", "--db", url, "nearby", *args])
    try:
        main()
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("args", "query"),
    [
        (
            ["--postcode", "M32 0TH", "--radius", "1600", "--category", "library"],
            "postcode=M32+0TH&radius=1600&unit=m&category=library",
        ),
        (
            ["--lat", "53.42", "--lon", "-2.35", "--radius", "5", "--unit", "km", "--q", "café"],
            "lat=53.42&lon=-2.35&radius=5&unit=km&q=caf%C3%A9",
        ),
        (
            [
                "--postcode",
                "M33",
                "--radius",
                "3",
                "--unit",
                "mi",
                "--cost",
                "free",
                "--cost",
                "time_credits",
                "--access",
                "step_free",
                "--audience",
                "carers",
                "--open-on",
                "sat 10:00",
                "--limit",
                "5",
                "--offset",
                "2",
            ],
            "postcode=M33&radius=3&unit=mi&cost=free&cost=time_credits&access=step_free"
            "&audience=carers&open_on=sat+10:00&limit=5&offset=2",
        ),
    ],
)
def test_json_equals_the_api(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    store: Store,
    trafford: list[Asset],
    args: list[str],
    query: str,
) -> None:
    status, out, err = run_cli(monkeypatch, capsys, store.url, *args, "--format", "json")
    assert (status, err) == (0, "")
    from_cli: dict[str, Any] = json.loads(out)
    from_api = create_app(settings, store=store).test_client().get(f"/api/v1/assets/nearby?{query}")
    assert from_api.status_code == 200
    assert from_cli == from_api.get_json()
    assert from_cli["total"] > 0 or from_cli["hours_unknown_total"] > 0


def test_table_is_readable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
) -> None:
    status, out, _ = run_cli(
        monkeypatch,
        capsys,
        store.url,
        "--postcode",
        "M32 0TH",
        "--radius",
        "1.5",
        "--unit",
        "mi",
        "--category",
        "library",
    )
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "3 results within 1.5 mi of M32 0TH"
    assert lines[2].split() == [
        "#",
        "Distance",
        "Walk*",
        "Name",
        "Category",
        "Postcode",
        "Phone",
        "Verified",
    ]
    assert lines[3].startswith("1  33 m / 0.02 mi") and "Trafford Town Hall Library" in lines[3]
    assert "Old Trafford Library at Limelight" in lines[4] and "Stretford Library" in lines[5]
    assert lines[-1].startswith("* walking time along a straight line at 4.8 km/h")
    _, page, _ = run_cli(
        monkeypatch,
        capsys,
        store.url,
        "--postcode",
        "M32 0TH",
        "--radius",
        "1.5",
        "--unit",
        "mi",
        "--category",
        "library",
        "--limit",
        "1",
        "--offset",
        "1",
    )
    assert page.splitlines()[0] == "3 results within 1.5 mi of M32 0TH, showing 2–2"
    assert page.splitlines()[3].startswith("2  1,720 m / 1.07 mi  22 min")


def test_table_strips_control_characters(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
) -> None:
    library = next(a for a in trafford if a.name == "Trafford Town Hall Library")
    store.update_asset(library.id, {"name": "Town Hall\x1b[31m Library\x07"}, author="test")
    status, out, _ = run_cli(
        monkeypatch, capsys, store.url, "--postcode", "M32 0TH", "--category", "library"
    )
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "Town Hall [31m Library" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "field 'postcode': say where to search"),
        (
            ["--postcode", "M32 0QQ"],
            "field 'postcode': Postcode 'M32 0QQ' is not in the postcode directory",
        ),
        (["--postcode", "M32 0TH", "--lat", "53.4", "--lon", "-2.3"], "not both"),
        (["--lat", "nan", "--lon", "-2.3"], "field 'lat': lat must be a finite number"),
        (
            ["--postcode", "M32 0TH", "--radius", "60000"],
            "field 'radius': radius must be more than 0",
        ),
        (["--postcode", "M32 0TH", "--category", "zoo"], "valid categories are: library"),
        (["--postcode", "M32 0TH", "--open-on", "noon"], "field 'open_on'"),
        (["--postcode", "M32 0TH", "--limit", "many"], "field 'limit'"),
        (["--postcode", "M32 0TH", "--format", "xml"], "field 'format'"),
    ],
)
def test_bad_input_is_one_error_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    args: list[str],
    words: str,
) -> None:
    status, out, err = run_cli(monkeypatch, capsys, store.url, *args)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert words in err


@pytest.mark.parametrize(
    "command",
    [
        ["nearby", "--postcode", "M32 0TH"],
        ["export", "assets", "--format", "csv", "-o", "out.csv"],
        ["users", "list"],
        ["cluster"],
    ],
)
def test_a_store_that_does_not_exist_is_named_not_created(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    # A mistyped --db must not answer "0 results" from a new, empty file.
    missing = tmp_path / "typo" / "assetmap.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["assetmap", "--db", f"sqlite:///{missing}", *command])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"error: there is no store at {missing}: create one with `assetmap init`" in err
    assert not missing.parent.exists()
    assert not (tmp_path / "out.csv").exists()

    # An empty file is not a store either (SQLite would quietly build one in it).
    missing.parent.mkdir()
    missing.touch()
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert "there is no store at" in capsys.readouterr().err
    assert missing.stat().st_size == 0
