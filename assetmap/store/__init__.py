"""Stores: one contract (base.Store), an embedded SQLite backend and a PostGIS backend."""

from __future__ import annotations

import re
import sqlite3

from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.store.base import BatchOutcome, NearbyHit
from assetmap.store.jobs import JobsSql

# The whole contract: assets, people, submissions and background jobs; both backends
# implement it unchanged.
Store = JobsSql

__all__ = [
    "DATABASE_URL_OPTION",
    "BatchOutcome",
    "NearbyHit",
    "Store",
    "open_store",
    "without_password",
]


DATABASE_URL_OPTION = "--db (or ASSETMAP_DATABASE_URL)"


def open_store(
    url: str,
    *,
    migrate: bool = True,
    points_in_memory: bool = True,
    named_by: str = DATABASE_URL_OPTION,
) -> Store:
    """Open the store a URL names and bring its schema up to date.

    Parameters
    ----------
    url
        ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
        ``postgresql://user@host:port/db`` (optionally ``?schema=name``).
    migrate
        Apply pending schema migrations (an older database is upgraded in place). A store
        whose schema is newer than this version's migrations is refused, unchanged.
    points_in_memory
        SQLite only: hold every asset's point in memory for radius searches (see
        :mod:`assetmap.store.point_grid`). Loading them takes 2–4 s and about 60 MB per
        million assets, repaid by a server's many searches, not by a one-off command's one.
    named_by
        Where the URL was given, named in the advice of errors (``--from`` for one).
    """
    if url.startswith("sqlite:"):
        from assetmap.store.sqlite import SQLiteStore, sqlite_path

        try:
            store: Store = SQLiteStore(url, points_in_memory=points_in_memory)
        except OSError as err:  # its folder cannot be made (a file is in the way, no rights)
            raise AssetmapError(
                f"cannot use {sqlite_path(url)} as a SQLite store: its folder {err.filename}"
                f" cannot be made ({err.strerror or err}). Check {named_by}"
            ) from None
    elif url.startswith(("postgresql:", "postgres:")):
        from assetmap.store.postgis import PostGISStore

        store = PostGISStore(url, named_by=named_by)
    else:
        raise ValidationError(
            f"unsupported database URL '{without_password(url)}': use sqlite:///path.db or"
            " postgresql://...",
            field="database_url",
        )
    if migrate:
        try:
            _check_not_newer(store, _migrated(store, named_by), url)
        except BaseException:
            # A store that cannot be brought up to date is not handed out: close its
            # connection here rather than leave it open until the garbage collector finds it.
            store.close()
            raise
    return store


def _migrated(store: Store, named_by: str) -> int:
    """``store.migrate()``, with a file SQLite cannot use named instead of a traceback."""
    try:
        return store.migrate()
    except sqlite3.DatabaseError as err:  # only SQLite raises these: not a database, no access
        # "database is locked" is the backend's StoreUnavailable, raised before this.
        path = getattr(store, "path", store.url)
        raise AssetmapError(
            f"cannot use {path} as a SQLite store: {err}. Check {named_by} names an"
            " Assetmap store (or a new file in a folder this user may write)"
        ) from None


def _check_not_newer(store: Store, version: int, url: str) -> None:
    """Refuse a store a later version of Assetmap has upgraded.

    This version neither reads nor copies what later migrations added, and writes rows
    without it: ``init`` would report the store ready, and ``migrate-store`` would copy it
    "verified" while leaving out the newer tables and columns.
    """
    known = max(number for number, _ in store._migration_files())
    if version > known:
        raise AssetmapError(
            f"the store at {without_password(url)} has schema version {version}, newer than"
            f" this version of Assetmap knows ({known}): a later version upgraded it. Run"
            " that version or a later one (or restore the backup taken before the upgrade);"
            " nothing was changed"
        )


def without_password(url: str) -> str:
    """A database URL fit to print: a password in it (user:pw@ or ?password=) starred out."""
    url = re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url, count=1)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)
