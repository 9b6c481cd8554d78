"""Submissions and moderation decisions, on every backend."""

from __future__ import annotations

import pytest

from assetmap.domain.asset import build_asset
from assetmap.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import Store
from tests.store.test_contract import ALTRINCHAM, SALE

RESIDENT = Submitter(name="Rita Resident", email="rita@example.org", client_key="c1")


def test_new_submission_is_pending_until_approved(store: Store, taxonomy: Taxonomy) -> None:
    asset = build_asset(
        {**SALE, "name": "Sale Walking Group", "category": "activity_group"}, taxonomy
    )
    sub, created = store.submit_new(asset, submitter=RESIDENT, idempotency_key="k1")
    assert created and sub.status == "pending" and sub.kind == "new"
    assert sub.ref.startswith("AM-") and len(sub.ref) == 12
    assert store.get_asset(sub.asset_id).status == "pending"
    assert store.nearby(SALE["lon"], SALE["lat"], 100) == []  # type: ignore[arg-type]
    approved = store.approve(
        sub.ref, moderator="user:mo", expected_version=1, edits={"description": "Tuesdays"}
    )
    assert (approved.status, approved.decided_by, approved.version) == ("approved", "user:mo", 2)
    live = store.get_asset(sub.asset_id)
    assert (live.status, live.description) == ("published", "Tuesdays")
    hits = store.nearby(SALE["lon"], SALE["lat"], 100)  # type: ignore[arg-type]
    assert [h.asset.id for h in hits] == [sub.asset_id]
    history = store.history(sub.asset_id)
    assert [(r.action, r.author) for r in history] == [
        ("create", "resident"),
        ("update", "user:mo"),
    ]
    assert set(history[1].changed) == {"description", "status"}
    assert [e.action for e in store.submission_events(sub.ref)] == ["submitted", "approved"]
    # submitter contact details never reach the asset's state
    assert "rita" not in str(live.to_dict()).lower()


def test_idempotency_key_returns_the_first_submission(store: Store, taxonomy: Taxonomy) -> None:
    asset = build_asset({**SALE, "name": "Time Bank"}, taxonomy)
    first, created = store.submit_new(asset, submitter=RESIDENT, idempotency_key="same")
    again, created_again = store.submit_new(asset, submitter=RESIDENT, idempotency_key="same")
    assert created and not created_again and again.ref == first.ref
    assert store.count_submissions() == 1 and store.count_assets(status="pending") == 1


def test_second_moderator_gets_a_conflict(store: Store, taxonomy: Taxonomy) -> None:
    sub, _ = store.submit_new(build_asset(SALE, taxonomy), submitter=RESIDENT)
    store.reject(sub.ref, moderator="user:a", expected_version=1, reason="duplicate of Sale")
    with pytest.raises(Conflict, match="changed since you opened it: it is now rejected by user:a"):
        store.approve(sub.ref, moderator="user:b", expected_version=1)
    assert store.get_asset(sub.asset_id).status == "rejected"
    assert store.get_submission(sub.ref).decision_reason == "duplicate of Sale"


def test_moderator_cannot_approve_own_submission(store: Store, taxonomy: Taxonomy) -> None:
    mine = Submitter(author="user:mo", client_key="c2")
    sub, _ = store.submit_new(build_asset(SALE, taxonomy), submitter=mine)
    with pytest.raises(Forbidden):
        store.approve(sub.ref, moderator="user:mo", expected_version=1)
    assert store.get_submission(sub.ref).status == "pending"
    store.approve(sub.ref, moderator="user:other", expected_version=1)


def test_reject_needs_a_reason(store: Store, taxonomy: Taxonomy) -> None:
    sub, _ = store.submit_new(build_asset(SALE, taxonomy), submitter=RESIDENT)
    with pytest.raises(ValidationError) as err:
        store.reject(sub.ref, moderator="user:a", expected_version=1, reason="  ")
    assert err.value.field == "reason"


