"""Published assessments: the static releases under ``settings.maps_path``, served at /maps/.

Files are served as they are on disk, never rendered. A path is refused (404) when it has a
hidden segment (releases being written are hidden folders), leaves the folder (``..``, an
absolute path, a symlink pointing out) or names nothing. A release's HTML pages may be framed
by any site (``frame-ancestors *``): that is what publishing a map for embedding means.
Everything else keeps the app's ``frame-ancestors 'self'``. The pages need no inline script
or style, so their policy allows scripts and styles from this origin only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, request, send_file
from flask.wrappers import Response

from assetmap.domain.errors import NotFound
from assetmap.web.app import state

bp = Blueprint("published", __name__, url_prefix="/maps")

_RELEASE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Published files change only when a release is replaced: caches may keep them a while.
MAX_AGE_S = 600
# Types the standard library may not know.
_TYPES = {
    ".js": "text/javascript",
    ".gpkg": "application/geopackage+sqlite3",
    ".toml": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
}


def static_policy(*, embeddable: bool) -> str:
    """Content-Security-Policy for a static page: this origin's scripts and styles only."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "*" if embeddable else "'self'",
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


# matplotlib's SVG charts style their shapes with style attributes; an SVG shown as an image
# runs no script, so inline styles are all it needs.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def resolve_static(root: Path, subpath: str) -> Path:
    """The file under ``root`` that ``subpath`` names, or NotFound.

    Directories resolve to their ``index.html``. Refused: empty or hidden segments (a leading
    dot), backslashes and control characters, ``..``, and anything whose real path (symlinks
    followed) is outside ``root``.
    """
    parts = subpath.split("/") if subpath else []
    trailing = bool(parts) and parts[-1] == ""
    parts = parts[:-1] if trailing else parts
    for part in parts:
        if (
            not part
            or part.startswith(".")
            or "\\" in part
            or any(ord(ch) < 32 for ch in part)
            or part in {"..", "."}
        ):
            raise NotFound("There is no published file at this address.")
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, *parts))
    if not _is_inside(target, real_root):
        raise NotFound("There is no published file at this address.")
    if os.path.isdir(target):
        target = os.path.join(target, "index.html")
    if not os.path.isfile(target):
        raise NotFound("There is no published file at this address.")
    return Path(target)


def send_static(root: Path, subpath: str, *, embeddable: bool = False) -> Response:
    """Send one file of a static site with the headers its type needs."""
    path = resolve_static(root, subpath)
    suffix = path.suffix.lower()
    response = send_file(
        path, mimetype=_TYPES.get(suffix), conditional=True, max_age=MAX_AGE_S, etag=True
    )
    if suffix == ".svg":
        policy = SVG_POLICY
    else:
        policy = static_policy(embeddable=embeddable and suffix == ".html")
    response.headers["Content-Security-Policy"] = policy
    return response


def _latest(slug: str) -> str:
    folder = state().settings.maps_path / slug
    if _SLUG.match(slug) and folder.is_dir():
        dates = sorted(
            (p.name for p in folder.iterdir() if p.is_dir() and _RELEASE_DATE.match(p.name)),
            reverse=True,
        )
        if dates:
            return dates[0]
    raise NotFound(f"Nothing has been published for '{slug}'.")


@bp.get("/", defaults={"subpath": ""})
@bp.get("/<path:subpath>")
def published(subpath: str) -> Any:
    """Published assessment releases: report, maps and data (static files)."""
    parts = subpath.split("/")
    # A directory without its slash would resolve relative links one level too high.
    if subpath and not subpath.endswith("/") and "." not in parts[-1]:
        root = state().settings.maps_path
        if resolve_static(root, subpath + "/").name == "index.html":
            return redirect(f"{request.script_root}/maps/{subpath}/", 308)
    if len(parts) >= 2 and parts[1] == "latest":
        # A stable address for the newest release, for links and embeds that should follow it.
        rest = "/".join(parts[2:])
        return redirect(f"{request.script_root}/maps/{parts[0]}/{_latest(parts[0])}/{rest}", 302)
    embeddable = (
        len(parts) >= 3 and bool(_SLUG.match(parts[0])) and bool(_RELEASE_DATE.match(parts[1]))
    )
    return send_static(state().settings.maps_path, subpath, embeddable=embeddable)
