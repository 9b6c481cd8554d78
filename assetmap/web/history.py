"""An asset's history for staff: every revision with a field-by-field diff, and revert.

Staff only (any role), never public: old revisions keep what residents once wrote, including
mistakes and personal details later corrected, and pending or rejected records. Reverting
(moderators) restores an earlier revision's content as a new revision; nothing is lost, and a
revert from a stale page is refused with a 409. A revert never moves an asset into or out of
"pending" (the store keeps the current status; see ``status_after_revert``), and the page says
so beside each revision where that applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from assetmap.domain.asset import changed_fields
from assetmap.domain.errors import Conflict, Forbidden, ValidationError
from assetmap.domain.revision import Revision
from assetmap.domain.submission import status_after_revert
from assetmap.domain.vocab import STATUSES
from assetmap.web.app import current_store, state
from assetmap.web.auth import current_user, login_required
from assetmap.web.review import FieldRow, field_rows

bp = Blueprint("history", __name__)

ACTIONS = {
    "create": "Created",
    "update": "Changed",
    "status": "Status changed",
    "revert": "Reverted",
    "import": "Imported",
}
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class HistoryEntry:
    """One revision, what it changed from the one before, and whether it can be restored.

    ``status_after_revert`` names the status a revert to it would give, when that is not the
    current one; ``status_kept`` names the current status when the revision's own status
    would not be restored (it is "pending", or the asset is).
    """

    revision: Revision
    rows: list[FieldRow]
    revertible: bool
    status_after_revert: str
    status_kept: str = ""


def _label(status: str) -> str:
    return STATUSES.get(status, status)


def _entries(revisions: list[Revision]) -> list[HistoryEntry]:
    taxonomy = state().taxonomy
    current = revisions[-1].state
    now = str(current.get("status", ""))
    out = []
    before: dict[str, Any] | None = None
    for rev in revisions:
        rows = field_rows(before, rev.state, taxonomy)
        then = str(rev.state.get("status", ""))
        # What the store would write: the same rule, so the button is offered only when the
        # revert would change something and the note says what happens to the status.
        after = status_after_revert(now, then)
        differs = bool(changed_fields({**rev.state, "status": after}, current))
        note = _label(after) if after != now else ""
        kept = _label(now) if after != then else ""
        out.append(HistoryEntry(rev, rows, differs, note, kept))
        before = rev.state
    out.reverse()
    return out


def _render(asset_id: str, *, errors: dict[str, str] | None = None) -> str:
    """The history page; ``errors`` maps a revert form's reason field to its message."""
    store = current_store()
    user = current_user()
    return render_template(
        "staff/history.html",
        asset=store.get_asset(asset_id),
        entries=_entries(store.history(asset_id)),
        actions=ACTIONS,
        statuses=STATUSES,
        can_revert=user is not None and user.can("moderator"),
        errors=errors or {},
        form=request.form if errors else {},
    )


@bp.get("/assets/<asset_id>/history")
@login_required()
def asset_history(asset_id: str) -> Any:
    """Every revision of an asset, newest first, with what each one changed."""
    return _render(asset_id)


@bp.post("/assets/<asset_id>/history/revert")
@login_required("moderator")
def revert(asset_id: str) -> Any:
    """Restore an earlier revision's content as a new revision."""
    store = current_store()
    user = current_user()
    if user is None:  # login_required has already sent anonymous visitors to sign in
        raise Forbidden("Sign in to revert.")
    try:
        to_revision = int(request.form.get("to_revision", ""))
        expected = int(request.form.get("revision", ""))
    except ValueError:
        raise ValidationError(
            "The form was missing the revision numbers. Open the history again and retry.",
            field="revision",
        ) from None
    reason = request.form.get("reason", "").strip()
    if len(reason) > MAX_REASON_CHARS:
        # Refused, not cut short: the page shows the whole reason back in its box to shorten.
        field = f"reason-{to_revision}"
        message = f"The reason must be {MAX_REASON_CHARS} characters or fewer"
        return _render(asset_id, errors={field: message}), 400
    # The store refuses a revert that would change nothing (400) and keeps a pending status
    # out of it; a stale page is a Conflict, answered here with a page saying what happened.
    try:
        reverted = store.revert(
            asset_id,
            to_revision,
            author=user.author,
            reason=reason or f"revert to revision {to_revision}",
            expected_revision=expected,
        )
    except Conflict as err:
        asset = store.get_asset(asset_id)
        page = render_template(
            "staff/conflict.html",
            message=err.message,
            tried="revert",
            sub=None,
            events=[],
            asset=asset,
            latest=store.history(asset_id)[-1],
            again_url=url_for("history.asset_history", asset_id=asset_id),
            back_url=url_for("history.asset_history", asset_id=asset_id),
            back_text=f"History of {asset.name}",
            # The reason exists nowhere else: shown back to copy before trying again.
            unsaved=[("Reason for reverting", reason)] if reason else [],
        )
        return page, 409
    message = f"Reverted to revision {to_revision}. That is now revision {reverted.revision}."
    # Revisions never change, so the one reverted to can be read after the revert.
    target = next(r for r in store.history(asset_id) if r.number == to_revision)
    if target.state.get("status") != reverted.status:
        message += (
            f" It stays \u201c{_label(reverted.status)}\u201d: a revert does not move an asset"
            " into or out of moderation."
        )
    flash(message)
    return redirect(url_for("history.asset_history", asset_id=asset_id), 303)
