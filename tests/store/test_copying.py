"""Copying a whole store between backends keeps every row, history included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assetmap.domain.asset import build_asset
from assetmap.domain.errors import ValidationError
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store, copying, open_store
from assetmap.store.copying import TABLES, copy_store
from tests.store.test_contract import ALTRINCHAM, SALE


def _fill(store: Store, taxonomy: Taxonomy) -> dict[str, object]:
    lib = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="import")
    store.update_asset(lib.id, {"phone": "0161 912 5920"}, author="user:mo", reason="called")
    sub, _ = store.submit_new(
        build_asset({**SALE, "name": "Sale Walkers"}, taxonomy),
        submitter=Submitter(name="Rita", email="rita@example.org", client_key="c1"),
        idempotency_key="k1",
    )
    store.reject(sub.ref, moderator="user:mo", expected_version=1, reason="not a group")
    store.create_user("mo", role="moderator", password_hash="argon2-hash")
    store.record_login_attempt("mo", "c1", ok=False)
    store.record_import_run("trafford", "cli", {"read": 2})
    job = store.create_job("jsaa", title="Trafford", created_by="user:co", steps_total=3)
    store.finish_job(job.id, result={"files": ["index.html"]})
    return {"lib": lib.id, "ref": sub.ref, "job": job.id}


def test_copy_to_an_empty_sqlite_store_verifies(
    store: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    ids = _fill(store, taxonomy)
    target = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    checks = copy_store(store, target)
    assert [c.table for c in checks] == list(TABLES)
    assert all(c.ok for c in checks), checks
    assert {c.table: c.source_rows for c in checks}["revisions"] == 4
    assert target.history(str(ids["lib"])) == store.history(str(ids["lib"]))
    assert target.get_submission(str(ids["ref"])).submitter.email == "rita@example.org"
    assert target.nearby(ALTRINCHAM["lon"], ALTRINCHAM["lat"], 50)[0].asset.id == ids["lib"]  # type: ignore[arg-type]
    user = target.get_user("mo")
    assert user is not None and user.active is True
    # new rows after the copy get fresh keys (sequences / rowids moved past the copied ones)
    more = target.create_asset(build_asset(SALE, taxonomy), author="x")
    assert target.get_asset(more.id).name == "Sale Library"
    with pytest.raises(ValidationError, match="not empty"):
        copy_store(store, target)
    target.close()


def test_copy_from_sqlite_into_each_backend(
    store: Store, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}")
    ids = _fill(source, taxonomy)
    checks = copy_store(source, store)
    assert all(c.ok for c in checks), checks
    assert store.history(str(ids["lib"]))[-1].reason == "called"
    assert store.count_assets(status="rejected") == 1
    assert store.failed_logins_since(since="2000-01-01", username="mo") == 1
    # An assessment run's page and results are still reached from its id.
    assert store.get_job(str(ids["job"])) == source.get_job(str(ids["job"]))
    later = store.create_job("jsaa", title="next", created_by="user:co")  # a fresh key
    assert store.get_job(later.id).title == "next"
    fresh = store.create_asset(build_asset({**SALE, "name": "New"}, taxonomy), author="x")
    assert fresh.revision == 1 and store.count_assets() == 3
    source.close()


def test_a_copy_that_does_not_verify_leaves_the_target_empty(
    store: Store, taxonomy: Taxonomy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}")
    ids = _fill(source, taxonomy)
    checksum = copying.table_checksum

    def changed_in_transit(of: Store, table: str) -> tuple[int, str]:
        # A row that arrived different from how it left (a trigger, a type the target
        # reads back otherwise): the copy cannot be vouched for.
        count, sha = checksum(of, table)
        return (count, "0" * 64) if of is store and table == "revisions" else (count, sha)

    monkeypatch.setattr(copying, "table_checksum", changed_in_transit)
    checks = copy_store(source, store)
    assert {c.table for c in checks if not c.ok} == {"revisions"}
    assert store.count_assets() == 0 and store.count_revisions() == 0
    assert store.list_users() == [] and store.import_runs() == []
    monkeypatch.undo()
    assert all(c.ok for c in copy_store(source, store))  # so it can simply be run again
    assert store.get_asset(str(ids["lib"])).phone == "0161 912 5920"
    source.close()


def test_the_source_is_copied_as_it_was_at_one_moment_while_the_app_writes_to_it(
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _fill(store, taxonomy)
    before = (store.count_assets(), store.count_revisions())
    app = open_store(store_url)  # the app, still running, with its own connection
    rows = copying._rows
    written: list[str] = []

    def written_meanwhile(of: Store, table: str) -> Iterator[tuple[Any, ...]]:
        yield from rows(of, table)
        if of is store and table == "assets" and not written:
            written.append(table)
            # After the assets were read, before their revisions: an asset is added (its
            # revision would have had no asset in the copy) and another edited.
            app.create_asset(build_asset(SALE, taxonomy), author="user:mo")
            app.update_asset(str(ids["lib"]), {"phone": "0161 000 0000"}, author="user:mo")

    monkeypatch.setattr(copying, "_rows", written_meanwhile)
    target = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    checks = copy_store(store, target)
    assert all(c.ok for c in checks), checks
    assert (target.count_assets(), target.count_revisions()) == before
    assert target.get_asset(str(ids["lib"])).phone == "0161 912 5920"  # as it was then
    # The snapshot is over: the source reads as it is now.
    assert (store.count_assets(), store.count_revisions()) == (before[0] + 1, before[1] + 2)
    assert store.get_asset(str(ids["lib"])).phone == "0161 000 0000"
    app.close()
    target.close()
