"""Resident submissions: raw form or API fields in, a pending asset or change request out.

The public form and the JSON API both call these functions, so a resident gets the same
checks, messages, rate limits and duplicate hints whichever way they send. Nothing here
knows about Flask: callers pass plain mappings (field name -> text, list of text, or a
number for ``lon``/``lat``) and get back validated values or :class:`ValidationError` lists
whose messages are written for the resident (GOV.UK style: say what to do).

Coordinates are WGS84 lon/lat degrees (EPSG:4326); distances are metres.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from assetmap.domain.asset import (
    CONTENT_FIELDS,
    MAX_LENGTHS,
    URL_CHARACTER_PROBLEM,
    Asset,
    clean_text,
    validate_asset,
)
from assetmap.domain.errors import AssetmapError, TooManyRequests, ValidationError
from assetmap.domain.postcode import normalise_postcode
from assetmap.domain.submission import PROBLEMS, Submission, Submitter
from assetmap.domain.taxonomy import Taxonomy
from assetmap.gazetteer.postcodes import PostcodeIndex, UnknownPostcode
from assetmap.store import Store

# The fields a resident fills in about a place, in the order the form shows them (and so the
# order of an error summary).
ASSET_FIELDS = (
    "name",
    "category",
    "description",
    "postcode",
    "address",
    "lon",
    "lat",
    "opening_times",
    "cost",
    "currencies",
    "accessibility",
    "audience",
    "provider_type",
    "phone",
    "email",
    "website",
)
SUBMITTER_FIELDS = ("submitter_name", "submitter_email")
LIST_FIELDS = frozenset({"currencies", "accessibility", "audience"})
# What a suggested change may touch: the point itself is moved by a moderator, after a
# "wrong place" report, never by a resident's text.
CHANGEABLE_FIELDS = tuple(f for f in ASSET_FIELDS if f not in {"lon", "lat"})

MAX_MESSAGE_LENGTH = 2000
MAX_SUBMITTER_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_WEBSITE_LENGTH = 2000

# Likely duplicates: a published asset this close whose name scores at least this much.
DUPLICATE_RADIUS_M = 200.0
# ... or this close with the same postcode. A place found by its postcode is put at the
# postcode's middle, which can be far from the building: a tenth of the Trafford demo's assets
# with a postcode are over 200 m from its centroid (Hale Library 210 m, Flixton Park 944 m).
SAME_POSTCODE_RADIUS_M = 1000.0
SIMILAR_NAME_SCORE = 0.8
MAX_DUPLICATES = 5

# Rate limits, counted from stored submissions so every worker process sees the same count.
DEFAULT_PER_CLIENT_PER_HOUR = 10
DEFAULT_PER_EMAIL_PER_DAY = 5

# A sender who sends the same content again while the first is pending, within this long,
# gets the first submission back instead of a second one. Two tabs, a double click, Back and
# Send, or an API retry after a time-out all fall well inside it (a tab restored the next
# morning too); it is the per-email limit's day, so a resend never counts twice against it.
# Not for as long as the first is pending: a client key is a keyed hash of an address that
# libraries, care homes and mobile networks share and hand on, so the same words from it a
# week later may well be somebody else's.
RESEND_WINDOW = timedelta(hours=24)

# What :func:`submit_once` did: stored a new submission, found the one stored under the same
# idempotency key (a retry), or found the same content pending from the same sender.
CREATED, RETRIED, RESENT = "created", "retried", "resent"

# Submitter name, email and client key are blanked this long after the decision.
SUBMITTER_DETAILS_KEPT_DAYS = 365

RESIDENT_AUTHOR = "resident"
RESIDENT_SOURCE = "resident"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The domain's "website '…' has <what>, which cannot be in a web address"; the address has no
# spaces by then, so the first " has " is the domain's own.
_URL_CHARACTER = re.compile(rf" has (.+), {re.escape(URL_CHARACTER_PROBLEM)}$")
# Words too common to make two names alike on their own.
_STOPWORDS = frozenset({"the", "and", "of", "at", "in", "a", "an", "for", "on", "st"})
_NOT_WORD = re.compile(r"[\W_]+")

# Resident-facing messages for the errors that come from ordinary typing mistakes.
_MESSAGES = {
    "name": "Enter the name of the place or group",
    "category": "Select what kind of place or group it is",
    "phone": "Enter a phone number, like 0161 912 5920",
    "email": "Enter the email address in the correct format, like name@example.com",
    "website": "Enter a website address that starts with http:// or https://",
    "submitter_email": "Enter your email address in the correct format, like name@example.com",
}
# What residents are told each answer is called, in messages about it (too long; not saved
# when a form is sent again). The one list: the web pages name these answers from it too.
FIELD_LABELS = {
    "name": "Name",
    "description": "Description",
    "address": "Address",
    "opening_times": "Opening times",
    "email": "Email address",
    "website": "Website address",
    "submitter_name": "Your name",
    "submitter_email": "Your email address",
    "message": "Your message",
    "problem": "What is wrong",
}
_LIMITS = {
    **{name: MAX_LENGTHS[name] for name in ("name", "description", "address", "opening_times")},
    "email": MAX_EMAIL_LENGTH,
    "website": MAX_WEBSITE_LENGTH,
    "submitter_name": MAX_SUBMITTER_NAME_LENGTH,
    "submitter_email": MAX_EMAIL_LENGTH,
    "message": MAX_MESSAGE_LENGTH,
}


class SubmissionLimitReached(TooManyRequests):
    """Too many submissions from one client or one email address in the recent past.

    ``retry_after_s`` is how long the window is (seconds): a safe time to wait.
    """

    def __init__(self, message: str, *, field: str | None, retry_after_s: int) -> None:
        super().__init__(message)
        self.field = field
        self.retry_after_s = retry_after_s


class KeyReused(AssetmapError):
    """An idempotency key already used for a different submission (HTTP 422)."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = "Idempotency-Key"


