"""Resident submissions and change requests, and the moderation decisions on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("new", "change", "problem")
PROBLEMS = {
    "closed": "It has closed",
    "wrong_details": "Some details are wrong",
    "wrong_place": "It is in the wrong place on the map",
}
STATES = ("pending", "approved", "rejected", "merged")


def status_after_revert(current: str, restored: str) -> str:
    """The status an asset has after a revert to a revision whose status was ``restored``.

    "pending" belongs to the moderation queue: only a resident's submission puts an asset in
    it and only a moderator's decision (approve, reject, merge) takes it out, and the queue
    lists submissions, not assets. A revert that brought "pending" back would leave the asset
    hidden from the public and in no queue; one that replaced "pending" would publish or
    close it behind the queue's back. So a revert into or out of "pending" restores the
    content and keeps the current status; between the other statuses (undoing an archive,
    say) it restores the old one, as it does every other field.

    Parameters
    ----------
    current
        The asset's status now.
    restored
        The status stored in the revision being reverted to.

    Returns
    -------
    str
        The status the revert's new revision gets.
    """
    return current if "pending" in (current, restored) else restored


@dataclass(frozen=True)
class Submitter:
    """Who sent a submission.

    Name and email are private: shown only to admins and to the moderators of the area the
    place is in (see ``User.sees_submitter_contact``).
    """

    name: str = ""
    email: str = ""
    client_key: str = ""  # a keyed hash of the client address, for rate limits
    author: str = "resident"  # "user:<name>" when a signed-in member of staff submits


@dataclass(frozen=True)
class Submission:
    """A pending (or decided) submission.

    ``kind`` is "new" (a new asset, stored as a pending asset), "change" (proposed field
    changes to a published asset) or "problem" (a report: closed, wrong details, wrong place).
    ``version`` increases with every decision so a stale moderator action is refused.
    """

    ref: str
    kind: str
    status: str
    asset_id: str
    base_revision: int
    changes: dict[str, Any]
    problem: str
    message: str
    submitter: Submitter
    created_at: str
    version: int
    decided_by: str = ""
    decided_at: str = ""
    decision_reason: str = ""
    merged_into: str = ""
    idempotency_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class SubmissionEvent:
    """One action on a submission, kept forever."""

    ref: str
    action: str
    actor: str
    reason: str
    created_at: str
