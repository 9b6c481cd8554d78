"""PostGIS-specific guarantees: append-only revisions enforced by the database, KNN, schema."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from assetmap.domain.asset import build_asset
from assetmap.domain.errors import AssetmapError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store.postgis import _POINT_SQL, split_schema
from tests.conftest import postgis_url
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


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_radius_searches_use_the_planar_index_and_cluster_orders_by_it(
    store_url: str, taxonomy: Taxonomy
) -> None:
    from assetmap.store import open_store

    store = open_store(store_url)
    made = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    conninfo, schema = split_schema(store_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        (indexdef,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'assets_point' AND schemaname = %s",
            (schema,),
        ).fetchone()
        assert "gist (st_setsrid(st_makepoint(lon, lat), 4326))" in indexdef
        (indexdef,) = conn.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE indexname = 'assets_category_point' AND schemaname = %s",
            (schema,),
        ).fetchone()
        assert "gist (category, st_setsrid(st_makepoint(lon, lat), 4326))" in indexdef
        # The store's spelling of the expression must be the index's, or the planner
        # cannot use it (with a few rows it would scan the table anyway: forbid that).
        conn.execute("SET enable_seqscan = off")
        box = f"{_POINT_SQL} && ST_MakeEnvelope(-3, 53, -2, 54, 4326)"

        def plan(where: str) -> str:
            rows = conn.execute(f"EXPLAIN SELECT pk FROM assets WHERE {where}").fetchall()
            return " ".join(row[0] for row in rows)

        assert re.search(r"Index Scan using assets_(category_)?point ", plan(box))
        # With a category, the index that holds it: not the country's assets of that
        # category joined to the box.
        with_category = plan(f"{box} AND status = 'published' AND category IN ('library')")
        assert "Index Scan using assets_category_point " in with_category

        def clustered_on() -> list[str]:
            rows = conn.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = 'assets'::regclass AND i.indisclustered"
            ).fetchall()
            return [r[0] for r in rows]

        assert clustered_on() == []
        assert store.cluster() == 1
        assert clustered_on() == ["assets_point"]
    hits = store.nearby(ALTRINCHAM["lon"], ALTRINCHAM["lat"] + 0.001, 500.0)
    assert [h.asset.id for h in hits] == [made.id]
    store.close()


def test_schema_parameter_is_checked() -> None:
    assert split_schema("postgresql://u@h/db?schema=t_1") == ("postgresql://u@h/db", "t_1")
    # The local socket's URL has an empty host; the other parameters are kept as written.
    assert split_schema("postgresql:///assetmap") == ("postgresql:///assetmap", None)
    assert split_schema("postgresql:///db?host=/run/pg&schema=s&sslmode=disable") == (
        "postgresql:///db?host=/run/pg&sslmode=disable",
        "s",
    )
    from assetmap.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="plain identifier"):
        split_schema('postgresql://u@h/db?schema=x";drop')


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_url_with_no_host_part_opens(store_url: str) -> None:
    """``postgresql:///db`` (the local socket) with the server named in the query instead."""
    from assetmap.store import open_store

    conninfo, schema = split_schema(store_url)
    parts = conninfo_to_dict(conninfo)
    query = "&".join(f"{k}={v}" for k, v in parts.items() if k != "dbname")
    store = open_store(f"postgresql:///{parts['dbname']}?{query}&schema={schema}")
    assert store.count_assets() == 0
    store.close()


