"""Stores: one contract (base.Store), an embedded SQLite backend and a PostGIS backend."""

from __future__ import annotations

import re

from assetmap.domain.errors import ValidationError
from assetmap.store.base import BatchOutcome, NearbyHit
from assetmap.store.jobs import JobsSql

# The whole contract: assets, people, submissions and background jobs; both backends
# implement it unchanged.
Store = JobsSql

__all__ = ["BatchOutcome", "NearbyHit", "Store", "open_store", "without_password"]


def open_store(url: str, *, migrate: bool = True, points_in_memory: bool = True) -> Store:
    """Open the store a URL names and bring its schema up to date.

    Parameters
    ----------
    url
        ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
        ``postgresql://user@host:port/db`` (optionally ``?schema=name``).
    migrate
        Apply pending schema migrations (an older database is upgraded in place).
    points_in_memory
        SQLite only: hold every asset's point in memory for radius searches (see
        :mod:`assetmap.store.point_grid`). Loading them takes 2–4 s and about 60 MB per
        million assets, repaid by a server's many searches, not by a one-off command's one.
    """
    if url.startswith("sqlite:"):
        from assetmap.store.sqlite import SQLiteStore

        store: Store = SQLiteStore(url, points_in_memory=points_in_memory)
    elif url.startswith(("postgresql:", "postgres:")):
        from assetmap.store.postgis import PostGISStore

        store = PostGISStore(url)
    else:
        raise ValidationError(
            f"unsupported database URL '{without_password(url)}': use sqlite:///path.db or"
            " postgresql://...",
            field="database_url",
        )
    if migrate:
        try:
            store.migrate()
        except BaseException:
            # A store that cannot be brought up to date is not handed out: close its
            # connection here rather than leave it open until the garbage collector finds it.
            store.close()
            raise
    return store


def without_password(url: str) -> str:
    """A database URL fit to print: a password in it (user:pw@ or ?password=) starred out."""
    url = re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url, count=1)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)