@dataclass(frozen=True)
class SimilarAsset:
    """A published asset that may be the place a resident is telling us about."""

    asset: Asset
    distance_m: float
    score: float


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not any(not _blank(v) for v in value)
    return False


def _items(value: object) -> list[str]:
    """A list field's values, stripped and without blanks (a string is one item)."""
    raw: list[object] = list(value) if isinstance(value, list | tuple) else [value]
    return [clean_text(v) for v in raw if clean_text(v)]


def _too_long(fields: Mapping[str, Any], names: Sequence[str]) -> list[ValidationError]:
    errors = []
    for name in names:
        limit = _LIMITS.get(name)
        if limit is not None and len(clean_text(fields.get(name))) > limit:
            errors.append(
                ValidationError(
                    f"{FIELD_LABELS[name]} must be {limit:,} characters or fewer", field=name
                )
            )
    return errors


def _sorted(errors: list[ValidationError], order: Sequence[str]) -> list[ValidationError]:
    """One error per field, in form order (fields not in ``order`` go last)."""
    seen: dict[str, ValidationError] = {}
    for err in errors:
        seen.setdefault(err.field or "", err)
    rank = {name: i for i, name in enumerate(order)}
    return sorted(seen.values(), key=lambda e: rank.get(e.field or "", len(order)))


def _resident_message(err: ValidationError) -> ValidationError:
    """The domain's message, or a plainer one for the mistakes residents make by typing."""
    field = err.field or ""
    message = _MESSAGES.get(field)
    if field == "category" and "missing" not in err.message:
        message = None  # an unknown id (API or a tampered form): the domain lists the valid ones
    if field == "website" and "has a space in it" in err.message:
        # It may well start with https://: say what is actually wrong with it.
        message = "Enter the website address without spaces, like https://example.org"
    character = _URL_CHARACTER.search(err.message) if field == "website" else None
    if character:
        # The same: name the character ("a quotation mark (")") rather than the scheme.
        message = f"Enter the website address without {character[1]}, like https://example.org"
    if message is None:
        text = err.message
        message = text[:1].upper() + text[1:]
    return ValidationError(message, field=field or None)


