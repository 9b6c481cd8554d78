"""Production serving: gunicorn in front of the app factory.

The app keeps nothing in process memory that matters across requests (sessions, rate-limit
counts and jobs are in the database), so any number of workers and instances can share one
database. On SQLite each worker holds the asset points in memory for radius searches, a
cache brought up to date from the database before every search. Behind a reverse proxy
set ``ASSETMAP_TRUSTED_PROXIES`` to the number of proxies in front of the app; only then
are ``X-Forwarded-*`` headers believed.

The access log leaves out query strings: a search's names the postcode someone searched near.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gunicorn.glogging import Logger

from assetmap.settings import Settings


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


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Replace this process with gunicorn serving ``create_app()`` from the environment."""
    env = dict(os.environ)
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
        "assetmap.web.app:create_app()",
    ]
    os.execve(sys.executable, args, env)  # noqa: S606 - fixed argv, no shell
