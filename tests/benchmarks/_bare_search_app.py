"""The bare searching baseline: Flask and a shapely STRtree, searching on every request.

gunicorn runs it exactly like the real app (``tests.benchmarks._bare_search_app:create_app()``).
Where ``_bare_app`` only looks its answers up, this one does the search a bare program would:
the published points sit in one STRtree in each worker's memory; each request takes the
box, keeps the category asked for, measures geodesic distances with pyproj, counts the hits
inside the radius and orders them as the API does (400 m band, fresh listings first,
distance, name, id), then writes the JSON with Flask's ``jsonify``.

What does not depend on the search comes from the real API's answers, collected first: each
asset's description (a result minus its distance fields) and each path's echo of its query
and origin. So it answers the same JSON as the API, and the benchmark checks that it does
(numbers may be spelt differently: the API writes with orjson, this plain Flask app with the
standard library).

``ASSETMAP_BENCH_BODIES`` names the collected answers (path -> body);
``ASSETMAP_BENCH_POINTS`` an ``.npz`` of the published points: ``ids``, ``categories``,
``lons``, ``lats``, ``tiebreak`` (rank by normalised name, then id) and ``stale``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from flask import Flask, Response, jsonify, request

import shapely

from assetmap.analysis.nearby import STALE_BAND_M, distance_fields
from assetmap.domain.geodesy import bbox_around, distances_m

# The distance fields sit between these two parts of every result (see describe_hit).
_DISTANCE_KEYS = frozenset(distance_fields(0.0))


def _split(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A result's fields before and after its distance fields."""
    keys = list(result)
    first = keys.index("distance_m")
    head = {k: result[k] for k in keys[:first]}
    tail = {k: result[k] for k in keys[first:] if k not in _DISTANCE_KEYS}
    return head, tail


def create_app() -> Flask:
    """A Flask app with one route, /api/v1/assets/nearby, searching an in-memory STRtree."""
    with open(os.environ["ASSETMAP_BENCH_BODIES"], encoding="utf-8") as f:
        bodies = {path: json.loads(body) for path, body in json.load(f).items()}
    parts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    echoes: dict[str, dict[str, Any]] = {}
    for path, body in bodies.items():
        for result in body["results"]:
            parts[result["id"]] = _split(result)
        echoes[path] = {k: v for k, v in body.items() if k not in ("results", "total")}
    with np.load(os.environ["ASSETMAP_BENCH_POINTS"]) as points:
        ids, categories = points["ids"], points["categories"]
        lons, lats = points["lons"], points["lats"]
        tiebreak, stale = points["tiebreak"], points["stale"]
    tree = shapely.STRtree(shapely.points(lons, lats))
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # as the real app

    @app.get("/api/v1/assets/nearby")
    def nearby() -> Any:
        args = request.args
        lon, lat = float(args["lon"]), float(args["lat"])
        radius_m, limit = float(args["radius_m"]), int(args["limit"])
        idx = tree.query(shapely.box(*bbox_around(lon, lat, radius_m)))
        category = args.get("category")
        if category is not None:
            idx = idx[categories[idx] == category]
        dist = distances_m(lon, lat, lons[idx], lats[idx])
        inside = dist <= radius_m
        idx, dist = idx[inside], dist[inside]
        band = np.floor_divide(dist, STALE_BAND_M)
        order = np.lexsort((tiebreak[idx], dist, stale[idx], band))[:limit]
        results = []
        for i, d in zip(idx[order], dist[order], strict=True):
            head, tail = parts[str(ids[i])]
            results.append({**head, **distance_fields(float(d)), **tail})
        echo = echoes[request.full_path]
        return jsonify(
            {
                "results": results,
                "total": len(idx),
                "origin": echo["origin"],
                "hours_unknown": echo["hours_unknown"],
                "hours_unknown_total": echo["hours_unknown_total"],
                "query": echo["query"],
            }
        )

    @app.get("/healthz")
    def healthz() -> Any:
        return Response(b'{"status": "ok"}', mimetype="application/json")

    return app
