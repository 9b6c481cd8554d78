"""/jsaa: commissioner pages, uploads and their checks, a run as a background job, results.

Data: the Trafford demo assets (``load_demo``) and the shipped needs layers
(data/jsaa/catalogue.toml); uploads are built from the shipped Trafford LSOA boundaries
(data/boundaries/lsoa11_trafford.geojson, ONS via martinjc/UK-GeoJSON, OGL) and the IMD 2019
file (data/imd2019, MHCLG, OGL).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

import geopandas as gpd

from assetmap.domain.job import RESTARTED
from assetmap.settings import Settings
from assetmap.store import Store
from tests.conftest import DATA
from tests.maps.jsaa_demo import TRAFFORD_AREAS, VENDOR, load_demo_assets
from tests.web.staff import csrf_from, main_text, signed_in_client, text_of

TRAFFORD = "E08000009"
JOB_TIMEOUT_S = 180


@pytest.fixture
def app(app: Flask) -> Iterator[Flask]:
    yield app
    app.extensions["assetmap_jobs"].shutdown(wait=True)


@pytest.fixture
def commissioner(app: Flask, store: Store) -> FlaskClient:
    return signed_in_client(app, store, "cara", "commissioner")


def files_dir(settings: Settings) -> Path:
    return settings.instance_path / "jsaa" / "files"


def kept_files(settings: Settings) -> list[str]:
    folder = files_dir(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def step_one(client: FlaskClient, **fields: Any) -> Any:
    """Post step 1 as a browser would: multipart, files as (stream, name) pairs."""
    token = csrf_from(client.get("/jsaa/new").get_data(as_text=True))
    values: dict[str, Any] = {"csrf_token": token}
    for key, value in fields.items():
        if isinstance(value, tuple):
            stream, name = value
            value = FileStorage(stream=stream, filename=name)
        values[key] = value
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(values)
    return client.post(
        "/jsaa/new", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def error_summary(response: Any) -> str:
    html = response.get_data(as_text=True)
    start = html.find('class="govuk-error-summary"')
    assert start >= 0, "no error summary on the page"
    return main_text(response)


def wait_for(store: Store, job_id: str) -> Any:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = store.get_job(job_id)
        if job.finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish in {JOB_TIMEOUT_S} s")


# -- who may use the pages ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/jsaa/", "/jsaa/new", "/jsaa/jobs/0123456789abcdef"])
def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("role", "status"), [("moderator", 403), ("commissioner", 200), ("admin", 200)]
)
def test_only_commissioners_and_admins_may_use_them(
    app: Flask, store: Store, role: str, status: int
) -> None:
    client = signed_in_client(app, store, "sam", role)
    assert client.get("/jsaa/").status_code == status
    assert client.get("/jsaa/new").status_code == status


# -- step 1: uploads are checked, and nothing is kept from a form with a problem ----------


def test_an_empty_form_is_answered_with_an_error_summary(
    commissioner: FlaskClient, settings: Settings
) -> None:
    response = step_one(commissioner, title="", areas_source="")
    assert response.status_code == 400
    text = error_summary(response)
    assert "Enter a title for the assessment" in text
    assert "Choose where the areas come from" in text
    assert kept_files(settings) == []


def points_geojson() -> bytes:
    frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=gpd.points_from_xy([-2.3], [53.4]), crs=4326)
    return frame.to_json().encode()


def grid_geojson_without_crs() -> bytes:
    """Trafford in British National Grid metres, as GeoJSON with no "crs" member."""
    frame = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson").to_crs(27700)
    data = json.loads(frame.to_json())
    data.pop("crs", None)
    return json.dumps(data).encode()


def two_layer_geopackage(tmp_path: Path) -> bytes:
    frame = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson")
    path = tmp_path / "two.gpkg"
    frame.to_file(path, layer="lsoa")
    frame.to_file(path, layer="copy")
    return path.read_bytes()


def shapefile_zip(tmp_path: Path, *, prj: bool = True) -> bytes:
    frame = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson")
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "lsoa.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in folder.iterdir():
            if prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("field", "name", "content", "message"),
    [
        ("boundary_file", "areas.geojson", "points", "areas must be polygons"),
        (
            "boundary_file",
            "areas.geojson",
            "grid",
            "outside the longitude/latitude range (-180 to 180, -90 to 90) of the CRS the file "
            "is read in (EPSG:4326)",
        ),
        ("boundary_file", "areas.geojson", "grid", "declare EPSG:27700"),
        ("boundary_file", "areas.zip", "noprj", "no .prj file"),
        ("boundary_file", "areas.kml", "text", "not a file type this accepts"),
        (
            "boundary_file",
            "areas.geojson",
            "text",
            "could not be read as GeoJSON: its contents are not in that format",
        ),
        (
            "boundary_file",
            "areas.geojson",
            "truncated",
            "could not be read as GeoJSON: At line 1, character 15: Unterminated object",
        ),
        ("boundary_file", "areas.gpkg", "twolayers", "holds 2 layers (lsoa, copy)"),
        ("table_file", "table.csv", "dupes", "column name(s) used twice: imd"),
        (
            "table_file",
            "table.csv",
            "latin1",
            "not UTF-8 text: line 3 has the byte 0xE9, which is not UTF-8, after 'E01006075,Caf'",
        ),
        (
            "table_file",
            "table.csv",
            "trailing",
            "data row 1 (line 2 of the file) has 3 values, but the header names 2 columns",
        ),
        (
            # Excel's CSV where the decimal mark is a comma: not "a row with 3 values".
            "table_file",
            "table.csv",
            "semicolons",
            "The indicator table: its header 'lsoa11cd;imd_score' looks semicolon-separated (as "
            "Excel saves CSV where the decimal mark is a comma): the columns must be separated "
            "by commas and decimals written with a point",
        ),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_kept(
    commissioner: FlaskClient,
    settings: Settings,
    tmp_path: Path,
    field: str,
    name: str,
    content: str,
    message: str,
) -> None:
    data = {
        "points": points_geojson(),
        "grid": grid_geojson_without_crs() if content == "grid" else b"",
        "noprj": shapefile_zip(tmp_path, prj=False) if content == "noprj" else b"",
        "twolayers": two_layer_geopackage(tmp_path) if content == "twolayers" else b"",
        "text": b"this is not a layer",
        "dupes": b"code,imd,imd\nE01006074,1,2\n",
        "latin1": "code,name\nE01006074,Cafe\nE01006075,Caf\xe9\n".encode("latin-1"),
        "trailing": b"code,imd\nE01006074,1,\nE01006075,2,\n",
        "semicolons": b"lsoa11cd;imd_score\nE01006074;23,5\nE01006075;41,25\n",
        "truncated": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties"',
    }[content]
    fields: dict[str, Any] = {"title": "Bad upload", field: (io.BytesIO(data), name)}
    if field == "boundary_file":
        fields["areas_source"] = "upload"
    else:
        fields.update(areas_source="shipped", authority=TRAFFORD)
    response = step_one(commissioner, **fields)
    assert response.status_code == 400
    assert message in error_summary(response)
    assert f'href="#{field}"' in response.get_data(as_text=True)
    assert kept_files(settings) == []
    # Not the server's staging path, nor GDAL's advice to programmers.
    assert str(settings.instance_path) not in response.get_data(as_text=True)
    assert "DRIVER" not in response.get_data(as_text=True)


def configure_page(client: FlaskClient, response: Any) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303, main_text(response)
    location = response.headers["Location"]
    page = client.get(location)
    assert page.status_code == 200
    return page.get_data(as_text=True), parse_qs(urlsplit(location).query)


def test_unknown_columns_and_codes_are_shown_on_the_form_and_nothing_is_kept(
    commissioner: FlaskClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz")
    other = imd[imd["lad19nm"] == "Leeds"][["lsoa11cd", "imd_score"]].head(50)
    response = step_one(
        commissioner,
        title="Uploads that do not fit",
        areas_source="upload",
        boundary_file=(io.BytesIO(shapefile_zip(tmp_path)), "trafford_lsoa.zip"),
        table_file=(io.BytesIO(other.to_csv(index=False).encode()), "leeds.csv"),
    )
    html, query = configure_page(commissioner, response)
    uploaded = kept_files(settings)
    assert len(uploaded) == 2 and all(len(n.split(".")[0]) == 64 for n in uploaded)
    base = {
        "csrf_token": csrf_from(html),
        **{k: v[0] for k, v in query.items()},
        "code_column": "NOT_THERE",
        "name_column": "LSOA11NM",
        "table_code_column": "lsoa11cd",
        "use-0": "yes",
        "uweight-0": "1",
        "population": "table:population_mid2019",
        "category": ["library", "park"],
        "scope": "local",
        "catchment_m": "1600",
    }
    # A column that is not in the layer.
    response = commissioner.post("/jsaa/runs", data=base)
    assert response.status_code == 400
    assert "Choose the column that holds each area's code" in error_summary(response)
    # Real columns, but the table's codes are Leeds LSOAs: no Trafford area has a row.
    response = commissioner.post("/jsaa/runs", data={**base, "code_column": "LSOA11CD"})
    assert response.status_code == 400
    text = error_summary(response)
    assert "The data do not fit together" in text
    assert "is not one of the chosen areas" in text
    assert 'href="#table_code_column"' in response.get_data(as_text=True)
    # Nothing was half-written: no config, no job; only the two checked uploads.
    assert kept_files(settings) == uploaded
    assert store.list_jobs() == []


def not_numeric_warning(
    commissioner: FlaskClient, table: pd.DataFrame, title: str, file_name: str
) -> tuple[str, str]:
    """Upload ``table`` for Trafford's shipped areas: the configure page, and the text of
    its warning about columns whose cells are not all numbers."""
    response = step_one(
        commissioner,
        title=title,
        areas_source="shipped",
        authority=TRAFFORD,
        table_file=(io.BytesIO(table.to_csv(index=False).encode()), file_name),
    )
    html, _query = configure_page(commissioner, response)
    start = html.index('<div class="govuk-warning-text" id="not-numeric">')
    return html, text_of(html[start : html.index("</div>\n      </div>", start)])


def test_columns_with_cells_that_are_not_numbers_are_named_with_the_first_such_row(
    commissioner: FlaskClient, settings: Settings
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz", dtype=str)
    table = imd[imd["lad19nm"] == "Trafford"][
        ["lsoa11cd", "lsoa11nm", "imd_score", "imd_rank", "health_rank"]
    ].reset_index(drop=True)
    # Slips a real export has: a thousands separator (data row 17), a note and markup.
    rank = int(table.at[16, "imd_rank"])
    table.at[16, "imd_rank"] = f"{rank:,}"
    table.at[4, "health_rank"] = "<b>n/a</b>"
    table.at[9, "health_rank"] = "n/a"
    table.at[30, "health_rank"] = "suppressed"
    html, warning = not_numeric_warning(
        commissioner, table, "Trafford with a hand-edited table", "trafford_imd.csv"
    )
    assert "2 columns are not offered as indicators, because some cells are not numbers" in (
        warning
    )
    assert f"imd_rank: row 17 (line 18 of the file) holds ‘{rank:,}’" in warning
    assert rank >= 1000
    assert (
        "health_rank: row 5 (line 6 of the file) holds ‘<b>n/a</b>’ (2 more cells in this "
        "column are not numbers either)" in warning
    )
    # An empty cell is refused when the assessment runs: the advice is to fill it in.
    assert "Every area needs a number in each column you use (an empty cell is refused" in (warning)
    assert "Leave a missing value empty" not in warning
    assert "&lt;b&gt;n/a&lt;/b&gt;" in html and "<b>n/a</b>" not in html  # escaped
    # Codes and names are text, not slips: not listed. The clean column is still offered.
    assert "lsoa11cd" not in warning and "lsoa11nm" not in warning
    offered = html[html.index('id="uploaded-indicators"') :]
    assert 'for="use-0">imd_score</label>' in offered
    assert "imd_rank</label>" not in offered and "health_rank</label>" not in offered
    assert len(kept_files(settings)) == 1  # the upload itself, kept for the next step


def test_cells_the_run_would_refuse_are_named_on_upload_and_not_offered(
    commissioner: FlaskClient, settings: Settings
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz", dtype=str)
    table = imd[imd["lad19cd"] == TRAFFORD][
        ["lsoa11cd", "imd_score", "imd_rank", "health_rank", "income_decile"]
    ].reset_index(drop=True)
    # Python reads "inf" as a number, which the run refuses: the check offered the column.
    table.at[6, "imd_score"] = "inf"
    # The run refuses an empty cell too; the check said nothing until then.
    table.at[9, "imd_rank"] = ""
    table.at[20, "imd_rank"] = " "
    # Both in one column: the first that is not a number is shown, and the others counted.
    table.at[3, "health_rank"] = ""
    table.at[11, "health_rank"] = "NaN"
    table.at[14, "health_rank"] = "n/a"
    html, warning = not_numeric_warning(
        commissioner, table, "Trafford with gaps", "trafford_gaps.csv"
    )
    assert (
        "3 columns are not offered as indicators, because some cells are not numbers or are "
        "empty:" in warning
    )
    assert "imd_score: row 7 (line 8 of the file) holds ‘inf’ " in warning  # nothing more
    # An empty cell is said to be empty: it read "holds ‘’".
    assert (
        "imd_rank: row 10 (line 11 of the file) is empty (1 more cell in this column is empty "
        "too)" in warning
    )
    assert "‘’" not in warning
    assert " is empty (1 more cell in this column is empty too)</li>" in html
    assert (
        "health_rank: row 12 (line 13 of the file) holds ‘NaN’ (1 more cell in this column "
        "is not a number either, and 1 is empty)" in warning
    )
    assert "an empty cell is refused when the assessment runs" in warning
    assert "income_decile" not in warning and "lsoa11cd" not in warning
    offered = html[html.index('id="uploaded-indicators"') :]
    assert 'for="use-0">income_decile</label>' in offered
    for column in ("imd_score", "imd_rank", "health_rank"):
        assert f">{column}</label>" not in offered
    assert len(kept_files(settings)) == 1


def test_a_refusal_at_run_time_names_the_uploaded_file_its_row_and_its_line(
    commissioner: FlaskClient, store: Store, settings: Settings
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz", dtype=str)
    mine = imd[imd["lad19cd"] == TRAFFORD][["lsoa11cd", "imd_score"]].reset_index(drop=True)
    # Data row 10, which a spreadsheet shows as line 11, repeats the code of row 1.
    first, replaced = mine.at[0, "lsoa11cd"], mine.at[9, "lsoa11cd"]
    mine.at[9, "lsoa11cd"] = first
    response = step_one(
        commissioner,
        title="A gap in my table",
        areas_source="shipped",
        authority=TRAFFORD,
        table_file=(io.BytesIO(mine.to_csv(index=False).encode()), "older people.csv"),
    )
    html, query = configure_page(commissioner, response)
    kept = kept_files(settings)
    response = commissioner.post(
        "/jsaa/runs",
        data={
            "csrf_token": csrf_from(html),
            **{k: v[0] for k, v in query.items()},
            "table_code_column": "lsoa11cd",
            "use-0": "yes",
            "uweight-0": "1",
            "population": "table:population_mid2024",
            "category": ["library"],
            "scope": "local",
            "catchment_m": "1600",
        },
    )
    assert response.status_code == 400
    # Named as the commissioner knows the file, not by the SHA-256 it is kept under.
    text = error_summary(response)
    assert (
        "The data do not fit together: error: [table:uploaded] older people.csv row 10 "
        f"(line 11) column 'lsoa11cd': code {first} already appears at row 1 (line 2)"
    ) in text
    assert f"older people.csv column 'lsoa11cd': 1 area has no row: {replaced}" in text
    assert query["table"][0] not in error_summary(response)
    assert kept_files(settings) == kept
    assert store.list_jobs() == []


def test_a_bad_number_is_linked_to_its_field_and_described_by_its_error(
    commissioner: FlaskClient,
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz")
    mine = imd[imd["lad19cd"] == TRAFFORD][["lsoa11cd", "imd_score"]]
    response = step_one(
        commissioner,
        title="Weights",
        areas_source="shipped",
        authority=TRAFFORD,
        table_file=(io.BytesIO(mine.to_csv(index=False).encode()), "mine.csv"),
    )
    html, query = configure_page(commissioner, response)
    response = commissioner.post(
        "/jsaa/runs",
        data={
            "csrf_token": csrf_from(html),
            **{k: v[0] for k, v in query.items()},
            "indicator": ["imd_score"],
            "weight-imd_score": "lots",
            "table_code_column": "lsoa11cd",
            "use-0": "yes",
            "uweight-0": "-1",
            "population": "table:population_mid2024",
            "category": ["library"],
            "scope": "local",
            "catchment_m": "50000",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field, message in (
        ("catchment_m", "The catchment must be between 100 and 20,000"),
        ("weight-imd_score", "The need weight of IMD 2019 score must be a number"),
        ("uweight-0", "The need weight of imd_score must be between 0 and 100"),
    ):
        assert f'<a href="#{field}">{message}</a>' in page
        assert f'<p id="{field}-error" class="govuk-error-message">' in page
        # A screen reader reaching the field hears the error (WCAG 3.3.1, 1.3.1).
        (tag,) = re.findall(rf'<input[^>]* id="{field}"[^>]*>', page)
        assert re.search(rf'aria-describedby="([^"]* )?{field}-error"', tag), tag


def test_national_scope_with_a_local_table_is_explained_at_the_scope_question(
    commissioner: FlaskClient, settings: Settings
) -> None:
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz")
    mine = imd[imd["lad19cd"] == TRAFFORD][["lsoa11cd", "imd_score"]]
    response = step_one(
        commissioner,
        title="National with my table",
        areas_source="shipped",
        authority=TRAFFORD,
        table_file=(io.BytesIO(mine.to_csv(index=False).encode()), "mine.csv"),
    )
    html, query = configure_page(commissioner, response)
    kept = kept_files(settings)
    response = commissioner.post(
        "/jsaa/runs",
        data={
            "csrf_token": csrf_from(html),
            **{k: v[0] for k, v in query.items()},
            "indicator": ["imd_score"],
            "weight-imd_score": "1",
            "table_code_column": "lsoa11cd",
            "use-0": "yes",
            "uweight-0": "1",
            "population": "table:population_mid2024",
            "category": ["library"],
            "scope": "national",
            "catchment_m": "1600",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # Linked to the question it answers, in the form's words rather than the config's.
    assert '<a href="#scope">Need cannot be ranked against all of England with indicators ' in (
        page
    )
    assert "rank need against these areas only" in error_summary(response)
    assert "national = true" not in page
    assert kept_files(settings) == kept


def test_a_config_error_on_a_need_weight_is_shown_at_the_indicators() -> None:
    from assetmap.web.jsaa import Setup, _config_field

    # Only a key names the field: an indicator made from a column named "National rank" is
    # still an indicator, not the scope question.
    for key in ("weights.need.imd_score", "weights.need.national_rank"):
        assert _config_field(key, Setup(title="t")) == "indicator"


# -- a run: job, progress, results --------------------------------------------------------


def start_trafford_run(client: FlaskClient) -> str:
    response = step_one(
        client, title="Trafford from the web", areas_source="shipped", authority=TRAFFORD
    )
    html, query = configure_page(client, response)
    assert "IMD 2019 score" in html
    response = client.post(
        "/jsaa/runs",
        data={
            "csrf_token": csrf_from(html),
            **{k: v[0] for k, v in query.items()},
            "indicator": ["imd_score", "health_rank", "pct_60plus_2015", "imd_decile"],
            "weight-imd_score": "0.6",
            "weight-health_rank": "0.2",
            "weight-pct_60plus_2015": "0.2",
            "weight-imd_decile": "0",
            "population": "table:population_mid2024",
            "category": ["library", "park", "community_centre", "food_bank"],
            "scope": "national",
            "catchment_m": "1600",
        },
    )
    assert response.status_code == 303, main_text(response)
    return response.headers["Location"]


@pytest.mark.skipif(
    not (VENDOR / "leaflet" / "leaflet.js").is_file(),
    reason="web/static/vendor is not built (make setup)",
)
def test_a_run_becomes_a_job_whose_results_can_be_downloaded(
    commissioner: FlaskClient, store: Store, settings: Settings
) -> None:
    load_demo_assets(store)
    location = start_trafford_run(commissioner)
    job_id = location.rsplit("/", 1)[-1]
    page = commissioner.get(location)
    assert page.status_code == 200
    assert f'data-job-status-url="/jsaa/jobs/{job_id}/status.json"' in page.get_data(as_text=True)
    job = wait_for(store, job_id)
    assert job.status == "done", job.error
    status = commissioner.get(f"/jsaa/jobs/{job_id}/status.json").get_json()
    assert status["status"] == "done" and status["progress"] == 1.0
    assert status["steps_done"] == status["steps_total"] > 20
    page = main_text(commissioner.get(location))
    assert "Assessment complete" in page and f"{TRAFFORD_AREAS} areas" in page

    def get(name: str) -> Any:
        response = commissioner.get(f"/jsaa/jobs/{job_id}/files/{name}", buffered=True)
        assert response.status_code == 200, name
        return response

    areas = pd.read_csv(io.BytesIO(get("areas.csv").data))
    assert len(areas) == TRAFFORD_AREAS and set(areas["count_library"].index) is not None
    assert "Trafford from the web" in get("report.html").get_data(as_text=True)
    assert get("map-gap.html").headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    # The run is as reproducible as a CLI one: its config is kept beside its inputs, named by
    # its SHA-256, every input is pinned, and the outputs record the same hash.
    config = get("config.toml").data
    digest = hashlib.sha256(config).hexdigest()
    assert job.params["config_sha256"] == digest
    assert (files_dir(settings) / f"{digest}.toml").read_bytes() == config
    provenance = json.loads(get("provenance.json").data)
    assert provenance["config"]["sha256"] == digest
    for item in provenance["inputs"]:
        if item["role"] != "assets":
            assert item["path"] == f"{item['sha256']}{item['path'][64:]}"
            assert (files_dir(settings) / item["path"]).is_file()
    assert config.count(b"sha256 = ") == len(provenance["inputs"]) - 1
    listed = main_text(commissioner.get("/jsaa/"))
    assert "Trafford from the web" in listed and "Done" in listed


@pytest.mark.skipif(
    not (VENDOR / "leaflet" / "leaflet.js").is_file(),
    reason="web/static/vendor is not built (make setup)",
)
def test_a_run_on_uploaded_boundaries_and_indicators(
    commissioner: FlaskClient, store: Store, tmp_path: Path
) -> None:
    load_demo_assets(store)
    imd = pd.read_csv(DATA / "imd2019" / "imd2019_lsoa11_england_combined.csv.gz")
    mine = imd[imd["lad19cd"] == TRAFFORD][["lsoa11cd", "pop_total_mid2015", "imd_score"]]
    response = step_one(
        commissioner,
        title="Trafford, my own layers",
        areas_source="upload",
        boundary_file=(io.BytesIO(shapefile_zip(tmp_path)), "trafford_lsoa.zip"),
        table_file=(io.BytesIO(mine.to_csv(index=False).encode()), "mine.csv"),
    )
    html, query = configure_page(commissioner, response)
    response = commissioner.post(
        "/jsaa/runs",
        data={
            "csrf_token": csrf_from(html),
            **{k: v[0] for k, v in query.items()},
            "code_column": "LSOA11CD",
            "name_column": "LSOA11NM",
            "table_code_column": "lsoa11cd",
            "population": "upload",
            "population_column": "pop_total_mid2015",
            "use-1": "yes",  # numeric columns: pop_total_mid2015, imd_score
            "label-1": "IMD score (my copy)",
            "more-1": "higher",
            "uweight-1": "1",
            "category": ["library", "park"],
            "scope": "local",
            "catchment_m": "1200",
        },
    )
    assert response.status_code == 303, main_text(response)
    job = wait_for(store, response.headers["Location"].rsplit("/", 1)[-1])
    assert job.status == "done", job.error
    assert job.result["areas"] == TRAFFORD_AREAS


def test_a_job_whose_heartbeat_stopped_shows_as_failed(
    app: Flask, commissioner: FlaskClient, store: Store
) -> None:
    job = store.create_job("jsaa", title="Lost run", created_by="user:cara", steps_total=9)
    store.update_job_progress(job.id, step="maps", steps_done=4)
    assert commissioner.get(f"/jsaa/jobs/{job.id}/status.json").get_json()["status"] == "running"
    app.config["JSAA_JOB_STALE_AFTER_S"] = -1  # every heartbeat is now too old
    status = commissioner.get(f"/jsaa/jobs/{job.id}/status.json").get_json()
    assert (status["status"], status["error"], status["finished"]) == ("failed", RESTARTED, True)
    page = main_text(commissioner.get(f"/jsaa/jobs/{job.id}"))
    assert "The assessment did not finish" in page and "server restarted" in page
    assert commissioner.get(f"/jsaa/jobs/{job.id}/files/report.html").status_code == 404


def test_a_count_of_one_is_singular_on_the_pages(commissioner: FlaskClient, store: Store) -> None:
    one = gpd.read_file(DATA / "boundaries" / "lsoa11_trafford.geojson").head(1)
    table = pd.DataFrame({"code": one["LSOA11CD"], "score": [1.5]})
    response = step_one(
        commissioner,
        title="One area",
        areas_source="upload",
        boundary_file=(io.BytesIO(one.to_json().encode()), "one.geojson"),
        table_file=(io.BytesIO(table.to_csv(index=False).encode()), "one.csv"),
    )
    html, _query = configure_page(commissioner, response)
    assert "one.geojson: 1 feature (" in html
    assert "one.csv: 1 row, 2 columns (1 numeric)" in html
    job = store.create_job("jsaa", title="One area", created_by="user:cara", steps_total=1)
    store.finish_job(job.id, result={"areas": 1, "priority_areas": 1})
    assert "1 area, 1 priority area" in main_text(commissioner.get(f"/jsaa/jobs/{job.id}"))


@pytest.mark.parametrize(
    ("iso", "shown"),
    [
        ("2026-11-24T04:39:48+00:00", "24 November 2026 at 4:39am"),
        # British Summer Time: an hour ahead of UTC.
        ("2026-07-01T11:05:00+00:00", "1 July 2026 at 12:05pm"),
        ("2026-07-01T11:00:30+00:00", "1 July 2026 at midday"),
        ("2026-11-24T00:00:10+00:00", "24 November 2026 at midnight"),
        ("2026-11-24T12:30:00+00:00", "24 November 2026 at 12:30pm"),
        ("2026-11-24T00:30:00+00:00", "24 November 2026 at 12:30am"),
        ("", ""),
    ],
)
def test_times_are_shown_as_uk_time_in_words(iso: str, shown: str) -> None:
    from assetmap.domain.local_time import when

    assert when(iso) == shown


def test_run_pages_show_when_in_words_with_the_time_for_machines(
    commissioner: FlaskClient, store: Store
) -> None:
    from assetmap.domain.local_time import when

    job = store.create_job("jsaa", title="Timed", created_by="user:cara", steps_total=1)
    job = store.finish_job(job.id, result={"areas": 2, "priority_areas": 0})
    assert job.created_at and job.finished_at
    page = commissioner.get(f"/jsaa/jobs/{job.id}").get_data(as_text=True)
    listing = commissioner.get("/jsaa/").get_data(as_text=True)
    for html, times in ((page, (job.created_at, job.finished_at)), (listing, (job.created_at,))):
        for iso in times:
            assert f'<time datetime="{iso}">{when(iso)}</time>' in html
        assert job.created_at not in html.replace(f'datetime="{job.created_at}"', "")


def test_unknown_runs_are_not_found(commissioner: FlaskClient, store: Store) -> None:
    assert commissioner.get("/jsaa/jobs/0123456789abcdef").status_code == 404
    other = store.create_job("export", title="Not an assessment", created_by="user:x")
    assert commissioner.get(f"/jsaa/jobs/{other.id}").status_code == 404
    running = store.create_job("jsaa", title="Running", created_by="user:cara")
    assert commissioner.get(f"/jsaa/jobs/{running.id}/files/").status_code == 404


def test_uploads_may_be_larger_than_the_app_wide_limit(
    commissioner: FlaskClient, settings: Settings
) -> None:
    from assetmap.web.app import MAX_REQUEST_BYTES

    rows = "code,value\n" + "".join(f"E{i:08d},{i}\n" for i in range(200_000))
    assert len(rows) > MAX_REQUEST_BYTES
    response = step_one(
        commissioner,
        title="A big table",
        areas_source="shipped",
        authority=TRAFFORD,
        table_file=(io.BytesIO(rows.encode()), "big.csv"),
    )
    assert response.status_code == 303, main_text(response)
    assert len(kept_files(settings)) == 1
