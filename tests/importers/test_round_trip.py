"""The app's own exports import back: into a fresh store with the same content, and into the
store they came from as corrections of the assets they name, changing nothing else."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from assetmap.domain.asset import CONTENT_FIELDS, Asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.services.exporting import export_assets
from assetmap.services.importing import load_demo, run_import
from assetmap.store import Store, open_store

# The export writes points, not outlines; everything else must come back as it was, each
# asset's source included.
COMPARED = [f for f in CONTENT_FIELDS if f != "footprint"]


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> Iterator[Store]:
    """The Trafford demo, with every field of Sale Leisure Centre filled."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    [sale] = [a for a in store.list_assets(status="published") if a.name == "Sale Leisure Centre"]
    # Its own number in the international form, which the CSV export guards with an apostrophe
    # as it does the name; the list fields and the rest are ones no demo source fills.
    store.update_asset(
        sale.id,
        {
            "name": "-Sale Leisure Centre-",
            # Text that itself starts as the export's guard does keeps its apostrophe.
            "description": "'+ve Steps' sessions: the guard's apostrophe and then text's own",
            "phone": "+44 161 749 2570",
            "currencies": ("cash", "personal_budget"),
            "accessibility": ("step_free", "changing_places"),
            "audience": ("everyone", "families"),
            "provider_type": "voluntary_community",
            "last_verified": "2025-06-30",
        },
        author="test",
    )
    yield store
    store.close()


