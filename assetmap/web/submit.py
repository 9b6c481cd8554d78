"""Resident pages: tell us about a place, suggest a change, report a problem, and a status page.

Nothing a resident sends is published or edited directly: a new place is stored as a pending
asset and a change or report as a pending change request, for a moderator to decide. The
checks, messages, duplicate hints and rate limits are those of
:mod:`assetmap.services.submitting`, shared with the JSON API.

Each form carries a random ``form_token`` that becomes the submission's idempotency key, so a
double click or a resent form stores one submission. A form resent with the same token but
different answers (the resident went back and corrected something after sending) is not
stored and not passed off as sent: a page says it was already sent, under which reference,
which answers were not saved and what to do instead. A hidden "Leave this empty" field
catches form-filling bots: when it is filled, the bot is shown a confirmation with a
reference that was never stored.

A signed-in member of staff who sends a form is recorded as themselves (``user:NAME``), not
as a resident, so nobody can approve or merge what they sent.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from assetmap.domain.asset import CONTENT_FIELDS, Asset
from assetmap.domain.errors import NotFound, ValidationError
from assetmap.domain.submission import PROBLEMS, Submission, Submitter
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES, PROVIDER_TYPES
from assetmap.maps import resource_urls
from assetmap.maps.assets import licences_link, tile_credit
from assetmap.services.accounts import client_key
from assetmap.services.submitting import (
    ASSET_FIELDS,
    CHANGEABLE_FIELDS,
    DUPLICATE_RADIUS_M,
    FIELD_LABELS,
    LIST_FIELDS,
    RESENT,
    RETRIED,
    SUBMITTER_DETAILS_KEPT_DAYS,
    SUBMITTER_FIELDS,
    Sent,
    SimilarAsset,
    SubmissionLimitReached,
    check_rate_limits,
    find_resent,
    form_values,
    read_changes,
    read_message,
    read_new_asset,
    read_problem,
    read_submitter,
    same_place_changes,
    similar_assets,
    submit_once,
)
from assetmap.store.submissions import new_reference
from assetmap.web.api import current_postcodes
from assetmap.web.app import current_store, state
from assetmap.web.auth import current_user
from assetmap.web.review import changed_labels

bp = Blueprint("submit", __name__)

HONEYPOT = "homepage"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_REF = re.compile(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}")
_NOT_SAME = "none"
# Where the map starts when there is nothing published yet: the middle of England.
_DEFAULT_CENTRE = (-1.5, 52.8)
_CENTRE_KEY = "assetmap.submit_map_centre"
_CENTRE_TTL_S = 300.0
# The note a new place sent as "the same place" as a listed one carries to the moderators.
_SAME_PLACE_MESSAGE = "Sent as a new place; the resident said it is the same place as this one."

# Words for every vocabulary the forms offer, and the page's privacy notice numbers.
CHOICES: dict[str, Any] = {
    "cost": COSTS,
    "currencies": CURRENCIES,
    "accessibility": ACCESSIBILITY,
    "audience": AUDIENCES,
    "provider_type": PROVIDER_TYPES,
    "problem": PROBLEMS,
}


def _fields(names: tuple[str, ...]) -> dict[str, Any]:
    """The posted values of these fields: lists for checkbox groups, text otherwise."""
    return {
        name: request.form.getlist(name) if name in LIST_FIELDS else request.form.get(name, "")
        for name in names
    }


def _form_token() -> str:
    """The form's idempotency token as posted, or a new one."""
    token = request.form.get("form_token", "")
    return token if _TOKEN.fullmatch(token) else secrets.token_urlsafe(24)


def _key(token: str) -> str:
    return f"form:{token}"


def _with_client(submitter: Submitter) -> Submitter:
    address = request.remote_addr or ""
    return replace(submitter, client_key=client_key(address, state().settings.secret_key))


# Where the error summary links when a limit is on the connection, not on a field: the
# form's own button, the one to press once the wait is over.
_SEND_BUTTON = "send"


