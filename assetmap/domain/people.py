"""Staff accounts: who may moderate, commission or administer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

ROLES = MappingProxyType(
    {
        "moderator": "Moderator (local area coordinator)",
        "commissioner": "Commissioner",
        "admin": "Administrator",
    }
)


@dataclass(frozen=True)
class User:
    """A staff account.

    ``auth_version`` changes whenever the password or role changes or the account is disabled
    or enabled, which ends every session issued before. ``areas`` are the ONS local authority
    district codes whose submissions a moderator looks after: they decide whose contact
    details the moderator may see.
    """

    id: int
    username: str
    display_name: str
    role: str
    password_hash: str
    auth_version: int
    active: bool
    created_at: str
    areas: tuple[str, ...] = ()

    @property
    def author(self) -> str:
        """How this user is named in revisions and events."""
        return f"user:{self.username}"

    def can(self, role: str) -> bool:
        """Whether the user holds this role; admins hold every role."""
        return self.active and (self.role == role or self.role == "admin")

    def sees_submitter_contact(self, area_code: str | None) -> bool:
        """Whether this user may see a resident's name and email on a submission.

        Admins see them for everything; a moderator only when the submission's area (the
        local authority district its place is in, None when outside every known one) is one
        of theirs; nobody else ever does.
        """
        if not self.active:
            return False
        if self.role == "admin":
            return True
        return self.role == "moderator" and area_code is not None and area_code in self.areas


# A session ends this long after sign-in whatever is done meanwhile. Longer than 20 hours, so
# that it needs no warning (WCAG 2.2 success criterion 2.2.1's exception for such limits):
# the shorter idle limit, which comes with a warning and a way to stay signed in, does the
# work of signing out someone who has walked away.
SESSION_MAX_S = 24 * 3600


@dataclass(frozen=True)
class StaffSession:
    """A live sign-in: whose it is, and when it ends (UTC) if nothing more is done."""

    user: User
    ends_at: datetime
