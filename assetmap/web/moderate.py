"""The moderation queue: pending submissions and change requests, and the decisions on them.

Moderators (and admins) only. Every decision form carries the submission's ``version`` and
the asset revision the moderator saw; the store refuses a stale one with Conflict, shown here
as a "changed since you opened it" page (HTTP 409) that says what happened instead.
Submitters' names and emails appear on these pages and nowhere else, and only to admins and
to moderators of the submission's area (:mod:`assetmap.services.moderating`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from assetmap.domain.asset import Asset, clean_text, future_verified_error, validate_asset
from assetmap.domain.errors import Conflict, Forbidden, ValidationError
from assetmap.domain.people import User
from assetmap.domain.postcode import normalise_postcode
from assetmap.domain.submission import PROBLEMS, Submission
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES, PROVIDER_TYPES
from assetmap.gazetteer.areas import AreaIndex, load_default_areas
from assetmap.services.moderating import SenderView, as_seen_by
from assetmap.services.submitting import (
    DUPLICATE_RADIUS_M,
    SAME_POSTCODE_RADIUS_M,
    SimilarAsset,
    similar_assets,
)
from assetmap.store.submissions import merge_changes
from assetmap.web.app import current_store, state
from assetmap.web.auth import current_user, login_required
from assetmap.web.review import LABELS, FieldRow, changed_labels, field_rows

bp = Blueprint("moderate", __name__, url_prefix="/moderate")

KINDS = {"new": "New asset", "change": "Suggested change", "problem": "Problem report"}
# The fields a moderator can edit before approving, in form order.
EDIT_FIELDS = (
    "name",
    "category",
    "description",
    "address",
    "postcode",
    "lat",
    "lon",
    "phone",
    "email",
    "website",
    "opening_times",
    "cost",
    "currencies",
    "accessibility",
    "audience",
    "provider_type",
    "last_verified",
)
LIST_FIELDS = ("currencies", "accessibility", "audience")
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class MergeCandidate:
    """A likely duplicate, and what merging the submission into it would change there."""

    duplicate: SimilarAsset
    rows: list[FieldRow]


def _moderator() -> User:
    user = current_user()
    if user is None:  # login_required has already sent anonymous visitors to sign in
        raise Forbidden("Sign in to moderate.")
    return user


def _areas() -> AreaIndex:
    """The known districts (the shipped LSOA boundaries), loaded on first use."""
    areas: AreaIndex | None = current_app.extensions.get("assetmap.areas")
    if areas is None:
        areas = current_app.extensions["assetmap.areas"] = load_default_areas()
    return areas


def _seen(sub: Submission, asset: Asset) -> SenderView:
    """The submission as the signed-in moderator may see it (contact details withheld or not)."""
    return as_seen_by(_moderator(), sub, asset, _areas())


def _not_own(sub: Submission) -> None:
    """Refuse to let the moderator approve or merge what they sent (the store checks again)."""
    if sub.submitter.author == _moderator().author:
        raise Forbidden(
            f"You cannot approve or merge {sub.ref}, because you sent it. Another moderator"
            " must decide it. Nothing was saved."
        )


def _form_int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise ValidationError(
            f"The form was missing its {name}. Open the page again and retry.", field=name
        ) from None


def _reason(required: bool, what: str) -> tuple[str, dict[str, str]]:
    reason = request.form.get("reason", "").strip()
    if required and not reason:
        return reason, {"reason": f"Enter a reason for {what}"}
    if len(reason) > MAX_REASON_CHARS:
        return reason, {"reason": f"The reason must be {MAX_REASON_CHARS} characters or fewer"}
    return reason, {}


def _proposed(sub: Submission, asset: Asset) -> dict[str, Any]:
    """The asset as the submission would leave it (before any moderator edits)."""
    return {**asset.to_dict(), **sub.changes}


def _stale(sub: Submission, seen_version: int) -> None:
    """Refuse at once when the form is older than the submission (the store checks again)."""
    if sub.version != seen_version or sub.status != "pending":
        who = f" by {sub.decided_by}" if sub.decided_by else ""
        raise Conflict(
            f"Submission {sub.ref} changed since you opened it: it is now {sub.status}{who}."
        )


def _conflict(
    err: Conflict,
    sub: Submission,
    tried: str,
    asset_id: str = "",
    unsaved: list[tuple[str, str]] | None = None,
) -> tuple[str, int]:
    """The 409 page: nothing was saved, and what happened in the meantime.

    ``asset_id`` names the asset the action was on when it is not the submission's own (the
    target of a merge). ``unsaved`` is what the moderator wrote, as (label, text): the page
    shows it back, since a reason or edits typed into a form that is refused exist nowhere
    else.
    """
    store = current_store()
    asset_id = asset_id or sub.asset_id
    latest = store.history(asset_id)[-1]
    fresh = store.get_submission(sub.ref)
    return (
        render_template(
            "staff/conflict.html",
            message=err.message,
            tried=tried,
            sub=_seen(fresh, store.get_asset(fresh.asset_id)).submission,
            events=store.submission_events(sub.ref),
            asset=store.get_asset(asset_id),
            latest=latest,
            again_url=url_for("moderate.item", ref=sub.ref),
            back_url=url_for("moderate.queue"),
            back_text="Back to the moderation queue",
            unsaved=unsaved or [],
        ),
        409,
    )


# The edit form asks for the point as two boxes, which the review pages show as one row.
_POINT_LABELS = {"lat": "Latitude", "lon": "Longitude"}


def _edit_label(name: str, default: str) -> str:
    """What the edit form calls a field, for messages and the 409 page."""
    return LABELS.get(name) or _POINT_LABELS.get(name, default)


def _typed_reason(label: str) -> list[tuple[str, str]]:
    """The reason the refused form carried, for the 409 page ([] when none was typed)."""
    reason = request.form.get("reason", "").strip()
    return [(label, reason)] if reason else []


def _typed_edits(form: dict[str, Any], proposed: dict[str, Any]) -> list[tuple[str, str]]:
    """The edit form's fields the moderator changed, as they typed them, then the note."""
    shown = _form_values(proposed)
    options = _vocab_options()
    out = []
    for name in EDIT_FIELDS:
        typed = form[name]
        if name in LIST_FIELDS:
            if list(typed) == list(shown[name]):
                continue
            words = dict(options[name])
            text = "; ".join(words.get(v, v) for v in typed) or "(none)"
        else:
            if clean_text(typed) == clean_text(str(shown[name])):
                continue
            words = dict(options.get(name, []))
            text = str(words.get(typed, typed)) if name in options else str(typed)
        out.append((_edit_label(name, name), text or "(empty)"))
    return out + _typed_reason("Note for the record")