@pytest.fixture
def bare_database() -> Iterator[str]:
    """A new database with nothing in it, PostGIS included; dropped afterwards."""
    base = postgis_url()
    name = f"assetmap_bare_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield urlunsplit(urlsplit(base)._replace(path=f"/{name}", query=""))
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_without_postgis_or_rights_says_what_to_run(bare_database: str) -> None:
    from assetmap.store import open_store

    name = urlsplit(bare_database).path.lstrip("/")
    with pytest.raises(AssetmapError, match="does not have PostGIS") as refused:
        open_store(bare_database)
    assert f'run psql -d {name} -c "CREATE EXTENSION postgis"' in str(refused.value)
    role = f"assetmap_app_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(bare_database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute(f'CREATE ROLE "{role}"')
    try:
        # Connected as that role, which (PostgreSQL 15) may not create tables in public.
        as_role = f"{bare_database}?options=-c%20role%3D{role}"
        with pytest.raises(AssetmapError, match=f"the user '{role}' may not create") as refused:
            open_store(as_role)
        assert f'ALTER DATABASE "{name}" OWNER TO "{role}"' in str(refused.value)
        with psycopg.connect(bare_database, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
        store = open_store(as_role)
        assert store.count_assets() == 0
        store.close()
    finally:
        with psycopg.connect(postgis_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_connection_the_server_ended_is_replaced_before_use(store_url: str) -> None:
    """After a restart (here, the backend terminated) the next call works at once."""
    from assetmap.store import open_store

    store = open_store(store_url)
    pid = store._conn().info.backend_pid
    with psycopg.connect(postgis_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)"
        while not admin.execute(gone, (pid,)).fetchall()[0][0]:
            time.sleep(0.01)
    assert store.count_assets() == 0  # not "terminating connection due to administrator command"
    assert store._conn().info.backend_pid != pid
    # Inside a transaction a lost connection is never swapped: the transaction must fail.
    with pytest.raises(psycopg.OperationalError), store.transaction() as conn:
        pid = conn.info.backend_pid
        with psycopg.connect(postgis_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        conn.execute("SELECT pg_sleep(5)")
    assert store.count_assets() == 0
    store.close()


@pytest.mark.timeout(60)
def test_a_database_that_never_answers_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host gone from the network: the connection is not refused, nothing ever answers."""
    from assetmap.store import postgis
    from assetmap.store.postgis import PostGISStore, StoreUnavailable

    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.setattr(postgis, "CONNECT_TIMEOUT_S", 2)  # 10 by default
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never replies
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"on 127.0.0.1:{port} as someone: .*timeout"):
            PostGISStore(f"postgresql://someone@127.0.0.1:{port}/assetmap").migrate()
        assert time.monotonic() - started < 10
        # The URL's own timeout is kept.
        store = PostGISStore(f"postgresql://someone@127.0.0.1:{port}/assetmap?connect_timeout=1")
        assert store._timeout() == {}


@contextmanager
def read_write_role(conninfo: str, schema: str) -> Iterator[str]:
    """A new role that may read and write the schema's tables but not change them."""
    role = f"assetmap_rw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}"')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'
        )
        conn.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    try:
        yield role
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_role_that_may_only_read_and_write_opens_an_up_to_date_store(
    store_url: str, taxonomy: Taxonomy
) -> None:
    """Least privilege: an administrator's role owns the schema, the app's may not CREATE."""
    from assetmap.store import open_store

    open_store(store_url).close()  # made, and brought up to date, by the owner
    conninfo, schema = split_schema(store_url)
    assert schema is not None
    with read_write_role(conninfo, schema) as role:
        store = open_store(f"{store_url}&options=-c%20role%3D{role}")
        stored = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="test")
        assert store.get_asset(stored.id).name == ALTRINCHAM["name"]
        store.close()


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_an_app_role_that_may_not_upgrade_is_told_who_may(store_url: str) -> None:
    """Least privilege after an upgrade: the app's role meets a schema one version behind.

    It was told to become the database's owner (ALTER DATABASE ... OWNER TO the app's role),
    which undoes the least privilege; the tables' owner is the one to run init.
    """
    from assetmap.store import open_store
    from assetmap.store.postgis import PostGISStore

    older = PostGISStore(store_url)
    latest = max(number for number, _ in older._migration_files())
    assert older.migrate(target=11) == 11  # an earlier version's schema, made by its owner
    older.close()
    conninfo, schema = split_schema(store_url)
    assert schema is not None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        [(owner,)] = conn.execute("SELECT current_user").fetchall()
    with read_write_role(conninfo, schema) as role:
        with pytest.raises(AssetmapError) as refused:
            open_store(f"{store_url}&options=-c%20role%3D{role}")
        message = str(refused.value)
        assert "ALTER DATABASE" not in message
        assert message.endswith(
            f"has schema version 11 and this Assetmap needs {latest}, but the user '{role}' may not"
            f" upgrade it (permission denied for schema {schema}): run assetmap init as"
            f" '{owner}', who owns its tables, then start the app again; nothing was changed"
        )
        store = PostGISStore(store_url)
        assert max(store._applied_versions(store._conn())) == 11
        store.close()


def test_a_refused_connection_reads_as_sentences() -> None:
    """libpq's reason then the advice: 'for user "x" Check --db' ran the two together."""
    from assetmap.store import open_store

    parts = urlsplit(postgis_url())
    missing = urlunsplit(parts._replace(path="/assetmap_no_such_database", query=""))
    with pytest.raises(AssetmapError) as refused:
        open_store(missing, named_by="--to")
    assert str(refused.value).endswith(
        'FATAL: database "assetmap_no_such_database" does not exist. Check --to, and that the'
        " server is running and lets this user in."
    )


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_role_without_rights_in_its_url_schema_is_told_what_to_run(store_url: str) -> None:
    """``?schema=`` with a role that may not create, use or fill that schema.

    Creating it gave psycopg's InsufficientPrivilege traceback; a schema the role may not
    use was skipped on the search path, and one it may not fill was met with advice to own
    the database, which gives no right in another role's schema.
    """
    from assetmap.store import open_store

    conninfo, schema = split_schema(store_url)
    name = conninfo_to_dict(conninfo)["dbname"]
    where = f"in the database '{name}' on "
    role = f"assetmap_noschema_{uuid.uuid4().hex[:12]}"
    as_role = f"{store_url}&options=-c%20role%3D{role}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        [(owner,)] = conn.execute("SELECT current_user").fetchall()
        conn.execute(f'CREATE ROLE "{role}"')  # no CREATE on the database, as PUBLIC
    try:
        with pytest.raises(AssetmapError) as refused:
            open_store(as_role, named_by="--to")
        message = str(refused.value)
        assert message.startswith(
            f"the user '{role}' may not create the schema '{schema}' named in --to, {where}"
        )
        assert message.endswith(
            f"(permission denied for database {name}): as a superuser, run psql -d {name} -c"
            f' \'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"\', or as the database\'s'
            f' owner grant the right to create schemas (GRANT CREATE ON DATABASE "{name}" TO'
            f' "{role}"), then run assetmap init again'
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')  # the owner's, not the role's
        with pytest.raises(AssetmapError) as refused:
            open_store(as_role)
        assert str(refused.value).endswith(
            f"(it has no USAGE right on it): as '{owner}', who owns it, run psql -d {name} -c"
            f' \'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"\', then try again'
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        with pytest.raises(AssetmapError) as refused:
            open_store(as_role)
        message = str(refused.value)
        assert "ALTER DATABASE" not in message
        assert message.endswith(
            f"(permission denied for schema {schema}): run assetmap init as '{owner}', who owns"
            f" the schema, or have them run psql -d {name} -c 'GRANT CREATE ON SCHEMA"
            f' "{schema}" TO "{role}"\', then run assetmap init again'
        )
        # The first advice, followed, is enough.
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}"')
            conn.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"')
        store = open_store(as_role)
        assert store.count_assets() == 0
        store.close()
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_write_waits_for_another_and_gives_up_saying_so(
    store_url: str, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assetmap.store.postgis as postgis_module
    from assetmap.store import open_store
    from assetmap.store.base import StoreUnavailable

    # Write transactions take the schema's write lock, as SQLite's do; 10 s in real use.
    monkeypatch.setattr(postgis_module, "BUSY_TIMEOUT_MS", 200)
    holder, waiter = open_store(store_url), open_store(store_url)
    holder.migrate()
    # A store in another schema of the same database has a lock of its own.
    base, schema = split_schema(store_url)
    elsewhere = open_store(store_url.replace(f"schema={schema}", f"schema={schema}_b"))
    elsewhere.migrate()
    try:
        with holder.transaction():
            elsewhere.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
            with pytest.raises(StoreUnavailable) as caught:
                waiter.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
        assert caught.value.status == 503 and elsewhere.count_assets() == 1
        where = conninfo_to_dict(base)
        assert str(caught.value) == (
            f"the database '{where['dbname']}' on {where['host']}:{where['port']} as"
            f" {where['user']} is busy with another change (waited 0.2 s for it to finish);"
            " nothing was written: try again when it has finished"
        )
        assert waiter.count_assets() == 0
        # Once the other writer has finished, the same store writes.
        waiter.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
        assert holder.count_assets() == 1
    finally:
        holder.close()
        waiter.close()
        elsewhere.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_b" CASCADE')
