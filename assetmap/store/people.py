"""Staff accounts, database-backed sessions and login attempts (shared SQL)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from assetmap.domain.errors import AssetmapError, Forbidden, NotFound, ValidationError
from assetmap.domain.people import ROLES, SESSION_MAX_S, StaffSession, User
from assetmap.store.base import SqlStore, utc_now

_USER_COLUMNS = (
    "pk, username, display_name, role, password_hash, auth_version, active, created_at, areas"
)
# An ONS GSS code such as E08000009; which codes are known areas is checked above the store.
_AREA_CODE = re.compile(r"[EWSN]\d{8}")
# A session's last request is written at most this often: a page and its map's requests, or a
# moderator working through a queue, cost one write a minute, not one each.
TOUCH_EVERY_S = 60


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _areas_text(areas: Iterable[str]) -> str:
    """Area codes as stored: upper case, no repeats, sorted, space-separated."""
    codes = set()
    for raw in areas:
        code = raw.strip().upper()
        if not _AREA_CODE.fullmatch(code):
            raise ValidationError(
                f"'{raw}' is not an area code: use an ONS local authority district code"
                " such as E08000009",
                field="area",
            )
        codes.add(code)
    return " ".join(sorted(codes))


class PeopleSql(SqlStore):
    """Adds users, sessions and login attempts to the asset store."""

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            id=int(row[0]),
            username=row[1],
            display_name=row[2],
            role=row[3],
            password_hash=row[4],
            auth_version=int(row[5]),
            active=bool(row[6]),
            created_at=row[7],
            areas=tuple((row[8] or "").split()),
        )

    def create_user(
        self,
        username: str,
        *,
        role: str,
        password_hash: str,
        display_name: str = "",
        areas: Iterable[str] = (),
    ) -> User:
        """Add a staff account; the username must be new and the role known.

        ``areas`` are the local authority district codes the account looks after.
        """
        areas_text = _areas_text(areas)
        if role not in ROLES:
            raise ValidationError(f"role '{role}' is not one of: {', '.join(ROLES)}", field="role")
        name = username.strip().lower()
        if not name or len(name) > 64 or not name.replace(".", "").replace("-", "").isalnum():
            raise ValidationError(
                "username must be 1-64 letters, digits, dots or hyphens", field="username"
            )
        now = utc_now()
        taken = f"there is already an account called {name}"
        try:
            with self.transaction() as conn:
                if self._find_user(conn, name) is not None:
                    raise ValidationError(taken, field="username")
                conn.execute(
                    self._sql(
                        "INSERT INTO users (username, display_name, role, password_hash,"
                        " created_at, updated_at, areas) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (name, display_name or name, role, password_hash, now, now, areas_text),
                )
                user = self._find_user(conn, name)
        except AssetmapError:
            raise
        except Exception:
            # On PostgreSQL another `users add` for this name can commit between the check
            # and the insert (SQLite's write lock, held from BEGIN, rules that out): the
            # UNIQUE constraint keeps the second one out, and it is told why. Any other
            # failure is raised as it was.
            if self.get_user(name) is None:
                raise
            raise ValidationError(taken, field="username") from None
        if user is None:  # pragma: no cover - just inserted in the same transaction
            raise NotFound(f"user '{name}' vanished")
        return user

    def _find_user(self, conn: Any, username: str) -> User | None:
        row = conn.execute(
            self._sql(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?"),
            (username.strip().lower(),),
        ).fetchone()
        return None if row is None else self._user(row)

    def get_user(self, username: str) -> User | None:
        """The account with this username, or None."""
        return self._find_user(self._conn(), username)

    def list_users(self) -> list[User]:
        """Every account, by username."""
        rows = self._conn().execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")
        return [self._user(r) for r in rows.fetchall()]

    def _bump_auth(self, username: str, column: str, value: Any) -> User:
        with self.transaction() as conn:
            user = self._find_user(conn, username)
            if user is None:
                raise NotFound(f"no user '{username}'")
            conn.execute(
                self._sql(
                    f"UPDATE users SET {column} = ?, auth_version = auth_version + 1,"
                    " updated_at = ? WHERE pk = ?"
                ),
                (value, utc_now(), user.id),
            )
            # Changing credentials or powers ends every session issued before.
            conn.execute(self._sql("DELETE FROM sessions WHERE user_pk = ?"), (user.id,))
            fresh = self._find_user(conn, username)
        assert fresh is not None  # noqa: S101 - same transaction
        return fresh

    def set_password(self, username: str, password_hash: str) -> User:
        """Replace the password hash and end the user's sessions."""
        return self._bump_auth(username, "password_hash", password_hash)

    def set_role(self, username: str, role: str) -> User:
        """Change the role and end the user's sessions."""
        if role not in ROLES:
            raise ValidationError(f"role '{role}' is not one of: {', '.join(ROLES)}", field="role")
        with self.transaction() as conn:
            if role != "admin":
                self._keep_an_admin(conn, username, f"make {{name}} {role}")
            return self._bump_auth(username, "role", role)

    def _keep_an_admin(self, conn: Any, username: str, change: str) -> None:
        """Refuse a change that would leave no active admin (inside its transaction).

        ``change`` says what was asked, with ``{name}`` for the username (e.g. "disable {name}").

        Only an admin sees the contact details of residents whose submissions are in no
        moderator's area, so the last one may be neither disabled nor given another role.
        """
        # Hold every active admin's row first. SQLite's write lock already covers the whole
        # table; on PostgreSQL two admins changed at once would otherwise each count the other
        # as still active, and both go.
        conn.execute(
            self._sql("UPDATE users SET active = active WHERE role = ? AND active = ?"),
            ("admin", True),
        )
        user = self._find_user(conn, username)
        if user is None or user.role != "admin" or not user.active:
            return
        others = conn.execute(
            self._sql("SELECT COUNT(*) FROM users WHERE role = ? AND active = ? AND pk <> ?"),
            ("admin", True, user.id),
        ).fetchone()[0]
        if not others:
            raise Forbidden(
                f"cannot {change.format(name=user.username)}: they are the last active admin, and"
                " only an admin sees the contact details of residents whose submissions"
                " are in no moderator's area; make another account admin first"
            )

    def set_active(self, username: str, active: bool) -> tuple[User, bool]:
        """Switch an account on or off; accounts are never deleted, as history names them.

        Either change ends the user's sessions; a disabled account cannot sign in.

        Parameters
        ----------
        username
            The account to change.
        active
            True to enable it, False to disable it.

        Returns
        -------
        tuple of (User, bool)
            The account as it now is, and whether this call changed it (False when it was
            already so).

        Raises
        ------
        NotFound
            When there is no such account.
        Forbidden
            When disabling the last active admin: only admins see the contact details of
            residents whose submissions are in no moderator's area.
        """
        with self.transaction() as conn:
            if not active:
                self._keep_an_admin(conn, username, "disable {name}")
            user = self._find_user(conn, username)
            if user is None:
                raise NotFound(f"no user '{username}'")
            if user.active == active:
                return user, False
            # Either way the user's sessions end: switched off, they are out at once;
            # switched on, no session from before (say, one left when the account was
            # switched off in the database by hand) comes back to life.
            return self._bump_auth(username, "active", active), True

    def set_areas(self, username: str, areas: Iterable[str]) -> User:
        """Replace the areas a user looks after (none clears them).

        Sessions are kept: every request reads the user afresh, so the change applies to
        the user's next page.
        """
        areas_text = _areas_text(areas)
        with self.transaction() as conn:
            user = self._find_user(conn, username)
            if user is None:
                raise NotFound(f"no user '{username}'")
            conn.execute(
                self._sql("UPDATE users SET areas = ?, updated_at = ? WHERE pk = ?"),
                (areas_text, utc_now(), user.id),
            )
            fresh = self._find_user(conn, username)
        assert fresh is not None  # noqa: S101 - same transaction
        return fresh

    def create_session(self, user: User, *, ttl_s: int = SESSION_MAX_S) -> str:
        """Start a session; returns the token for the cookie (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.transaction() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO sessions (token_hash, user_pk, auth_version, created_at,"
                    " expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    _token_hash(token),
                    user.id,
                    user.auth_version,
                    _iso(now),
                    _iso(now + timedelta(seconds=ttl_s)),
                    _iso(now),
                ),
            )
        return token

    def session_user(self, token: str, *, idle_s: int | None = None) -> User | None:
        """The user a live session token belongs to, or None (see :meth:`staff_session`)."""
        found = self.staff_session(token, idle_s=idle_s)
        return None if found is None else found.user

    def staff_session(
        self, token: str, *, idle_s: int | None = None, touch: bool = True
    ) -> StaffSession | None:
        """The live session a token holds, or None when it has ended.

        Parameters
        ----------
        token
            The cookie's token.
        idle_s
            Seconds without a request after which the session has ended (None: no limit).
        touch
            Count this as a request: the session's idle time starts again. Written at most
            once a minute (``TOUCH_EVERY_S``), so a burst of pages costs one write.

        Returns
        -------
        StaffSession or None
            None when the token is unknown, the session has expired, been idle too long or
            been revoked (password or role change, account disabled).
        """
        row = (
            self._conn()
            .execute(
                self._sql(
                    "SELECT s.auth_version, s.expires_at, coalesce(s.last_seen_at, s.created_at), "
                    + ", ".join(f"u.{c.strip()}" for c in _USER_COLUMNS.split(","))
                    + " FROM sessions s JOIN users u ON u.pk = s.user_pk WHERE s.token_hash = ?"
                ),
                (_token_hash(token),),
            )
            .fetchone()
        )
        now = datetime.now(UTC)
        if row is None or row[1] <= _iso(now):
            return None
        user = self._user(row[3:])
        if not user.active or user.auth_version != int(row[0]):
            return None
        last_seen = datetime.fromisoformat(row[2])
        idle = timedelta(seconds=idle_s) if idle_s is not None else None
        if idle is not None and last_seen + idle <= now:
            return None
        if touch and (now - last_seen).total_seconds() >= TOUCH_EVERY_S:
            with self.transaction() as conn:
                conn.execute(
                    self._sql("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?"),
                    (_iso(now), _token_hash(token)),
                )
            last_seen = now.replace(microsecond=0)
        ends_at = datetime.fromisoformat(row[1])
        if idle is not None:
            ends_at = min(ends_at, last_seen + idle)
        return StaffSession(user, ends_at)

    def end_session(self, token: str) -> None:
        """Log a session out."""
        with self.transaction() as conn:
            conn.execute(
                self._sql("DELETE FROM sessions WHERE token_hash = ?"), (_token_hash(token),)
            )

    def record_login_attempt(self, username: str, client_key: str, *, ok: bool) -> None:
        """Remember a login attempt; failures drive the lockout."""
        with self.transaction() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO login_attempts (username, client_key, ok, at) VALUES (?, ?, ?, ?)"
                ),
                (username.strip().lower(), client_key, ok, utc_now()),
            )

    def failed_logins_since(self, *, since: str, username: str = "", client_key: str = "") -> int:
        """Failed attempts since an ISO time, for a username or a client (or both)."""
        clauses, params = ["at >= ?", "ok = ?"], [since, False]
        if username:
            clauses.append("username = ?")
            params.append(username.strip().lower())
        if client_key:
            clauses.append("client_key = ?")
            params.append(client_key)
        sql = f"SELECT COUNT(*) FROM login_attempts WHERE {' AND '.join(clauses)}"
        return int(self._conn().execute(self._sql(sql), params).fetchone()[0])
