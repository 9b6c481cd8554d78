"""Staff sign-in: argon2id hashes, lockout counted from stored attempts."""

from __future__ import annotations

import pytest

from assetmap.domain.errors import TooManyRequests, ValidationError
from assetmap.services.accounts import (
    MAX_FAILURES_PER_USER,
    authenticate,
    client_key,
    hash_password,
)
from assetmap.store import Store

PASSWORD = "correct horse battery"


def test_hash_is_argon2id_and_short_passwords_are_refused() -> None:
    assert hash_password(PASSWORD).startswith("$argon2id$")
    with pytest.raises(ValidationError) as err:
        hash_password("short")
    assert err.value.field == "password"


def test_authenticate_and_lockout(store: Store) -> None:
    store.create_user("mo", role="moderator", password_hash=hash_password(PASSWORD))
    client = client_key("203.0.113.9", "secret")
    assert client != "203.0.113.9" and client == client_key("203.0.113.9", "secret")
    user = authenticate(store, "MO", PASSWORD, client=client)
    assert user is not None and user.username == "mo"
    assert authenticate(store, "nobody", PASSWORD, client=client) is None
    for _ in range(MAX_FAILURES_PER_USER):
        assert authenticate(store, "mo", "wrong password!", client=client) is None
    # now even the right password is refused until the window passes
    with pytest.raises(TooManyRequests, match="Too many failed sign-in attempts"):
        authenticate(store, "mo", PASSWORD, client=client)


def test_a_disabled_account_is_refused_even_with_its_password(store: Store) -> None:
    store.create_user("mo", role="moderator", password_hash=hash_password(PASSWORD))
    client = client_key("203.0.113.9", "secret")
    store.set_active("mo", False)
    assert authenticate(store, "mo", PASSWORD, client=client) is None
    # Counted as a failure, like a wrong password, so the lockout treats both alike.
    assert store.failed_logins_since(since="2000-01-01T00:00:00+00:00", username="mo") == 1
    store.set_active("mo", True)
    user = authenticate(store, "mo", PASSWORD, client=client)
    assert user is not None and user.active
