"""Nearby search benchmark: both stores against bare baselines, and the API against bare Flask.

    .venv/bin/python tests/benchmarks/bench_nearby.py [--assets 1000000] [--quick]
    .venv/bin/python -m tests.benchmarks.bench_nearby ...        (the same)
    make bench

Data: 1,000,000 SYNTHETIC assets (names start "SYNTHETIC", source ``synthetic-benchmark``;
see tests/benchmarks/_synthetic.py) spread over England's 32,844 real LSOA polygons in
proportion to mid-2019 population, in the 17 taxonomy categories at random, plus the real
Trafford demo bundle. They are loaded once through the store's write path (a revision per
asset) into a SQLite file under instance/bench/ and a PostGIS schema, both cached by asset
count and seed, so a rerun only measures (``--rebuild`` forces a new build).

Queries: ``--queries`` origins (2,000) drawn where people live (the same population
weighting, an independent seed), each searched within 1,600 m for the 50 nearest published
assets, once over all categories and once for one random category. Measured, in one run:

* store level: ``store.nearby`` on SQLite and on PostGIS;
* bare shapely ``STRtree`` over the same published points in memory: a lon/lat box query,
  the category test on an array, the stores' quick-distance shortcut, then the same exact
  geodesic distances (pyproj), radius cut and (distance, name, id) order, so it returns the
  same 50 rows; it gives back array indices where the stores give Asset objects, so the
  time to decode those assets (``Asset.from_stored_json(state)``) is shown too;
* raw PostGIS from psycopg (issue 6's baseline): one prepared ``ST_DWithin`` + ``<->`` KNN
  query with ``LIMIT 50`` returning keys and spheroid distances;
* HTTP: the real ``/api/v1/assets/nearby`` under gunicorn with 2 sync workers, on each store,
  and two bare Flask baselines under the same gunicorn settings, both answering the same
  JSON: one searches a shapely STRtree in memory on every request
  (``_bare_search_app``), the other only looks each answer up (``_bare_app``). Latency is
  one request at a time (Python client, new connection per request, as sync workers close
  it); requests per second come from wrk with ``--connections`` clients (a threaded Python
  client when wrk is not installed). Loopback only; every loop is bounded in count and in
  seconds.

Every engine's answers are compared with the STRtree's (same keys in the same order, same
distances) and the agreement is printed, with each engine's minor page faults per search:
a store reading its file through a memory map pays one for each page it touches first.
Building the STRtree reads every asset through the SQLite store's own connection, which
maps them all, as the store's ``warm()`` does in the app.

Targets (issues 3 and 6): SQLite store ≤ 3× the STRtree and p99 ≤ 5 ms; PostGIS store p99
≤ 3 ms and ≤ 3× raw KNN; API p50 ≤ 10 ms; API requests per second on the embedded store ≥
70 % of the bare Flask app that answers the same JSON by searching for it. The other shares
are shown as "info": the lookup app knows every answer in advance, so it measures Flask's own
ceiling, not an endpoint that searches. Not collected by pytest (tests/benchmarks is excluded from
the default run).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import shapely

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assetmap.analysis.nearby import NearbyQuery, is_stale, search_nearby  # noqa: E402
from assetmap.domain.asset import DEFAULT_STALE_AFTER_DAYS, Asset  # noqa: E402
from assetmap.domain.geodesy import bbox_around, distances_m  # noqa: E402
from assetmap.domain.taxonomy import load_taxonomy  # noqa: E402
from assetmap.store import Store, open_store  # noqa: E402
from assetmap.store.base import (  # noqa: E402
    _approx_distances_m,
    _could_be_nearest,
)
from assetmap.store.postgis import split_schema  # noqa: E402
from tests.benchmarks import _http, _load, _synthetic  # noqa: E402

RADIUS_M = 1_600.0
LIMIT = 50
MODES = ("all", "category")
WARMUP = 200
DEFAULT_POSTGIS = "postgresql://127.0.0.1:5432/assetmap_bench"

# (key, distance_m) per hit: key is "source|source_id", the same in every store.
Answer = list[tuple[str, float]]
Query = Callable[[float, float, str | None], Any]


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Series:
    """Latencies of one engine in one mode, and its answers for checking."""

    latencies_ms: NDArray[np.float64]
    answers: list[Answer]
    # This thread's CPU time per call: what the engine itself costs in this process, however
    # busy the machine is (a PostGIS query's time in the server is not in it).
    cpu_ms: NDArray[np.float64] | None = None
    # Minor page faults per call (the whole process's, counted around the call, untimed):
    # a store reading a memory-mapped file pays one per page it touches first.
    page_faults: float | None = None

    @property
    def p50(self) -> float:
        """Median latency, ms."""
        return float(np.percentile(self.latencies_ms, 50))

    @property
    def p99(self) -> float:
        """99th percentile latency, ms."""
        return float(np.percentile(self.latencies_ms, 99))

    @property
    def mean_hits(self) -> float:
        """Mean number of hits per query."""
        return float(np.mean([len(a) for a in self.answers]))


@dataclass
class Engine:
    """One way of answering the query, with its series per mode."""

    name: str
    run: Query
    to_answer: Callable[[Any], Answer]
    series: dict[str, Series] = field(default_factory=dict)
    keep_states: bool = False
    states: dict[str, list[list[str]]] = field(default_factory=dict)


def time_engines(
    engines: Sequence[Engine],
    points: _synthetic.QueryPoints,
    warmup: _synthetic.QueryPoints,
    *,
    max_seconds: float,
) -> None:
    """Run every query point through every engine in each mode, timing each call alone.

    Engines take turns point by point, so a busy moment on the machine falls on all of them
    alike rather than on whichever series happened to be running.
    """
    for mode in MODES:

        def category(qp: _synthetic.QueryPoints, i: int) -> str | None:
            return str(qp.category[i]) if mode == "category" else None  # noqa: B023

        for i in range(len(warmup)):
            for engine in engines:
                engine.run(float(warmup.lon[i]), float(warmup.lat[i]), category(warmup, i))
        times: list[list[float]] = [[] for _ in engines]
        cpu: list[list[float]] = [[] for _ in engines]
        faults = [0 for _ in engines]
        answers: list[list[Answer]] = [[] for _ in engines]
        for engine in engines:
            engine.states[mode] = []
        deadline = time.perf_counter() + max_seconds
        for i in range(len(points)):
            lon, lat, cat = float(points.lon[i]), float(points.lat[i]), category(points, i)
            for k, engine in enumerate(engines):
                faulted = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                result = engine.run(lon, lat, cat)
                times[k].append((time.perf_counter_ns() - start) / 1e6)
                cpu[k].append((time.thread_time_ns() - start_cpu) / 1e6)
                faults[k] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faulted
                # Untimed: keep only plain keys (and state text), not thousands of objects
                # whose garbage collection would land on later timings.
                answers[k].append(engine.to_answer(result))
                if engine.keep_states:
                    engine.states[mode].append(
                        [json.dumps(h.asset.to_dict(), sort_keys=True) for h in result]
                    )
                del result
            if time.perf_counter() > deadline:
                break
        for k, engine in enumerate(engines):
            per_call = faults[k] / max(1, len(times[k]))
            engine.series[mode] = Series(
                np.array(times[k]), answers[k], np.array(cpu[k]), page_faults=per_call
            )
            s = engine.series[mode]
            print(
                f"  {engine.name:<28} {mode:<9} {len(times[k]):>5} queries"
                f"  p50 {s.p50:7.3f} ms  p99 {s.p99:7.3f} ms  hits {s.mean_hits:5.1f}",
                flush=True,
            )


# --- the bare baselines -------------------------------------------------------------------


class BareSTRtree:
    """Published points in a shapely STRtree, answered like ``store.nearby`` answers."""

    def __init__(self, store: Store) -> None:
        rows = (
            store._conn()
            .execute(
                "SELECT source, source_id, name_norm, id, category, lon, lat,"
                " json_extract(state, '$.last_verified') FROM assets WHERE status = 'published'"
            )
            .fetchall()
        )
        started = time.perf_counter()
        cols = list(zip(*rows, strict=True))
        self.keys = np.array([f"{s}|{i}" for s, i in zip(cols[0], cols[1], strict=True)])
        names = np.array(cols[2], dtype=str)
        self.ids = ids = np.array(cols[3], dtype=str)
        # Staleness as the API judges it today, for the searching HTTP baseline.
        today = date.today()
        stale_of = {
            v: is_stale(v, today=today, stale_after_days=DEFAULT_STALE_AFTER_DAYS)
            for v in set(cols[7])
        }
        self.stale = np.array([stale_of[v] for v in cols[7]], dtype=bool)
        self.categories = np.array(cols[4], dtype=object)
        self.lons = np.array(cols[5], dtype=np.float64)
        self.lats = np.array(cols[6], dtype=np.float64)
        # Ties in distance go by (name, id) as in the store: one integer rank per point.
        order = np.lexsort((ids, names))
        self.tiebreak = np.empty(len(order), dtype=np.int64)
        self.tiebreak[order] = np.arange(len(order))
        self.tree = shapely.STRtree(shapely.points(self.lons, self.lats))
        self.build_seconds = time.perf_counter() - started

    def nearby(
        self, lon: float, lat: float, category: str | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Indices and distances of the ``LIMIT`` nearest published points within RADIUS_M."""
        idx = self.tree.query(shapely.box(*bbox_around(lon, lat, RADIUS_M)))
        if category is not None:
            idx = idx[self.categories[idx] == category]
        if len(idx) > LIMIT:
            # The stores' shortcut: exact distances only for what can make the cut.
            quick = _approx_distances_m(lon, lat, self.lons[idx], self.lats[idx])
            idx = idx[_could_be_nearest(quick, LIMIT)]
        dist = distances_m(lon, lat, self.lons[idx], self.lats[idx])
        inside = dist <= RADIUS_M
        idx, dist = idx[inside], dist[inside]
        if len(idx) > LIMIT:
            # Only the nearest LIMIT (plus any tied with the last) need a full sort.
            cut = np.partition(dist, LIMIT - 1)[LIMIT - 1]
            near = dist <= cut
            idx, dist = idx[near], dist[near]
        order = np.lexsort((self.tiebreak[idx], dist))[:LIMIT]
        return idx[order], dist[order]

    def answer(self, result: tuple[NDArray[np.int64], NDArray[np.float64]]) -> Answer:
        """Keys and distances for a :meth:`nearby` result."""
        return [(str(self.keys[int(i)]), float(d)) for i, d in zip(*result, strict=True)]

    def save_points(self, path: Path) -> None:
        """The arrays ``_bare_search_app`` searches, as an ``.npz`` file."""
        np.savez(
            path,
            ids=self.ids,
            categories=self.categories.astype(str),
            lons=self.lons,
            lats=self.lats,
            tiebreak=self.tiebreak,
            stale=self.stale,
        )


