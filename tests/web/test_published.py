"""/maps/: published releases served as static files, embeddable, and nothing else."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.conftest import skip_or_fail
from tests.maps.jsaa_demo import RELEASE_DATE, VENDOR, publish_demo

RELEASE = f"/maps/trafford/{RELEASE_DATE}"


@pytest.fixture(scope="module")
def published_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (VENDOR / "leaflet" / "leaflet.js").is_file():
        skip_or_fail("web/static/vendor is not built (make setup)")
    root = tmp_path_factory.mktemp("published") / "maps"
    publish_demo(root)
    # Something secret beside the maps folder, which no URL may reach.
    (root.parent / "secret_key").write_text("not for the web")
    return root


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Serving files never touches the store: one backend is enough here."""
    return f"sqlite:///{tmp_path / 'assetmap.db'}"


@pytest.fixture
def app(settings: Settings, store: Store, published_root: Path) -> Flask:
    return create_app(replace(settings, maps_path=published_root), store=store)


def get(client: FlaskClient, path: str, **kwargs: object) -> TestResponse:
    """GET and read the whole body, so the file the view opened is closed (no ResourceWarning)."""
    return client.get(path, buffered=True, **kwargs)  # type: ignore[arg-type]


def policy(response: object) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    return dict(d.strip().split(" ", 1) for d in header.split(";"))


def test_the_index_lists_the_releases(client: FlaskClient) -> None:
    response = get(client, "/maps/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="trafford/{RELEASE_DATE}/report.html"' in html
    assert policy(response)["frame-ancestors"] == "'self'"


def test_a_folder_without_its_slash_is_redirected(client: FlaskClient) -> None:
    response = get(client, "/maps/trafford")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/maps/trafford/")
    assert get(client, "/maps/trafford/").status_code == 200
    assert get(client, f"{RELEASE}/").status_code == 200


def test_release_pages_may_be_framed_by_any_site_and_nothing_else(client: FlaskClient) -> None:
    for name in ("map-gap.html", "report.html", "index.html"):
        response = get(client, f"{RELEASE}/{name}")
        assert response.status_code == 200, name
        rules = policy(response)
        assert rules["frame-ancestors"] == "*"
        assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
        assert "unsafe" not in response.headers["Content-Security-Policy"]
    for path in (f"{RELEASE}/map-gap.js", f"{RELEASE}/areas.csv", "/maps/trafford/", "/"):
        assert policy(get(client, path))["frame-ancestors"] == "'self'", path


def test_files_are_served_with_their_types(client: FlaskClient) -> None:
    assert get(client, f"{RELEASE}/map-gap.js").mimetype == "text/javascript"
    assert get(client, f"{RELEASE}/areas.csv").mimetype == "text/csv"
    assert get(client, f"{RELEASE}/summary.json").mimetype == "application/json"
    svg = get(client, f"{RELEASE}/charts/need-access.svg")
    assert svg.mimetype == "image/svg+xml"
    assert policy(svg)["default-src"] == "'none'"  # an image: no script at all
    assert get(client, f"{RELEASE}/vendor/leaflet/leaflet.js").status_code == 200


def test_latest_redirects_to_the_newest_release(client: FlaskClient) -> None:
    response = get(client, "/maps/trafford/latest/map-gap.html")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{RELEASE}/map-gap.html")
    assert get(client, "/maps/nowhere/latest/map-gap.html").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/maps/../secret_key",
        "/maps/%2e%2e/secret_key",
        "/maps/trafford/..%2f..%2fsecret_key",
        f"{RELEASE}/..%2f..%2f..%2fsecret_key",
        f"{RELEASE}/..%5c..%5c..%5csecret_key",
        "/maps/trafford/%2e%2e/%2e%2e/secret_key",
        "/maps//etc/passwd",
        "/maps/%2fetc%2fpasswd",
        "/maps/trafford/.hidden",
        f"{RELEASE}/%00report.html",
        f"{RELEASE}/nothing.html",
        "/maps/no-such-slug/",
    ],
)
def test_paths_outside_the_releases_are_not_found(client: FlaskClient, path: str) -> None:
    response = get(client, path, follow_redirects=True)
    assert response.status_code == 404, path
    assert b"not for the web" not in response.data


def test_symlinks_out_of_the_folder_are_not_followed(
    settings: Settings, store: Store, published_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "maps"
    shutil.copytree(published_root, root, symlinks=True)
    os.symlink(published_root.parent / "secret_key", root / "trafford" / "key.txt")
    os.symlink(published_root.parent, root / "trafford" / "outside")
    client = create_app(replace(settings, maps_path=root), store=store).test_client()
    assert get(client, "/maps/trafford/key.txt").status_code == 404
    assert get(client, "/maps/trafford/outside/secret_key").status_code == 404
    # A release being written (hidden) is not served either.
    hidden = root / "trafford" / f".{RELEASE_DATE}.incoming-1"
    shutil.copytree(root / "trafford" / RELEASE_DATE, hidden)
    assert get(client, f"/maps/trafford/{hidden.name}/report.html").status_code == 404


def test_the_shipped_trafford_release_is_complete_and_served(
    settings: Settings, store: Store
) -> None:
    from assetmap.maps.publish import list_releases
    from assetmap.settings import REPO_ROOT

    root = REPO_ROOT / "maps"
    (release, *_older) = list_releases(root)["trafford"]
    provenance = json.loads((release.path / "provenance.json").read_text(encoding="utf-8"))
    for name, digest in provenance["outputs"].items():
        assert hashlib.sha256((release.path / name).read_bytes()).hexdigest() == digest, name
    client = create_app(replace(settings, maps_path=root), store=store).test_client()
    listing = get(client, "/maps/").get_data(as_text=True)
    assert f'href="trafford/{release.date}/report.html"' in listing
    page = get(client, f"/maps/trafford/{release.date}/map-gap.html")
    assert page.status_code == 200 and policy(page)["frame-ancestors"] == "*"