def read_submitter(fields: Mapping[str, Any]) -> tuple[Submitter, list[ValidationError]]:
    """The optional name and email of the person submitting.

    Parameters
    ----------
    fields
        Raw fields; ``submitter_name`` and ``submitter_email`` are read, both optional.

    Returns
    -------
    tuple
        ``(submitter, errors)``; the submitter's ``author`` is "resident" and its client
        key is empty (the caller adds it).
    """
    errors = _too_long(fields, SUBMITTER_FIELDS)
    name = clean_text(fields.get("submitter_name"))
    email = clean_text(fields.get("submitter_email"))
    # Checked unless the email is already too long: a name that is too long must not hide
    # a second mistake that the resident would only be told about after fixing the first.
    too_long = any(e.field == "submitter_email" for e in errors)
    if email and not too_long and not _EMAIL.match(email):
        errors.append(ValidationError(_MESSAGES["submitter_email"], field="submitter_email"))
    return Submitter(name=name, email=email, author=RESIDENT_AUTHOR), _sorted(
        errors, SUBMITTER_FIELDS
    )


def _location(
    fields: Mapping[str, Any], postcodes: PostcodeIndex
) -> tuple[dict[str, Any], list[ValidationError]]:
    """lon, lat and postcode from a point (the map) or else from a postcode's centroid."""
    lon, lat = fields.get("lon"), fields.get("lat")
    postcode_text = clean_text(fields.get("postcode"))
    out: dict[str, Any] = {"lon": lon, "lat": lat, "postcode": ""}
    errors: list[ValidationError] = []
    if not (_blank(lon) and _blank(lat)):
        if postcode_text:
            try:
                out["postcode"] = normalise_postcode(postcode_text)
            except ValidationError:
                errors.append(
                    ValidationError("Enter a full postcode, like M32 0TH", field="postcode")
                )
        return out, errors
    if not postcode_text:
        errors.append(
            ValidationError(
                "Enter the postcode of the place, or choose the place on the map",
                field="postcode",
            )
        )
        return out, errors
    try:
        point = postcodes.lookup(normalise_postcode(postcode_text))
    except ValidationError:
        errors.append(ValidationError("Enter a full postcode, like M32 0TH", field="postcode"))
        return out, errors
    except UnknownPostcode as err:
        areas = (
            f" We can place postcodes in {', '.join(postcodes.areas)}." if postcodes.areas else ""
        )
        errors.append(
            ValidationError(
                f"We cannot find the postcode {err.query}. Check it, or choose the place on"
                f" the map.{areas}",
                field="postcode",
            )
        )
        return out, errors
    out.update(lon=point.lon, lat=point.lat, postcode=point.query)
    return out, errors


def read_new_asset(
    fields: Mapping[str, Any], taxonomy: Taxonomy, postcodes: PostcodeIndex
) -> tuple[Asset | None, list[ValidationError]]:
    """Validate a resident's new place into a pending asset.

    Parameters
    ----------
    fields
        Raw values by name (see :data:`ASSET_FIELDS`); anything else is ignored. The place
        is located by ``lon``/``lat`` (WGS84 degrees, from the map) when given, otherwise
        at the centroid of ``postcode``, which must be in ``postcodes``.
    taxonomy
        Categories ``category`` must come from.
    postcodes
        The postcode directory.

    Returns
    -------
    tuple
        ``(asset, [])`` with status "pending" and source "resident", or ``(None, errors)``
        with at most one error per field, in form order.
    """
    errors = _too_long(fields, ASSET_FIELDS)
    location, location_errors = _location(fields, postcodes)
    errors += location_errors
    data: dict[str, Any] = {name: fields.get(name) for name in ASSET_FIELDS}
    data.update(location)
    if location_errors and _blank(location["lon"]):
        # Placeholder point so every other field is still checked; its errors are dropped.
        data.update(lon=-2.0, lat=53.0)
    data.update(status="pending", source=RESIDENT_SOURCE)
    asset, domain_errors = validate_asset(data, taxonomy)
    failed = {e.field for e in errors}
    for err in domain_errors:
        if err.field in failed or (location_errors and err.field in {"lon", "lat"}):
            continue
        errors.append(_resident_message(err))
    if errors:
        return None, _sorted(errors, ASSET_FIELDS)
    return asset, []