def _candidates(asset: Asset) -> list[MergeCandidate]:
    taxonomy = state().taxonomy
    # The same matching the public form uses to ask "is this the same place?".
    found = similar_assets(
        current_store(), asset.name, asset.lon, asset.lat, postcode=asset.postcode
    )
    out = []
    for dup in found:
        merged = dup.asset.with_changes(**merge_changes(asset, dup.asset))
        out.append(MergeCandidate(dup, field_rows(dup.asset.to_dict(), merged.to_dict(), taxonomy)))
    return out


def _render_item(
    sub: Submission, *, errors: dict[str, str] | None = None, failed: str = "", status: int = 200
) -> tuple[str, int]:
    """The item page; ``failed`` names the form ("reject", "merge") whose errors it shows."""
    store = current_store()
    taxonomy = state().taxonomy
    asset = store.get_asset(sub.asset_id)
    pending = sub.status == "pending"
    if sub.kind == "new":
        # Once decided, the asset carries the moderator's edits and any later change: what
        # the resident sent is its first revision, which nothing rewrites.
        sent = asset.to_dict() if pending else store.history(sub.asset_id)[0].state
        # Status is bookkeeping here ("pending"); what matters is what the resident sent.
        rows = [r for r in field_rows(None, sent, taxonomy) if r.field != "status"]
    elif pending:
        rows = field_rows(asset.to_dict(), _proposed(sub, asset), taxonomy)
    else:
        # Against the asset today, an approved change would show nothing ("nothing would
        # change"): the suggestion is shown against the version the resident saw.
        then = next(r.state for r in store.history(sub.asset_id) if r.number == sub.base_revision)
        rows = field_rows(then, {**then, **sub.changes}, taxonomy)
    seen = _seen(sub, asset)
    return (
        render_template(
            "staff/item.html",
            sub=seen.submission,
            area=seen.area,
            contact_note=seen.note,
            kind=KINDS.get(sub.kind, sub.kind),
            problem=PROBLEMS.get(sub.problem, sub.problem),
            asset=asset,
            category=taxonomy.get(asset.category).label if asset.category in taxonomy else "",
            rows=rows,
            candidates=_candidates(asset) if pending and sub.kind == "new" else [],
            radius_m=DUPLICATE_RADIUS_M,
            postcode_radius_m=SAME_POSTCODE_RADIUS_M,
            events=store.submission_events(sub.ref),
            own=sub.submitter.author == _moderator().author,
            asset_moved_on=pending and sub.kind != "new" and asset.revision != sub.base_revision,
            errors=errors or {},
            failed=failed,
            form=request.form if request.method == "POST" else {},
        ),
        status,
    )