def _limit_reached(submitter: Submitter) -> tuple[dict[str, str], dict[str, str]] | None:
    """None if this sender may send now; else (the form's errors, the 429's headers).

    The form is shown again with the answers filled in, rather than an error page that
    loses them: nothing the resident typed is kept anywhere else.
    """
    settings = state().settings
    try:
        check_rate_limits(
            current_store(),
            client_key=submitter.client_key,
            email=submitter.email,
            per_client_per_hour=settings.submissions_per_client_per_hour,
            per_email_per_day=settings.submissions_per_email_per_day,
        )
    except SubmissionLimitReached as err:
        # Retry-After as the JSON API and the error handler send it (seconds).
        return {err.field or _SEND_BUTTON: err.message}, {"Retry-After": str(err.retry_after_s)}
    return None


def _read_submitter(values: dict[str, Any]) -> tuple[Submitter, list[ValidationError]]:
    """The sender's optional name and email; a signed-in member of staff is named as such."""
    submitter, errors = read_submitter(values)
    user = current_user()
    if user is not None:
        # The store refuses a decision by the submission's author: that only works if staff
        # are recorded as themselves ("user:NAME", as decisions are), not as "resident".
        submitter = replace(submitter, author=user.author)
    return submitter, errors


def _number(text: object) -> bool:
    try:
        return math.isfinite(float(str(text)))
    except ValueError:
        return False


def _point_readable(values: dict[str, Any]) -> bool:
    """Whether the hidden map fields hold a pair of numbers (either can be out of range)."""
    return _number(values.get("lon", "")) and _number(values.get("lat", ""))


# What the resident is told about a map point that is there but cannot be used.
_POINT_NOT_IN_UK = (
    "The point chosen on the map is not in the UK. Choose a place in the UK, or remove the"
    " point and enter the postcode"
)
_POINT_UNREADABLE = (
    "The point chosen on the map could not be read, so it has been removed. Check the"
    " postcode, or choose the place on the map again"
)


def _error_map(errors: list[ValidationError], values: dict[str, Any]) -> dict[str, str]:
    """Field -> message, in order; map-point errors are shown at the postcode field."""
    out: dict[str, str] = {}
    for err in errors:
        field = err.field or "name"
        if field in {"lon", "lat"}:
            field = "postcode"
            # Only the map's script fills these in; two numbers outside the UK are a click
            # in the wrong place, anything else (one of them, or not a number) a broken page.
            message = _POINT_NOT_IN_UK if _point_readable(values) else _POINT_UNREADABLE
        else:
            message = err.message
        out.setdefault(field, message)
    return out


def _published(asset_id: str) -> Asset:
    try:
        asset = current_store().get_asset(asset_id)
    except NotFound:
        asset = None
    if asset is None or asset.status != "published":
        raise NotFound(f"There is no published asset with the id '{asset_id[:40]}'.")
    return asset


def _sent(submission: Submission, *, token: str = "") -> Response:
    """To the confirmation; with ``token``, these answers were already pending from this sender.

    Sent from another form (another tab, a new one after Back), the page says they were
    already received; from this same form (a double click) it need not. The flag only
    changes the words on a page anyone with the reference may read.
    """
    url = url_for("submit.submission_status", ref=submission.ref)
    again = bool(token) and submission.idempotency_key != _key(token)
    return redirect(f"{url}?again=1" if again else url, code=303)


# The already-sent page names the answers that are not fields of an asset as the services'
# messages do (FIELD_LABELS); only this form's "is it a place we list?" question is its own.
_SAME_AS_LABEL = "Whether it is a place we already list"


def _unsaved_sender(existing: Submission, submitter: Submitter) -> list[str]:
    sent = (existing.submitter.name, existing.submitter.email)
    return [
        FIELD_LABELS[name]
        for name, before, now in zip(
            SUBMITTER_FIELDS, sent, (submitter.name, submitter.email), strict=True
        )
        if before != now
    ]


def _unsaved_new(existing: Submission, asset: Asset, submitter: Submitter) -> list[str]:
    """What differs between a new place already sent under this form's token and this one.

    Compared with the submission's first revision, which moderation never changes. An empty
    list means the same answers were sent again (a double click, or Back and Send).
    """
    if existing.kind != "new":
        return [_SAME_AS_LABEL]
    first = current_store().history(existing.asset_id)[0].state
    now = asset.to_dict()
    differ = [n for n in CONTENT_FIELDS if n != "status" and first.get(n) != now[n]]
    return changed_labels(differ) + _unsaved_sender(existing, submitter)