def _content(assets: list[Asset]) -> dict[str, dict[str, object]]:
    return {a.source_id: {f: getattr(a, f) for f in COMPARED} for a in assets}


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_an_export_imports_into_a_fresh_store_unchanged(
    demo: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex, fmt: str
) -> None:
    path = tmp_path / f"assets.{fmt}"
    exported = export_assets(demo, fmt, path)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        [report] = run_import(fresh, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
        assert report.errors == [] and report.written
        assert report.imported == exported == demo.count_assets(status="published") > 390
        before = _content(demo.list_assets(status="published"))
        after = _content(fresh.list_assets(status=None))
        assert after == before
        sale = after["name:sale leisure centre|postcode:M33 2AL"]
        assert (sale["name"], sale["phone"]) == ("-Sale Leisure Centre-", "+44 161 749 2570")
        assert str(sale["description"]).startswith("'+ve Steps'")
        assert sale["currencies"] == ("cash", "personal_budget")
    finally:
        fresh.close()


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_an_export_imported_into_its_own_store_changes_nothing(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex, fmt: str
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / f"assets.{fmt}"
    exported = export_assets(store, fmt, path)
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    # Every row is the stored asset it names: not a duplicate of it, and not new.
    assert (report.imported, report.updated, report.duplicates) == (0, 0, 0)
    assert report.unchanged == exported == store.count_assets(status=None) > 390
    assert store.count_revisions() == revisions
    assert any(f"{exported} row(s) name a stored asset by their id" in n for n in report.notes)


def test_one_cell_corrected_in_an_exported_csv_is_one_revision(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    export_assets(store, "csv", path)
    text = path.read_text(encoding="utf-8-sig")
    # A S E Club (Sport England Active Places), whose number is in the file once.
    assert text.count("0161 928 1765") == 1
    path.write_text(text.replace("0161 928 1765", "0161 928 1766"), encoding="utf-8-sig")
    [club] = [a for a in store.list_assets(status=None) if a.phone == "0161 928 1765"]
    revisions = store.count_revisions()
    [report] = run_import(
        store, path, taxonomy=taxonomy, postcodes=postcodes, author="commissioner", progress=False
    )
    assert (report.imported, report.updated, report.duplicates) == (0, 1, 0)
    assert store.count_revisions() == revisions + 1
    last = store.history(club.id)[-1]
    assert (last.action, last.author, last.changed) == ("update", "commissioner", ("phone",))
    assert store.get_asset(club.id).phone == "0161 928 1766"
    # A correction, as a moderator's edit is: the source's next import keeps it.
    reports = load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert store.get_asset(club.id).phone == "0161 928 1766"
    assert any(r.kept_edits.get(club.id) == ["phone"] for r in reports)


def test_coordinates_a_spreadsheet_rounded_are_not_a_move(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # Sale Leisure Centre as the Trafford leisure centres file places it (OGL), to 16 digits.
    sale = store.create_asset(
        Asset(
            name="Sale Leisure Centre",
            category="leisure_centre",
            lon=-2.3159524585775513,
            lat=53.42488843133235,
            source="trafford-council-leisure-centres",
            source_id="sale",
        ),
        author="test",
    )
    path = tmp_path / "assets.csv"
    export_assets(store, "csv", path)
    text = path.read_text(encoding="utf-8-sig")
    # Excel keeps 15 significant digits: about a nanometre here, not a move.
    rounded = text.replace("-2.3159524585775513", f"{sale.lon:.15g}")
    assert rounded != text
    path.write_text(rounded, encoding="utf-8-sig")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.unchanged, report.updated) == (1, 0)
    # Two metres east is a move, and the point is saved as the file gives it.
    path.write_text(text.replace("-2.3159524585775513", "-2.31592"), encoding="utf-8-sig")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.updated == 1
    moved = store.get_asset(sale.id)
    assert (moved.lon, moved.lat, store.history(sale.id)[-1].changed) == (
        -2.31592,
        53.42488843133235,
        ("lon",),
    )


def _resave(path: Path, edit: Callable[[str, str], str]) -> None:
    """Save an exported CSV again as Excel saves "CSV UTF-8", each cell through ``edit``.

    ``edit(column, cell)`` gives the cell as Excel writes it back. Excel writes a byte-order
    mark, CR LF line ends and quotes only the cells that need them.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows[1:]:
            writer.writerow([edit(col, cell) for col, cell in zip(header, row, strict=True)])


def _excel_date(form: str) -> Callable[[str, str], str]:
    """Excel's rewriting of ISO dates: it opens them as dates and saves them in ``form``."""

    def edit(column: str, cell: str) -> str:
        if column != "last_verified" or not cell:
            return cell
        return date.fromisoformat(cell).strftime(form)

    return edit


# Excel's UK short date; where a column is formatted as date and time; a "d-mmm-yy" set-up.
EXCEL_DATE_FORMS = ["%d/%m/%Y", "%d/%m/%Y 00:00", "%d-%b-%y"]


@pytest.mark.parametrize("form", EXCEL_DATE_FORMS)
def test_dates_excel_saved_in_its_uk_form_are_unchanged(
    store: Store,
    tmp_path: Path,
    taxonomy: Taxonomy,
    postcodes: PostcodeIndex,
    form: str,
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    exported = export_assets(store, "csv", path)
    _resave(path, _excel_date(form))
    text = path.read_text(encoding="utf-8-sig")
    assert "2025-05-20" not in text and ("20/05/2025" in text or "20-May-25" in text)
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.errors == []
    assert (report.imported, report.updated, report.unchanged) == (0, 0, exported)
    assert store.count_revisions() == revisions
    day_first = any("read as a UK date, day first (DD/MM/YYYY)" in n for n in report.notes)
    assert day_first == ("/" in form)  # a month by name (30-Jun-25) is no guess


def test_a_date_corrected_in_uk_form_is_one_revision_and_a_us_one_is_refused(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    export_assets(store, "csv", path)
    [club] = [a for a in store.list_assets(status=None) if a.phone == "0161 928 1765"]
    assert club.last_verified == "2025-06-20"
    uk = _excel_date("%d/%m/%Y")

    def checked_again(was: str, day: str) -> Callable[[str, str], str]:
        def edit(column: str, cell: str) -> str:
            return uk(column, cell).replace(was, day)

        return edit

    # The commissioner checked A S E Club on 1 July 2025 and typed it in the UK way.
    _resave(path, checked_again("20/06/2025", "01/07/2025"))
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.updated, report.errors) == (1, [])
    assert store.count_revisions() == revisions + 1
    assert store.get_asset(club.id).last_verified == "2025-07-01"
    assert store.history(club.id)[-1].changed == ("last_verified",)
    # Typed month first, 30 June is no UK date: the file is refused, saying what to write.
    export_assets(store, "csv", path, replace=True)
    _resave(path, checked_again("01/07/2025", "06/30/2025"))
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert not report.written
    [error] = report.errors
    assert (error["row"], error["field"], error["value"]) == (1, "last_verified", "06/30/2025")
    assert error["reason"].endswith(
        "there is no month 30. If it means 30 June 2025 written month first, write it as "
        "YYYY-MM-DD (2025-06-30)"
    )
    assert store.get_asset(club.id).last_verified == "2025-07-01"


def _excel_phone(column: str, cell: str) -> str:
    """Excel's rewriting of a phone number of digits only: a number, its leading 0 gone."""
    if column == "phone" and cell.isdigit() and cell[1:2] != "0":
        return str(int(cell))
    return cell


def test_phone_numbers_excel_took_the_0_off_are_unchanged_and_an_edit_keeps_its_0(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    exported = export_assets(store, "csv", path)
    _resave(path, _excel_phone)
    text = path.read_text(encoding="utf-8-sig")
    # Two of the demo's numbers without spaces, as Excel saves them.
    assert ",1614133750," in text and ",7782172694," in text and "01614133750" not in text
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.errors == []
    assert (report.imported, report.updated, report.unchanged) == (0, 0, exported)
    assert store.count_revisions() == revisions
    assert any("had lost its leading 0" in n for n in report.notes)
    # A number corrected in Excel loses its 0 as it is typed; it is stored with it.
    [place] = [a for a in store.list_assets(status=None) if a.phone == "07782172694"]
    path.write_text(text.replace(",7782172694,", ",7782172695,"), encoding="utf-8-sig")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.updated, report.errors) == (1, [])
    assert store.count_revisions() == revisions + 1
    assert store.get_asset(place.id).phone == "07782172695"
    assert store.history(place.id)[-1].changed == ("phone",)


def test_a_phone_number_in_scientific_notation_is_kept_only_if_it_is_the_stored_one(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    export_assets(store, "csv", path)
    text = path.read_text(encoding="utf-8-sig")
    [place] = [a for a in store.list_assets(status=None) if a.phone == "01614133750"]
    revisions = store.count_revisions()
    # Excel shows a number in a narrow column with three of its digits, and saves it so:
    # 1.61E+09 is what it makes of the stored 01614133750, which stays.
    path.write_text(text.replace(",01614133750,", ",1.61E+09,"), encoding="utf-8-sig")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.errors, report.updated) == ([], 0)
    assert store.count_revisions() == revisions
    assert store.get_asset(place.id).phone == "01614133750"
    assert any("digits lost" in n and "1.61E+09" in n for n in report.notes)
    # 1.62E+09 is some other number (01619125920 typed in, say): its digits are lost, and
    # the row is refused rather than the number kept or guessed.
    path.write_text(text.replace(",01614133750,", ",1.62E+09,"), encoding="utf-8-sig")
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.written, report.rejected) == (False, 1)
    [error] = report.errors
    assert (error["field"], error["value"]) == ("phone", "1.62E+09")
    assert error["reason"].startswith(
        "phone 1.62E+09 is a number a spreadsheet wrote in scientific notation"
    )
    assert store.get_asset(place.id).phone == "01614133750"
    # A row of a file that names no stored asset has nothing to be checked against.
    plain = tmp_path / "new.csv"
    plain.write_text(
        "name,category,postcode,lat,lon,phone\n"
        "Hale Library,library,WA15 9NT,53.376032,-2.345594,1.62E+09\n",
        encoding="utf-8",
    )
    [report] = run_import(store, plain, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert [(e["row"], e["field"], e["value"]) for e in report.errors] == [(1, "phone", "1.62E+09")]


def _excel(column: str, cell: str) -> str:
    """Every change Excel (UK) makes to an export it opens and saves as "CSV UTF-8".

    Dates become its short date; a cell of digits only becomes a number, losing its leading
    zeros; coordinates keep 15 significant digits. (Scientific notation, for a number in a
    narrow column, has a test of its own.)
    """
    if column == "last_verified" and cell:
        return date.fromisoformat(cell).strftime("%d/%m/%Y")
    if column == "phone" and cell.isdigit():
        return str(int(cell))
    if column in {"lon", "lat"}:
        return f"{float(cell):.15g}"
    return cell


def test_an_export_excel_opened_and_saved_is_unchanged_and_an_edit_is_one_revision(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    load_demo(store, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    path = tmp_path / "assets.csv"
    exported = export_assets(store, "csv", path)
    _resave(path, _excel)
    text = path.read_text(encoding="utf-8-sig")
    assert "20/05/2025" in text and ",1614133750," in text
    # Sport England's "no number" (00000000000, Partington Pavilion) is no phone number.
    assert not [a.name for a in store.list_assets() if a.phone and set(a.phone) <= {"0", " "}]
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert report.errors == []
    assert (report.imported, report.updated, report.duplicates) == (0, 0, 0)
    assert report.unchanged == exported
    assert store.count_revisions() == revisions
    # One cell corrected in Excel, which saves it as it saves the rest: one revision of it.
    [club] = [a for a in store.list_assets(status=None) if a.phone == "0161 928 1765"]
    path.write_text(text.replace("0161 928 1765", "0161 928 1766"), encoding="utf-8-sig")
    [report] = run_import(
        store, path, taxonomy=taxonomy, postcodes=postcodes, author="commissioner", progress=False
    )
    assert (report.errors, report.updated, report.unchanged) == ([], 1, exported - 1)
    assert store.count_revisions() == revisions + 1
    last = store.history(club.id)[-1]
    assert (last.author, last.changed) == ("commissioner", ("phone",))
    assert store.get_asset(club.id).phone == "0161 928 1766"


def test_text_starting_with_an_apostrophe_and_a_formula_character_is_unchanged(
    store: Store, tmp_path: Path, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # Hale Library (Trafford council libraries, OGL), with a description that starts as the
    # export's guard of a formula does.
    hale = store.create_asset(
        Asset(
            name="Hale Library",
            category="library",
            lon=-2.345594,
            lat=53.376032,
            description="'@home' reading group, Tuesdays",
            source="trafford-council-libraries",
            source_id="hale",
        ),
        author="test",
    )
    path = tmp_path / "assets.csv"
    export_assets(store, "csv", path)
    # Guarded, as a cell that starts with @ must be, by one apostrophe more than it has.
    assert ",\"''@home' reading group, Tuesdays\"," in path.read_text(encoding="utf-8-sig")
    revisions = store.count_revisions()
    [report] = run_import(store, path, taxonomy=taxonomy, postcodes=postcodes, progress=False)
    assert (report.unchanged, report.updated) == (1, 0)
    assert store.count_revisions() == revisions
    assert store.get_asset(hale.id).description == "'@home' reading group, Tuesdays"