@bp.get("")
@login_required("moderator")
def queue() -> Any:
    """Pending submissions and change requests, oldest first."""
    store = current_store()
    subs, names, notes = [], {}, {}
    for sub in store.list_submissions(status="pending"):
        asset = store.get_asset(sub.asset_id)
        seen = _seen(sub, asset)
        subs.append(seen.submission)
        names[sub.ref] = asset.name
        notes[sub.ref] = seen.note
    return render_template(
        "staff/queue.html",
        subs=subs,
        names=names,
        notes=notes,
        kinds=KINDS,
        problems=PROBLEMS,
        total=store.count_submissions(status="pending"),
    )


@bp.get("/<ref>")
@login_required("moderator")
def item(ref: str) -> Any:
    """One submission: what it would change, possible duplicates, and the decisions."""
    return _render_item(current_store().get_submission(ref))


@bp.post("/<ref>/approve")
@login_required("moderator")
def approve(ref: str) -> Any:
    """Approve a submission as it was sent."""
    store = current_store()
    sub = store.get_submission(ref)
    try:
        _stale(sub, _form_int("version"))
        _not_own(sub)
        store.approve(
            sub.ref,
            moderator=_moderator().author,
            expected_version=sub.version,
            expected_revision=_form_int("revision"),
        )
    except Conflict as err:
        return _conflict(err, sub, "approval")
    flash(f"{sub.ref} approved.")
    return redirect(url_for("moderate.queue"), 303)


@bp.post("/<ref>/reject")
@login_required("moderator")
def reject(ref: str) -> Any:
    """Reject a submission, with a reason that is kept."""
    store = current_store()
    sub = store.get_submission(ref)
    try:
        _stale(sub, _form_int("version"))
        reason, errors = _reason(True, "rejecting")
        if errors:
            return _render_item(sub, errors=errors, failed="reject", status=400)
        store.reject(
            sub.ref, moderator=_moderator().author, expected_version=sub.version, reason=reason
        )
    except Conflict as err:
        return _conflict(err, sub, "rejection", unsaved=_typed_reason("Reason for rejecting"))
    flash(f"{sub.ref} rejected.")
    return redirect(url_for("moderate.queue"), 303)


@bp.post("/<ref>/merge")
@login_required("moderator")
def merge(ref: str) -> Any:
    """Merge a new-asset submission into the published asset it duplicates."""
    store = current_store()
    sub = store.get_submission(ref)
    target: Asset | None = None
    try:
        _stale(sub, _form_int("version"))
        _not_own(sub)
        into = request.form.get("into", "")
        reason, errors = _reason(False, "merging")
        errors = {"merge-reason": errors["reason"]} if errors else {}
        if not into:
            errors = {"into": "Choose the asset this submission is the same as", **errors}
        if errors:
            return _render_item(sub, errors=errors, failed="merge", status=400)
        target = store.get_asset(into)
        store.merge(
            sub.ref,
            into=into,
            moderator=_moderator().author,
            expected_version=sub.version,
            expected_revision=_form_int(f"revision-{into}"),
            reason=reason,
        )
    except Conflict as err:
        unsaved = _typed_reason("Note for the record")
        return _conflict(err, sub, "merge", asset_id=target.id if target else "", unsaved=unsaved)
    flash(f"{sub.ref} merged into {target.name}.")
    return redirect(url_for("moderate.queue"), 303)


def _form_values(values: dict[str, Any]) -> dict[str, Any]:
    """A state's editable fields as the edit form shows them."""
    out: dict[str, Any] = {}
    for name in EDIT_FIELDS:
        value = values.get(name)
        if name == "opening_times" and isinstance(value, dict):
            value = value.get("text") or ""
        out[name] = list(value or []) if name in LIST_FIELDS else ("" if value is None else value)
    return out


def _edits(edited: Asset, proposed: dict[str, Any]) -> dict[str, Any]:
    """The fields where the moderator's version differs from the proposed one (typed)."""
    after = edited.to_dict()
    shown = _form_values(proposed)
    out: dict[str, Any] = {}
    for name in EDIT_FIELDS:
        if name == "opening_times":
            differs = edited.opening_times.text != shown[name]
        elif name in LIST_FIELDS:
            differs = list(after[name]) != shown[name]
        else:
            differs = after[name] != proposed.get(name)
        if differs:
            out[name] = getattr(edited, name)
    return out


# The point's errors in the form's words: the domain's name them "lat" and "lon" and give
# coordinates in (lon, lat) order, while the form asks for "Latitude" then "Longitude".
_POINT_MESSAGES = {
    "lat": "Enter the latitude as a decimal number, like 53.38705",
    "lon": "Enter the longitude as a decimal number, like -2.35216",
}
_SWAPPED = "The latitude and longitude look the wrong way round: swap them"
_OUTSIDE_UK = "The location must be in the UK: check the latitude and longitude"
# Fields chosen from a list, not typed: GOV.UK says "Select", not "Enter".
_SELECTED = frozenset({"category", "cost", "provider_type"})


