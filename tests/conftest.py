"""Shared fixtures: taxonomy, store (one fresh database per test), app, client, runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assetmap.domain.taxonomy import Taxonomy, load_taxonomy
from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store, open_store

DATA = REPO_ROOT / "data"
STRICT = os.environ.get("ASSETMAP_TEST_STRICT") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI (ASSETMAP_TEST_STRICT=1) a missing service is a failure."""
    if STRICT:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def postgis_url() -> str:
    """The PostGIS test database URL, or skip (fail in CI) when none is configured."""
    url = os.environ.get("ASSETMAP_TEST_POSTGIS_URL", "")
    if not url:
        skip_or_fail("ASSETMAP_TEST_POSTGIS_URL is not set (bash scripts/postgis.sh prints one)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for a fresh, empty store: a new SQLite file, or a new PostGIS schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assetmap.db'}"
        return
    import psycopg

    base = postgis_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}schema={schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return Settings(
        database_url=store_url,
        instance_path=tmp_path / "instance",
        secret_key="test-secret-key",
        tile_url="",
        maps_path=tmp_path / "maps",
        testing=True,
    )