def form_values(asset: Asset) -> dict[str, Any]:
    """An asset's changeable fields as a form shows them (text, or lists of ids)."""
    values: dict[str, Any] = {}
    for name in CHANGEABLE_FIELDS:
        value = getattr(asset, name)
        if name == "opening_times":
            value = value.text
        elif name in LIST_FIELDS:
            value = list(value)
        values[name] = value if value is not None else ""
    return values


def read_changes(
    current: Asset, fields: Mapping[str, Any], taxonomy: Taxonomy
) -> tuple[dict[str, Any], list[ValidationError]]:
    """The fields a resident changed on a published asset, validated.

    Parameters
    ----------
    current
        The asset as published.
    fields
        Raw values by name (see :data:`CHANGEABLE_FIELDS`); a field left out is unchanged.
    taxonomy
        Categories a new ``category`` must come from.

    Returns
    -------
    tuple
        ``(changes, errors)``: changes maps each changed field to its new value in the
        asset's stored (``to_dict``) form; empty when nothing differs.
    """
    before = form_values(current)
    touched: dict[str, Any] = {}
    for name in CHANGEABLE_FIELDS:
        if name not in fields:
            continue
        raw = fields[name]
        if name in LIST_FIELDS:
            if sorted(_items(raw)) != sorted(before[name]):
                touched[name] = _items(raw)
        elif clean_text(raw) != clean_text(before[name]):
            touched[name] = raw
    errors = _too_long(touched, list(touched))
    if "postcode" in touched and clean_text(touched["postcode"]):
        try:
            touched["postcode"] = normalise_postcode(clean_text(touched["postcode"]))
        except ValidationError:
            errors.append(ValidationError("Enter a full postcode, like M32 0TH", field="postcode"))
    # Only the touched fields are checked: stand-ins fill the required ones, so an old
    # imported value the rules have since tightened does not block an unrelated change.
    stand_ins = {"name": "x", "category": taxonomy.ids[0], "lon": -2.0, "lat": 53.0}
    proposed, domain_errors = validate_asset({**stand_ins, **touched}, taxonomy)
    failed = {e.field for e in errors}
    errors += [_resident_message(e) for e in domain_errors if e.field not in failed]
    if errors or proposed is None:
        return {}, _sorted(errors, CHANGEABLE_FIELDS)
    old, new = current.to_dict(), proposed.to_dict()
    changes = {name: new[name] for name in touched if new[name] != old[name]}
    if "opening_times" in changes and new["opening_times"]["text"] == old["opening_times"]["text"]:
        del changes["opening_times"]
    return changes, []


def read_message(fields: Mapping[str, Any]) -> tuple[str, list[ValidationError]]:
    """The resident's optional message to the moderators (``message``, at most 2,000 characters).

    Returns
    -------
    tuple
        ``(message, errors)``.
    """
    return clean_text(fields.get("message")), _too_long(fields, ["message"])


def read_problem(fields: Mapping[str, Any]) -> tuple[str, str, list[ValidationError]]:
    """A problem report: which problem (see PROBLEMS) and the resident's message.

    Returns
    -------
    tuple
        ``(problem, message, errors)``.
    """
    problem = clean_text(fields.get("problem"))
    message, errors = read_message(fields)
    if problem not in PROBLEMS:
        errors.insert(0, ValidationError("Select what is wrong", field="problem"))
    return problem, message, errors


def is_same_submission(
    store: Store, submission: Submission, asset: Asset, submitter: Submitter
) -> bool:
    """Whether a new-asset submission holds exactly this asset and submitter.

    A retried request carries the same idempotency key and the same body; this tells it
    from a different submission that reused the key. The asset is compared with the
    submission's first revision, which moderation never changes.
    """
    if submission.kind != "new":
        return False
    first = store.history(submission.asset_id)[0].state
    sent = asset.to_dict()
    same_asset = all(first.get(name) == sent[name] for name in CONTENT_FIELDS if name != "status")
    return same_asset and (submission.submitter.name, submission.submitter.email) == (
        submitter.name,
        submitter.email,
    )


