"""The app factory: ``create_app(settings, store=...)`` builds a new app each call."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.wrappers import Response
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import (
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
    SecurityError,
    UnsupportedMediaType,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from assetmap.domain.errors import AssetmapError
from assetmap.domain.local_time import when
from assetmap.domain.taxonomy import Taxonomy, load_taxonomy
from assetmap.maps import CDN_ORIGINS
from assetmap.maps.report import time_element
from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import Store, open_store
from assetmap.web.json_provider import OrjsonProvider

WEB_ROOT = REPO_ROOT / "web"
MAX_REQUEST_BYTES = 2 * 1024 * 1024
_MIB = 1024 * 1024
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class UnsupportedContentEncoding(UnsupportedMediaType):
    """A request body in a content coding (gzip, deflate, br...): the app decodes none."""

    field = "Content-Encoding"

    def get_headers(
        self, environ: dict[str, Any] | None = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        # RFC 9110 section 15.5.16: a 415 for a content coding says which ones would do.
        return [*super().get_headers(environ, scope), ("Accept-Encoding", "identity")]


class UnsupportedContentType(UnsupportedMediaType):
    """An API write whose body is not labelled ``application/json``."""

    field = "Content-Type"

    def get_headers(
        self, environ: dict[str, Any] | None = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        # RFC 9110 section 15.5.16: a 415 for a media type may say which would do, in Accept;
        # Accept-Post (W3C LDP, IANA-registered) says it for a POST in particular.
        headers = [*super().get_headers(environ, scope), ("Accept", "application/json")]
        if request.method == "POST":
            headers.append(("Accept-Post", "application/json"))
        return headers


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


def size_in_mib(n_bytes: int) -> str:
    """A size limit as a person reads it: ``2 MiB`` for 2 * 1024 * 1024 bytes.

    Binary units, as the limits are counted in them: "2 MB" would be 2,000,000 bytes.
    """
    return f"{n_bytes / _MIB:g} MiB"


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
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        # The session cookie (CSRF secret, flashed messages); the staff sign-in cookie is set
        # with the same flags by assetmap.web.auth.
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # None: any host. Otherwise another Host (after a trusted proxy's X-Forwarded-Host)
        # is a 400 before any view runs.
        TRUSTED_HOSTS=list(settings.trusted_hosts) or None,
    )
    app.json = OrjsonProvider(app)
    # Keep the documented key order in API responses (Flask sorts keys by default).
    app.json.sort_keys = False
    app.extensions["assetmap"] = AppState(
        settings=settings,
        store=store or _open_store(settings.database_url),
        taxonomy=load_taxonomy(settings.taxonomy_path),
    )
    # Here, not at the first search: a worker starts before it takes requests.
    app.extensions["assetmap"].store.warm()
    if settings.trusted_proxies:
        # Believe X-Forwarded-For/Proto/Host/Port/Prefix only from the configured number of
        # proxies; a prefix (the app mounted at /assetmap) becomes the request's script_root.
        # The port too: a proxy on :8443 sending Host without it made the origin wrong, and
        # over HTTPS every form's Referer then failed the CSRF check. (Werkzeug drops a
        # default port, so a proxy that always sends X-Forwarded-Port: 443 changes nothing.)
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    _register_errors(app)
    _register_no_nul_paths(app)
    _register_no_content_coding(app)
    _register_store_unavailable(app, app.extensions["assetmap"].store)
    _register_security_headers(app, settings)
    _register_csrf(app)
    # Times on every page: in words, UK time (GOV.UK style), in a <time> for machines.
    app.add_template_filter(when, "when")
    app.add_template_filter(time_element, "time_element")

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and store check."""
        count = current_store().count_assets(status="published")
        return jsonify({"status": "ok", "published_assets": count})

    from assetmap.web import pages

    app.register_blueprint(pages.bp)
    from assetmap.web import api

    app.register_blueprint(api.bp)
    from assetmap.web import nearby

    app.register_blueprint(nearby.bp)
    from assetmap.web import submit

    app.register_blueprint(submit.bp)
    from assetmap.web import auth, history, moderate

    auth.init_app(app)
    app.register_blueprint(moderate.bp)
    app.register_blueprint(history.bp)
    from assetmap.web import jsaa, published

    app.register_blueprint(published.bp)
    jsaa.init_app(app)
    return app


