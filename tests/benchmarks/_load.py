"""Build the benchmark stores once and keep them: a SQLite file and a PostGIS schema.

Both hold the same SYNTHETIC assets (:mod:`tests.benchmarks._synthetic`) plus the real
Trafford demo bundle, written through the store's own write path: ``create_assets`` for the
synthetic rows (one transaction, a revision per asset) and ``load_demo`` (``import_batch``)
for the demo. A finished build is cached under a name made of the asset count, the seed and
``FORMAT``; a build that stops half-way leaves only a ``*-building`` copy, which the next run
throws away. Bump ``FORMAT`` whenever the synthetic data change. ``cached_sqlite`` and
``cached_postgis`` find a finished build without drawing the synthetic assets first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.store import Store, open_store
from tests.benchmarks._synthetic import SyntheticAssets

FORMAT = 1
# The SQLite file's own layout version: 2 since the build clusters it (``assetmap cluster``),
# 3 since clustering also rewrites the file in that order.
SQLITE_LAYOUT = 3
_CHUNK = 50_000


@dataclass(frozen=True)
class Built:
    """A ready store URL and how long the build took (0 when it came from the cache)."""

    url: str
    seconds: float
    cached: bool


def _fill(store: Store, synthetic: SyntheticAssets, taxonomy: Taxonomy, label: str) -> None:
    n = len(synthetic)
    started = time.perf_counter()
    # One transaction for every synthetic row: a crash leaves nothing half-loaded.
    with store.transaction():
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            store.create_assets(synthetic.assets(start, stop), author="benchmark", action="import")
            rate = stop / (time.perf_counter() - started)
            print(f"  {label}: {stop:,}/{n:,} synthetic assets ({rate:,.0f}/s)", flush=True)
    load_demo(store, taxonomy=taxonomy, postcodes=load_default_index(), progress=False)


def _sqlite_path(cache_dir: Path, n: int, seed: int) -> Path:
    return cache_dir / f"nearby-{n}-seed{seed}-v{FORMAT}-layout{SQLITE_LAYOUT}.db"


def cached_sqlite(cache_dir: Path, n: int, seed: int) -> Built | None:
    """The finished SQLite benchmark database for ``n`` assets and ``seed``, if built."""
    final = _sqlite_path(cache_dir, n, seed)
    return Built(f"sqlite:///{final.resolve()}", 0.0, cached=True) if final.exists() else None


def sqlite_store(
    cache_dir: Path, synthetic: SyntheticAssets, taxonomy: Taxonomy, *, rebuild: bool = False
) -> Built:
    """The cached SQLite benchmark database, built first if missing (or ``rebuild``)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = _sqlite_path(cache_dir, len(synthetic), synthetic.seed)
    cached = cached_sqlite(cache_dir, len(synthetic), synthetic.seed)
    if cached is not None and not rebuild:
        return cached
    building = final.with_name(final.stem + "-building.db")
    for path in (final, building):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    store = open_store(f"sqlite:///{building.resolve()}")
    try:
        _fill(store, synthetic, taxonomy, "SQLite")
        # What the README advises after a large import, as for PostGIS below.
        clustering = time.perf_counter()
        store.cluster()
        print(f"  SQLite: clustered in {time.perf_counter() - clustering:.0f} s", flush=True)
        # Fold the write-ahead log into the file so the finished database is one file.
        store._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    building.rename(final)
    return Built(f"sqlite:///{final.resolve()}", time.perf_counter() - started, cached=False)


def ensure_database(url: str) -> None:
    """Create the benchmark database and the postgis extension if they are missing."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    dbname = str(info.get("dbname") or "")
    try:
        psycopg.connect(url, autocommit=True).close()
    except psycopg.OperationalError as err:
        if "does not exist" not in str(err) or not dbname:
            raise
        admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _schema_exists(url: str, schema: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return row is not None


def _schema_name(n: int, seed: int) -> str:
    return f"bench_nearby_{n}_s{seed}_v{FORMAT}"


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}schema={schema}"


def cached_postgis(url: str, n: int, seed: int) -> Built | None:
    """The finished PostGIS benchmark schema for ``n`` assets and ``seed``, if built."""
    ensure_database(url)
    final = _schema_name(n, seed)
    return Built(_with_schema(url, final), 0.0, cached=True) if _schema_exists(url, final) else None


def postgis_store(
    url: str, synthetic: SyntheticAssets, taxonomy: Taxonomy, *, rebuild: bool = False
) -> Built:
    """The cached PostGIS benchmark schema in database ``url``, built first if missing."""
    cached = cached_postgis(url, len(synthetic), synthetic.seed)
    if cached is not None and not rebuild:
        return cached
    final = _schema_name(len(synthetic), synthetic.seed)
    building = f"{final}_building"
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in (final, building):
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    started = time.perf_counter()
    store = open_store(_with_schema(url, building))
    try:
        _fill(store, synthetic, taxonomy, "PostGIS")
        # What autovacuum would do soon anyway: give the planner statistics for the new rows.
        store._conn().execute("VACUUM ANALYZE assets")
        store._conn().execute("VACUUM ANALYZE revisions")
        # What the README advises after a large import (``assetmap cluster``): rows in spatial
        # order, so the raw KNN baseline and the store both read neighbours from few pages.
        store.cluster()
    finally:
        store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'ALTER SCHEMA "{building}" RENAME TO "{final}"')
    return Built(_with_schema(url, final), time.perf_counter() - started, cached=False)
