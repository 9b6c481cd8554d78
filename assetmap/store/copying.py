"""Whole-store copy between backends, with verification (``assetmap migrate-store``).

Rows are copied table by table with their primary keys, so revisions, submissions and events
keep their identity and order, all read from one snapshot of the source. Each table is then
compared by row count and a SHA-256 of its rows in key order, with values normalised
(booleans as 0/1) so both backends hash alike.
Sessions are not copied: they are short-lived, and staff simply sign in again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assetmap.domain.errors import ValidationError
from assetmap.store.base import ASSET_ROW_COLUMNS
from assetmap.store.submissions import SubmissionsSql

# Parents before children, so foreign keys hold at every insert.
TABLES: dict[str, tuple[str, ...]] = {
    "assets": ("pk", "id", "created_at", *ASSET_ROW_COLUMNS),
    "revisions": (
        "pk",
        "asset_id",
        "number",
        "action",
        "author",
        "reason",
        "created_at",
        "changed",
        "state",
    ),
    "import_runs": ("pk", "source", "author", "started_at", "report"),
    "import_sources": ("pk", "asset_id", "state", "imported_at"),
    "users": (
        "pk",
        "username",
        "display_name",
        "role",
        "password_hash",
        "auth_version",
        "active",
        "created_at",
        "updated_at",
        "areas",
    ),
    "login_attempts": ("pk", "username", "client_key", "ok", "at"),
    "submissions": (
        "pk",
        "ref",
        "kind",
        "status",
        "asset_id",
        "base_revision",
        "changes",
        "problem",
        "message",
        "submitter_name",
        "submitter_email",
        "submitted_by",
        "client_key",
        "idempotency_key",
        "created_at",
        "version",
        "decided_by",
        "decided_at",
        "decision_reason",
        "merged_into",
    ),
    "submission_events": ("pk", "ref", "action", "actor", "reason", "created_at"),
    # Assessment runs: their results stay in the instance folder, reached through these rows.
    "jobs": (
        "pk",
        "id",
        "kind",
        "status",
        "title",
        "params",
        "created_by",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "step",
        "steps_done",
        "steps_total",
        "result",
        "error",
    ),
}
_BATCH = 2_000
_BOOLEANS = {("users", "active"), ("login_attempts", "ok")}


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and checksum in the source and the target."""

    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        """Counts and checksums agree."""
        return self.source_rows == self.target_rows and self.source_sha256 == self.target_sha256


class _Mismatch(Exception):
    """Raised inside the copy's transaction to roll it back."""


def _normalise(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _rows(store: SubmissionsSql, table: str) -> Iterator[tuple[Any, ...]]:
    columns = ", ".join(TABLES[table])
    cur = store._conn().execute(f"SELECT {columns} FROM {table} ORDER BY pk")
    while batch := cur.fetchmany(_BATCH):
        yield from batch


def table_checksum(store: SubmissionsSql, table: str) -> tuple[int, str]:
    """Row count and SHA-256 of a table's rows in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(store, table):
        digest.update(json.dumps([_normalise(v) for v in row], default=str).encode())
        count += 1
    return count, digest.hexdigest()


def copy_store(source: SubmissionsSql, target: SubmissionsSql) -> list[TableCheck]:
    """Copy every table from source to an empty target and verify it, in one transaction.

    Parameters
    ----------
    source, target
        Open, migrated stores (any backends). The source must hold some assets or users, the
        target none.

    Returns
    -------
    list of TableCheck
        One per table; the copy succeeded when every check is ``ok``. When one is not, the
        copy was rolled back and the target holds nothing.
    """
    if not (source.count_assets() or source.list_users()):
        # Most likely the wrong database: "copied and verified" would hide that.
        raise ValidationError("the source store is empty: there is nothing to copy", field="from")
    for table in TABLES:
        # Every table: rows in any one (a submission, a job) would collide with the copy's
        # keys half way through, a database error instead of this message.
        if target._conn().execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise ValidationError(
                f"the target store is not empty: its {table} table has rows", field="to"
            )
    checks: list[TableCheck] = []
    # The source is read at one moment throughout: the app may still be writing to it, and
    # tables read at different moments need not agree (a revision whose asset was added
    # after the assets were copied). What is written after that moment is not copied.
    with source.read_snapshot(), contextlib.suppress(_Mismatch), target.transaction() as conn:
        for table, columns in TABLES.items():
            marks = ", ".join("?" * len(columns))
            sql = target._sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})")
            flags = [i for i, c in enumerate(columns) if (table, c) in _BOOLEANS]
            batch: list[tuple[Any, ...]] = []
            for row in _rows(source, table):
                values = list(row)
                for i in flags:  # SQLite keeps 0/1, PostgreSQL wants a boolean
                    values[i] = bool(values[i])
                batch.append(tuple(values))
                if len(batch) >= _BATCH:
                    target._executemany(conn, sql, batch)
                    batch = []
            if batch:
                target._executemany(conn, sql, batch)
        target._after_bulk_load(conn)
        # Checked before the commit, reading the target through this transaction: a copy
        # that does not match (the source written to meanwhile, say) is rolled back, leaving
        # the target empty for another try instead of holding rows nobody can vouch for.
        for table in TABLES:
            s_rows, s_sha = table_checksum(source, table)
            t_rows, t_sha = table_checksum(target, table)
            checks.append(TableCheck(table, s_rows, t_rows, s_sha, t_sha))
        if not all(c.ok for c in checks):
            raise _Mismatch
    return checks