def _error_text(err: ValidationError) -> str:
    field = err.field or ""
    label = _edit_label(field, "This field")
    if "is missing" in err.message:
        return f"{'Select' if field in _SELECTED else 'Enter'} the {label.lower()}"
    if field in _POINT_MESSAGES:
        if "look swapped" in err.message:
            return _SWAPPED
        if "outside the UK" in err.message:
            return _OUTSIDE_UK
        if "not a number" in err.message or "not a finite number" in err.message:
            return _POINT_MESSAGES[field]
        if "is outside -" in err.message:
            limit = 90 if field == "lat" else 180
            return f"{label} must be between -{limit} and {limit}"
    return err.message[0].upper() + err.message[1:]


def _edit_checks(
    form: dict[str, Any], shown: dict[str, Any], today: date
) -> tuple[dict[str, Any], dict[str, str]]:
    """The resident form's checks that the asset rules leave out: (form to validate, errors).

    A postcode must be a full one (stored in its usual form, "m320th" as "M32 0TH") and the
    date last checked cannot be in the future. Like a resident's suggested change, only what
    the moderator changed is checked: an older imported value does not block an approval.
    """
    checked, errors = dict(form), {}
    postcode = clean_text(form["postcode"])
    if postcode and postcode.upper() != clean_text(shown["postcode"]).upper():
        try:
            checked["postcode"] = normalise_postcode(postcode)
        except ValidationError:
            errors["postcode"] = "Enter a full postcode, like M32 0TH"
    verified = clean_text(form["last_verified"])
    # The rule imports follow too; text that is not a date is validate_asset's to report.
    if verified != clean_text(shown["last_verified"]) and future_verified_error(verified, today):
        errors["last_verified"] = "The date last checked must be today or in the past"
    return checked, errors


def _vocab_options() -> dict[str, list[tuple[str, str]]]:
    taxonomy = state().taxonomy
    return {
        "category": [("", "Choose a category"), *((c.id, c.label) for c in taxonomy)],
        "cost": [("", "Not known"), *COSTS.items()],
        "currencies": list(CURRENCIES.items()),
        "accessibility": list(ACCESSIBILITY.items()),
        "audience": list(AUDIENCES.items()),
        "provider_type": [("", "Not known"), *PROVIDER_TYPES.items()],
    }


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@login_required("moderator")
def edit(ref: str) -> Any:
    """Edit a submission's details, then approve it."""
    store = current_store()
    sub = store.get_submission(ref)
    if sub.status != "pending" and request.method == "GET":
        return redirect(url_for("moderate.item", ref=sub.ref), 303)
    if sub.status == "pending":  # a decided one is a conflict, said below
        _not_own(sub)
    asset = store.get_asset(sub.asset_id)
    proposed = _proposed(sub, asset)
    page = {
        "sub": _seen(sub, asset).submission,
        "asset": asset,
        "kind": KINDS.get(sub.kind, sub.kind),
        "options": _vocab_options(),
    }
    if request.method == "GET":
        return render_template(
            "staff/edit.html",
            values=_form_values(proposed),
            errors={},
            version=sub.version,
            revision=asset.revision,
            **page,
        )
    form = {
        name: request.form.getlist(name) if name in LIST_FIELDS else request.form.get(name, "")
        for name in EDIT_FIELDS
    }
    try:
        version, revision = _form_int("version"), _form_int("revision")
        _stale(sub, version)
        reason, reason_errors = _reason(False, "the edits")
        checked, errors = _edit_checks(form, _form_values(proposed), date.today())
        edited, problems = validate_asset({**proposed, **checked}, state().taxonomy)
        for problem in problems:
            errors.setdefault(problem.field or "name", _error_text(problem))
        # The summary lists the errors in the order of the form, the reason last.
        order = {name: i for i, name in enumerate(EDIT_FIELDS)}
        errors = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
        errors.update(reason_errors)
        if errors or edited is None:
            return (
                render_template(
                    "staff/edit.html",
                    values=form,
                    errors=errors,
                    version=version,
                    revision=revision,
                    **page,
                ),
                400,
            )
        edits = _edits(edited, proposed)
        # A moved point is one edit, "location", as the history shows it, not "lat, lon".
        changed = ", ".join(label.lower() for label in changed_labels(list(edits))) or "nothing"
        store.approve(
            sub.ref,
            moderator=_moderator().author,
            expected_version=version,
            expected_revision=revision,
            edits=edits,
            # The store names the submission first: "approved AM-7K3Q-9XPD: edits to phone; …".
            reason=f"edits to {changed}" + (f"; {reason}" if reason else ""),
        )
    except Conflict as err:
        return _conflict(err, sub, "edits", unsaved=_typed_edits(form, proposed))
    flash(f"{sub.ref} approved with your edits.")
    return redirect(url_for("moderate.queue"), 303)
