"""Per-thread connections that are closed when their thread ends.

Each backend keeps one connection per thread. Servers that start a thread per request
(werkzeug's threaded server, which ``assetmap serve`` and the browser tests use) would
otherwise leave one connection open per request served: PostgreSQL refuses new clients after
``max_connections`` and SQLite runs out of file descriptors.
"""

from __future__ import annotations

import contextlib
from typing import Protocol


class Closable(Protocol):
    """A DB-API connection, as far as closing goes."""

    def close(self) -> None:
        """Close it; closing twice is harmless."""


class ThreadConnection:
    """Closes one thread's connection when the thread's locals are freed.

    Keep it only in the thread's ``threading.local`` and hold it weakly anywhere else: when
    the thread finishes, Python frees its locals, this object goes with them, and the
    connection is closed. :meth:`close` closes it earlier (``store.close()``).
    """

    def __init__(self, conn: Closable) -> None:
        self._conn: Closable | None = conn

    def close(self) -> None:
        """Close the connection, once."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __del__(self) -> None:
        # Runs as the thread ends (or at exit); an error here has nobody to report to.
        with contextlib.suppress(Exception):
            self.close()
