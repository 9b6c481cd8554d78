"""A second ``users add`` for the same name landing between a store's check and its insert."""

from __future__ import annotations

from typing import Any

import pytest

from assetmap.domain.people import User
from assetmap.store import open_store
from assetmap.store.people import PeopleSql


def _add_elsewhere(url: str, username: str, role: str) -> None:
    other = open_store(url)
    try:
        other.create_user(username, role=role, password_hash="the other one's")
    finally:
        other.close()


def add_between_check_and_insert(
    monkeypatch: pytest.MonkeyPatch, url: str, username: str, role: str = "moderator"
) -> None:
    """Make the next ``create_user(username)`` meet an account another connection added.

    Both stores hold their write lock from the check to the insert (PostGIS since its write
    transactions take an advisory lock), so nothing can come between them: the account is
    added first and the check made to miss it, which meets the same UNIQUE constraint a
    second ``users add`` racing this one without that lock did.
    """
    _add_elsewhere(url, username, role)
    check = PeopleSql._find_user
    armed = True

    def raced(self: PeopleSql, conn: Any, name: str) -> User | None:
        nonlocal armed
        found = check(self, conn, name)
        if armed and name.strip().lower() == username:
            armed = False
            return None
        return found

    monkeypatch.setattr(PeopleSql, "_find_user", raced)
