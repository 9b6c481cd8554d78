"""Resident submissions and their moderation (shared SQL).

A new-asset submission is stored as an asset with status "pending" plus a submission row; a
change request or problem report is a submission row against a published asset. Every
decision is a new asset revision and an appended submission event, inside one transaction
that first checks the submission's ``version`` (so a second moderator acting on a stale
screen gets a Conflict, never a silent overwrite).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from assetmap.domain.asset import CONTENT_FIELDS, Asset
from assetmap.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from assetmap.domain.opening_times import OpeningTimes
from assetmap.domain.submission import (
    PROBLEMS,
    Submission,
    SubmissionEvent,
    Submitter,
)
from assetmap.store.base import utc_now
from assetmap.store.people import PeopleSql

# Crockford-style alphabet: no I, L, O or U, so a reference read out on the phone is unambiguous.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_COLUMNS = (
    "ref, kind, status, asset_id, base_revision, changes, problem, message, submitter_name,"
    " submitter_email, client_key, submitted_by, created_at, version, decided_by, decided_at,"
    " decision_reason, merged_into, idempotency_key"
)


def _blank(value: Any) -> bool:
    if isinstance(value, OpeningTimes):
        return not value.text and value.schedule is None
    return value in ("", None, ())


def merge_changes(pending: Asset, target: Asset) -> dict[str, Any]:
    """The fields a merge copies from a submitted asset onto an existing one.

    A merge only fills gaps: a field is copied when the existing asset has nothing there and
    the resident gave a value. What the existing record already says (its name, place,
    category, contact details) is never overwritten by a merge; a moderator who wants a
    resident's correction uses "edit then approve" on a change request instead.

    Parameters
    ----------
    pending
        The submission's (pending) asset.
    target
        The published asset it is merged into.

    Returns
    -------
    dict
        Field name -> the submitted value, for every content field that is empty on the
        target and filled in on the submission; status, source and licence never count.
    """
    skip = {"status", "source", "source_id", "licence", "id"}
    return {
        name: getattr(pending, name)
        for name in CONTENT_FIELDS
        if name not in skip and _blank(getattr(target, name)) and not _blank(getattr(pending, name))
    }


def _decision(done: str, ref: str, note: str) -> str:
    """A decision's revision reason: the submission it came from, then the moderator's note.

    The asset's history must say which submission changed it whether or not the moderator
    wrote a note (the note alone left the revision with no way back to the resident's words).
    """
    return f"{done} {ref}: {note}" if note else f"{done} {ref}"


def new_reference() -> str:
    """A submission reference such as ``AM-7K3Q-9XPD``."""
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"AM-{chars[:4]}-{chars[4:]}"


class SubmissionsSql(PeopleSql):
    """Adds submissions and moderation to the store."""

    def _is_unique_violation(self, err: Exception) -> bool:
        """Whether a database error is a UNIQUE constraint failure (backend-specific)."""
        return "unique" in str(err).lower()

    @staticmethod
    def _submission(row: Any) -> Submission:
        return Submission(
            ref=row[0],
            kind=row[1],
            status=row[2],
            asset_id=row[3],
            base_revision=int(row[4]),
            changes=json.loads(row[5]),
            problem=row[6],
            message=row[7],
            submitter=Submitter(name=row[8], email=row[9], client_key=row[10], author=row[11]),
            created_at=row[12],
            version=int(row[13]),
            decided_by=row[14],
            decided_at=row[15],
            decision_reason=row[16],
            merged_into=row[17],
            idempotency_key=row[18] or "",
        )

    def _by_key(self, conn: Any, key: str) -> Submission | None:
        row = conn.execute(
            self._sql(f"SELECT {_COLUMNS} FROM submissions WHERE idempotency_key = ?"), (key,)
        ).fetchone()
        return None if row is None else self._submission(row)

    def _event(self, conn: Any, ref: str, action: str, actor: str, reason: str = "") -> None:
        conn.execute(
            self._sql(
                "INSERT INTO submission_events (ref, action, actor, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?)"
            ),
            (ref, action, actor, reason, utc_now()),
        )

    def _insert_submission(
        self,
        conn: Any,
        *,
        kind: str,
        asset_id: str,
        base_revision: int,
        changes: Mapping[str, Any],
        problem: str,
        message: str,
        submitter: Submitter,
        idempotency_key: str,
    ) -> Submission:
        ref = new_reference()
        conn.execute(
            self._sql(
                f"INSERT INTO submissions ({_COLUMNS}) VALUES"
                " (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, '', '', '', '', ?)"
            ),
            (
                ref,
                kind,
                asset_id,
                base_revision,
                json.dumps(dict(changes), sort_keys=True),
                problem,
                message,
                submitter.name,
                submitter.email,
                submitter.client_key,
                submitter.author,
                utc_now(),
                idempotency_key or None,
            ),
        )
        self._event(conn, ref, "submitted", submitter.author)
        return self.get_submission(ref, conn=conn)

    def _idempotent(self, key: str, write: Any) -> tuple[Submission, bool]:
        """Run ``write`` once per idempotency key; a repeat returns the first result."""
        if key:
            existing = self._by_key(self._conn(), key)
            if existing is not None:
                return existing, False
        try:
            with self.transaction() as conn:
                if key and (existing := self._by_key(conn, key)) is not None:
                    return existing, False
                return write(conn), True
        except Exception as err:
            # Two requests with one key raced past the first check: the UNIQUE constraint
            # kept the second out; answer it with the first one's submission.
            if key and self._is_unique_violation(err):
                existing = self._by_key(self._conn(), key)
                if existing is not None:
                    return existing, False
            raise

    def submit_new(
        self, asset: Asset, *, submitter: Submitter, idempotency_key: str = ""
    ) -> tuple[Submission, bool]:
        """Store a resident's new asset as pending; returns (submission, created)."""

        def write(conn: Any) -> Submission:
            pending = self._insert(
                conn,
                asset.with_changes(status="pending", id=""),
                author=submitter.author,
                reason="submitted",
                action="create",
            )
            return self._insert_submission(
                conn,
                kind="new",
                asset_id=pending.id,
                base_revision=0,
                changes={},
                problem="",
                message="",
                submitter=submitter,
                idempotency_key=idempotency_key,
            )

        return self._idempotent(idempotency_key, write)

    def submit_change(
        self,
        asset_id: str,
        *,
        changes: Mapping[str, Any],
        submitter: Submitter,
        problem: str = "",
        message: str = "",
        idempotency_key: str = "",
    ) -> tuple[Submission, bool]:
        """Record a suggested change or problem report against a published asset."""
        unknown = set(changes) - set(CONTENT_FIELDS) | ({"status"} & set(changes))
        if unknown:
            raise ValidationError(
                f"cannot suggest changes to: {', '.join(sorted(unknown))}", field=min(unknown)
            )
        if problem and problem not in PROBLEMS:
            raise ValidationError(
                f"problem '{problem}' is not one of: {', '.join(PROBLEMS)}", field="problem"
            )
        if not changes and not problem:
            raise ValidationError(
                "suggest at least one change or choose a problem", field="changes"
            )

        def write(conn: Any) -> Submission:
            _, current = self._row_state(conn, asset_id)
            if current.status != "published":
                raise NotFound(f"no published asset with id '{asset_id}'")
            return self._insert_submission(
                conn,
                kind="problem" if problem else "change",
                asset_id=asset_id,
                base_revision=current.revision,
                changes=changes,
                problem=problem,
                message=message,
                submitter=submitter,
                idempotency_key=idempotency_key,
            )

        return self._idempotent(idempotency_key, write)

    def find_submission_by_key(self, key: str) -> Submission | None:
        """The submission stored with this idempotency key, or None."""
        return self._by_key(self._conn(), key) if key else None

    def pending_from_sender(
        self,
        *,
        submitter: Submitter,
        kind: str,
        since: str,
        asset_id: str = "",
        asset_name: str = "",
    ) -> list[Submission]:
        """Pending submissions of one kind from one sender since an ISO time, oldest first.

        The candidates for a resent submission: the same client key, author, name and email
        (an empty client key matches nothing). ``asset_id`` narrows them to one asset (a
        change or report); ``asset_name`` to new places whose pending asset has that name.
        """
        if not submitter.client_key:
            return []
        clauses = [
            "status = 'pending'",
            "client_key = ?",
            "submitted_by = ?",
            "submitter_name = ?",
            "submitter_email = ?",
            "kind = ?",
            "created_at >= ?",
        ]
        params = [
            submitter.client_key,
            submitter.author,
            submitter.name,
            submitter.email,
            kind,
            since,
        ]
        if asset_id:
            clauses.append("asset_id = ?")
            params.append(asset_id)
        if asset_name:
            # Found through the assets' unique id, so a sender's many pending places are not
            # each read back to compare names.
            clauses.append(
                "EXISTS (SELECT 1 FROM assets a WHERE a.id = submissions.asset_id AND a.name = ?)"
            )
            params.append(asset_name)
        sql = f"SELECT {_COLUMNS} FROM submissions WHERE {' AND '.join(clauses)} ORDER BY pk"
        rows = self._conn().execute(self._sql(sql), params).fetchall()
        return [self._submission(r) for r in rows]

    def count_keys_with_prefix(self, prefix: str) -> int:
        """How many submissions have an idempotency key starting with ``prefix``.

        ``prefix`` must hold no ``%`` or ``_`` (LIKE's wildcards).
        """
        if not prefix or "%" in prefix or "_" in prefix:
            raise ValidationError("a key prefix without % or _", field="prefix")
        sql = "SELECT COUNT(*) FROM submissions WHERE idempotency_key LIKE ?"
        return int(self._conn().execute(self._sql(sql), (prefix + "%",)).fetchone()[0])

    def forget_submitter_details(self, *, decided_before: str) -> int:
        """Blank submitter name, email and client key on submissions decided before a time.

        Pending submissions keep theirs until a decision; the submission itself, its events
        and the asset's history are kept. Returns how many submissions were cleared.
        """
        with self.transaction() as conn:
            cur = conn.execute(
                self._sql(
                    "UPDATE submissions SET submitter_name = '', submitter_email = '',"
                    " client_key = '' WHERE status <> 'pending' AND decided_at <> ''"
                    " AND decided_at < ? AND (submitter_name <> '' OR submitter_email <> ''"
                    " OR client_key <> '')"
                ),
                (decided_before,),
            )
            return int(cur.rowcount)

    def get_submission(self, ref: str, *, conn: Any = None) -> Submission:
        """One submission by reference; NotFound when there is none."""
        row = (
            (conn or self._conn())
            .execute(
                self._sql(f"SELECT {_COLUMNS} FROM submissions WHERE ref = ?"),
                (ref.strip().upper(),),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no submission with reference '{ref}'")
        return self._submission(row)

    def list_submissions(
        self, *, status: str | None = "pending", limit: int = 200
    ) -> list[Submission]:
        """Submissions, oldest first (the queue order)."""
        where = " WHERE status = ?" if status else ""
        params: list[Any] = [status] if status else []
        rows = (
            self._conn()
            .execute(
                self._sql(f"SELECT {_COLUMNS} FROM submissions{where} ORDER BY pk LIMIT ?"),
                [*params, limit],
            )
            .fetchall()
        )
        return [self._submission(r) for r in rows]

    def count_submissions(self, *, status: str | None = None) -> int:
        """How many submissions have this status (None: all)."""
        where = " WHERE status = ?" if status else ""
        params = [status] if status else []
        return int(
            self._conn()
            .execute(self._sql(f"SELECT COUNT(*) FROM submissions{where}"), params)
            .fetchone()[0]
        )

    def count_submissions_since(self, *, since: str, client_key: str = "", email: str = "") -> int:
        """Submissions since an ISO time from one client or one email (the rate limit's count).

        Counted from stored rows, so the limit holds across every worker process.
        """
        if not client_key and not email:
            raise ValidationError("count by client or by email", field="client_key")
        clauses, params = ["created_at >= ?"], [since]
        if client_key:
            clauses.append("client_key = ?")
            params.append(client_key)
        if email:
            clauses.append("lower(submitter_email) = ?")
            params.append(email.strip().lower())
        sql = f"SELECT COUNT(*) FROM submissions WHERE {' AND '.join(clauses)}"
        return int(self._conn().execute(self._sql(sql), params).fetchone()[0])

    def submission_events(self, ref: str) -> list[SubmissionEvent]:
        """Every action on a submission, oldest first."""
        rows = (
            self._conn()
            .execute(
                self._sql(
                    "SELECT ref, action, actor, reason, created_at FROM submission_events"
                    " WHERE ref = ? ORDER BY pk"
                ),
                (ref,),
            )
            .fetchall()
        )
        return [SubmissionEvent(*r) for r in rows]

    # -- decisions -------------------------------------------------------------------------
    def _lock_pending(
        self, conn: Any, ref: str, moderator: str, expected_version: int, *, approving: bool
    ) -> Submission:
        sub = self.get_submission(ref, conn=conn)
        if sub.version != expected_version or sub.status != "pending":
            who = f" by {sub.decided_by}" if sub.decided_by else ""
            raise Conflict(
                f"submission {sub.ref} changed since you opened it: it is now {sub.status}{who}"
            )
        if approving and sub.submitter.author == moderator:
            raise Forbidden("you cannot approve or merge your own submission")
        return sub

    def _close(
        self, conn: Any, sub: Submission, status: str, moderator: str, reason: str, merged: str = ""
    ) -> Submission:
        cur = conn.execute(
            self._sql(
                "UPDATE submissions SET status = ?, version = version + 1, decided_by = ?,"
                " decided_at = ?, decision_reason = ?, merged_into = ?"
                " WHERE ref = ? AND version = ?"
            ),
            (status, moderator, utc_now(), reason, merged, sub.ref, sub.version),
        )
        if cur.rowcount != 1:
            raise Conflict(f"submission {sub.ref} changed since you opened it")
        self._event(conn, sub.ref, status, moderator, reason)
        return self.get_submission(sub.ref, conn=conn)

    def approve(
        self,
        ref: str,
        *,
        moderator: str,
        expected_version: int,
        edits: Mapping[str, Any] | None = None,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Submission:
        """Approve a submission.

        A new asset is published; a change is applied (moderator edits win); a "closed"
        problem report archives the asset. ``expected_revision`` is the asset revision the
        moderator saw: Conflict when the asset has changed since.
        """
        with self.transaction() as conn:
            sub = self._lock_pending(conn, ref, moderator, expected_version, approving=True)
            pk, current = self._row_state(conn, sub.asset_id)
            self._check_expected(current, expected_revision)
            why = _decision("approved", sub.ref, reason)
            changes = {**sub.changes, **(edits or {})}
            if sub.kind == "new":
                changes["status"] = "published"
            elif sub.problem == "closed":
                changes["status"] = "archived"
            if changes:
                self._replace(
                    conn,
                    pk,
                    current,
                    current.with_changes(**changes),
                    author=moderator,
                    reason=why,
                    action="update",
                )
            return self._close(conn, sub, "approved", moderator, reason)

    def reject(self, ref: str, *, moderator: str, expected_version: int, reason: str) -> Submission:
        """Reject with a reason (required, kept); a new asset's pending record is rejected too."""
        if not reason.strip():
            raise ValidationError("give a reason for rejecting", field="reason")
        with self.transaction() as conn:
            sub = self._lock_pending(conn, ref, moderator, expected_version, approving=False)
            if sub.kind == "new":
                pk, current = self._row_state(conn, sub.asset_id)
                self._replace(
                    conn,
                    pk,
                    current,
                    current.with_changes(status="rejected"),
                    author=moderator,
                    reason=_decision("rejected", sub.ref, reason),
                    action="status",
                )
            return self._close(conn, sub, "rejected", moderator, reason)

    def merge(
        self,
        ref: str,
        *,
        into: str,
        moderator: str,
        expected_version: int,
        reason: str = "",
        expected_revision: int | None = None,
    ) -> Submission:
        """Fold a new-asset submission into an existing asset.

        The submission's filled-in fields that differ (:func:`merge_changes`) become a
        revision of that asset; the pending record is archived. ``expected_revision`` is the
        target's revision the moderator saw: Conflict when it has changed since.
        """
        with self.transaction() as conn:
            sub = self._lock_pending(conn, ref, moderator, expected_version, approving=True)
            if sub.kind != "new":
                raise ValidationError("only a new-asset submission can be merged", field="into")
            if into == sub.asset_id:
                raise ValidationError("cannot merge a submission into itself", field="into")
            target_pk, target = self._row_state(conn, into)
            self._check_expected(target, expected_revision)
            if target.status != "published":
                raise ValidationError(
                    "a submission can only be merged into a published asset", field="into"
                )
            pending_pk, pending = self._row_state(conn, sub.asset_id)
            fill = merge_changes(pending, target)
            why = _decision("merged submission", sub.ref, reason)
            if fill:
                self._replace(
                    conn,
                    target_pk,
                    target,
                    target.with_changes(**fill),
                    author=moderator,
                    reason=why,
                    action="update",
                )
            self._replace(
                conn,
                pending_pk,
                pending,
                pending.with_changes(status="archived"),
                author=moderator,
                reason=f"merged into {into}",
                action="status",
            )
            return self._close(conn, sub, "merged", moderator, reason, merged=into)
