"""``assetmap nearby``: the same results as the API, a readable table, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from assetmap.analysis.nearby import parse_nearby_query
from assetmap.cli import _option_wording, main
from assetmap.domain.asset import Asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.analysis.test_nearby_query import BAD_INPUT
from tests.analysis.trafford import load_trafford
from tests.cli_main import run_main


@pytest.fixture
def trafford(store: Store) -> list[Asset]:
    return load_trafford(store)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str
) -> tuple[int, str, str]:
    """``assetmap --db URL nearby ARGS...``: (exit status, stdout, stderr)."""
    return run_main(monkeypatch, capsys, "--db", url, "nearby", *args)


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
    # Both pass on each asset's source and licence, as stored (its licence asks for credit).
    stored = {a.id: (a.source, a.licence) for a in trafford}
    for record in from_cli["results"] + from_cli["hours_unknown"]:
        assert (record["source"], record["licence"]) == stored[record["id"]]
        assert record["licence"].startswith("Open Government Licence v3.0")


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


@pytest.mark.parametrize(
    ("radius", "shown"),
    [
        (["--radius", "12345.678"], "within 12,345.678 m of"),
        (["--radius", "49999.999"], "within 49,999.999 m of"),
        (["--radius", "1600"], "within 1,600 m of"),
        (["--radius", "0.000621", "--unit", "mi"], "within 0.000621 mi of"),
        (["--radius", "2.5", "--unit", "km"], "within 2.5 km of"),
    ],
)
def test_table_names_the_radius_searched(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
    radius: list[str],
    shown: str,
) -> None:
    # The search uses the radius to the millimetre; the heading must not round it to 6
    # significant figures (12345.7 m) or, at 49,999.999 m, up to 50000 m.
    status, out, _ = run_cli(monkeypatch, capsys, store.url, "--postcode", "M32 0TH", *radius)
    assert status == 0
    assert shown in out.splitlines()[0]


def test_table_with_open_on_says_what_is_counted_and_shown(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
) -> None:
    args = ("--postcode", "M32 0TH", "--open-on", "Mon 14:00", "--format")
    _, raw, _ = run_cli(monkeypatch, capsys, store.url, *args, "json")
    data = json.loads(raw)
    assert data["total"] >= 1 and data["hours_unknown_total"] > 3
    status, out, _ = run_cli(monkeypatch, capsys, store.url, *args, "table", "--limit", "3")
    assert status == 0
    lines = out.splitlines()
    # the total counts the places open then, not every place within the radius
    assert lines[0].startswith(f"{data['total']} result")
    assert " open on mon 14:00 within 1 mi of M32 0TH" in lines[0]
    unknown = lines.index(f"Opening hours unknown ({data['hours_unknown_total']}, showing 1–3):")
    assert [line.split()[0] for line in lines[unknown + 2 : unknown + 5]] == ["1", "2", "3"]


def test_table_past_the_last_result_says_so(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
) -> None:
    args = ("--postcode", "M32 0TH", "--category", "library", "--radius", "1.5", "--unit", "mi")
    status, out, _ = run_cli(monkeypatch, capsys, store.url, *args, "--offset", "5")
    assert status == 0
    # a count and nothing under it read as a failure; the table says why none are listed
    assert out.splitlines() == [
        "3 results within 1.5 mi of M32 0TH",
        "",
        "None shown: --offset 5 skips all 3.",
    ]
    args = ("--postcode", "M32 0TH", "--open-on", "mon 14:00", "--format", "json")
    _, raw, _ = run_cli(monkeypatch, capsys, store.url, *args)
    unknown_total = json.loads(raw)["hours_unknown_total"]
    offset = str(unknown_total)
    _, out, _ = run_cli(monkeypatch, capsys, store.url, *args[:-1], "table", "--offset", offset)
    lines = out.splitlines()
    assert lines[-2:] == [
        f"Opening hours unknown ({unknown_total}):",
        f"None shown: --offset {offset} skips all {unknown_total}.",
    ]


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


def test_table_strips_bidirectional_controls_and_line_separators(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    trafford: list[Asset],
) -> None:
    library = next(a for a in trafford if a.name == "Trafford Town Hall Library")
    # A right-to-left override would show the rest of the row (postcode, phone) reversed; a
    # line separator would start a new line in the middle of the row.
    store.update_asset(
        library.id,
        {"name": "Town Hall\u202eyrarbiL\u2066 x\u2028y", "phone": "0161 912 3168"},
        author="test",
    )
    status, out, _ = run_cli(
        monkeypatch, capsys, store.url, "--postcode", "M32 0TH", "--category", "library"
    )
    assert status == 0
    assert not set(out) & {"\u202e", "\u2066", "\u2028"}
    row = out.splitlines()[3].split()
    assert row[:8] == ["1", "33", "m", "/", "0.02", "mi", "1", "min"]
    assert row[8:13] == ["Town", "HallyrarbiL", "x", "y", "Library"]
    assert "M32 0TH" in out.splitlines()[3] and "0161 912 3168" in out.splitlines()[3]


TAXONOMY_LIST = "library, leisure_centre, community_centre"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "say where to search: give --postcode (a postcode like M32 0TH, a sector like"
            " M32 0 or a district like M32), or --lat and --lon",
        ),
        (["--postcode", "M32 0TH", "--lat", "53.4"], "give either --postcode or --lat and --lon"),
        (["--lon", "-2.3"], "--lat is missing: give both --lat and --lon, or --postcode"),
        (["--lat", "x", "--lon", "-2.3"], "--lat 'x' is not a number"),
        (["--lat", "nan", "--lon", "-2.3"], "--lat must be a finite number, not 'nan'"),
        (["--lat", "53.4", "--lon", "-181"], "--lon -181 is outside -180..180"),
        (["--lat", "53.4", "--lon", "99"], "point (--lon 99.0, --lat 53.4) is outside the UK"),
        (["--lat", "-2.3", "--lon", "53.4"], "--lon 53.4, --lat -2.3 look swapped: as --lat"),
        (["--postcode", "M32 0QQ"], "--postcode: Postcode 'M32 0QQ' is not in the postcode"),
        (["--postcode", "ZZ99 9ZZ"], "--postcode: 'ZZ99 9ZZ' is not a UK postcode"),
        (
            ["--postcode", "M32 0TH", "--unit", "miles"],
            "--unit needs --radius: give both, e.g. --radius 1 --unit mi (without --unit,"
            " --radius is in metres)",
        ),
        (["--postcode", "M32 0TH", "--radius", " ", "--unit", "mi"], "--unit needs --radius"),
        (
            ["--postcode", "M32 0TH", "--radius", "1", "--unit", "furlong"],
            "--unit 'furlong' is not one of: m, km, mi",
        ),
        (["--postcode", "M32 0TH", "--radius", "far"], "--radius 'far' is not a number"),
        (
            ["--postcode", "M32 0TH", "--radius", "60000"],
            "--radius must be more than 0 and at most 50000 m (50 km), not 60000 m",
        ),
        (
            ["--postcode", "M32 0TH", "--radius", "0.0001"],
            "--radius '0.0001 m' is less than 1 mm (0.001 m), the smallest radius",
        ),
        (
            ["--postcode", "M32 0TH", "--category", "zoo"],
            f"unknown --category 'zoo'; valid categories are: {TAXONOMY_LIST}",
        ),
        (["--postcode", "M32 0TH", "--q", "!!!"], "--q '!!!' has no letters or digits"),
        (["--postcode", "M32 0TH", "--q", "x" * 201], "--q is 201 characters; at most 200"),
        (
            # Bytes that are not UTF-8 on a command line reach Python as lone surrogates.
            ["--postcode", "M32 0TH", "--q", "caf\udce9"],
            "--q is not valid UTF-8 text: it holds the byte 0xE9, which is not part of any",
        ),
        (["--postcode", "M32 0TH", "--cost", "cheap"], "--cost 'cheap' is not one of: free,"),
        (["--postcode", "M32 0TH", "--access", "lift"], "--access 'lift' is not one of: step"),
        (["--postcode", "M32 0TH", "--audience", "all"], "--audience 'all' is not one of: every"),
        (
            ["--postcode", "M32 0TH", "--open-on", "noon"],
            "--open-on 'noon' is not a day and 24-hour time like 'mon 14:00' (days: mon,",
        ),
        (
            ["--postcode", "M32 0TH", "--limit", "many"],
            "--limit must be a whole number from 1 to 500, not 'many'",
        ),
        (["--postcode", "M32 0TH", "--offset", "-1"], "--offset must be a whole number from 0"),
        (["--postcode", "M32 0TH", "--format", "xml"], "--format 'xml' is not one of: table, json"),
    ],
)
def test_bad_input_is_one_error_line_naming_the_option(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    args: list[str],
    message: str,
) -> None:
    status, out, err = run_cli(monkeypatch, capsys, store.url, *args)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {message}")
    # Options, as typed: never the API's parameter names or URL syntax.
    for url_word in ("field '", "radius_m", "open_on", "unit=", "&", "%"):
        assert url_word not in err


@pytest.mark.parametrize(("params", "field", "words"), BAD_INPUT)
def test_every_parser_error_has_option_words(
    taxonomy: Taxonomy, params: dict[str, str | list[str]], field: str, words: str
) -> None:
    # Those the command cannot send too (radius_m, a radius with no unit): the wording has
    # words for every one.
    wording = _option_wording()
    with pytest.raises(ValidationError) as caught:
        parse_nearby_query(
            params, taxonomy=taxonomy, postcodes=load_default_index(), wording=wording
        )
    assert caught.value.field == field
    assert wording.name(field) in caught.value.message
    for url_word in ("radius_m", "open_on", "unit=", "&", "%"):
        assert url_word not in caught.value.message


def test_the_api_and_page_keep_their_parameter_names(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    store: Store,
) -> None:
    # The CLI has the shared parser word its errors for the command; the web's stay as they were.
    client = create_app(settings, store=store).test_client()
    api = client.get("/api/v1/assets/nearby?postcode=M32+0TH&unit=miles")
    assert api.status_code == 400
    assert api.get_json()["error"] == {
        "field": "unit",
        "message": "unit needs a radius: give radius=1&unit=mi, or radius_m in metres",
    }
    page = client.get("/nearby?postcode=M32+0TH&open_on=noon")
    assert page.status_code == 400
    shown = page.get_data(as_text=True)
    assert "Open on &#39;noon&#39; is not a day" in shown and "--open-on" not in shown
    status, _, err = run_cli(
        monkeypatch, capsys, store.url, "--postcode", "M32 0TH", "--unit", "mi"
    )
    assert status == 2 and err.startswith("error: --unit needs --radius")


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