def test_change_request_and_problem_report(store: Store, taxonomy: Taxonomy) -> None:
    lib = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="import")
    change, _ = store.submit_change(
        lib.id, changes={"phone": "0161 912 5920"}, submitter=RESIDENT, message="new number"
    )
    assert (change.kind, change.base_revision, change.changes) == (
        "change",
        1,
        {"phone": "0161 912 5920"},
    )
    assert store.get_asset(lib.id).phone == ""  # not a direct edit
    store.approve(change.ref, moderator="user:mo", expected_version=1)
    assert store.get_asset(lib.id).phone == "0161 912 5920"
    closed, _ = store.submit_change(lib.id, changes={}, problem="closed", submitter=RESIDENT)
    assert closed.kind == "problem"
    store.approve(closed.ref, moderator="user:mo", expected_version=1)
    assert store.get_asset(lib.id).status == "archived"
    with pytest.raises(NotFound):
        store.submit_change(lib.id, changes={"phone": "1"}, submitter=RESIDENT)
    with pytest.raises(ValidationError):
        store.submit_change(lib.id, changes={"status": "published"}, submitter=RESIDENT)
    with pytest.raises(ValidationError):
        store.submit_change(lib.id, changes={}, problem="haunted", submitter=RESIDENT)


def test_merge_folds_fields_into_the_existing_asset(store: Store, taxonomy: Taxonomy) -> None:
    lib = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="import")
    dup = build_asset(
        {**ALTRINCHAM, "name": "Altrincham library", "phone": "0161 912 5920"}, taxonomy
    )
    sub, _ = store.submit_new(dup, submitter=RESIDENT)
    merged = store.merge(sub.ref, into=lib.id, moderator="user:mo", expected_version=1)
    assert (merged.status, merged.merged_into) == ("merged", lib.id)
    target = store.get_asset(lib.id)
    assert target.phone == "0161 912 5920"  # the gap is filled
    assert target.name == "Altrincham Library"  # what the record already said is kept
    assert store.get_asset(sub.asset_id).status == "archived"
    assert store.history(sub.asset_id)[-1].reason == f"merged into {lib.id}"


def test_every_decision_revision_names_its_submission(store: Store, taxonomy: Taxonomy) -> None:
    # With or without the moderator's note: a note alone would leave the asset's history
    # with no way back to what the resident sent.
    lib = store.create_asset(build_asset(ALTRINCHAM, taxonomy), author="import")
    approve, _ = store.submit_new(build_asset(SALE, taxonomy), submitter=RESIDENT)
    store.approve(approve.ref, moderator="user:mo", expected_version=1, reason="rang them")
    assert store.history(approve.asset_id)[-1].reason == f"approved {approve.ref}: rang them"
    plain, _ = store.submit_change(lib.id, changes={"phone": "0161 1"}, submitter=RESIDENT)
    store.approve(plain.ref, moderator="user:mo", expected_version=1)
    assert store.history(lib.id)[-1].reason == f"approved {plain.ref}"
    reject, _ = store.submit_new(
        build_asset({**SALE, "name": "Sale Hall"}, taxonomy), submitter=RESIDENT
    )
    store.reject(reject.ref, moderator="user:mo", expected_version=1, reason="a duplicate")
    assert store.history(reject.asset_id)[-1].reason == f"rejected {reject.ref}: a duplicate"
    assert store.get_submission(reject.ref).decision_reason == "a duplicate"
    dup = build_asset(
        {**ALTRINCHAM, "name": "Altrincham library", "email": "a@example.org"}, taxonomy
    )
    merge, _ = store.submit_new(dup, submitter=RESIDENT)
    store.merge(merge.ref, into=lib.id, moderator="user:mo", expected_version=1, reason="same")
    assert store.history(lib.id)[-1].reason == f"merged submission {merge.ref}: same"


def test_rate_limit_counts_come_from_stored_rows(store: Store, taxonomy: Taxonomy) -> None:
    since = "2000-01-01T00:00:00+00:00"
    for i in range(3):
        store.submit_new(build_asset({**SALE, "name": f"Group {i}"}, taxonomy), submitter=RESIDENT)
    other = Submitter(email="RITA@example.org", client_key="c9")
    store.submit_new(build_asset(SALE, taxonomy), submitter=other)
    assert store.count_submissions_since(since=since, client_key="c1") == 3
    assert store.count_submissions_since(since=since, email="rita@example.org") == 4
    assert store.list_submissions()[0].submitter.name == "Rita Resident"