def _unsaved_change(
    existing: Submission,
    asset_id: str,
    changes: dict[str, Any],
    problem: str,
    message: str,
    submitter: Submitter,
) -> list[str]:
    """As :func:`_unsaved_new`, for a suggested change or problem report on ``asset_id``."""
    if existing.kind == "new" or existing.asset_id != asset_id:
        return [_SAME_AS_LABEL]
    sent = existing.changes
    differ = [n for n in CONTENT_FIELDS if sent.get(n) != changes.get(n)]
    labels = changed_labels(differ)
    labels += [FIELD_LABELS["problem"]] if existing.problem != problem else []
    labels += [FIELD_LABELS["message"]] if existing.message != message else []
    return labels + _unsaved_sender(existing, submitter)


def _already_sent(existing: Submission, unsaved: list[str]) -> tuple[str, int]:
    """This form was sent before with other answers: say so, and that nothing new was saved.

    Storing the new answers as well would give moderators two versions of one place to
    choose between (and could publish both); changing the first one behind a moderator who
    may be reading it would make their decision about something they did not see. 422, as
    the API answers an Idempotency-Key reused with a different body.
    """
    published = None
    try:
        asset = current_store().get_asset(existing.asset_id)
        published = asset if asset.status == "published" else None
    except NotFound:
        pass
    return (
        render_template(
            "submit/already_sent.html",
            sub=existing,
            unsaved=unsaved,
            published=published,
        ),
        422,
    )


def _pretend_sent(kind: str) -> str:
    """What a bot that filled the honeypot sees: a reference that was never stored."""
    return render_template("submit/sent.html", ref=new_reference(), kind=kind, status="pending")


def _map_centre() -> tuple[float, float]:
    """Where the location map starts: the middle of the published assets, or of England.

    Worked out at most every few minutes per process: it only sets the starting view.
    """
    cached = current_app.extensions.get(_CENTRE_KEY)
    if cached is not None and time.monotonic() - cached[0] < _CENTRE_TTL_S:
        centre: tuple[float, float] = cached[1]
        return centre
    assets = current_store().list_assets(status="published", limit=2000)
    centre = _DEFAULT_CENTRE
    if assets:
        centre = (
            sum(a.lon for a in assets) / len(assets),
            sum(a.lat for a in assets) / len(assets),
        )
    current_app.extensions[_CENTRE_KEY] = (time.monotonic(), centre)
    return centre


def _common() -> dict[str, Any]:
    return {
        "categories": [(c.id, c.label) for c in state().taxonomy],
        "choices": CHOICES,
        "kept_days": SUBMITTER_DETAILS_KEPT_DAYS,
        "kept_months": SUBMITTER_DETAILS_KEPT_DAYS * 12 // 365,
        "honeypot_name": HONEYPOT,
    }


def _render_form(
    values: dict[str, Any], errors: dict[str, str], *, token: str, same_as: str = ""
) -> str:
    settings = state().settings
    urls = resource_urls(
        vendor_base_url=url_for("static", filename="vendor"), use_cdn=settings.use_cdn
    )
    lon, lat = _map_centre()
    return render_template(
        "submit/form.html",
        values=values,
        errors=errors,
        token=token,
        same_as=same_as,
        map_centre={"lon": round(lon, 5), "lat": round(lat, 5)},
        tile_url=settings.tile_url,
        # HTML for Leaflet's credit line, as the other maps have it: the setting escaped
        # (Leaflet inserts attributions as HTML), OpenStreetMap's credit linked, and the
        # app's page of data sources and licences.
        tile_attribution=tile_credit(settings.tile_attribution) if settings.tile_url else "",
        credits=licences_link(url_for("pages.licences")),
        leaflet={"js": urls["leaflet"], "css": urls["leaflet_css"]},
        duplicate_radius_m=int(DUPLICATE_RADIUS_M),
        **_common(),
    )


def _render_check(
    values: dict[str, Any],
    asset: Asset,
    submitter: Submitter,
    duplicates: list[SimilarAsset],
    *,
    token: str,
    same_as: str,
    errors: dict[str, str],
) -> str:
    taxonomy = state().taxonomy
    return render_template(
        "submit/check.html",
        values=values,
        asset=asset,
        category=taxonomy.get(asset.category),
        submitter=submitter,
        duplicates=duplicates,
        located_by="point" if values.get("lon") or values.get("lat") else "postcode",
        token=token,
        same_as=same_as,
        errors=errors,
        hidden_fields=(*ASSET_FIELDS, *SUBMITTER_FIELDS),
        **_common(),
    )