@dataclass(frozen=True)
class Sent:
    """What a resident sends: a new place, or a change or problem report about an asset.

    Build one with :meth:`new_place` or :meth:`about`.
    """

    kind: str
    asset: Asset | None = None
    asset_id: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""
    message: str = ""

    @classmethod
    def new_place(cls, asset: Asset) -> Sent:
        """A new place (kind "new")."""
        return cls(kind="new", asset=asset)

    @classmethod
    def about(
        cls, asset_id: str, changes: Mapping[str, Any], problem: str = "", message: str = ""
    ) -> Sent:
        """Changes to, or a problem with, a published asset (kind "change" or "problem")."""
        kind = "problem" if problem else "change"
        return cls(kind=kind, asset_id=asset_id, changes=changes, problem=problem, message=message)

    def content(self) -> dict[str, Any]:
        """Everything the resident wrote about the place, as JSON would store it."""
        if self.asset is not None:
            return _place_content(self.asset.to_dict())
        return _report_content(self.changes, self.problem, self.message)


def _place_content(state: Mapping[str, Any]) -> dict[str, Any]:
    """A new place as the resident wrote it: its content fields but the status, as JSON."""
    return _as_json({n: state.get(n) for n in CONTENT_FIELDS if n != "status"})


def _report_content(changes: Mapping[str, Any], problem: str, message: str) -> dict[str, Any]:
    """A change or problem report as the resident wrote it, as JSON."""
    return _as_json({"changes": dict(changes), "problem": problem, "message": message})


def _as_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as it reads back from JSON (tuples become lists), to compare stored states."""
    back: dict[str, Any] = json.loads(json.dumps(value, sort_keys=True, default=str))
    return back


def _stored_content(store: Store, submission: Submission) -> dict[str, Any]:
    """What a stored submission holds, in :meth:`Sent.content`'s shape."""
    if submission.kind == "new":
        # The first revision, which moderation never changes.
        return _place_content(store.history(submission.asset_id)[0].state)
    return _report_content(submission.changes, submission.problem, submission.message)


def find_resent(
    store: Store,
    sent: Sent,
    submitter: Submitter,
    *,
    window: timedelta = RESEND_WINDOW,
    now: datetime | None = None,
) -> Submission | None:
    """A pending submission of exactly this content from this sender, sent within ``window``.

    The same sender is the same client key (a keyed hash of the address; none, none found),
    author, name and email; the same content is the same kind, asset and every field the
    resident wrote. Anything that differs is not a resend: nothing a resident writes is
    dropped. A decided submission never counts.

    Parameters
    ----------
    store
        Where the submissions are.
    sent
        What the resident is sending now.
    submitter
        Who is sending it, with their client key.
    window
        How far back to look (24 hours).
    now
        The current time (UTC); for tests.

    Returns
    -------
    Submission or None
        The oldest such submission.
    """
    now = now or datetime.now(UTC)
    candidates = store.pending_from_sender(
        submitter=submitter,
        kind=sent.kind,
        since=_iso(now - window),
        asset_id=sent.asset_id,
        asset_name=sent.asset.name if sent.asset is not None else "",
    )
    content = sent.content()
    return next((c for c in candidates if _stored_content(store, c) == content), None)


def _content_key(store: Store, sent: Sent, submitter: Submitter) -> str:
    """An idempotency key for a submission sent without one: the same for the same content.

    Two requests with the same content from the same sender compute the same key, so the
    store's unique key lets only one of them in even when neither can see the other's
    uncommitted row. The number after the digest counts earlier submissions stored under
    it (decided, or older than the window), so a later resend gets a key of its own. The
    digest includes the client key, a keyed hash: it says nothing about the sender without
    the app's secret. "" (no key) without a client key.
    """
    if not submitter.client_key:
        return ""
    who = [submitter.client_key, submitter.author, submitter.name, submitter.email]
    what = {"kind": sent.kind, "asset_id": sent.asset_id, "content": sent.content()}
    text = json.dumps([who, what], sort_keys=True, ensure_ascii=False)
    prefix = f"same:{hashlib.sha256(text.encode()).hexdigest()}:"
    return f"{prefix}{store.count_keys_with_prefix(prefix)}"


