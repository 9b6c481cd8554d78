"""Submitters' names and email addresses never reach a public page, the API, a map or an export.

Canary values are submitted through every resident entry point (form, API, suggest a change,
report a problem), then approved, rejected or left pending in the store. Every GET route in
the URL map is then fetched without signing in, with every asset id and reference as its
arguments, and the exports are written: the canaries must appear nowhere.

A coordinator's handout, printed or saved, names the area searched but never the postcode or
point it was searched from, which is usually where the person lives.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from assetmap.domain.taxonomy import Taxonomy
from assetmap.services.exporting import export_assets
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.residents import GOOD, form_tokens, send_ok

CANARY_NAME = "Canary Qx7w Resident"
CANARY_EMAIL = "canary-7f3a@example.org"
CANARIES = (CANARY_NAME, CANARY_EMAIL, "canary-7f3a", "Qx7w")
# Query strings for routes that need one to show anything.
QUERIES = {
    "api.nearby": "postcode=M32+0TH&radius_m=50000",
    "api.similar": "name=Lostock&postcode=M32+0TH",
    "nearby.search": "postcode=M32+0TH&radius_m=50000",
    "nearby.handout": "postcode=M32+0TH&radius_m=50000",
    "nearby.handout_download": "postcode=M32+0TH&radius_m=50000",
}


def canary_free(where: str, body: bytes) -> None:
    text = body.decode("utf-8", errors="replace").lower()
    for canary in CANARIES:
        assert canary.lower() not in text, f"{canary!r} leaked in {where}"


def test_submitter_details_never_leave_the_moderators(
    settings: Settings, store: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    # One resident sends six submissions with one email: more than the daily limit allows.
    app = create_app(replace(settings, submissions_per_email_per_day=0), store=store)
    client = app.test_client()
    lostock, old_trafford = create_all(store, [LIBRARIES[3], LIBRARIES[4]], taxonomy)
    me = {"submitter_name": CANARY_NAME, "submitter_email": CANARY_EMAIL}
    approved_new = send_ok(client, {**GOOD, **me})
    pending_new = send_ok(client, {**GOOD, **me, "name": "Still waiting group"})
    rejected_new = send_ok(client, {**GOOD, **me, "name": "Not approved group"})
    api_new = client.post("/api/v1/submissions", json={**GOOD, **me, "name": "Via the API"})
    assert api_new.status_code == 201
    change_path = f"/assets/{lostock.id}/suggest-change"
    change = client.post(
        change_path,
        data={
            **form_tokens(client, change_path),
            "name": "Lostock Library",
            "category": "library",
            "phone": "0161 912 3195",
            "message": "new number",
            **me,
        },
    )
    problem_path = f"/assets/{old_trafford.id}/report-problem"
    problem = client.post(
        problem_path,
        data={**form_tokens(client, problem_path), "problem": "wrong_place", **me},
    )
    assert change.status_code == problem.status_code == 303
    refs = [
        approved_new,
        pending_new,
        rejected_new,
        api_new.get_json()["reference"],
        change.headers["Location"].rsplit("/", 1)[1],
        problem.headers["Location"].rsplit("/", 1)[1],
    ]
    # The moderators have them (that is why they are kept).
    assert all(store.get_submission(ref).submitter.email == CANARY_EMAIL for ref in refs)
    for ref in (approved_new, refs[3], refs[4], refs[5]):
        store.approve(ref, moderator="user:mo", expected_version=1)
    store.reject(rejected_new, moderator="user:mo", expected_version=1, reason="duplicate")
    asset_ids = [a.id for a in store.list_assets(status=None)]
    assert store.count_assets(status="published") == 4

    visitor = app.test_client()  # never signed in, no session
    fetched = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        if "asset_id" in rule.arguments:
            values = [{"asset_id": asset_id} for asset_id in asset_ids]
        elif "ref" in rule.arguments:
            values = [{"ref": ref} for ref in refs]
        else:
            values = [dict.fromkeys(rule.arguments, "1")]
        for args in values:
            url = rule.rule
            for name, value in args.items():
                url = url.replace(f"<{name}>", value)
            query = QUERIES.get(rule.endpoint, "")
            response = visitor.get(f"{url}?{query}" if query else url)
            assert response.status_code < 500, url
            canary_free(url, response.get_data())
            canary_free(f"{url} headers", str(response.headers).encode())
            fetched += 1
    assert fetched > 20
    for fmt in ("csv", "geojson", "gpkg"):
        out = tmp_path / f"assets.{fmt}"
        assert export_assets(store, fmt, out) == 4
        canary_free(f"the {fmt} export", out.read_bytes())


# (search, the area a handout names, what must not be printed or saved in the file)
HANDOUT_AREAS = [
    ("postcode=M32+0TH", "postcode district M32", ("M32 0TH", "M32+0TH", "M320TH")),
    ("lat=53.45901&lon=-2.28748", "the chosen point", ("53.45901", "-2.28748", "53.459")),
    # a sector or a district is an area of thousands of homes, not one street: kept
    ("postcode=M32+0", "postcode sector M32 0", ()),
]


@pytest.mark.parametrize(("where", "area", "secret"), HANDOUT_AREAS)
def test_handouts_name_the_area_not_the_postcode_searched_from(
    client: FlaskClient,
    store: Store,
    taxonomy: Taxonomy,
    where: str,
    area: str,
    secret: tuple[str, ...],
) -> None:
    # Usually the person's own postcode: on a sheet left on a bus, or a file on a shared
    # computer, with the places chosen for them, it would say who lives near what.
    (lostock,) = create_all(store, [LIBRARIES[3]], taxonomy)
    query = f"ids={lostock.id}&{where}&radius=5&unit=km"
    page = client.get(f"/nearby/handout?{query}")
    download = client.get(f"/nearby/handout/download?{query}")
    assert page.status_code == download.status_code == 200
    shown = printed(page.get_data(as_text=True))
    saved = download.get_data(as_text=True)
    assert title_and_heading(shown) == (f"Handout: places near {area} – Assetmap", area)
    assert title_and_heading(saved) == (f"Places near {area}", area)
    for text in secret:
        assert text not in shown
        assert text not in printed(saved)
    if where.startswith("postcode"):
        # Not even in the file's script (a point's search is there only as the map's dot).
        assert not any(text in saved for text in secret)


def title_and_heading(html: str) -> tuple[str, str]:
    """The page's title, and the area its heading says the places are near."""
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    heading = re.search(r"<h1[^>]*>Places near (.*?)</h1>", html, re.DOTALL)
    assert title is not None and heading is not None
    return " ".join(title[1].split()), heading[1]


def printed(html: str) -> str:
    """The page without its scripts and links: what reaches paper or the screen as text.

    The handout page keeps the search in its back and download links (the coordinator's
    way back); they are neither printed nor in the downloaded file.
    """
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.DOTALL)
    return re.sub(r'\shref="[^"]*"', "", html)