class RawPostGIS:
    """One prepared KNN query from psycopg (issue 6's baseline), giving the same answer.

    The GiST index walks outwards by sphere distance (``<->``) inside ``ST_DWithin``; a few
    spare rows are taken and put in exact order (spheroid ``ST_Distance``, then name, id),
    so the answer matches the stores' while the database still does all the work.
    """

    SQL = (
        "SELECT source, source_id, d FROM (SELECT source, source_id, name_norm, id,"
        " ST_Distance(geog, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) AS d"
        " FROM assets WHERE status = 'published'{category}"
        " AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,"
        " %(radius)s) ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s),"
        " 4326)::geography LIMIT %(fetch)s) AS knn ORDER BY d, name_norm, id LIMIT %(limit)s"
    )

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo, schema = split_schema(url)
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute(f'SET search_path TO "{schema}", public')
        self.sql_all = self.SQL.format(category="")
        self.sql_cat = self.SQL.format(category=" AND category = %(category)s")

    def nearby(self, lon: float, lat: float, category: str | None) -> list[tuple[Any, ...]]:
        """Rows (source, source_id, distance_m), nearest first."""
        params: dict[str, Any] = {"lon": lon, "lat": lat, "radius": RADIUS_M}
        params |= {"limit": LIMIT, "fetch": LIMIT + 10}
        if category is None:
            return self.conn.execute(self.sql_all, params, prepare=True).fetchall()
        params["category"] = category
        return self.conn.execute(self.sql_cat, params, prepare=True).fetchall()

    @staticmethod
    def answer(rows: list[tuple[Any, ...]]) -> Answer:
        """Keys and distances for a :meth:`nearby` result."""
        return [(f"{s}|{i}", float(d)) for s, i, d in rows]


