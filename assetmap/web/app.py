"""The app factory: ``create_app(settings, store=...)`` builds a new app each call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.wrappers import Response
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from assetmap.domain.errors import AssetmapError
from assetmap.domain.taxonomy import Taxonomy, load_taxonomy
from assetmap.maps import CDN_ORIGINS
from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store, open_store

WEB_ROOT = REPO_ROOT / "web"


@dataclass
class AppState:
    """What the app holds for its lifetime: settings, store and taxonomy."""

    settings: Settings
    store: Store
    taxonomy: Taxonomy


def state() -> AppState:
    """The running app's :class:`AppState`."""
    result: AppState = current_app.extensions["assetmap"]
    return result


def current_store() -> Store:
    """The store of the running app (never a module global)."""
    return state().store


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Flask:
    """Build the Flask app.

    Parameters
    ----------
    settings
        Settings; read from the environment when None.
    store
        An open store; opened from ``settings.database_url`` when None.
    """
    settings = (settings or Settings.from_env()).with_secret()
    app = Flask(
        __name__,
        template_folder=str(WEB_ROOT / "templates"),
        static_folder=str(WEB_ROOT / "static"),
        instance_path=str(settings.instance_path.resolve()),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    # Keep the documented key order in API responses (Flask sorts keys by default).
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["assetmap"] = AppState(
        settings=settings,
        store=store or open_store(settings.database_url),
        taxonomy=load_taxonomy(settings.taxonomy_path),
    )
    if settings.trusted_proxies:
        # Believe X-Forwarded-For/Proto/Host only from the configured number of proxies.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )
    _register_errors(app)
    _register_security_headers(app, settings)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and store check."""
        count = current_store().count_assets(status="published")
        return jsonify({"status": "ok", "published_assets": count})

    from assetmap.web import pages

    app.register_blueprint(pages.bp)
    from assetmap.web import api

    app.register_blueprint(api.bp)
    return app


def csp_nonce() -> str:
    """This request's Content-Security-Policy nonce, for inline ``<script>``/``<style>`` tags."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def _tile_source(tile_url: str) -> str:
    """The CSP source that allows a tile URL template: its origin, ``{s}`` as a wildcard."""
    parts = urlsplit(tile_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    if "{" in host:  # another placeholder in the host name: allow the scheme only
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings, nonce: str) -> str:
    """The Content-Security-Policy for one response.

    Scripts and styles come from the app or carry the request's nonce (the map's inline
    script does); images may also come from the tile server; nothing may embed the app
    except itself.
    """
    cdn = " ".join(CDN_ORIGINS) if settings.use_cdn else ""
    tiles = _tile_source(settings.tile_url)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}' {cdn}",
        "style-src": f"'self' 'nonce-{nonce}' {cdn}",
        "img-src": f"'self' {tiles}",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'self'",
    }
    return "; ".join(f"{name} {' '.join(value.split())}" for name, value in directives.items())


def _register_security_headers(app: Flask, settings: Settings) -> None:
    """Send the security headers on every response (views may set their own first)."""

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy", content_security_policy(settings, csp_nonce())
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.add_template_global(csp_nonce)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _register_errors(app: Flask) -> None:
    """One handler maps AssetmapError (and HTTP errors) to a status and a readable body."""

    @app.errorhandler(AssetmapError)
    def assetmap_error(err: AssetmapError) -> Any:
        field = getattr(err, "field", None)
        if _wants_json():
            return jsonify({"error": {"field": field, "message": str(err.message)}}), err.status
        return (
            render_template("error.html", status=err.status, message=err.message),
            err.status,
        )

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        status = err.code or 500
        if _wants_json():
            return jsonify({"error": {"field": None, "message": err.description}}), status
        return render_template("error.html", status=status, message=err.description), status