def submit_once(
    store: Store,
    sent: Sent,
    *,
    submitter: Submitter,
    idempotency_key: str = "",
    window: timedelta = RESEND_WINDOW,
    now: datetime | None = None,
) -> tuple[Submission, str]:
    """Store what a resident sent, unless it is a retry or a resend of a pending submission.

    Looks for a resend (:func:`find_resent`) and stores in one write transaction, which
    holds the store's write lock on both backends, so two requests at once store one.
    Without an idempotency key of the caller's own, the content's (see :func:`_content_key`)
    is used too, which the store's unique key holds to one whatever the locking. Rate limits
    are the caller's to check first (a resend must not count).

    Parameters
    ----------
    store
        Where to store it.
    sent
        The new place, or the change or report.
    submitter
        Who sent it, with their client key.
    idempotency_key
        The caller's key (a form's token, an API client's header), or "".
    window
        How long a pending submission counts as the one being sent again.
    now
        The current time (UTC); for tests.

    Returns
    -------
    tuple
        ``(submission, outcome)``: :data:`CREATED`; :data:`RETRIED` when a submission was
        already stored under the key (compare its content: the key may have been reused);
        :data:`RESENT` when the same content from the same sender was pending.
    """
    key = idempotency_key or _content_key(store, sent, submitter)
    try:
        with store.transaction():
            earlier = find_resent(store, sent, submitter, window=window, now=now)
            if earlier is not None:
                return earlier, RESENT
            if sent.asset is not None:
                submission, created = store.submit_new(
                    sent.asset, submitter=submitter, idempotency_key=key
                )
            else:
                submission, created = store.submit_change(
                    sent.asset_id,
                    changes=sent.changes,
                    problem=sent.problem,
                    message=sent.message,
                    submitter=submitter,
                    idempotency_key=key,
                )
    except Exception:
        # Another request stored this key after our look-up (a store whose writes do not
        # wait for each other; the unique key refuses the second insert): answer with that
        # one's submission.
        found = store.find_submission_by_key(key) if key else None
        if found is None:
            raise
        return found, RESENT if key != idempotency_key else RETRIED
    if created:
        return submission, CREATED
    return submission, RESENT if key != idempotency_key else RETRIED


def same_place_changes(existing: Asset, proposed: Asset) -> dict[str, Any]:
    """What a new-place submission adds to a published asset the resident says it is.

    Fields the resident filled in that differ from the asset become suggested changes; the
    point stays where it is (a postcode centroid is rougher than a surveyed point), and a
    name that differs only in case, accents or punctuation is left alone.

    Returns
    -------
    dict
        Field -> new value in stored (``to_dict``) form; empty when nothing is new.
    """
    old, new = existing.to_dict(), proposed.to_dict()
    changes: dict[str, Any] = {}
    for name in CHANGEABLE_FIELDS:
        value = new[name]
        if name == "opening_times":
            if value["text"] and value["text"] != old[name]["text"]:
                changes[name] = value
            continue
        if value in ("", None, []) or value == old[name]:
            continue
        if name == "name" and _fold(value) == _fold(old[name]):
            continue
        changes[name] = value
    return changes


