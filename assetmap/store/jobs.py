"""Background jobs (shared SQL): create, report progress, finish or fail, read.

A job row is the only state shared between the process running a job and the processes
showing it: the runner writes its step and a heartbeat on every update, and readers decide
from the heartbeat's age whether the runner is still alive (:meth:`Job.as_seen_at`). A
finished job (done or failed) never changes again; a late update to one is a Conflict.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from assetmap.domain.errors import Conflict, NotFound, ValidationError
from assetmap.domain.job import JOB_STATUSES, Job
from assetmap.store.base import StoreUnavailable, utc_now
from assetmap.store.submissions import SubmissionsSql

_COLUMNS = (
    "id, kind, status, title, created_by, created_at, heartbeat_at, started_at, finished_at,"
    " step, steps_done, steps_total, params, result, error"
)
MAX_JOBS_LISTED = 500


def new_job_id() -> str:
    """A job id: 16 random hex digits (not guessable; used in URLs)."""
    return secrets.token_hex(8)


class JobsSql(SubmissionsSql):
    """Adds background jobs to the store."""

    # This class closes the store contract (store.Store). What a store raises when its
    # database cannot be used just now: the web app answers those with a 503 ("try again
    # shortly"), not a 500, and the next request tries the database again. A backend adds
    # its driver's own errors of that kind.
    unavailable_errors: ClassVar[tuple[type[Exception], ...]] = (StoreUnavailable,)

    @staticmethod
    def _job(row: Any) -> Job:
        return Job(
            id=row[0],
            kind=row[1],
            status=row[2],
            title=row[3],
            created_by=row[4],
            created_at=row[5],
            heartbeat_at=row[6],
            started_at=row[7],
            finished_at=row[8],
            step=row[9],
            steps_done=int(row[10]),
            steps_total=int(row[11]),
            params=json.loads(row[12]),
            result=json.loads(row[13]),
            error=row[14],
        )

    def _job_row(self, conn: Any, job_id: str) -> Job:
        row = conn.execute(
            self._sql(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?"), (job_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"There is no job with the id '{job_id}'.")
        return self._job(row)

    def _open_job(self, conn: Any, job_id: str) -> Job:
        job = self._job_row(conn, job_id)
        if job.finished:
            raise Conflict(f"job {job_id} is already {job.status}")
        return job

    def create_job(
        self,
        kind: str,
        *,
        title: str,
        created_by: str,
        params: Mapping[str, Any] | None = None,
        steps_total: int = 0,
    ) -> Job:
        """Record a new job, status "queued".

        Parameters
        ----------
        kind
            What it does (``"jsaa"``).
        title
            Shown in lists.
        created_by
            Who started it (``user:<name>``).
        params
            JSON-safe parameters the runner needs (paths, ids).
        steps_total
            How many progress steps are expected (0: unknown).
        """
        if not kind or not created_by:
            raise ValidationError("a job needs a kind and who started it", field="kind")
        if steps_total < 0:
            raise ValidationError("steps_total must be 0 or more", field="steps_total")
        now = utc_now()
        job_id = new_job_id()
        with self.transaction() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO jobs (id, kind, status, title, params, created_by, created_at,"
                    " heartbeat_at, steps_total) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)"
                ),
                (
                    job_id,
                    kind,
                    title,
                    json.dumps(dict(params or {}), sort_keys=True),
                    created_by,
                    now,
                    now,
                    steps_total,
                ),
            )
            return self._job_row(conn, job_id)

    def update_job_progress(
        self,
        job_id: str,
        *,
        step: str | None = None,
        steps_done: int | None = None,
        steps_total: int | None = None,
    ) -> Job:
        """Report progress (and beat the heart): the job becomes "running".

        Parameters left None keep their value, so ``update_job_progress(id)`` alone is a
        heartbeat.

        Raises
        ------
        Conflict
            The job has already finished (done or failed).
        """
        now = utc_now()
        with self.transaction() as conn:
            job = self._open_job(conn, job_id)
            total = job.steps_total if steps_total is None else steps_total
            done = job.steps_done if steps_done is None else steps_done
            if done < 0 or total < 0:
                raise ValidationError("step counts must be 0 or more", field="steps_done")
            conn.execute(
                self._sql(
                    "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ?,"
                    " step = ?, steps_done = ?, steps_total = ? WHERE id = ?"
                ),
                (
                    job.started_at or now,
                    now,
                    job.step if step is None else step,
                    done,
                    total,
                    job_id,
                ),
            )
            return self._job_row(conn, job_id)

    def finish_job(self, job_id: str, *, result: Mapping[str, Any] | None = None) -> Job:
        """Mark a job done, with its JSON-safe result (for example, where its files are)."""
        now = utc_now()
        with self.transaction() as conn:
            job = self._open_job(conn, job_id)
            conn.execute(
                self._sql(
                    "UPDATE jobs SET status = 'done', started_at = ?, heartbeat_at = ?,"
                    " finished_at = ?, steps_done = steps_total, step = '', result = ?"
                    " WHERE id = ?"
                ),
                (
                    job.started_at or now,
                    now,
                    now,
                    json.dumps(dict(result or {}), sort_keys=True),
                    job_id,
                ),
            )
            return self._job_row(conn, job_id)

    def fail_job(self, job_id: str, *, error: str) -> Job:
        """Mark a job failed, with a message for the person who started it."""
        now = utc_now()
        with self.transaction() as conn:
            self._open_job(conn, job_id)
            conn.execute(
                self._sql(
                    "UPDATE jobs SET status = 'failed', heartbeat_at = ?, finished_at = ?,"
                    " error = ? WHERE id = ?"
                ),
                (now, now, error or "failed", job_id),
            )
            return self._job_row(conn, job_id)

    def get_job(self, job_id: str) -> Job:
        """One job by id (NotFound when there is none)."""
        return self._job_row(self._conn(), job_id)

    def list_jobs(
        self,
        *,
        kind: str | None = None,
        created_by: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Jobs, newest first, optionally of one kind, starter or status."""
        if status is not None and status not in JOB_STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(JOB_STATUSES)}", field="status"
            )
        if not 1 <= limit <= MAX_JOBS_LISTED:
            raise ValidationError(f"limit must be 1 to {MAX_JOBS_LISTED}", field="limit")
        clauses, params = [], []
        for column, value in (("kind", kind), ("created_by", created_by), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = (
            self._conn()
            .execute(
                self._sql(
                    f"SELECT {_COLUMNS} FROM jobs{where} ORDER BY created_at DESC, pk DESC LIMIT ?"
                ),
                (*params, limit),
            )
            .fetchall()
        )
        return [self._job(r) for r in rows]
