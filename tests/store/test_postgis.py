"""PostGIS-specific guarantees: append-only revisions enforced by the database, KNN, schema."""

from __future__ import annotations

import psycopg
import pytest

from assetmap.domain.asset import build_asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store.postgis import split_schema
from tests.store.test_contract import ALTRINCHAM

pytestmark = pytest.mark.postgis


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_revisions_are_append_only_in_the_database(store_url: str, taxonomy: Taxonomy) -> None:
    from assetmap.store import open_store

    store = open_store(store_url)
    store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    conninfo, schema = split_schema(store_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        for sql in (
            "UPDATE revisions SET author = 'mallory'",
            "DELETE FROM revisions",
            "TRUNCATE revisions CASCADE",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT author FROM revisions").fetchall() == [("a",)]
        # the spatial column is generated from lon/lat and indexed with GiST
        (indexdef,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'assets_geog' AND schemaname = %s",
            (schema,),
        ).fetchone()
        assert "gist (geog)" in indexdef
    store.close()


def test_schema_parameter_is_checked() -> None:
    assert split_schema("postgresql://u@h/db?schema=t_1") == ("postgresql://u@h/db", "t_1")
    from assetmap.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="plain identifier"):
        split_schema('postgresql://u@h/db?schema=x";drop')
