"""Who may see a resident's name and email: the submission's area against the viewer's areas.

A submission's area is the local authority district its place lies in: the point the resident
sent for a new asset, or the asset's current point for a suggested change or problem report
(see :mod:`assetmap.gazetteer.areas`). Admins see every sender's contact details; a moderator
sees them only for submissions in one of their areas; everyone else sees a note instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assetmap.domain.asset import Asset
from assetmap.domain.people import User
from assetmap.domain.submission import Submission
from assetmap.gazetteer.areas import Area, AreaIndex


@dataclass(frozen=True)
class SenderView:
    """A submission as one member of staff may see it.

    Attributes
    ----------
    submission : Submission
        The submission, with the sender's name and email blanked unless the viewer may see
        them (so a page cannot show them by mistake).
    area : Area or None
        The district the submission's place is in; None when outside every known one.
    withheld : bool
        The resident gave a name or email that this viewer may not see.
    """

    submission: Submission
    area: Area | None
    withheld: bool

    @property
    def note(self) -> str:
        """Why the contact details are not shown ("" when nothing is withheld)."""
        if not self.withheld:
            return ""
        if self.area is None:
            return (
                "Submitter's contact details are only shown to administrators: this place is"
                " outside every area that moderators look after."
            )
        return f"Submitter's contact details are only shown to moderators for {self.area.name}."


def submission_area(asset: Asset, areas: AreaIndex) -> Area | None:
    """The district a submission's asset lies in (its WGS84 point), or None."""
    return areas.area_at(asset.lon, asset.lat)


def as_seen_by(user: User, submission: Submission, asset: Asset, areas: AreaIndex) -> SenderView:
    """The submission with its sender's contact details kept only if ``user`` may see them.

    Parameters
    ----------
    user
        The signed-in member of staff.
    submission
        A submission, as stored.
    asset
        Its asset: the pending new asset, or the published asset a change is about.
    areas
        The known districts.
    """
    area = submission_area(asset, areas)
    sender = submission.submitter
    if user.sees_submitter_contact(area.code if area else None):
        return SenderView(submission, area, withheld=False)
    hidden = replace(submission, submitter=replace(sender, name="", email=""))
    return SenderView(hidden, area, withheld=bool(sender.name or sender.email))
