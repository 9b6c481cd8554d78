"""Resident submissions below the web layer: validation, duplicates, limits and retention."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.submission import Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex
from assetmap.services.submitting import (
    CREATED,
    RESEND_WINDOW,
    RESENT,
    Sent,
    SubmissionLimitReached,
    check_rate_limits,
    find_resent,
    forget_submitters,
    is_same_submission,
    name_similarity,
    read_changes,
    read_new_asset,
    read_submitter,
    same_place_changes,
    similar_assets,
    submit_once,
)
from assetmap.store import Store
from tests.maps.trafford import LIBRARIES, create_all

RESIDENT = Submitter(name="Rita", email="rita@example.org", client_key="c1", author="resident")


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("Sale Walking Group", "sale walking group", True),
        ("Sale Walking Group", "Sale walking group (Tuesdays)", True),
        ("Café Nero", "Cafe nero", True),
        ("Altrincham Library", "Altrincham Librery", True),
        ("The Library", "Library", True),
        ("Knit and Natter", "Sale Walking Group", False),
        ("Sale Walking Group", "Stretford Knitting Group", False),
        ("The Hub", "The Oak", False),  # sharing only "the" is not enough
        ("", "Library", False),
        ("Библиотека", "библиотека", True),  # letters of every script count
    ],
)
def test_name_similarity(a: str, b: str, alike: bool) -> None:
    assert (name_similarity(a, b) >= 0.8) is alike


def test_similar_assets_are_published_near_and_alike(store: Store, taxonomy: Taxonomy) -> None:
    lostock, _ = create_all(store, [LIBRARIES[3], LIBRARIES[4]], taxonomy)
    create_all(store, [{**LIBRARIES[3], "status": "pending"}], taxonomy)
    found = similar_assets(store, "lostock library", -2.3310, 53.4550)
    assert [(s.asset.id, s.score) for s in found] == [(lostock.id, 1.0)]
    assert 0 < found[0].distance_m < 200
    assert similar_assets(store, "Lostock Library", -2.3310, 53.4580) == []  # ~350 m
    assert similar_assets(store, "   ", -2.3310, 53.4550) == []


def test_similar_assets_with_the_same_postcode_count_further_away(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    # Hale Library is 210 m from the middle of its own postcode, WA15 9NT, where a resident
    # without the map is placed: it was not offered as "the same place".
    (hale,) = create_all(store, [LIBRARIES[2]], taxonomy)
    middle = postcodes.lookup("WA15 9NT")
    assert similar_assets(store, "Hale Library", middle.lon, middle.lat) == []
    (found,) = similar_assets(store, "Hale library", middle.lon, middle.lat, postcode="wa159nt")
    assert (found.asset.id, found.score, round(found.distance_m)) == (hale.id, 1.0, 210)
    # Only the same postcode counts beyond 200 m (WA15 9AE's middle is 262 m away) ...
    other = postcodes.lookup("WA15 9AE")
    assert similar_assets(store, "Hale Library", other.lon, other.lat, postcode="WA15 9AE") == []
    # ... up to 1,000 m, and a name that is not alike never does.
    far_lat = hale.lat + 0.0095  # 1,056 m north
    assert similar_assets(store, "Hale Library", hale.lon, far_lat, postcode="WA15 9NT") == []
    assert (
        similar_assets(store, "Hale Barns Bowls", middle.lon, middle.lat, postcode="WA15 9NT") == []
    )


def test_read_new_asset_places_a_postcode_at_its_centroid(
    taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    asset, errors = read_new_asset(
        {"name": " Walkers ", "category": "activity_group", "postcode": "m320th", "status": "x"},
        taxonomy,
        postcodes,
    )
    assert errors == [] and asset is not None
    assert (asset.name, asset.postcode, asset.status, asset.source) == (
        "Walkers",
        "M32 0TH",
        "pending",
        "resident",
    )
    assert (asset.lon, asset.lat) == (-2.28748, 53.45901)


def test_read_new_asset_reports_every_field_once_in_form_order(
    taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    _, errors = read_new_asset(
        {"website": "ftp://x", "phone": "?", "name": "x" * 300, "postcode": "M33"},
        taxonomy,
        postcodes,
    )
    assert [e.field for e in errors] == ["name", "category", "postcode", "phone", "website"]


def test_read_changes_keeps_only_real_changes(store: Store, taxonomy: Taxonomy) -> None:
    (library,) = create_all(store, [LIBRARIES[0]], taxonomy)
    changes, errors = read_changes(
        library,
        {
            "name": " Altrincham Library ",
            "postcode": "wa14 1ah",
            "phone": "0161 912 5920",
            "accessibility": ["bsl", "step_free"],
        },
        taxonomy,
    )
    assert errors == []
    assert changes == {"phone": "0161 912 5920", "accessibility": ["bsl", "step_free"]}
    _, errors = read_changes(library, {"website": "nope", "category": "zoo"}, taxonomy)
    assert [e.field for e in errors] == ["category", "website"]


def test_same_place_changes_leave_the_point_and_an_equal_name(taxonomy: Taxonomy) -> None:
    existing = build_asset(LIBRARIES[0], taxonomy)
    proposed = build_asset(
        {
            **LIBRARIES[0],
            "name": "ALTRINCHAM LIBRARY!",
            "lon": -2.3,
            "lat": 53.4,
            "phone": "0161 912 5920",
            "email": "",
        },
        taxonomy,
    )
    assert same_place_changes(existing, proposed) == {"phone": "0161 912 5920"}


def test_rate_limits_count_stored_rows_in_their_window(store: Store, taxonomy: Taxonomy) -> None:
    asset = build_asset(LIBRARIES[0], taxonomy)
    for _ in range(3):
        store.submit_new(asset, submitter=RESIDENT)
    now = datetime.now(UTC)
    check_rate_limits(store, client_key="c1", email="", per_client_per_hour=4)
    with pytest.raises(SubmissionLimitReached) as err:
        check_rate_limits(store, client_key="c1", email="", per_client_per_hour=3)
    assert (err.value.status, err.value.retry_after_s, err.value.field) == (429, 3600, None)
    with pytest.raises(SubmissionLimitReached) as err:
        check_rate_limits(store, client_key="c9", email="RITA@example.org", per_email_per_day=3)
    assert err.value.field == "submitter_email"
    # An hour later the client may send again; a day later, the email too.
    later = now + timedelta(hours=1, minutes=1)
    check_rate_limits(store, client_key="c1", email="", per_client_per_hour=3, now=later)
    tomorrow = now + timedelta(days=1, minutes=1)
    check_rate_limits(
        store, client_key="c9", email="rita@example.org", per_email_per_day=3, now=tomorrow
    )
    check_rate_limits(
        store, client_key="c1", email="rita@example.org", per_client_per_hour=0, per_email_per_day=0
    )


def test_submitter_details_are_forgotten_a_year_after_the_decision(
    store: Store, taxonomy: Taxonomy
) -> None:
    asset = build_asset(LIBRARIES[0], taxonomy)
    decided, _ = store.submit_new(asset, submitter=RESIDENT)
    waiting, _ = store.submit_new(asset, submitter=RESIDENT)
    store.reject(decided.ref, moderator="user:mo", expected_version=1, reason="duplicate")
    assert forget_submitters(store) == 0  # decided today: kept
    next_year = datetime.now(UTC) + timedelta(days=366)
    assert forget_submitters(store, now=next_year) == 1
    forgotten = store.get_submission(decided.ref)
    assert (
        forgotten.submitter.name,
        forgotten.submitter.email,
        forgotten.submitter.client_key,
    ) == (
        "",
        "",
        "",
    )
    assert (forgotten.status, forgotten.decision_reason) == ("rejected", "duplicate")
    assert store.get_submission(waiting.ref).submitter == RESIDENT  # pending: still needed
    assert forget_submitters(store, now=next_year) == 0


def test_is_same_submission_compares_the_first_revision(store: Store, taxonomy: Taxonomy) -> None:
    asset = build_asset(LIBRARIES[0], taxonomy).with_changes(status="pending")
    sub, _ = store.submit_new(asset, submitter=RESIDENT, idempotency_key="api:k")
    store.approve(sub.ref, moderator="user:mo", expected_version=1, edits={"name": "Edited"})
    assert is_same_submission(store, sub, asset, RESIDENT)
    assert not is_same_submission(store, sub, asset.with_changes(name="Other"), RESIDENT)
    assert not is_same_submission(store, sub, asset, Submitter(email="x@example.org"))
    assert store.find_submission_by_key("api:k") == store.get_submission(sub.ref)
    assert store.find_submission_by_key("api:other") is None


def test_forget_submitters_from_the_command_line(store: Store, taxonomy: Taxonomy) -> None:
    sub, _ = store.submit_new(build_asset(LIBRARIES[0], taxonomy), submitter=RESIDENT)
    store.reject(sub.ref, moderator="user:mo", expected_version=1, reason="duplicate")
    command = [
        str(Path(sys.executable).parent / "assetmap"),
        "--db",
        store.url,
        "forget-submitters",
    ]
    kept = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert kept.stdout.strip() == (
        "cleared submitter details from 0 submissions decided over 365 days ago"
    )
    time.sleep(1.1)  # decisions are stored to the second
    cleared = subprocess.run(
        [*command, "--days", "0"], capture_output=True, text=True, timeout=120, check=True
    )
    assert "from 1 submission decided over 0 days ago" in cleared.stdout
    assert store.get_submission(sub.ref).submitter.email == ""


def test_read_submitter_reports_a_bad_email_beside_a_long_name() -> None:
    # Both mistakes at once: the email was not checked when the name was too long.
    _, errors = read_submitter({"submitter_name": "R" * 201, "submitter_email": "rita"})
    assert [(e.field, e.message) for e in errors] == [
        ("submitter_name", "Your name must be 200 characters or fewer"),
        (
            "submitter_email",
            "Enter your email address in the correct format, like name@example.com",
        ),
    ]
    # An email that is too long is told so once, not also that its format is wrong.
    _, errors = read_submitter({"submitter_email": "r" * 255})
    assert [(e.field, e.message) for e in errors] == [
        ("submitter_email", "Your email address must be 254 characters or fewer")
    ]


def _walkers(postcodes: PostcodeIndex, taxonomy: Taxonomy, **changes: str) -> Asset:
    fields = {"name": "Lostock Tuesday Walkers", "category": "activity_group"}
    asset, errors = read_new_asset(
        {**fields, "postcode": "M32 0TH", **changes}, taxonomy, postcodes
    )
    assert asset is not None, errors
    return asset


def test_the_same_place_sent_again_while_pending_is_the_first_submission(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    first, outcome = submit_once(
        store, Sent.new_place(_walkers(postcodes, taxonomy)), submitter=RESIDENT
    )
    assert outcome == CREATED
    again, outcome = submit_once(
        store,
        Sent.new_place(_walkers(postcodes, taxonomy)),
        submitter=RESIDENT,
        idempotency_key="form:another-tab-token",
    )
    assert (again.ref, outcome) == (first.ref, RESENT)
    assert store.count_submissions() == 1
    # One word more is something the resident wrote: kept, as a submission of its own.
    other, outcome = submit_once(
        store,
        Sent.new_place(_walkers(postcodes, taxonomy, description="Then tea.")),
        submitter=RESIDENT,
    )
    assert outcome == CREATED and other.ref != first.ref
    # So is the same place from another sender, or from this one with another email.
    for who in (replace(RESIDENT, client_key="c2"), replace(RESIDENT, email="r@example.org")):
        sub, outcome = submit_once(
            store, Sent.new_place(_walkers(postcodes, taxonomy)), submitter=who
        )
        assert outcome == CREATED and sub.ref != first.ref
    assert store.count_submissions() == 4


def test_a_decided_or_day_old_submission_is_not_sent_again(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    sent = Sent.new_place(_walkers(postcodes, taxonomy))
    first, _ = submit_once(store, sent, submitter=RESIDENT)
    later = datetime.now(UTC) + RESEND_WINDOW + timedelta(minutes=1)
    assert find_resent(store, sent, RESIDENT) == first
    assert find_resent(store, sent, RESIDENT, now=later) is None
    second, outcome = submit_once(store, sent, submitter=RESIDENT, now=later)
    assert outcome == CREATED and second.ref != first.ref
    store.reject(first.ref, moderator="user:mod", expected_version=1, reason="Closed in May")
    store.reject(second.ref, moderator="user:mod", expected_version=1, reason="Closed in May")
    third, outcome = submit_once(store, sent, submitter=RESIDENT)
    assert outcome == CREATED and third.ref not in {first.ref, second.ref}
    assert [s.ref for s in store.list_submissions(status="pending")] == [third.ref]


def test_a_problem_report_sent_again_is_the_first_and_another_message_is_not(
    store: Store, taxonomy: Taxonomy
) -> None:
    (library,) = create_all(store, [LIBRARIES[2]], taxonomy)
    report = Sent.about(library.id, {}, "closed", "Shut since the flood")
    first, _ = submit_once(store, report, submitter=RESIDENT)
    again, outcome = submit_once(store, report, submitter=RESIDENT)
    assert (again.ref, outcome) == (first.ref, RESENT)
    other = Sent.about(library.id, {}, "closed", "Shut since the flood in May")
    assert submit_once(store, other, submitter=RESIDENT)[1] == CREATED
    change = Sent.about(library.id, {"phone": "0161 912 3168"})
    assert submit_once(store, change, submitter=RESIDENT)[1] == CREATED
    assert submit_once(store, change, submitter=RESIDENT)[1] == RESENT
    assert store.count_submissions() == 3


def _two_at_once(store: Store, sent: Sent, rounds: int, *, own_keys: bool) -> None:
    """Send ``sent`` from two threads released together, ``rounds`` times, each from a new
    sender; each time both must be answered with one reference."""
    for i in range(rounds):
        who = replace(RESIDENT, client_key=f"c{i}")
        barrier = threading.Barrier(2)

        def send(
            n: int, who: Submitter = who, i: int = i, barrier: threading.Barrier = barrier
        ) -> str:
            barrier.wait()
            # Two tabs: each form has its own token. An API client without a key: none.
            own = f"form:token-{i}-{n}-0123456789" if own_keys else ""
            return submit_once(store, sent, submitter=who, idempotency_key=own)[0].ref

        with ThreadPoolExecutor(max_workers=2) as pool:
            refs = set(pool.map(send, range(2)))
        assert len(refs) == 1, refs
    assert store.count_submissions() == rounds


def test_two_sends_without_a_key_at_once_store_one(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    """On both backends: the content's key is unique, whichever look-up saw what."""
    _two_at_once(store, Sent.new_place(_walkers(postcodes, taxonomy)), 5, own_keys=False)


def test_two_tabs_sending_at_once_store_one(
    store: Store, taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> None:
    """The write transaction holds the store's write lock from the resend look-up to the
    insert, on SQLite and on PostGIS alike."""
    _two_at_once(store, Sent.new_place(_walkers(postcodes, taxonomy)), 5, own_keys=True)
