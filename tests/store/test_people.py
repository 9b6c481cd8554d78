"""Staff accounts, sessions and login attempts, on every backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from assetmap.domain.errors import Forbidden, NotFound, ValidationError
from assetmap.domain.people import SESSION_MAX_S
from assetmap.store import Store, open_store
from assetmap.store.people import _token_hash
from tests.store.people_race import add_between_check_and_insert
from tests.store.sessions import last_seen, seen_ago


def test_user_lifecycle_and_session_invalidation(store: Store) -> None:
    ann = store.create_user("Ann", role="moderator", password_hash="h1", display_name="Ann A")
    assert (ann.username, ann.role, ann.display_name, ann.auth_version) == (
        "ann",
        "moderator",
        "Ann A",
        1,
    )
    token = store.create_session(ann)
    again = store.create_session(ann)
    assert token != again
    assert store.session_user(token) == ann
    # a password change ends every earlier session
    changed = store.set_password("ann", "h2")
    assert changed.auth_version == 2 and changed.password_hash == "h2"
    assert store.session_user(token) is None and store.session_user(again) is None
    fresh = store.create_session(changed)
    assert store.session_user(fresh) == changed
    promoted = store.set_role("ann", "admin")
    assert store.session_user(fresh) is None
    assert promoted.can("commissioner") and promoted.can("moderator")
    store.end_session(store.create_session(promoted))
    assert store.session_user("not-a-token") is None


def test_expired_session_is_refused(store: Store) -> None:
    bob = store.create_user("bob", role="commissioner", password_hash="h")
    assert store.session_user(store.create_session(bob, ttl_s=-1)) is None
    assert not bob.can("moderator") and bob.can("commissioner")


def test_a_session_idle_too_long_has_ended(store: Store) -> None:
    cy = store.create_user("cy", role="moderator", password_hash="h")
    token = store.create_session(cy)
    seen_ago(store, token, 1800)
    assert store.session_user(token, idle_s=1800) is None
    assert store.staff_session(token, idle_s=1800) is None
    # With no idle limit (staff_idle_minutes = 0) only the day-long limit applies.
    assert store.session_user(token) == cy


def test_a_session_in_use_ends_a_spell_after_its_last_request(store: Store) -> None:
    cy = store.create_user("cy", role="moderator", password_hash="h")
    token = store.create_session(cy)
    created = last_seen(store, token)
    found = store.staff_session(token, idle_s=1800)
    assert found is not None and found.user == cy
    # Just signed in: the last request is the sign-in, and nothing is written for this one.
    assert last_seen(store, token) == created
    assert found.ends_at == created + timedelta(seconds=1800)
    # Asking without counting as activity (the warning's status check) writes nothing.
    earlier = seen_ago(store, token, 1700)
    quiet = store.staff_session(token, idle_s=1800, touch=False)
    assert quiet is not None and last_seen(store, token) == earlier
    assert quiet.ends_at == earlier + timedelta(seconds=1800)
    # A request now starts the spell again.
    before = datetime.now(UTC).replace(microsecond=0)
    touched = store.staff_session(token, idle_s=1800)
    assert touched is not None
    seen = last_seen(store, token)
    assert before <= seen <= datetime.now(UTC)
    assert touched.ends_at == seen + timedelta(seconds=1800)
    # A request within a minute of the last one is not written again.
    assert store.staff_session(token, idle_s=1800) is not None
    assert last_seen(store, token) == seen


def test_a_session_ends_a_day_after_sign_in_however_busy(store: Store) -> None:
    cy = store.create_user("cy", role="moderator", password_hash="h")
    token = store.create_session(cy)
    with store.transaction() as conn:
        conn.execute(
            store._sql("UPDATE sessions SET created_at = ?, expires_at = ? WHERE token_hash = ?"),
            ("2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00", _token_hash(token)),
        )
    assert store.session_user(token, idle_s=1800) is None
    fresh = store.create_session(cy)
    found = store.staff_session(fresh, idle_s=None)
    assert found is not None
    created = last_seen(store, fresh)
    assert found.ends_at == created + timedelta(seconds=SESSION_MAX_S)
    assert SESSION_MAX_S > 20 * 3600  # WCAG 2.2.1's exception: no warning needed


def test_sessions_open_before_version_13_count_from_their_start(store_url: str) -> None:
    old = open_store(store_url, migrate=False)
    assert old.migrate(target=12) == 12
    started = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="seconds")
    ends = (datetime.now(UTC) + timedelta(hours=7)).isoformat(timespec="seconds")
    with old.transaction() as conn:
        conn.execute(
            old._sql(
                "INSERT INTO users (username, display_name, role, password_hash, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            ),
            ("mo", "Mo", "moderator", "h", started, started),
        )
        conn.execute(
            old._sql(
                "INSERT INTO sessions (token_hash, user_pk, auth_version, created_at, expires_at)"
                " SELECT ?, pk, 1, ?, ? FROM users WHERE username = 'mo'"
            ),
            (_token_hash("old-token"), started, ends),
        )
    old.close()
    store = open_store(store_url)
    assert last_seen(store, "old-token") == datetime.fromisoformat(started)
    found = store.staff_session("old-token", idle_s=1800, touch=False)
    assert found is not None and found.user.username == "mo"
    assert found.ends_at == datetime.fromisoformat(started) + timedelta(seconds=1800)
    assert store.session_user("old-token", idle_s=600) is None  # idle for 10 minutes
    store.close()


def test_user_errors_name_the_field(store: Store) -> None:
    store.create_user("cat", role="moderator", password_hash="h")
    with pytest.raises(ValidationError) as err:
        store.create_user("CAT", role="moderator", password_hash="h")
    assert str(err.value) == "field 'username': there is already an account called cat"
    with pytest.raises(ValidationError, match="not one of") as err:
        store.create_user("dan", role="king", password_hash="h")
    assert err.value.field == "role"
    with pytest.raises(ValidationError):
        store.create_user("a b<script>", role="moderator", password_hash="h")
    with pytest.raises(NotFound):
        store.set_password("nobody", "h")
    assert [u.username for u in store.list_users()] == ["cat"]


def test_a_name_taken_between_the_check_and_the_insert_is_refused_by_name(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two `users add` for one name at once on PostgreSQL: the second met a UniqueViolation.
    add_between_check_and_insert(monkeypatch, store_url, "mo", role="moderator")
    with pytest.raises(ValidationError) as err:
        store.create_user("Mo", role="admin", password_hash="mine")
    assert str(err.value) == "field 'username': there is already an account called mo"
    # The first one's account stands, untouched; the store still works.
    (mo,) = store.list_users()
    assert (mo.role, mo.password_hash) == ("moderator", "the other one's")
    assert store.create_user("ann", role="admin", password_hash="h").username == "ann"


def test_disabling_ends_sessions_and_enabling_brings_none_back(store: Store) -> None:
    mo = store.create_user("mo", role="moderator", password_hash="h")
    token = store.create_session(mo)
    off, changed = store.set_active("MO", False)
    assert changed and not off.active and off.auth_version == mo.auth_version + 1
    assert store.session_user(token) is None
    # Kept, not deleted: history names the account.
    assert [(u.username, u.active) for u in store.list_users()] == [("mo", False)]
    again, changed = store.set_active("mo", False)
    assert not changed and again == off
    on, changed = store.set_active("mo", True)
    assert changed and on.active and on.auth_version == off.auth_version + 1
    assert on.password_hash == "h" and on.role == "moderator"
    assert store.session_user(token) is None
    assert store.session_user(store.create_session(on)) == on
    assert store.set_active("mo", True) == (on, False)
    with pytest.raises(NotFound, match="no user 'nobody'"):
        store.set_active("nobody", False)


def test_a_session_left_by_switching_off_by_hand_stays_ended(store: Store) -> None:
    mo = store.create_user("mo", role="moderator", password_hash="h")
    token = store.create_session(mo)
    with store.transaction() as conn:
        conn.execute("UPDATE users SET active = FALSE WHERE username = 'mo'")
    assert store.set_active("mo", True)[1]
    assert store.session_user(token) is None


def test_the_last_active_admin_cannot_be_given_another_role(store: Store) -> None:
    ada = store.create_user("ada", role="admin", password_hash="h")
    token = store.create_session(ada)
    with pytest.raises(Forbidden) as err:
        store.set_role("ada", "moderator")
    assert str(err.value) == (
        "cannot make ada moderator: they are the last active admin, and only an admin sees"
        " the contact details of residents whose submissions are in no moderator's area;"
        " make another account admin first"
    )
    assert store.get_user("ada") == ada
    assert store.session_user(token) == ada  # refused: nothing changed, sessions kept
    assert store.set_role("ada", "admin").role == "admin"  # no change of power: allowed
    # A disabled admin does not count; an active one does.
    store.create_user("bea", role="admin", password_hash="h")
    store.set_active("bea", False)
    with pytest.raises(Forbidden, match="cannot make ada commissioner: they are the last"):
        store.set_role("ada", "commissioner")
    store.set_active("bea", True)
    assert store.set_role("ada", "commissioner").role == "commissioner"
    with pytest.raises(Forbidden, match="cannot make bea moderator"):
        store.set_role("bea", "moderator")


def test_the_last_active_admin_cannot_be_disabled(store: Store) -> None:
    ada = store.create_user("ada", role="admin", password_hash="h")
    store.create_user("mo", role="moderator", password_hash="h")
    with pytest.raises(Forbidden) as err:
        store.set_active("ada", False)
    assert str(err.value) == (
        "cannot disable ada: they are the last active admin, and only an admin sees the"
        " contact details of residents whose submissions are in no moderator's area;"
        " make another account admin first"
    )
    assert store.get_user("ada") == ada
    # With a second admin either may go, but not both; a disabled admin does not count.
    store.create_user("bea", role="admin", password_hash="h")
    assert store.set_active("ada", False)[1]
    with pytest.raises(Forbidden, match="cannot disable bea: they are the last active admin"):
        store.set_active("bea", False)
    assert store.set_active("mo", False)[1]  # nobody else is held back by the rule
    assert store.set_active("ada", True)[1]
    assert store.set_active("bea", False)[1]
    assert [(u.username, u.active) for u in store.list_users()] == [
        ("ada", True),
        ("bea", False),
        ("mo", False),
    ]


def test_two_admins_disabled_at_once_leave_one(store: Store, store_url: str) -> None:
    store.create_user("ada", role="admin", password_hash="h")
    store.create_user("bea", role="admin", password_hash="h")
    other = open_store(store_url)
    outcome: list[object] = []

    def disable_bea() -> None:
        try:
            outcome.append(other.set_active("bea", False))
        except Forbidden as err:
            outcome.append(err)

    racer = threading.Thread(target=disable_bea)
    try:
        with store.transaction():
            assert store.set_active("ada", False)[1]
            racer.start()
            # Without a lock the other connection counts ada as still active, and is done.
            racer.join(timeout=1)
        racer.join()
    finally:
        other.close()
    (refused,) = outcome
    assert isinstance(refused, Forbidden) and "bea: they are the last active admin" in str(refused)
    assert [(u.username, u.active) for u in store.list_users()] == [("ada", False), ("bea", True)]


def test_failed_logins_are_counted_per_user_and_client(store: Store) -> None:
    since = "2000-01-01T00:00:00+00:00"
    for _ in range(3):
        store.record_login_attempt("ann", "client-1", ok=False)
    store.record_login_attempt("ann", "client-2", ok=False)
    store.record_login_attempt("ann", "client-1", ok=True)
    assert store.failed_logins_since(since=since, username="ann") == 4
    assert store.failed_logins_since(since=since, client_key="client-1") == 3
    assert store.failed_logins_since(since="2999-01-01T00:00:00+00:00", username="ann") == 0


def test_areas_are_kept_normalised_and_replaced(store: Store) -> None:
    mo = store.create_user(
        "mo", role="moderator", password_hash="h", areas=[" e09000007", "E08000009", "E08000009"]
    )
    assert mo.areas == ("E08000009", "E09000007")
    assert store.create_user("cara", role="commissioner", password_hash="h").areas == ()
    token = store.create_session(mo)
    moved = store.set_areas("MO", ["E08000035"])
    assert moved.areas == ("E08000035",) and moved.auth_version == mo.auth_version
    # The session is kept, and reads the new areas at once.
    assert store.session_user(token) == moved
    assert [u.areas for u in store.list_users()] == [(), ("E08000035",)]
    assert store.set_areas("mo", []).areas == ()
    with pytest.raises(ValidationError, match="'Trafford' is not an area code") as err:
        store.set_areas("mo", ["Trafford"])
    assert err.value.field == "area"
    with pytest.raises(ValidationError, match="not an area code"):
        store.create_user("bo", role="moderator", password_hash="h", areas=["E0800000"])
    assert store.get_user("bo") is None
    with pytest.raises(NotFound):
        store.set_areas("nobody", ["E08000009"])


def test_a_database_at_version_6_gains_areas(store_url: str) -> None:
    old = open_store(store_url, migrate=False)
    assert old.migrate(target=6) == 6
    with old.transaction() as conn:
        conn.execute(
            old._sql(
                "INSERT INTO users (username, display_name, role, password_hash, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            ),
            (
                "mo",
                "Mo",
                "moderator",
                "h",
                "2025-01-01T00:00:00+00:00",
                "2025-01-01T00:00:00+00:00",
            ),
        )
    old.close()
    store = open_store(store_url)
    assert max(store._applied_versions(store._conn())) >= 7
    mo = store.get_user("mo")
    assert mo is not None and mo.areas == () and mo.display_name == "Mo"
    assert store.set_areas("mo", ["E08000009"]).areas == ("E08000009",)
    store.close()