def _fold(text: str) -> str:
    """Case, accents and punctuation removed; letters of every script kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def name_similarity(a: str, b: str) -> float:
    """How alike two names are, from 0 to 1.

    The larger of difflib's ratio on the folded names and the share of the shorter name's
    words (common words such as "the" left out) that the other name also has, so "Sale
    Walking Group" matches "Sale walking group (Tuesdays)".

    Returns
    -------
    float
    """
    fa, fb = _fold(a), _fold(b)
    if not fa or not fb:
        return 0.0
    ratio = SequenceMatcher(None, fa, fb).ratio()
    wa = set(fa.split()) - _STOPWORDS
    wb = set(fb.split()) - _STOPWORDS
    overlap = len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0
    return max(ratio, overlap)


def similar_assets(
    store: Store,
    name: str,
    lon: float,
    lat: float,
    *,
    postcode: str = "",
    radius_m: float = DUPLICATE_RADIUS_M,
    min_score: float = SIMILAR_NAME_SCORE,
    limit: int = MAX_DUPLICATES,
) -> list[SimilarAsset]:
    """Published assets near a point with a name like ``name``: likely duplicates.

    Parameters
    ----------
    store
        Where the published assets are.
    name
        The name the resident typed.
    lon, lat
        WGS84 degrees.
    postcode
        The place's postcode, if known: an asset with the same one counts up to
        :data:`SAME_POSTCODE_RADIUS_M` (1,000 m) away, as ``lon``/``lat`` may be only the
        postcode's centroid.
    radius_m
        Search radius in metres (200 by default).
    min_score
        Lowest :func:`name_similarity` that counts (0.8 by default).
    limit
        At most this many, best first.

    Returns
    -------
    list of SimilarAsset
        Sorted by score (highest first), then distance.
    """
    if not _fold(name):
        return []
    code = _postcode_key(postcode)
    search_m = max(radius_m, SAME_POSTCODE_RADIUS_M) if code else radius_m
    found = []
    for hit in store.nearby(lon, lat, search_m, status="published"):
        if hit.distance_m > radius_m and _postcode_key(hit.asset.postcode) != code:
            continue
        score = name_similarity(name, hit.asset.name)
        if score >= min_score:
            found.append(SimilarAsset(hit.asset, hit.distance_m, score))
    found.sort(key=lambda s: (-s.score, s.distance_m, s.asset.id))
    return found[:limit]


def _postcode_key(postcode: str | None) -> str:
    """A postcode to compare: "wa15 9nt" and "WA159NT" alike; "" for none."""
    return "".join((postcode or "").split()).upper()


def _iso(moment: datetime) -> str:
    # The same shape as the store's created_at (UTC, seconds), so text comparison is time order.
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def check_rate_limits(
    store: Store,
    *,
    client_key: str,
    email: str,
    per_client_per_hour: int = DEFAULT_PER_CLIENT_PER_HOUR,
    per_email_per_day: int = DEFAULT_PER_EMAIL_PER_DAY,
    now: datetime | None = None,
) -> None:
    """Refuse a submission when its client or email address has sent too many lately.

    Counted from stored submissions, so the limits hold across worker processes and
    app instances that share a database. A limit of 0 turns that check off.

    Parameters
    ----------
    store
        Where submissions are counted.
    client_key
        Keyed hash of the client's address (see ``accounts.client_key``).
    email
        The submitter's email, or "" when none was given.
    per_client_per_hour, per_email_per_day
        The limits.
    now
        The current time (UTC); for tests.

    Raises
    ------
    SubmissionLimitReached
        With ``retry_after_s`` and the field to blame (None for the client limit).
    """
    now = now or datetime.now(UTC)
    if per_client_per_hour and client_key:
        since = _iso(now - timedelta(hours=1))
        if store.count_submissions_since(since=since, client_key=client_key) >= (
            per_client_per_hour
        ):
            raise SubmissionLimitReached(
                f"You have sent {per_client_per_hour} submissions in the last hour, the most"
                " we accept from one connection. Try again in an hour.",
                field=None,
                retry_after_s=3600,
            )
    if per_email_per_day and email:
        since = _iso(now - timedelta(days=1))
        if store.count_submissions_since(since=since, email=email) >= per_email_per_day:
            raise SubmissionLimitReached(
                f"This email address has been used for {per_email_per_day} submissions in the"
                " last 24 hours, the most we accept. Try again tomorrow.",
                field="submitter_email",
                retry_after_s=86400,
            )


def forget_submitters(
    store: Store, *, keep_days: int = SUBMITTER_DETAILS_KEPT_DAYS, now: datetime | None = None
) -> int:
    """Blank submitters' names, emails and client keys once their retention time is over.

    Parameters
    ----------
    store
        The store.
    keep_days
        Days after a submission's decision that its submitter's details are kept (365).
    now
        The current time (UTC); for tests.

    Returns
    -------
    int
        How many submissions were cleared.
    """
    now = now or datetime.now(UTC)
    return store.forget_submitter_details(decided_before=_iso(now - timedelta(days=keep_days)))