def store_engine(name: str, store: Store) -> Engine:
    """``store.nearby`` as the application calls it."""

    def run(lon: float, lat: float, category: str | None) -> Any:
        return store.nearby(
            lon, lat, RADIUS_M, categories=[category] if category else None, limit=LIMIT
        )

    def answer(hits: Any) -> Answer:
        return [(f"{h.asset.source}|{h.asset.source_id}", h.distance_m) for h in hits]

    return Engine(name, run, answer)


def _floor(
    name: str,
    store_engine: Engine,
    prepare: Callable[[list[str]], Any],
    work: Callable[[Any], object],
) -> Engine:
    """Time ``work(prepare(states))`` for each answer of the store engine (prepare untimed)."""
    engine = Engine(name, lambda *_: None, lambda r: r)
    for mode, texts in store_engine.states.items():
        times, cpu = [], []
        for batch in texts:
            arg = prepare(batch)
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            work(arg)
            times.append((time.perf_counter_ns() - start) / 1e6)
            cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
        answers = store_engine.series[mode].answers
        engine.series[mode] = Series(np.array(times), answers, np.array(cpu))
    return engine


def _decode(texts: list[str]) -> list[Asset]:
    return [Asset.from_stored_json(text) for text in texts]


def decode_floor(store_engine: Engine) -> Engine:
    """Time only the decoding of each answer's assets, as the store decodes them.

    Each hit's stored state (the same JSON text the store reads) is turned back into an
    Asset with ``Asset.from_stored_json``, as the stores do: work any store must
    do to hand back Assets, and that the bare STRtree, returning array indices, never does.
    """
    return _floor("decode floor (json + Asset)", store_engine, lambda texts: texts, _decode)


def read_floor(store_engine: Engine, store: Store) -> Engine:
    """Time reading each answer's rows from SQLite by key, and decoding them.

    The store's own statement (``pk IN (...)``) for the keys it returned, then
    :func:`decode_floor`'s work: what any store keeping its assets in SQLite must do per
    query, however fast it finds the keys. Run after the store read the same rows, with
    their pages cached, so it is a lower bound.
    """
    conn = store._conn()
    pk_of = dict(conn.execute("SELECT id, pk FROM assets").fetchall())

    def keys(texts: list[str]) -> list[int]:
        return [pk_of[json.loads(text)["id"]] for text in texts]

    def read(pks: list[int]) -> object:
        if not pks:
            return []
        sql = f"SELECT pk, state FROM assets WHERE pk IN ({', '.join('?' * len(pks))})"
        return _decode([row[1] for row in conn.execute(sql, pks).fetchall()])

    return _floor("read floor (by key + decode)", store_engine, keys, read)


def search_engine(name: str, store: Store) -> Engine:
    """``search_nearby``, as the API runs it: every hit counted, ranked, 50 described."""
    taxonomy = load_taxonomy()
    today = date.today()

    def run(lon: float, lat: float, category: str | None) -> Any:
        query = NearbyQuery(
            lon=lon,
            lat=lat,
            origin_label="benchmark point",
            origin_kind="point",
            radius_m=RADIUS_M,
            categories=(category,) if category else (),
        )
        return search_nearby(store, query, taxonomy=taxonomy, today=today).results

    def answer(results: Any) -> Answer:
        return [(r["id"], r["distance_m"]) for r in results]

    return Engine(name, run, answer)


# Charing Cross, London: the densest place to try the largest radius the API allows.
WIDE_POINT = (-0.12574, 51.50735)
WIDE_RADIUS_M = 50_000.0
WIDE_TIMEOUT_S = 90.0
WIDE_SEARCHES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("first page", {}),
    ("page at offset 20,000", {"offset": 20_000}),
    ('text filter q="library"', {"q": "library"}),
)