def _duplicates(asset: Asset, same_as: str) -> list[SimilarAsset]:
    """Likely duplicates, plus the asset the resident already picked (with JavaScript)."""
    found = similar_assets(
        current_store(), asset.name, asset.lon, asset.lat, postcode=asset.postcode
    )
    if same_as and same_as != _NOT_SAME and all(s.asset.id != same_as for s in found):
        try:
            picked = _published(same_as)
        except NotFound:
            return found
        found.append(SimilarAsset(picked, distance_m=-1.0, score=0.0))
    return found


@bp.after_request
def _no_store(response: Response) -> Response:
    # Forms carry this session's token, and the check page the sender's own email: no cache
    # (shared or back-forward) may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


# Starts as the app's own CSRF page does, which every form route is checked to say.
_EXPIRED = (
    "This form has expired or was not sent from this website, so nothing was sent. Check your"
    " answers and send them again. If this keeps happening, check that your browser accepts"
    " cookies from this site"
)


@bp.errorhandler(CSRFError)
def _expired(err: CSRFError) -> Any:
    """A resident form whose CSRF token failed: shown again with the answers, not lost.

    The token fails when the session that issued it has gone (cookies cleared, a sign-in or
    sign-out in another tab, a new secret key): the resident did nothing wrong, and an error
    page would throw away a long form. Nothing is stored; the page gets this session's token.
    """
    token = _form_token()
    errors = {_SEND_BUTTON: _EXPIRED}
    if request.endpoint == "submit.new_place":
        values = _fields((*ASSET_FIELDS, *SUBMITTER_FIELDS))
        if not _point_readable(values):
            values = {**values, "lon": "", "lat": ""}
        same_as = request.form.get("same_as", "").strip()[:40]
        return _render_form(values, errors, token=token, same_as=same_as), 400
    kind = {"submit.suggest_change": "change", "submit.report_problem": "problem"}.get(
        request.endpoint or ""
    )
    if kind is None or request.view_args is None:  # not one of the forms: the plain page
        return render_template("error.html", status=err.code, message=_EXPIRED), err.code
    try:
        asset = _published(str(request.view_args.get("asset_id", "")))
    except NotFound as missing:
        # Archived (or never listed) while the form was open: the answer a valid token gets.
        # Raised here it would be an error inside the error handler, which Flask makes a 500.
        page = render_template("error.html", status=missing.status, message=missing.message)
        return page, missing.status
    form = _ASSET_FORMS[kind]
    page = render_template(
        form.template,
        asset=asset,
        values=_fields(form.fields),
        errors=errors,
        token=token,
        **_common(),
    )
    return page, 400


