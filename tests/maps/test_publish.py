"""Publishing: dated static releases under maps/<slug>/, the index pages, and the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assetmap.analysis.jsaa import JsaaResult
from assetmap.cli import cli
from assetmap.domain import local_time
from assetmap.domain.errors import Conflict, ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.publish import (
    EARLIEST_RELEASE,
    check_date,
    list_releases,
    publish_release,
    write_indexes,
)
from assetmap.store import open_store
from tests.maps.html_tables import html_tables
from tests.maps.jsaa_demo import CONFIG, RELEASE_DATE, load_demo_assets


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory,
    trafford: JsaaResult,
    taxonomy: Taxonomy,
    vendor_dir: Path,
) -> Path:
    root = tmp_path_factory.mktemp("maps")
    publish_release(trafford, root, taxonomy=taxonomy, vendor_dir=vendor_dir, on=RELEASE_DATE)
    return root


def test_a_release_is_the_whole_site_under_slug_and_date(published: Path) -> None:
    release = published / "trafford" / RELEASE_DATE
    for name in (
        "index.html",
        "report.html",
        "map-gap.html",
        "areas.csv",
        "provenance.json",
        "vendor/leaflet/leaflet.js",
        "charts/gap-map.png",
    ):
        assert (release / name).is_file(), name
    assert not list(published.rglob(".*")), "no hidden staging folder is left"


def test_index_pages_list_the_releases(published: Path) -> None:
    top = (published / "index.html").read_text(encoding="utf-8")
    assert 'href="trafford/index.html"' in top
    assert f'href="trafford/{RELEASE_DATE}/report.html"' in top
    assert 'href="_site/vendor/assetmap/assetmap.css"' in top
    assert (published / "_site" / "assets" / "jsaa.css").is_file()
    slug = (published / "trafford" / "index.html").read_text(encoding="utf-8")
    rows = [r for t in html_tables(slug).values() for r in t[1:]]
    assert rows[0][0] == "23 November 2026"
    assert f'href="{RELEASE_DATE}/map-gap.html"' in slug
    assert f"/maps/trafford/{RELEASE_DATE}/map-gap.html" in slug  # the embed snippet
    assert 'href="../_site/vendor/assetmap/assetmap.css"' in slug


def test_publishing_the_same_day_again_needs_replace(
    published: Path, tmp_path: Path, trafford: JsaaResult, taxonomy: Taxonomy, vendor_dir: Path
) -> None:
    root = tmp_path / "maps"
    shutil.copytree(published, root)
    with pytest.raises(Conflict, match="--replace"):
        publish_release(trafford, root, taxonomy=taxonomy, vendor_dir=vendor_dir, on=RELEASE_DATE)
    marker = root / "trafford" / RELEASE_DATE / "stale.txt"
    marker.write_text("from the release that is replaced")
    publish_release(
        trafford, root, taxonomy=taxonomy, vendor_dir=vendor_dir, on=RELEASE_DATE, replace=True
    )
    assert not marker.exists()
    publish_release(trafford, root, taxonomy=taxonomy, vendor_dir=vendor_dir, on="2026-01-05")
    dates = [r.date for r in list_releases(root)["trafford"]]
    assert dates == [RELEASE_DATE, "2026-01-05"]
    assert not list(root.rglob(".*"))


def test_an_unfinished_release_is_never_listed(
    published: Path, tmp_path: Path, vendor_dir: Path
) -> None:
    root = tmp_path / "maps"
    shutil.copytree(published, root)
    # A publish that died half-way: a hidden staging folder, and a dated folder with no data.
    (root / "trafford" / ".2027-02-01.incoming-1234").mkdir()
    (root / "trafford" / "2027-02-02").mkdir()
    write_indexes(root, vendor_dir=vendor_dir)
    assert [r.date for r in list_releases(root)["trafford"]] == [RELEASE_DATE]
    assert "2027-02" not in (root / "trafford" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("slug", "on", "field"),
    [
        ("Trafford Council", None, "slug"),
        ("../up", None, "slug"),
        ("trafford", "2026-02-30", "date"),
        ("trafford", "23/11/2026", "date"),
        ("trafford", "0001-01-01", "date"),
        ("trafford", "9999-12-31", "date"),
    ],
)
def test_slug_and_date_are_checked(
    tmp_path: Path,
    trafford: JsaaResult,
    taxonomy: Taxonomy,
    vendor_dir: Path,
    slug: str,
    on: str | None,
    field: str,
) -> None:
    with pytest.raises(ValidationError) as err:
        publish_release(
            trafford, tmp_path, taxonomy=taxonomy, vendor_dir=vendor_dir, slug=slug, on=on
        )
    assert err.value.field == field
    assert not list(tmp_path.iterdir())


def test_cli_publish_writes_a_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store = open_store(url)
    try:
        load_demo_assets(store)
    finally:
        store.close()
    root = tmp_path / "maps"
    args = [
        "--db",
        url,
        "jsaa",
        "publish",
        str(CONFIG),
        "--maps-dir",
        str(root),
        "--date",
        "2026-11-01",
        "--no-progress",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"published {root / 'trafford' / '2026-11-01'}" in result.output
    assert (root / "trafford" / "2026-11-01" / "report.html").is_file()

    # Refused before the assessment runs, not minutes later, as is a slug that cannot be a
    # folder.
    def no_run(*_args: object, **_kw: object) -> None:
        raise AssertionError("the assessment ran")

    monkeypatch.setattr("assetmap.analysis.jsaa.run_jsaa", no_run)
    again = CliRunner().invoke(cli, args)
    assert isinstance(again.exception, Conflict), again.exception
    bad_slug = CliRunner().invoke(cli, [*args, "--slug", "Trafford 2026"])
    assert isinstance(bad_slug.exception, ValidationError), bad_slug.exception
    assert bad_slug.exception.field == "slug"


def test_a_release_date_is_not_in_the_future_nor_before_jsnas_began() -> None:
    today = date(2026, 11, 23)
    # Tomorrow is accepted: a publisher ahead of UTC is already there.
    assert check_date("2026-11-24", today=today) == "2026-11-24"
    assert check_date("2008-04-01", today=today) == "2008-04-01"
    with pytest.raises(
        ValidationError, match=r"2026-11-25 is in the future \(today is 2026-11-23\)"
    ):
        check_date("2026-11-25", today=today)
    with pytest.raises(ValidationError, match="before 2008-04-01, when Joint Strategic Needs"):
        check_date("2008-03-31", today=today)
    assert date(2008, 4, 1) == EARLIEST_RELEASE


def test_a_release_is_dated_today_in_utc_as_the_date_check_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetmap.maps import publish

    # 00:30 on 24 November where the machine is, 23:30 on the 23rd in UTC.
    utc_now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return utc_now.astimezone(tz) if tz else datetime(2026, 11, 24, 0, 30)

    class Calendar(date):
        @classmethod
        def today(cls) -> Any:
            return date(2026, 11, 24)

    monkeypatch.setattr(publish, "datetime", Clock)
    monkeypatch.setattr(publish, "Date", Calendar)
    target = publish.check_release(tmp_path, "trafford", None, replace=False)
    assert target == tmp_path / "trafford" / "2026-11-23"


@pytest.mark.parametrize("when", ["future", "floor"])
def test_cli_publish_refuses_an_impossible_date_before_running(tmp_path: Path, when: str) -> None:
    day = (
        (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
        if when == "future"
        else "0001-01-01"
    )
    root = tmp_path / "maps"
    url = f"sqlite:///{tmp_path / 'never-opened.db'}"
    args = ["--db", url, "jsaa", "publish", str(CONFIG), "--maps-dir", str(root), "--date", day]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--date'" in result.output
    reason = "is in the future" if when == "future" else "is before 2008-04-01"
    assert f"date {day} {reason}" in result.output
    assert not root.exists() and not (tmp_path / "never-opened.db").exists()


def test_cli_publish_help_states_the_date_rule() -> None:
    text = " ".join(CliRunner().invoke(cli, ["jsaa", "publish", "--help"]).output.split())
    assert "Not later than tomorrow" in text
    assert f"nor before {EARLIEST_RELEASE.isoformat()}" in text


def test_the_shipped_demo_release_is_what_publishing_writes_now(published: Path) -> None:
    # maps/trafford/ ships so /maps/ has content on a fresh clone; re-publish it (README,
    # "Maps, report and publishing") whenever what a release holds changes.
    shipped = Path(__file__).resolve().parents[2] / "maps" / "trafford" / RELEASE_DATE
    fresh = published / "trafford" / RELEASE_DATE

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert files(shipped) == files(fresh)
    # The table's columns and areas match (values use the store's ids, which differ).
    for name in ("areas.csv", "areas-columns.csv"):
        shipped_lines = (shipped / name).read_text("utf-8").splitlines()
        fresh_lines = (fresh / name).read_text("utf-8").splitlines()
        assert shipped_lines[0] == fresh_lines[0], name
        assert [r.split(",")[0] for r in shipped_lines] == [r.split(",")[0] for r in fresh_lines]
    for page in ("map-gap.html", "map-need.html"):
        assert "Data sources and licences" in (shipped / page).read_text("utf-8"), page
    # Provenance holds what it holds now (the store named as it is named now) ...
    shipped_provenance = json.loads((shipped / "provenance.json").read_text("utf-8"))
    fresh_provenance = json.loads((fresh / "provenance.json").read_text("utf-8"))
    assert set(shipped_provenance) == set(fresh_provenance)
    assert shipped_provenance["store"].keys() == fresh_provenance["store"].keys()
    # ... and the pages without a map (whose element ids are random) are the same, but for
    # when each release was generated.
    was, now = shipped_provenance["generated_at"], fresh_provenance["generated_at"]
    for page in ("index.html", "report.html"):
        fresh_html = (fresh / page).read_text("utf-8")
        fresh_html = fresh_html.replace(now, was).replace(
            local_time.when(now), local_time.when(was)
        )
        assert (shipped / page).read_text("utf-8") == fresh_html, page
    # Style sheets are copied as they are: a changed rule must reach the shipped copies.
    site = shipped.parents[1] / "_site"
    assert files(site) == files(published / "_site")
    for name in files(site):
        assert (site / name).read_bytes() == (published / "_site" / name).read_bytes(), name
    for name in files(shipped / "assets"):
        assert (shipped / "assets" / name).read_bytes() == (fresh / "assets" / name).read_bytes()
