"""Who may see a resident's contact details: admins always, moderators in their own areas."""

from __future__ import annotations

from dataclasses import replace

from assetmap.domain.people import User

MO = User(
    id=1,
    username="mo",
    display_name="Mo",
    role="moderator",
    password_hash="h",
    auth_version=1,
    active=True,
    created_at="2026-01-01T00:00:00+00:00",
    areas=("E08000009", "E09000007"),
)


def test_moderators_see_contact_only_in_their_areas() -> None:
    assert MO.sees_submitter_contact("E08000009") and MO.sees_submitter_contact("E09000007")
    assert not MO.sees_submitter_contact("E08000025")
    assert not MO.sees_submitter_contact(None)  # outside every known area
    assert not replace(MO, areas=()).sees_submitter_contact("E08000009")
    assert not replace(MO, active=False).sees_submitter_contact("E08000009")


def test_admins_see_everything_and_commissioners_nothing() -> None:
    admin = replace(MO, role="admin", areas=())
    assert admin.sees_submitter_contact("E08000025") and admin.sees_submitter_contact(None)
    assert not replace(MO, role="commissioner").sees_submitter_contact("E08000009")
