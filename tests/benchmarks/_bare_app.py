"""The bare Flask baseline: serves precomputed nearby JSON, doing no work per request.

gunicorn runs it exactly like the real app (``tests.benchmarks._bare_app:create_app()``).
``ASSETMAP_BENCH_BODIES`` names a JSON file mapping each request path with its query string
to the body the real API sent for it, so both answer the same bytes to the same requests.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response, request


def create_app() -> Flask:
    """A Flask app with one route, /api/v1/assets/nearby, answering from memory."""
    with open(os.environ["ASSETMAP_BENCH_BODIES"], encoding="utf-8") as f:
        bodies = {path: body.encode("utf-8") for path, body in json.load(f).items()}
    app = Flask(__name__)

    @app.get("/api/v1/assets/nearby")
    def nearby() -> Any:
        body = bodies.get(request.full_path)
        if body is None:
            return Response(b'{"error": "not precomputed"}', 404, mimetype="application/json")
        return Response(body, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Any:
        return Response(b'{"status": "ok"}', mimetype="application/json")

    return app
