"""Production serving: gunicorn in front of the app factory.

The app keeps nothing in process memory that matters across requests (sessions, rate-limit
counts and jobs are in the database), so any number of workers and instances can share one
database. On SQLite each worker holds the asset points in memory for radius searches, a
cache brought up to date from the database before every search. Behind a reverse proxy
set ``ASSETMAP_TRUSTED_PROXIES`` to the number of proxies in front of the app; only then
are ``X-Forwarded-*`` headers believed.

The access log leaves out query strings: a search's names the postcode someone searched near.

Under a path prefix (``SCRIPT_NAME=/assetmap``) the app mounts itself there (:func:`mount`)
instead of leaving it to gunicorn, which answered any path outside the prefix with a 500
naming its own configuration, ``/healthz`` included.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask, request
from gunicorn.glogging import Logger
from werkzeug.exceptions import NotFound

from assetmap.domain.errors import ValidationError
from assetmap.settings import Settings
from assetmap.web.app import create_app

# Marks a request for a path outside the prefix the app is mounted at.
_OUTSIDE = "assetmap.outside_prefix"


def default_workers() -> int:
    """gunicorn's usual rule of thumb: two per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


class AccessLogWithoutQueries(Logger):  # type: ignore[misc]
    """gunicorn's logger, whose access lines give each path without its query string.

    A nearby search's query names the postcode a coordinator searched near: personal data
    that a log kept for months, and read by whoever runs the server, should not hold. The
    format stays gunicorn's (Combined Log Format); the request line (``%(r)s``), the path
    (``%(U)s``) and the referrer (``%(f)s``, often a search page here) lose their queries,
    and ``%(q)s`` is blank.
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        """The values of the format's ``%(x)s`` fields for one request."""
        atoms = super().atoms(resp, req, environ, request_time)
        # The path as sent, still percent-encoded, with any mount prefix: gunicorn's U is
        # decoded, so a path holding %0A wrote a line break and a client could forge lines.
        path = str(environ.get("RAW_URI", "")).partition("?")[0]
        method, protocol = environ.get("REQUEST_METHOD"), environ.get("SERVER_PROTOCOL")
        atoms.update(
            r=f"{method} {path} {protocol}",
            U=path,
            q="-",
            f=str(atoms.get("f", "-")).partition("?")[0],
        )
        return atoms


def mount(app: Flask, prefix: str) -> Flask:
    """Serve ``app`` at ``prefix`` (``/assetmap``), as a proxy passing whole paths sends them.

    A path under the prefix reaches the app with the prefix in ``SCRIPT_NAME``, so links
    and redirects keep it. Any other path, ``/healthz`` included, is the app's own 404 page
    (or JSON error): the app is not there, and a health check that answered outside it
    would answer for whichever app a shared host routes the bare path to. Check
    ``/assetmap/healthz``.
    """
    inner = app.wsgi_app

    def at_prefix(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(f"{prefix}/"):
            environ["PATH_INFO"] = path[len(prefix) :]
        else:
            environ[_OUTSIDE] = True
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
        return inner(environ, start_response)

    def outside_the_prefix() -> None:
        if request.environ.get(_OUTSIDE):
            raise NotFound(f"Nothing here has this address: this service is at {prefix}/.")

    app.wsgi_app = at_prefix  # type: ignore[method-assign]
    # First of the before-request checks: before sign-in or CSRF could answer instead.
    app.before_request_funcs.setdefault(None, []).insert(0, outside_the_prefix)
    return app


def mounted_app(prefix: str) -> Flask:
    """gunicorn's factory under a prefix: ``create_app()`` from the environment, mounted."""
    return mount(create_app(), prefix)


def _prefix(script_name: str) -> str:
    """The mount path in ``SCRIPT_NAME``, without a trailing slash ("" for none)."""
    if script_name and not script_name.startswith("/"):
        # gunicorn compared it with paths, which all start with "/": every request a 500.
        raise ValidationError(
            f"{script_name!r} does not start with /: give the path the app is served at,"
            " such as /assetmap",
            field="SCRIPT_NAME",
        )
    return script_name.rstrip("/")


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Replace this process with gunicorn serving ``create_app()`` from the environment."""
    env = dict(os.environ)
    # The app mounts itself at the prefix: gunicorn, given it, 500s any path outside.
    prefix = _prefix(env.pop("SCRIPT_NAME", ""))
    factory = f"{__name__}:mounted_app({prefix!r})" if prefix else "assetmap.web.app:create_app()"
    env["ASSETMAP_DATABASE_URL"] = settings.database_url
    env["ASSETMAP_INSTANCE_PATH"] = str(settings.instance_path)
    # Workers must share one secret key, or a form signed by one is refused by another.
    env["ASSETMAP_SECRET_KEY"] = settings.with_secret().secret_key
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers or default_workers()),
        "--access-logfile",
        "-",
        "--logger-class",
        f"{__name__}.{AccessLogWithoutQueries.__name__}",
        # gunicorn 25.1+ opens a control socket at one path per user ($XDG_RUNTIME_DIR or
        # ~/.gunicorn/gunicorn.ctl): a second instance took it over and removed it on exit.
        "--no-control-socket",
        "--forwarded-allow-ips",
        "127.0.0.1" if settings.trusted_proxies else "",
        factory,
    ]
    os.execve(sys.executable, args, env)  # noqa: S606 - fixed argv, no shell