def wide_checks(stores: dict[str, Store]) -> list[str]:
    """50 km searches in central London per store: the store's limited query, and the
    API's search (everything in the radius counted) without and with a filter."""
    lines = []
    taxonomy = load_taxonomy()
    for name, store in stores.items():
        start = time.perf_counter()
        found = len(store.nearby(*WIDE_POINT, WIDE_RADIUS_M, limit=LIMIT))
        took = time.perf_counter() - start
        lines.append(
            f"  {name:<8} 50 km from Charing Cross, store.nearby limit {LIMIT}: {found:,} hits"
            f" in {took * 1000:,.0f} ms"
        )
        print(lines[-1], flush=True)
        for label, extra in WIDE_SEARCHES:
            query = NearbyQuery(
                lon=WIDE_POINT[0],
                lat=WIDE_POINT[1],
                origin_label="Charing Cross",
                origin_kind="point",
                radius_m=WIDE_RADIUS_M,
                **extra,
            )
            start = time.perf_counter()
            result = search_nearby(store, query, taxonomy=taxonomy, today=date.today())
            took = time.perf_counter() - start
            lines.append(
                f"  {name:<8} 50 km from Charing Cross, search {label}: {result.total:,}"
                f" matching, {len(result.results)} shown, in {took * 1000:,.0f} ms"
            )
            print(lines[-1], flush=True)
    return lines


def warm_caches(urls: dict[str, str]) -> None:
    """Read each store's data once so every engine starts from the same warm page cache."""
    for url in urls.values():
        if url.startswith("sqlite:"):
            path = Path(url.removeprefix("sqlite:///"))
            with open(path, "rb") as f:
                while f.read(16 << 20):
                    pass
        else:
            import psycopg

            conninfo, schema = split_schema(url)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                for relation in ("assets", "assets_geog", "assets_point", "assets_status_category"):
                    # 'read' fills the operating system's cache, like the SQLite read above.
                    conn.execute("SELECT pg_prewarm(%s, 'read')", (f'"{schema}".{relation}',))


def agreement(reference: Series, other: Series, *, tolerance_m: float) -> str:
    """How many queries got the same keys in the same order, distances within tolerance."""
    same_order = same_set = 0
    for ref, got in zip(reference.answers, other.answers, strict=False):
        if [k for k, _ in ref] == [k for k, _ in got] and all(
            abs(a - b) <= tolerance_m for (_, a), (_, b) in zip(ref, got, strict=True)
        ):
            same_order += 1
        if {k for k, _ in ref} == {k for k, _ in got}:
            same_set += 1
    n = min(len(reference.answers), len(other.answers))
    if same_order == n:
        return f"{same_order}/{n}"
    return f"{same_order}/{n} ({same_set} same set)"


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class HttpResult:
    """One app under gunicorn: one-at-a-time latency and throughput in load bursts."""

    name: str
    latencies_ms: NDArray[np.float64]
    bursts: list[_http.Load]
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    worker_private_mb: list[float] = field(default_factory=list)
    wide: str = ""
    same_json: str = ""

    @property
    def rps(self) -> float:
        """Requests per second over every burst."""
        return sum(b.requests for b in self.bursts) / sum(b.seconds for b in self.bursts)

    @property
    def requests(self) -> int:
        """Requests sent under load."""
        return sum(b.requests for b in self.bursts)

    @property
    def errors(self) -> int:
        """Failed requests under load (non-2xx, socket errors)."""
        return sum(b.errors for b in self.bursts)

    def load_ms(self, stat: str) -> float:
        """Median over bursts of the load generator's p50 or p99 latency."""
        return float(np.median([getattr(b, f"{stat}_ms") for b in self.bursts]))


def api_paths(points: _synthetic.QueryPoints, n: int) -> list[str]:
    """API request paths for the first ``n`` points, all categories and one, interleaved."""
    paths = []
    for i in range(min(n, len(points))):
        base = (
            f"/api/v1/assets/nearby?lat={points.lat[i]:.6f}&lon={points.lon[i]:.6f}"
            f"&radius_m={RADIUS_M:.0f}&limit={LIMIT}"
        )
        paths += [base, f"{base}&category={points.category[i]}"]
    return paths


def wide_request(port: int) -> str:
    """The largest radius the API accepts, where people are densest: status and time."""
    path = (
        f"/api/v1/assets/nearby?lat={WIDE_POINT[1]}&lon={WIDE_POINT[0]}"
        f"&radius_m={WIDE_RADIUS_M:.0f}&limit={LIMIT}"
    )
    start = time.perf_counter()
    try:
        status = f"HTTP {_http.get(port, path, timeout=WIDE_TIMEOUT_S)[0]}"
    except OSError as err:  # a worker killed by gunicorn's timeout drops the connection
        status = type(err).__name__
    return f"{status} after {time.perf_counter() - start:.1f} s"


# The HTTP baselines, by name: the last one in the table is the lookup.
BARE_SEARCH = "bare Flask + STRtree (search)"
BARE_LOOKUP = "bare Flask (lookup)"
# Paths whose answers the searching baseline must match before it is timed.
SAME_JSON_CHECKED = 300


def _in_order(body: bytes) -> Any:
    """A JSON body parsed with every object as a list of (key, value) pairs, in order.

    The same values in the same order: the bytes may differ in how a number is spelt (the
    API writes with orjson, ``0.00003``; bare Flask with the standard library, ``3e-05``).
    """
    return json.loads(body, object_pairs_hook=list)