@bp.route("/submit", methods=["GET", "POST"])
def new_place() -> Any:
    """Tell us about a place or group that could help people: the public form."""
    if request.method == "GET":
        return _render_form({}, {}, token=secrets.token_urlsafe(24))
    if request.form.get(HONEYPOT, "").strip():
        return _pretend_sent("new")
    values = _fields((*ASSET_FIELDS, *SUBMITTER_FIELDS))
    token = _form_token()
    same_as = request.form.get("same_as", "").strip()[:40]
    action = request.form.get("action", "check")
    if action == "edit":
        return _render_form(values, {}, token=token, same_as=same_as)
    asset, errors = read_new_asset(values, state().taxonomy, current_postcodes())
    submitter, submitter_errors = _read_submitter(values)
    errors += submitter_errors
    if errors or asset is None:
        shown = _error_map(errors, values)
        if not _point_readable(values):
            # Hidden fields the resident cannot see or clear without the map's script:
            # dropped, so sending the form again places the asset by its postcode.
            values = {**values, "lon": "", "lat": ""}
        return _render_form(values, shown, token=token, same_as=same_as), 400
    duplicates = _duplicates(asset, same_as)
    if same_as not in {_NOT_SAME, *(d.asset.id for d in duplicates)}:
        same_as = ""  # a place no longer listed (or never offered): not an answer
    if action != "send":
        return _render_check(
            values, asset, submitter, duplicates, token=token, same_as=same_as, errors={}
        )
    if duplicates and same_as not in {_NOT_SAME, *(d.asset.id for d in duplicates)}:
        message = "Select whether it is one of the places we already list"
        return (
            _render_check(
                values,
                asset,
                submitter,
                duplicates,
                token=token,
                same_as="",
                errors={"same_as": message},
            ),
            400,
        )
    store = current_store()
    target = _published(same_as) if same_as and same_as != _NOT_SAME else None
    changes = same_place_changes(target, asset) if target is not None else {}

    def answer(existing: Submission) -> Any:
        if target is None:
            unsaved = _unsaved_new(existing, asset, submitter)
        else:
            unsaved = _unsaved_change(
                existing, target.id, changes, "", _SAME_PLACE_MESSAGE, submitter
            )
        return _sent(existing) if not unsaved else _already_sent(existing, unsaved)

    existing = store.find_submission_by_key(_key(token))
    if existing is not None:
        return answer(existing)
    if target is not None and not changes:
        return render_template("submit/nothing_new.html", asset=target)
    submitter = _with_client(submitter)
    sent = (
        Sent.about(target.id, changes, message=_SAME_PLACE_MESSAGE)
        if target is not None
        else Sent.new_place(asset)
    )
    # The same answers already pending from this sender (another tab, a new form after
    # Back): that reference again, before the limits, which must not count them twice.
    earlier = find_resent(store, sent, submitter)
    if earlier is not None:
        return _sent(earlier, token=token)
    limited = _limit_reached(submitter)
    if limited is not None:
        errors_shown, headers = limited
        return _render_form(values, errors_shown, token=token, same_as=same_as), 429, headers
    submission, outcome = submit_once(store, sent, submitter=submitter, idempotency_key=_key(token))
    # Retried: a second click with this token got in first, after the look-up above. These
    # answers may differ from that one's, so they are compared as a resend is.
    if outcome == RETRIED:
        return answer(submission)
    return _sent(submission, token=token if outcome == RESENT else "")


# The change form's choices that offer "I do not know" (see submit/_fields.html).
_UNKNOWN_CHOICES = frozenset({"cost", "provider_type"})


def _read_change(
    asset: Asset, values: dict[str, Any]
) -> tuple[dict[str, Any], str, str, Submitter, list[ValidationError]]:
    """A suggested change: (changes, problem, message, submitter, errors)."""
    # "I do not know" (the empty choice) says the resident cannot tell, not that the listed
    # answer is wrong: it leaves the field as it is instead of suggesting it be cleared.
    known = {k: v for k, v in values.items() if k not in _UNKNOWN_CHOICES or str(v).strip()}
    changes, errors = read_changes(asset, known, state().taxonomy)
    submitter, submitter_errors = _read_submitter(values)
    message, message_errors = read_message(values)
    errors += submitter_errors + message_errors
    if not errors and not changes:
        errors = [
            ValidationError(
                "Change at least one of the details, or go back to the page if they are right",
                field="name",
            )
        ]
    return changes, "", message, submitter, errors


def _read_problem(
    asset: Asset, values: dict[str, Any]
) -> tuple[dict[str, Any], str, str, Submitter, list[ValidationError]]:
    """A problem report: (no changes, problem, message, submitter, errors)."""
    problem, message, errors = read_problem(values)
    submitter, submitter_errors = _read_submitter(values)
    errors += submitter_errors
    return {}, problem, message, submitter, errors


@dataclass(frozen=True)
class _AssetForm:
    """What differs between the two forms about a published asset."""

    template: str
    fields: tuple[str, ...]
    initial: Callable[[Asset], dict[str, Any]]
    read: Callable[
        [Asset, dict[str, Any]],
        tuple[dict[str, Any], str, str, Submitter, list[ValidationError]],
    ]


# Keyed by the submission kind each form makes.
_ASSET_FORMS = {
    "change": _AssetForm(
        template="submit/change.html",
        fields=(*CHANGEABLE_FIELDS, *SUBMITTER_FIELDS, "message"),
        initial=lambda asset: {**form_values(asset), "message": ""},
        read=_read_change,
    ),
    "problem": _AssetForm(
        template="submit/problem.html",
        fields=("problem", "message", *SUBMITTER_FIELDS),
        initial=lambda asset: {},
        read=_read_problem,
    ),
}


