"""SQLite-specific guarantees: durability settings, append-only triggers, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assetmap.domain.asset import build_asset
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import open_store
from assetmap.store.sqlite import SQLiteStore, sqlite_path
from tests.store.test_contract import ALTRINCHAM


def test_pragmas(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    conn = store._conn()  # type: ignore[attr-defined]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_revision_rows_cannot_be_updated_or_deleted(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = tmp_path / "a.db"
    store = open_store(f"sqlite:///{path}")
    store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    store.close()
    raw = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE revisions SET author = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM revisions")
    assert raw.execute("SELECT author FROM revisions").fetchall() == [("a",)]
    raw.close()


def test_opening_an_older_database_upgrades_it(tmp_path: Path, taxonomy: Taxonomy) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SQLiteStore(url)
    assert old.migrate(target=1) == 1
    kept = old.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    old.close()
    raw = sqlite3.connect(tmp_path / "old.db")
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "import_runs" not in tables
    raw.close()
    store = open_store(url)
    assert store.get_asset(kept.id) == kept
    store.record_import_run("s", "a", {"read": 1})
    assert store.import_runs()[0]["report"] == {"read": 1}
    latest = max(n for n, _ in store._migration_files())
    assert latest >= 2
    assert store.migrate() == latest  # idempotent: nothing left to apply
    store.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///instance/a.db", "instance/a.db"),
        ("sqlite:////tmp/a.db", "/tmp/a.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_url_paths(url: str, path: str) -> None:
    assert sqlite_path(url) == path


def test_bad_urls_name_the_problem() -> None:
    from assetmap.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="unsupported database URL 'mysql://x'"):
        open_store("mysql://x")
    # A mistyped scheme must not print the password the URL carries.
    with pytest.raises(ValidationError) as caught:
        open_store("postgressql://app:s3cret@db.example:5432/assetmap")
    assert "s3cret" not in str(caught.value)
    assert "'postgressql://app:***@db.example:5432/assetmap'" in str(caught.value)
    with pytest.raises(ValidationError, match="names no database file"):
        sqlite_path("sqlite://")


def test_a_write_behind_another_writer_gives_up_saying_so_and_writes_nothing(
    tmp_path: Path, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assetmap.store.sqlite as sqlite_module
    from assetmap.store.base import StoreUnavailable

    # The real wait is 10 s; the behaviour is the same after a fifth of a second.
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 200)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    holder, waiter = open_store(url), open_store(url)
    assert waiter.unavailable_errors == (StoreUnavailable,)  # the web app's 503
    with holder.transaction(), pytest.raises(StoreUnavailable) as caught:
        waiter.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    assert caught.value.status == 503
    assert str(caught.value) == (
        f"{tmp_path / 'a.db'} is busy with another change (waited 0.2 s for it to finish);"
        " nothing was written: try again when it has finished"
    )
    assert waiter.count_assets() == 0
    # Once the other writer has finished, the same store writes.
    waiter.create_asset(build_asset(ALTRINCHAM, taxonomy), author="a")
    assert holder.count_assets() == 1
    holder.close()
    waiter.close()