def run_http(
    urls: dict[str, str],
    points: _synthetic.QueryPoints,
    args: argparse.Namespace,
    work: Path,
    bare: BareSTRtree,
) -> list[HttpResult]:
    """The real API on each store and both bare baselines, measured side by side.

    Every app runs under its own gunicorn (2 sync workers) for the whole phase. The SQLite
    API's answers are collected first (also warming it up) and become the bare apps'
    bodies: the lookup baseline sends them as they are, the searching one takes from them
    what does not depend on the search (see ``_bare_search_app``) and is checked to send
    the same JSON. Latency: one request at a time, the apps taking turns request by request.
    Throughput: ``--http-rounds`` bursts of wrk per app, the apps taking turns burst by burst.
    """
    paths = api_paths(points, args.http_points)
    log = work / "gunicorn.log"
    servers: dict[str, _http.Server] = {}
    results: dict[str, HttpResult] = {}
    with ExitStack() as stack:
        for name, url in urls.items():
            env = {
                "ASSETMAP_DATABASE_URL": url,
                "ASSETMAP_INSTANCE_PATH": str(work / f"instance-{name}"),
                "ASSETMAP_SECRET_KEY": "benchmark-only-secret",
            }
            servers[f"API on {name}"] = stack.enter_context(
                _http.gunicorn("assetmap.web.app:create_app()", env, workers=2, log=log)
            )
        first = next(iter(servers.values()))
        collected = _http.sequential(
            first.port, paths, max_seconds=args.http_seconds * 3, keep_bodies=True
        )
        paths = [p for p in paths if p in collected.bodies]
        print(f"  collected {len(paths)} answers from the first API", flush=True)
        bodies = work / "bodies.json"
        bodies.write_text(json.dumps({p: b.decode() for p, b in collected.bodies.items()}))
        bare_points = work / "points.npz"
        bare.save_points(bare_points)
        servers[BARE_SEARCH] = stack.enter_context(
            _http.gunicorn(
                "tests.benchmarks._bare_search_app:create_app()",
                {"ASSETMAP_BENCH_BODIES": str(bodies), "ASSETMAP_BENCH_POINTS": str(bare_points)},
                workers=2,
                log=log,
            )
        )
        checked = paths[:SAME_JSON_CHECKED]
        searched = _http.sequential(
            servers[BARE_SEARCH].port, checked, max_seconds=args.http_seconds, keep_bodies=True
        )
        same = sum(
            _in_order(searched.bodies[p]) == _in_order(collected.bodies[p]) for p in searched.bodies
        )
        same_json = f"{same}/{len(searched.bodies)} answers the same JSON as the API's"
        print(f"  {BARE_SEARCH}: {same_json}", flush=True)
        servers[BARE_LOOKUP] = stack.enter_context(
            _http.gunicorn(
                "tests.benchmarks._bare_app:create_app()",
                {"ASSETMAP_BENCH_BODIES": str(bodies)},
                workers=2,
                log=log,
            )
        )
        for server in servers.values():
            _http.sequential(server.port, paths[-WARMUP:], max_seconds=args.http_seconds)
        latencies = _http.interleaved(
            [s.port for s in servers.values()], paths, max_seconds=args.http_seconds * 3
        )
        for name, lat in zip(servers, latencies, strict=True):
            results[name] = HttpResult(name, lat, [])
        burst = max(2, round(args.http_seconds / args.http_rounds))
        for r in range(args.http_rounds):
            for name, server in servers.items():
                results[name].bursts.append(
                    _http.load(
                        server.port,
                        paths,
                        seconds=burst,
                        connections=args.connections,
                        start=r * len(paths) // args.http_rounds,
                    )
                )
        for name, server in servers.items():
            if name.startswith("API"):
                results[name].wide = wide_request(server.port)
        results[BARE_SEARCH].same_json = same_json
    for name, server in servers.items():
        results[name].worker_peak_rss_mb = server.worker_peak_rss_mb
        results[name].worker_private_mb = server.worker_private_mb
    for h in results.values():
        print(
            f"  {h.name:<28} one at a time: {len(h.latencies_ms)} requests,"
            f" p50 {np.percentile(h.latencies_ms, 50):.2f} ms,"
            f" p99 {np.percentile(h.latencies_ms, 99):.2f} ms; {h.bursts[0].tool}"
            f" x{args.connections}: {h.rps:,.0f} req/s, errors {h.errors}; {h.wide}",
            flush=True,
        )
    return list(results.values())


# --- report ---------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    """PASS or MISS; "info" for a figure printed beside a target but not one itself."""
    return "info" if ok is None else "PASS" if ok else "MISS"