@bp.route(
    "/assets/<asset_id>/suggest-change",
    methods=["GET", "POST"],
    endpoint="suggest_change",
    defaults={"kind": "change"},
)
@bp.route(
    "/assets/<asset_id>/report-problem",
    methods=["GET", "POST"],
    endpoint="report_problem",
    defaults={"kind": "problem"},
)
def asset_form(asset_id: str, kind: str) -> Any:
    """Suggest a change to, or report a problem with, a published asset, for a moderator."""
    asset = _published(asset_id)
    form = _ASSET_FORMS[kind]
    if request.method == "GET":
        return render_template(
            form.template,
            asset=asset,
            values=form.initial(asset),
            errors={},
            token=secrets.token_urlsafe(24),
            **_common(),
        )
    if request.form.get(HONEYPOT, "").strip():
        return _pretend_sent(kind)
    values = _fields(form.fields)
    token = _form_token()
    changes, problem, message, submitter, errors = form.read(asset, values)
    if errors:
        return (
            render_template(
                form.template,
                asset=asset,
                values=values,
                errors=_error_map(errors, values),
                token=token,
                **_common(),
            ),
            400,
        )
    store = current_store()

    def answer(existing: Submission) -> Any:
        unsaved = _unsaved_change(existing, asset.id, changes, problem, message, submitter)
        return _sent(existing) if not unsaved else _already_sent(existing, unsaved)

    existing = store.find_submission_by_key(_key(token))
    if existing is not None:
        return answer(existing)
    submitter = _with_client(submitter)
    sent = Sent.about(asset.id, changes, problem, message)
    earlier = find_resent(store, sent, submitter)
    if earlier is not None:
        return _sent(earlier, token=token)
    limited = _limit_reached(submitter)
    if limited is not None:
        errors_shown, headers = limited
        page = render_template(
            form.template,
            asset=asset,
            values=values,
            errors=errors_shown,
            token=token,
            **_common(),
        )
        return page, 429, headers
    submission, outcome = submit_once(store, sent, submitter=submitter, idempotency_key=_key(token))
    # As for a new place: a racing resend with other answers is not passed off as sent.
    if outcome == RETRIED:
        return answer(submission)
    return _sent(submission, token=token if outcome == RESENT else "")


# What a resident may type for a reference: any case, with or without "AM", spaces or dashes.
_REF_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.]+")
# References use Crockford's base 32, which has no I, L, O or U: read from paper or said over
# the phone, those letters are the digits they look like.
_LOOKALIKES = str.maketrans("OIL", "011")


def _reference(typed: str) -> str | None:
    """A reference as a resident typed it, in its usual form (AM-7K3Q-9XPD), or None."""
    text = _REF_SEPARATORS.sub("", typed).upper()
    if len(text) == 10 and text.startswith("AM"):  # else AM may begin the 8 characters
        text = text[2:]
    text = text.translate(_LOOKALIKES)
    ref = f"AM-{text[:4]}-{text[4:]}"
    return ref if len(text) == 8 and _REF.fullmatch(ref) else None


@bp.get("/submissions")
def find_submission() -> Any:
    """Check a submission's status: the resident enters the reference they were given."""
    if "ref" not in request.args:
        return render_template("submit/find.html", values={}, errors={})
    typed = request.args.get("ref", "")
    ref = _reference(typed)
    if not typed.strip():
        error, status = "Enter your reference number", 400
    elif ref is None:
        error, status = "Enter the reference number as it was shown, like AM-7K3Q-9XPD", 400
    else:
        try:
            current_store().get_submission(ref)
        except NotFound:
            error = f"We cannot find {ref}. Check the reference number you were given"
            status = 404
        else:
            return redirect(url_for("submit.submission_status", ref=ref), code=303)
    page = render_template("submit/find.html", values={"ref": typed}, errors={"ref": error})
    return page, status


@bp.get("/submissions/<ref>")
def submission_status(ref: str) -> Any:
    """A submission's reference, status and what happens next (nothing the resident wrote)."""
    found = _reference(ref)
    if found is None:
        raise NotFound("There is no submission with that reference. Check it and try again.")
    if found != ref:  # typed into the address bar as "am-7k3q-9xpd": the usual form
        return redirect(url_for("submit.submission_status", ref=found), code=303)
    try:
        submission = current_store().get_submission(ref)
    except NotFound:
        raise NotFound(
            f"There is no submission with the reference {ref}. Check it and try again."
        ) from None
    return render_template(
        "submit/sent.html",
        ref=submission.ref,
        kind=submission.kind,
        status=submission.status,
        again=request.args.get("again") == "1",
    )
