"""The submission rules that need no store: what a revert does to a status."""

from __future__ import annotations

import pytest

from assetmap.domain.submission import status_after_revert


@pytest.mark.parametrize(
    ("current", "restored", "after"),
    [
        # Into or out of the moderation queue's state: the status stays as it is.
        ("published", "pending", "published"),
        ("rejected", "pending", "rejected"),
        ("archived", "pending", "archived"),
        ("pending", "published", "pending"),
        # Between the others a revert restores the old status, as it does any field.
        ("archived", "published", "published"),
        ("published", "archived", "archived"),
        ("published", "published", "published"),
    ],
)
def test_a_revert_never_moves_an_asset_into_or_out_of_pending(
    current: str, restored: str, after: str
) -> None:
    assert status_after_revert(current, restored) == after
