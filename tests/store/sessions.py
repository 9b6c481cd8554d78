"""Moving a staff session's last request about, for tests of the idle limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assetmap.store import Store
from assetmap.store.people import _token_hash


def last_seen(store: Store, token: str) -> datetime:
    """When the session last made a request, as stored."""
    sql = store._sql("SELECT last_seen_at FROM sessions WHERE token_hash = ?")
    return datetime.fromisoformat(store._conn().execute(sql, (_token_hash(token),)).fetchone()[0])


def seen_ago(store: Store, token: str, seconds: int) -> datetime:
    """Mark the session's last request as ``seconds`` ago; returns that time as stored."""
    moment = (datetime.now(UTC) - timedelta(seconds=seconds)).replace(microsecond=0)
    with store.transaction() as conn:
        conn.execute(
            store._sql("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?"),
            (moment.isoformat(timespec="seconds"), _token_hash(token)),
        )
    return moment
