"""Production serving: gunicorn in front of the app factory.

The app keeps nothing in process memory that matters across requests (sessions, rate-limit
counts and jobs are in the database), so any number of workers and instances can share one
database. On SQLite each worker holds the asset points in memory for radius searches, a
cache brought up to date from the database before every search. Behind a reverse proxy
set ``ASSETMAP_TRUSTED_PROXIES`` to the number of proxies in front of the app; only then
are ``X-Forwarded-*`` headers believed.
"""

from __future__ import annotations

import os
import sys

from assetmap.settings import Settings


def default_workers() -> int:
    """gunicorn's usual rule of thumb: two per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


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
        "--forwarded-allow-ips",
        "127.0.0.1" if settings.trusted_proxies else "",
        "assetmap.web.app:create_app()",
    ]
    os.execve(sys.executable, args, env)  # noqa: S606 - fixed argv, no shell