def report(
    args: argparse.Namespace,
    n_assets: int,
    builds: dict[str, str],
    engines: dict[str, Engine],
    floors: dict[str, Engine],
    unlimited: dict[str, Engine],
    wide: list[str],
    http: list[HttpResult],
) -> str:
    """The results table as text."""
    lines = []
    first = next(iter(engines.values())).series["all"]
    lines.append(
        f"Nearby benchmark: {n_assets:,} assets ({args.assets:,} SYNTHETIC over England's"
        f" LSOAs by population, seed {args.seed}, + Trafford demo); {len(first.latencies_ms):,}"
        f" query points by population; radius {RADIUS_M:,.0f} m, limit {LIMIT}"
    )
    lines.append("")
    lines.append(f"{'store level (ms)':<30}{'all categories':^38}{'one category':^38}")
    lines.append(f"{'':<30}" + f"{'p50':>8}{'p99':>8}{'hits':>6}{'agree':>16}" * 2)
    ref = engines["strtree"]
    for key, engine in engines.items():
        row = f"{engine.name:<30}"
        for mode in MODES:
            s = engine.series[mode]
            agree = (
                "reference"
                if key == "strtree"
                else agreement(ref.series[mode], s, tolerance_m=0.01 if key == "raw_knn" else 1e-6)
            )
            row += f"{s.p50:>8.3f}{s.p99:>8.3f}{s.mean_hits:>6.1f}{agree:>16}"
        lines.append(row)

    def ratio_row(label: str, num: str, den: str) -> None:
        if num in engines and den in engines:
            row = f"{label:<30}"
            for mode in MODES:
                a, b = engines[num].series[mode], engines[den].series[mode]
                row += f"{a.p50 / b.p50:>7.1f}x{a.p99 / b.p99:>7.1f}x{'':>22}"
            lines.append(row)

    # The bare tree plus the work any store must do with its answer, query by query.
    for key, floor in floors.items():
        combined = Engine(f"STRtree + {key} floor", ref.run, ref.to_answer)
        for mode in MODES:
            a, b = ref.series[mode], floor.series[mode]
            n = min(len(a.latencies_ms), len(b.latencies_ms))
            total = a.latencies_ms[:n] + b.latencies_ms[:n]
            both_cpu = None
            if a.cpu_ms is not None and b.cpu_ms is not None:
                both_cpu = a.cpu_ms[:n] + b.cpu_ms[:n]
            combined.series[mode] = Series(total, a.answers[:n], both_cpu)
        for extra in (floor, combined):
            row = f"{extra.name:<30}"
            for mode in MODES:
                f = extra.series[mode]
                row += f"{f.p50:>8.3f}{f.p99:>8.3f}{f.mean_hits:>6.1f}{'':>16}"
            lines.append(row)
        engines = {**engines, f"strtree_{key}": combined}
    ratio_row("SQLite store / STRtree", "sqlite", "strtree")
    ratio_row("SQLite / (STRtree + decode)", "sqlite", "strtree_decode")
    ratio_row("SQLite / (STRtree + read)", "sqlite", "strtree_read")
    ratio_row("(STRtree + read) / STRtree", "strtree_read", "strtree")
    ratio_row("PostGIS store / STRtree", "postgis", "strtree")
    ratio_row("PostGIS store / raw KNN", "postgis", "raw_knn")

    lines.append("")
    lines.append(
        "in-process CPU time (ms; this thread only, so other processes on the machine do not"
        " slow it: what a quiet machine would show)"
    )

    def cpu(key: str, mode: str, q: float) -> float:
        c = engines[key].series[mode].cpu_ms
        assert c is not None
        return float(np.percentile(c, q))

    for key in ("strtree", "sqlite", "strtree_decode", "strtree_read"):
        row = f"{engines[key].name:<30}"
        for mode in MODES:
            row += f"{cpu(key, mode, 50):>8.3f}{cpu(key, mode, 99):>8.3f}{'':>22}"
        lines.append(row)
    cpu_ratios = (
        ("SQLite store / STRtree", "sqlite", "strtree"),
        ("SQLite / (STRtree + decode)", "sqlite", "strtree_decode"),
        ("SQLite / (STRtree + read)", "sqlite", "strtree_read"),
        ("(STRtree + read) / STRtree", "strtree_read", "strtree"),
    )
    for label, num, den in cpu_ratios:
        row = f"{label:<30}"
        for mode in MODES:
            r50 = cpu(num, mode, 50) / cpu(den, mode, 50)
            r99 = cpu(num, mode, 99) / cpu(den, mode, 99)
            row += f"{r50:>7.1f}x{r99:>7.1f}x{'':>22}"
        lines.append(row)

    if unlimited:
        lines.append("")
        n = len(next(iter(unlimited.values())).series["all"].latencies_ms)
        lines.append(f"search_nearby, limit 50, all hits counted (what the API runs), {n} points")
        for engine in unlimited.values():
            row = f"{engine.name:<30}"
            for mode in MODES:
                s = engine.series[mode]
                row += f"{s.p50:>8.3f}{s.p99:>8.3f}{s.mean_hits:>6.0f}{'':>16}"
            lines.append(row)
    lines.extend(wide)

    targets: list[tuple[str, str, bool | None]] = []

    def worst(key: str, stat: str) -> float:
        return max(float(getattr(engines[key].series[m], stat)) for m in MODES)

    def worst_ratio(num: str, den: str) -> float:
        return max(engines[num].series[m].p50 / engines[den].series[m].p50 for m in MODES)

    if "sqlite" in engines:
        r = worst_ratio("sqlite", "strtree")
        targets.append(("SQLite store p50 <= 3x STRtree", f"{r:.1f}x", r <= 3))
        r = max(cpu("sqlite", m, 50) / cpu("strtree", m, 50) for m in MODES)
        targets.append(("  the same, in-process CPU time", f"{r:.1f}x", r <= 3))
        # Not a target: how close any SQLite-backed store could come to that one.
        r = max(cpu("strtree_read", m, 50) / cpu("strtree", m, 50) for m in MODES)
        targets.append(
            ("  floor for any SQLite store: (STRtree + read) / STRtree", f"{r:.1f}x", None)
        )
        p = worst("sqlite", "p99")
        targets.append(("SQLite store p99 <= 5 ms", f"{p:.2f} ms", p <= 5))
        cpu_p99 = max(cpu("sqlite", m, 99) for m in MODES)
        targets.append(("  p99 <= 5 ms, in-process CPU time", f"{cpu_p99:.2f} ms", cpu_p99 <= 5))
    if "postgis" in engines:
        p = worst("postgis", "p99")
        targets.append(("PostGIS store p99 <= 3 ms", f"{p:.2f} ms", p <= 3))
        r = worst_ratio("postgis", "raw_knn")
        targets.append(("PostGIS store p50 <= 3x raw KNN", f"{r:.1f}x", r <= 3))

    if http:
        lines.append("")
        tool = http[-1].bursts[0].tool
        burst = http[-1].bursts[0].seconds
        load_head = f"{tool} x{args.connections}, {len(http[-1].bursts)} x {burst:.0f} s"
        lines.append(
            f"{'HTTP, gunicorn 2 sync workers':<30}{'one at a time: p50 / p99 ms':^36}"
            f"{load_head:^40}{'MB per worker':>18}"
        )
        lines.append(
            f"{'':<30}{'all':>12}{'category':>12}{'both':>12}"
            f"{'req/s':>10}{'p50':>8}{'p99':>8}{'n':>8}{'err':>6}{'peak RSS':>10}{'private':>8}"
        )
        bare = http[-1]

        def p50_p99(ms: NDArray[np.float64]) -> str:
            return f"{np.percentile(ms, 50):.1f}/{np.percentile(ms, 99):.0f}"

        for h in http:
            rss = max(h.worker_peak_rss_mb) if h.worker_peak_rss_mb else float("nan")
            private = max(h.worker_private_mb) if h.worker_private_mb else float("nan")
            # Paths alternate: all categories, then one category, for each point.
            lines.append(
                f"{h.name:<30}{p50_p99(h.latencies_ms[0::2]):>12}"
                f"{p50_p99(h.latencies_ms[1::2]):>12}{p50_p99(h.latencies_ms):>12}"
                f"{h.rps:>10,.0f}{h.load_ms('p50'):>8.1f}{h.load_ms('p99'):>8.1f}"
                f"{h.requests:>8}{h.errors:>6}{rss:>10.0f}{private:>8.0f}"
            )
        n = len(bare.latencies_ms)
        lines.append(f"  ({n} requests one at a time per app, taking turns)")
        apis = [h for h in http if h.name.startswith("API")]
        searching = [h for h in http if h.name == BARE_SEARCH]
        for h in apis:
            for base in (*searching, bare):
                share = h.rps / base.rps
                lines.append(f"{h.name + ' / ' + base.name:<66}{share:>10.0%}")
                # Issue 3's target: the embedded store's API against a bare Flask app that
                # answers each request with the same JSON, so searches for it. The lookup
                # app knows every answer in advance and so does no search: it shows Flask's
                # own ceiling, which no endpoint that searches can come within 70 % of.
                target = h.name == "API on SQLite" and base.name == BARE_SEARCH
                label = f"{h.name}: >= 70 % of {base.name} req/s"
                targets.append((label, f"{share:.0%}", share >= 0.7 if target else None))
            for mode, ms in (("all", h.latencies_ms[0::2]), ("category", h.latencies_ms[1::2])):
                p50 = float(np.percentile(ms, 50))
                label = f"{h.name} ({mode}): p50 <= 10 ms"
                targets.append((label, f"{p50:.2f} ms", p50 <= 10))
        for h in searching:
            share = h.rps / bare.rps
            lines.append(f"{h.name + ' / ' + bare.name:<66}{share:>10.0%}")
            lines.append(f"{h.name}: {h.same_json}")
        for h in apis:
            lines.append(f"{h.name}, radius 50 km at Charing Cross: {h.wide}")

    lines.append("")
    lines.append("targets")
    for label, value, ok in targets:
        lines.append(f"  {label:<62}{value:>12}  {verdict(ok)}")
    lines.append("")
    lines.append("build (s)  " + "; ".join(f"{k} {v}" for k, v in builds.items()))
    faulted = [
        f"{e.name} {' / '.join(f'{s.page_faults:.2f}' for s in e.series.values())}"
        for e in engines.values()
        if all(s.page_faults is not None for s in e.series.values())
    ]
    lines.append("page faults per search (minor; all / one category)  " + "; ".join(faulted))
    lines.append(f"peak RSS   benchmark process {peak_rss_mb():,.0f} MB")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(f"load avg   {load} (1/5/15 min, at the end; {os.cpu_count()} cores)")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, help="synthetic assets (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000-asset smoke run")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--queries", type=int, help="query points (default 2,000)")
    parser.add_argument(
        "--postgis-url",
        default=os.environ.get("ASSETMAP_BENCH_POSTGIS_URL", DEFAULT_POSTGIS),
        help="database for the PostGIS store (created if missing); '' skips PostGIS",
    )
    parser.add_argument("--no-http", action="store_true", help="store level only")
    parser.add_argument("--http-points", type=int, help="query points sent over HTTP")
    parser.add_argument("--http-seconds", type=float, help="seconds per HTTP loop")
    parser.add_argument("--connections", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--http-rounds", type=int, default=4, help="load bursts per app")
    parser.add_argument(
        "--max-seconds", type=float, default=300, help="per store-level mode, all engines"
    )
    parser.add_argument(
        "--unlimited-points", type=int, default=300, help="points for the search_nearby series"
    )
    parser.add_argument("--cache-dir", type=Path, default=REPO / "instance" / "bench")
    parser.add_argument("--rebuild", action="store_true", help="ignore cached stores")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    quick = args.quick
    args.assets = args.assets or (50_000 if quick else 1_000_000)
    args.queries = args.queries or (500 if quick else 2_000)
    args.http_points = args.http_points or (100 if quick else 1_000)
    args.http_seconds = args.http_seconds or (8.0 if quick else 40.0)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the data, measure everything, print the table."""
    args = parse_args(argv)
    builds: dict[str, str] = {}
    print(f"nearby benchmark: {args.assets:,} synthetic assets, seed {args.seed}", flush=True)
    t = time.perf_counter()
    taxonomy = load_taxonomy()
    areas = _synthetic.load_areas()
    builds["LSOAs"] = f"{time.perf_counter() - t:.1f}"
    t = time.perf_counter()
    synthetic = _synthetic.synthetic_assets(areas, taxonomy, args.assets, args.seed)
    all_points = _synthetic.query_points(areas, taxonomy, args.queries + WARMUP, args.seed)
    builds["draw"] = f"{time.perf_counter() - t:.1f}"
    points = _synthetic.QueryPoints(
        all_points.lon[WARMUP:], all_points.lat[WARMUP:], all_points.category[WARMUP:]
    )
    warmup = _synthetic.QueryPoints(
        all_points.lon[:WARMUP], all_points.lat[:WARMUP], all_points.category[:WARMUP]
    )

    urls: dict[str, str] = {}
    built = _load.sqlite_store(args.cache_dir, synthetic, taxonomy, rebuild=args.rebuild)
    builds["SQLite load"] = "cached" if built.cached else f"{built.seconds:.0f}"
    urls["SQLite"] = built.url
    if args.postgis_url:
        built = _load.postgis_store(args.postgis_url, synthetic, taxonomy, rebuild=args.rebuild)
        builds["PostGIS load"] = "cached" if built.cached else f"{built.seconds:.0f}"
        urls["PostGIS"] = built.url
    del synthetic, areas

    stores = {name: open_store(url) for name, url in urls.items()}
    t = time.perf_counter()
    warm_caches(urls)
    builds["cache warm-up"] = f"{time.perf_counter() - t:.1f}"
    t = time.perf_counter()
    stores["SQLite"].warm()  # as the app does when it starts
    builds["SQLite points into memory"] = f"{time.perf_counter() - t:.1f}"
    n_assets = stores["SQLite"].count_assets()
    bare = BareSTRtree(stores["SQLite"])
    builds["STRtree"] = f"{bare.build_seconds:.1f}"
    engines = {"strtree": Engine("bare shapely STRtree", bare.nearby, bare.answer)}
    engines["sqlite"] = store_engine("SQLite store", stores["SQLite"])
    engines["sqlite"].keep_states = True
    if "PostGIS" in stores:
        raw = RawPostGIS(urls["PostGIS"])
        engines["raw_knn"] = Engine("raw PostGIS KNN (psycopg)", raw.nearby, raw.answer)
        engines["postgis"] = store_engine("PostGIS store", stores["PostGIS"])
    # Set-up objects (the baseline's arrays, the synthetic draw) live to the end; keep the
    # garbage collector from walking them during timings, as a server would never hold them.
    gc.collect()
    gc.freeze()
    print("store level:", flush=True)
    time_engines(list(engines.values()), points, warmup, max_seconds=args.max_seconds)
    floors = {
        "decode": decode_floor(engines["sqlite"]),
        "read": read_floor(engines["sqlite"], stores["SQLite"]),
    }
    engines["sqlite"].states.clear()
    # What the API runs on each store (a sample of the points).
    unlimited = {
        name: search_engine(f"{name} search_nearby", store) for name, store in stores.items()
    }
    sample = _synthetic.QueryPoints(
        points.lon[: args.unlimited_points],
        points.lat[: args.unlimited_points],
        points.category[: args.unlimited_points],
    )
    small_warmup = _synthetic.QueryPoints(warmup.lon[:20], warmup.lat[:20], warmup.category[:20])
    time_engines(list(unlimited.values()), sample, small_warmup, max_seconds=args.max_seconds)
    wide = wide_checks(stores)
    for store in stores.values():
        store.close()

    http: list[HttpResult] = []
    failed = False
    if not args.no_http:
        print("HTTP:", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-nearby-") as tmp:
            # Again: minutes have passed, and this machine may have reclaimed file pages
            # since; the bare apps hold everything in memory, the API reads its store.
            warm_caches(urls)
            try:
                http = run_http(urls, points, args, Path(tmp), bare)
            except Exception as err:  # keep the store-level figures
                print(f"HTTP phase failed, table without it: {err!r}", flush=True)
                failed = True

    table = report(args, n_assets, builds, engines, floors, unlimited, wide, http)
    print()
    print(table)
    if args.json:
        figures = {
            "assets": n_assets,
            "store": {
                key: {
                    mode: {"p50_ms": s.p50, "p99_ms": s.p99, "mean_hits": s.mean_hits}
                    for mode, s in e.series.items()
                }
                for key, e in engines.items()
            },
            "http": [
                {
                    "name": h.name,
                    "p50_ms": float(np.percentile(h.latencies_ms, 50)),
                    "p99_ms": float(np.percentile(h.latencies_ms, 99)),
                    "rps": h.rps,
                    "load_p50_ms": h.load_ms("p50"),
                    "load_p99_ms": h.load_ms("p99"),
                    "errors": h.errors,
                    "wide": h.wide,
                }
                for h in http
            ],
            "table": table,
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
