"""Published releases: dated, static copies of an assessment's site under ``maps/<slug>/``.

Layout (``settings.maps_path``, ``maps/`` in the repository)::

    maps/index.html                     every assessment and its releases
    maps/_site/                         the stylesheets the two index levels use
    maps/<slug>/index.html              one assessment's releases, newest first
    maps/<slug>/<YYYY-MM-DD>/           one release: the whole site of :func:`write_site`

A release is written into a hidden temporary folder beside its final place and renamed into
place when complete, so a reader never sees half a release, and a failed publish leaves the
previous state untouched. Releases are never changed afterwards unless ``replace`` is asked.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import date as Date
from pathlib import Path
from typing import Any

from assetmap.analysis.jsaa import JsaaResult
from assetmap.domain.errors import Conflict, ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.report import STATIC, SiteError, render, write_site
from assetmap.maps.whole_dir import write_whole

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RELEASE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHARED = "_site"
# No release can be older than the duty to publish Joint Strategic Needs Assessments
# (1 April 2008, Local Government and Public Involvement in Health Act 2007), whose needs a
# JSAA sets assets against: an earlier date is a typing slip (0001-01-01, 2206 for 2026).
EARLIEST_RELEASE = Date(2008, 4, 1)
# A release is dated the day it is published. Today is taken in UTC, with a day's grace so a
# publisher ahead of UTC (or a clock a little fast) is not refused their own today.
FUTURE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Release:
    """One published release, read back from its ``summary.json`` and ``provenance.json``."""

    slug: str
    date: str
    path: Path
    title: str
    areas: int
    priority: int
    config_sha256: str
    generated_at: str

    @property
    def long_date(self) -> str:
        """The date as '23 November 2026'."""
        day = Date.fromisoformat(self.date)
        return f"{day.day} {day:%B %Y}"


def check_slug(slug: str) -> str:
    """The slug, if it is lower-case letters, digits and hyphens (it becomes a URL path)."""
    if not SLUG.match(slug):
        raise ValidationError(
            f"slug '{slug}' must be lower-case letters, digits and hyphens", field="slug"
        )
    return slug


def check_date(value: str, *, today: Date | None = None) -> str:
    """The date, if it is a real YYYY-MM-DD date a release can have.

    Parameters
    ----------
    value
        The release date, ``YYYY-MM-DD``.
    today
        Today's date (UTC when None).

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    ValidationError
        (field ``date``) Not a real YYYY-MM-DD date, later than tomorrow (a release is dated
        the day it is published; one day's grace for time zones), or before
        :data:`EARLIEST_RELEASE`. The message says which and why.
    """
    try:
        day = Date.fromisoformat(value) if RELEASE_DATE.match(value) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(f"date '{value}' is not a YYYY-MM-DD date", field="date")
    today = today or datetime.now(UTC).date()
    if day > today + FUTURE_GRACE:
        raise ValidationError(
            f"date {value} is in the future (today is {today.isoformat()}): a release is "
            "dated the day it is published, so give today's date or leave the date out",
            field="date",
        )
    if day < EARLIEST_RELEASE:
        raise ValidationError(
            f"date {value} is before {EARLIEST_RELEASE.isoformat()}, when Joint Strategic "
            "Needs Assessments began, so no assessment can have been published then",
            field="date",
        )
    return value


def _read_release(slug: str, folder: Path) -> Release | None:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not a complete release (or not one at all): not listed
    return Release(
        slug=slug,
        date=folder.name,
        path=folder,
        title=str(summary["assessment"]["title"]),
        areas=int(summary["totals"]["areas"]),
        priority=int(summary["totals"]["priority_areas"]),
        config_sha256=str(summary["assessment"]["config_sha256"]),
        generated_at=str(provenance.get("generated_at", "")),
    )


def list_releases(maps_root: Path) -> dict[str, list[Release]]:
    """Every complete release under ``maps_root``, by slug (sorted), newest first."""
    out: dict[str, list[Release]] = {}
    if not maps_root.is_dir():
        return out
    for slug_dir in sorted(p for p in maps_root.iterdir() if p.is_dir()):
        if not SLUG.match(slug_dir.name):
            continue
        releases = []
        for folder in sorted(slug_dir.iterdir(), reverse=True):
            if folder.is_dir() and RELEASE_DATE.match(folder.name):
                release = _read_release(slug_dir.name, folder)
                if release is not None:
                    releases.append(release)
        if releases:
            out[slug_dir.name] = releases
    return out


def _site(title: str, prefix: str, home: str) -> dict[str, Any]:
    return {
        "title": title,
        "config_sha256": "",
        "generated_at": "",
        "version": "",
        "prefix": prefix,
        "home": home,
        "provenance": "",
    }


def _group(slug: str, releases: list[Release], href_prefix: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": releases[0].title,
        "href": f"{slug}/index.html",
        "releases": [
            {
                "date": r.date,
                "long_date": r.long_date,
                "title": r.title,
                "areas": f"{r.areas:,}",
                "priority": f"{r.priority:,}",
                "href": f"{href_prefix}{r.date}/",
            }
            for r in releases
        ],
    }


def write_indexes(maps_root: Path, *, vendor_dir: Path) -> list[Path]:
    """(Re)write ``maps/index.html`` and each ``maps/<slug>/index.html`` from the releases.

    Parameters
    ----------
    maps_root
        The published maps folder.
    vendor_dir
        The app's built vendor folder; the GOV.UK Frontend build is copied into ``_site/``.

    Returns
    -------
    list of pathlib.Path
        The index files written.
    """
    css = vendor_dir / "assetmap" / "assetmap.css"
    if not css.is_file():
        raise SiteError(f"{css} is missing: build the front-end files first (make setup)")
    shared = maps_root / SHARED
    (shared / "vendor" / "assetmap").mkdir(parents=True, exist_ok=True)
    (shared / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(css, shared / "vendor" / "assetmap" / "assetmap.css")
    shutil.copyfile(STATIC / "jsaa.css", shared / "assets" / "jsaa.css")
    releases = list_releases(maps_root)
    written = []
    for slug, items in releases.items():
        page = {
            "intro": "Each release is a dated, unchanging copy of the assessment: report, maps "
            "and data, as published that day.",
            "groups": [_group(slug, items, "")],
            "back": {"href": "../index.html", "text": "All published assessments"},
            "show_slug_links": False,
            "show_embed": True,
        }
        path = maps_root / slug / "index.html"
        path.write_text(
            render(
                "releases.html",
                site=_site(items[0].title, f"../{SHARED}/", "../index.html"),
                page=page,
            ),
            encoding="utf-8",
        )
        written.append(path)
    page = {
        "intro": "Joint Strategic Assets Assessments published from Assetmap: where community "
        "assets are set against need, area by area. Every release works offline and can be "
        "embedded in another site.",
        "groups": [_group(slug, items, f"{slug}/") for slug, items in releases.items()],
        "back": None,
        "show_slug_links": True,
        "show_embed": False,
    }
    path = maps_root / "index.html"
    path.write_text(
        render(
            "releases.html",
            site=_site("Published assessments", f"{SHARED}/", "index.html"),
            page=page,
        ),
        encoding="utf-8",
    )
    written.append(path)
    return written


def check_release(maps_root: Path, slug: str, on: str | None, *, replace: bool) -> Path:
    """Where a release will go, once its slug, date and place are checked.

    The command line calls this before running the assessment, so a release that cannot be
    published is refused at once rather than after the whole run.

    Returns
    -------
    pathlib.Path
        ``maps_root/<slug>/<date>``.

    Raises
    ------
    ValidationError
        A bad slug (:func:`check_slug`) or date (:func:`check_date`).
    Conflict
        A release is already published for that date and ``replace`` is False.
    """
    slug = check_slug(slug)
    # Today in UTC, the day check_date measures from: the machine's own date could be a day
    # either side of it.
    day = check_date(on or datetime.now(UTC).date().isoformat())
    target = maps_root / slug / day
    if target.exists() and not replace:
        raise Conflict(
            f"a release of '{slug}' for {day} already exists at {target}; publish with "
            "--replace to replace it, or choose another --date"
        )
    return target


def publish_release(
    result: JsaaResult,
    maps_root: Path,
    *,
    taxonomy: Taxonomy,
    vendor_dir: Path,
    slug: str | None = None,
    on: str | None = None,
    replace: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> Release:
    """Publish a run as the release ``maps/<slug>/<date>/`` and update the indexes.

    Parameters
    ----------
    result
        The run to publish.
    maps_root
        The published maps folder (``settings.maps_path``).
    taxonomy, vendor_dir
        As for :func:`assetmap.maps.report.write_site`.
    slug
        The assessment's folder; the config's ``assessment.slug`` when None.
    on
        The release date (YYYY-MM-DD); today (UTC) when None. Checked by :func:`check_date`: not
        later than tomorrow (UTC), nor before :data:`EARLIEST_RELEASE`.
    replace
        Replace a release already published on that date (otherwise a Conflict).
    on_step
        Progress callback, as for ``write_site``.

    Returns
    -------
    Release
        The release as published.
    """
    target = check_release(maps_root, slug or result.config.slug, on, replace=replace)
    slug = target.parent.name
    write_whole(
        target,
        lambda staging: write_site(
            result, staging, taxonomy=taxonomy, vendor_dir=vendor_dir, on_step=on_step
        ),
    )
    write_indexes(maps_root, vendor_dir=vendor_dir)
    release = _read_release(slug, target)
    assert release is not None  # noqa: S101 - write_site wrote both files just now
    return release
