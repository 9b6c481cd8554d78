"""Staff accounts: who may moderate, commission or administer."""

from __future__ import annotations

from dataclasses import dataclass
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

    ``auth_version`` changes whenever the password or role changes, which ends every session
    issued before.
    """

    id: int
    username: str
    display_name: str
    role: str
    password_hash: str
    auth_version: int
    active: bool
    created_at: str

    @property
    def author(self) -> str:
        """How this user is named in revisions and events."""
        return f"user:{self.username}"

    def can(self, role: str) -> bool:
        """Whether the user holds this role; admins hold every role."""
        return self.active and (self.role == role or self.role == "admin")
