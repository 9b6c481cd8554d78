"""``assetmap set-status``: archive a listing or publish it again, as a new revision."""

from __future__ import annotations

import pytest

from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.cli_main import run_main
from tests.maps.trafford import LIBRARIES, create_all


def test_archive_and_publish_again_keep_the_history(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
) -> None:
    library, *_ = create_all(store, LIBRARIES, taxonomy)

    def set_status(*args: str) -> tuple[int, str, str]:
        return run_main(monkeypatch, capsys, "--db", store_url, "set-status", library.id, *args)

    status, out, _err = set_status("archived", "--reason", " listed twice:\n  see the other ")
    assert status == 0
    assert out == f"{library.id} '{library.name}' is now archived (revision 2)\n"
    assert store.get_asset(library.id).status == "archived"
    last = store.history(library.id)[-1]
    assert (last.number, last.action, last.author, last.reason) == (
        2,
        "status",
        "cli:set-status",
        "listed twice: see the other",
    )
    assert store.count_assets(status="published") == len(LIBRARIES) - 1

    # The same again changes nothing and adds no revision.
    status, out, _err = set_status("archived", "--reason", "again")
    assert (status, out) == (
        0,
        f"{library.id} '{library.name}' is already archived: nothing changed\n",
    )
    assert len(store.history(library.id)) == 2

    status, out, _err = set_status("published", "--reason", "open again")
    assert status == 0 and "is now published (revision 3)" in out
    assert store.get_asset(library.id).status == "published"


def test_set_status_refuses_what_it_cannot_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
) -> None:
    published, pending = create_all(
        store, [LIBRARIES[0], {**LIBRARIES[1], "status": "pending"}], taxonomy
    )

    def run(*args: str) -> tuple[int, str, str]:
        return run_main(monkeypatch, capsys, "--db", store_url, "set-status", *args)

    status, _out, err = run(published.id, "archived", "--reason", "   ")
    assert status == 2 and "field 'reason': say why, for the asset's history" in err
    status, _out, err = run(pending.id, "archived", "--reason", "spam")
    assert status == 2
    assert f"{pending.id} '{pending.name}' is pending" in err
    assert "decided in the moderation queue" in err
    status, _out, err = run("nosuchasset", "archived", "--reason", "gone")
    assert status == 2 and "nosuchasset" in err
    # Statuses that belong to moderation are not offered.
    status, _out, err = run(published.id, "rejected", "--reason", "no")
    assert status == 2 and "'rejected' is not one of 'archived', 'published'" in err
    for asset in (published, pending):
        assert len(store.history(asset.id)) == 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_database_held_by_another_writer_is_one_line_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    store_url: str,
    taxonomy: Taxonomy,
) -> None:
    import assetmap.store.sqlite as sqlite_module

    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 200)  # 10 s in real use
    library, *_ = create_all(store, LIBRARIES, taxonomy)
    with store.transaction():  # another command, part-way through its own change
        status, out, err = run_main(
            monkeypatch,
            capsys,
            "--db",
            store_url,
            "set-status",
            library.id,
            "archived",
            "--reason",
            "x",
        )
    assert (status, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "is busy with another change" in err and "nothing was written" in err
    assert store.get_asset(library.id).status == "published"
    assert len(store.history(library.id)) == 1