def _open_store(url: str) -> Store:
    """Open the app's store; with its database out of reach, open it without migrating.

    A gunicorn worker that cannot start stops the whole server ("Worker failed to boot"), so
    a worker replaced while the database is down (after a crash or timeout) would take the
    site down for good. It starts instead and answers 503 until the database is back;
    ``serve --production`` has applied the migrations before starting any worker.
    """
    try:
        return open_store(url)
    except AssetmapError as err:
        if err.status != 503:
            raise
        logging.getLogger(__name__).error(
            "database unavailable as the app starts; serving 503 until it is back: %s", err
        )
        return open_store(url, migrate=False)


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
    script does); images may also come from the tile server, and be data: URLs when there is
    one; nothing may embed the app except itself.
    """
    cdn = " ".join(CDN_ORIGINS) if settings.use_cdn else ""
    tiles = _tile_source(settings.tile_url)
    if settings.tile_url:
        # Leaflet blanks each tile it drops or stops loading (on zoom and pan) with a data:
        # GIF; refused, each is a console error, a screenful when the tiles are out of reach.
        tiles = f"data: {tiles}"
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
        # Tile servers ask for a Referer (OpenStreetMap's policy); send the origin only, so a
        # search URL holding someone's postcode never leaves the site.
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response

    app.add_template_global(csp_nonce)


def _register_csrf(app: Flask) -> None:
    """CSRF tokens on every state-changing request, except the JSON API.

    Every form posts a Flask-WTF token tied to the session (no time limit: WCAG 2.2.1, a
    resident may take long over a form). The API under /api/ carries no cookies' authority
    and is exempt, but its writes must be ``Content-Type: application/json``: a cross-site
    HTML form can only send form encodings or text/plain, and a cross-site ``fetch`` with
    JSON needs a CORS preflight this app never grants, so no other site can post to it.
    """
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf = CSRFProtect(app)
    from assetmap.web import api

    csrf.exempt(api.bp)

    @app.before_request
    def api_writes_are_json() -> None:
        if (
            request.method not in _SAFE_METHODS
            and request.url_rule is not None
            and (request.blueprint or "").split(".")[0] == api.bp.name
            and request.mimetype != "application/json"
        ):
            raise UnsupportedContentType(
                "Send the body as JSON, with the header Content-Type: application/json."
            )


def _wants_json() -> bool:
    # /api itself too: a client that dropped the version (or the slash) is still an API client.
    under_api = request.path == "/api" or request.path.startswith("/api/")
    return under_api or request.accept_mimetypes.best == "application/json"


def _register_errors(app: Flask) -> None:
    """One handler maps AssetmapError (and HTTP errors) to a status and a readable body."""

    @app.errorhandler(AssetmapError)
    def assetmap_error(err: AssetmapError) -> Any:
        field = getattr(err, "field", None)
        # A rate limit says when to come back (RFC 9110 Retry-After, in seconds).
        retry_after = getattr(err, "retry_after_s", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        message = str(err.message)
        if err.status >= 500:
            # Written for the operator: it may name the database's host, a role or a file
            # path. The log gets it; the public a plain sentence, as for an outage (503s,
            # StoreUnavailable included, go to _register_store_unavailable's handler).
            app.logger.error("%s: %s", type(err).__name__, " ".join(message.split()))
            message = SERVER_ERROR_MESSAGE
        if _wants_json():
            body = jsonify({"error": {"field": field, "message": message}})
            return body, err.status, headers
        return (
            render_template("error.html", status=err.status, message=message),
            err.status,
            headers,
        )

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        status = err.code or 500
        message = err.description
        field = getattr(err, "field", None)
        if isinstance(err, CSRFError):
            message = (
                "This form has expired or was not sent from this website, so nothing was saved."
                " Go back, reload the page and try again."
            )
        elif isinstance(err, RequestEntityTooLarge):
            # This request's limit: a view may raise it (the assessment upload does).
            limit = request.max_content_length or MAX_REQUEST_BYTES
            message = (
                f"What you sent is larger than {size_in_mib(limit)}, the most this service"
                " accepts, so nothing was saved. Shorten it and try again."
            )
        # The error's own headers, such as a 405's Allow (which RFC 9110 requires), go with
        # our body; its Content-Type does not.
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            return jsonify({"error": {"field": field, "message": message}}), status, headers
        if isinstance(err, SecurityError):
            # A Host not in ASSETMAP_TRUSTED_HOSTS: no URL can be built for it, which every
            # page's layout does, so plain text.
            return message, status, [*headers, ("Content-Type", "text/plain; charset=utf-8")]
        return render_template("error.html", status=status, message=message), status, headers


def _register_no_nul_paths(app: Flask) -> None:
    """A path holding a NUL (%00) names nothing here: 404 before any view looks it up.

    Every id, reference and code in a path is looked up in the store, and PostgreSQL refuses
    a NUL in any text it is sent: the lookup would fail with a 500 instead of "not found".
    """

    @app.before_request
    def no_nul_in_path() -> None:
        if "\x00" in request.path:
            raise NotFound("Nothing here has this address: it holds a NUL character (%00).")


def _register_no_content_coding(app: Flask) -> None:
    """A body sent compressed (any Content-Encoding but identity) is a 415 saying so.

    Neither Werkzeug nor the app decodes one, so it was read as it came: gzipped JSON was a
    400 "not valid JSON", and a gzipped form a 400 saying the form had expired (its CSRF token
    unreadable). Registered before the CSRF check, so that a form gets this answer instead.
    """

    @app.before_request
    def no_content_coding() -> None:
        if request.method in _SAFE_METHODS or request.url_rule is None:
            return
        header = request.headers.get("Content-Encoding", "")
        codings = [c.strip().lower() for c in header.split(",")]
        sent = [c for c in codings if c and c != "identity"]
        if sent:
            raise UnsupportedContentEncoding(
                f"This service does not read compressed bodies (Content-Encoding:"
                f" {', '.join(sent)[:40]}): send the body uncompressed, without a"
                " Content-Encoding header."
            )


STORE_UNAVAILABLE_MESSAGE = (
    "The service cannot reach its database just now, so this could not be done."
    " Please try again in a few minutes."
)
# What the public is told of an error the app raised that is not their doing (the log has why).
SERVER_ERROR_MESSAGE = (
    "Something went wrong on our side, so this could not be done. It has been logged;"
    " please try again later."
)


def _register_store_unavailable(app: Flask, store: Store) -> None:
    """The database down or out of reach is an outage (503), not a bug (500 and a traceback).

    The public sees a plain message (never the database's host); the log gets libpq's reason
    on one line. Each backend connects again at the next request, so pages come back with it.
    """

    def store_unavailable(err: Exception) -> Any:
        app.logger.error("database unavailable: %s", " ".join(str(err).split()))
        headers = {"Retry-After": "30"}
        if _wants_json():
            body = jsonify({"error": {"field": None, "message": STORE_UNAVAILABLE_MESSAGE}})
            return body, 503, headers
        page = render_template("error.html", status=503, message=STORE_UNAVAILABLE_MESSAGE)
        return page, 503, headers

    for error in store.unavailable_errors:
        app.register_error_handler(error, store_unavailable)
