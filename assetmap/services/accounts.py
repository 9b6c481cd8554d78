"""Staff sign-in: argon2id password hashes and a lockout after repeated failures.

Failures are counted from stored login attempts, so the lockout holds across every worker
process and survives a restart.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from assetmap.domain.errors import TooManyRequests, ValidationError
from assetmap.domain.people import User
from assetmap.store.submissions import SubmissionsSql

# argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id, 64 MiB).
_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
# A real hash to verify against when the username is unknown, so timing does not reveal
# which usernames exist.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-but-the-same-cost")


def hash_password(password: str) -> str:
    """Argon2id hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return _HASHER.hash(password)


def client_key(address: str, secret: str) -> str:
    """A keyed hash of a client address: enough to count requests, useless if leaked."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def authenticate(
    store: SubmissionsSql, username: str, password: str, *, client: str
) -> User | None:
    """Check a username and password, recording the attempt.

    Returns
    -------
    User or None
        The user when the password matches and the account is active; None otherwise.

    Raises
    ------
    TooManyRequests
        After too many recent failures for this username or from this client.
    """
    since = (datetime.now(UTC) - LOCKOUT_WINDOW).isoformat(timespec="seconds")
    name = username.strip().lower()
    if (
        store.failed_logins_since(since=since, username=name) >= MAX_FAILURES_PER_USER
        or store.failed_logins_since(since=since, client_key=client) >= MAX_FAILURES_PER_CLIENT
    ):
        minutes = int(LOCKOUT_WINDOW.total_seconds() // 60)
        raise TooManyRequests(
            f"Too many failed sign-in attempts. Wait {minutes} minutes and try again."
        )
    user = store.get_user(name)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    store.record_login_attempt(name, client, ok=ok)
    if ok and user is not None and _HASHER.check_needs_rehash(user.password_hash):
        user = store.set_password(name, _HASHER.hash(password))
    return user if ok else None
