"""Background jobs of this process: a small thread pool, and a heartbeat while jobs run.

A job runs in a worker thread of the process that accepted it; everything about it (step,
progress, heartbeat, result or error) is written to the store, so any process can show it.
While a job runs, a heartbeat thread touches its row every ``heartbeat_s`` seconds, even in
the middle of a long step. If the process dies, the heartbeat stops, and readers show the job
as failed once it is older than the app's ``JOB_STALE_AFTER_S`` (see ``Job.as_seen_at``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from assetmap.domain.errors import AssetmapError, Conflict
from assetmap.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
Work = Callable[[Progress], Mapping[str, Any]]
DEFAULT_WORKERS = 2
DEFAULT_HEARTBEAT_S = 20.0


def failure_text(err: BaseException) -> str:
    """What the person who started a job is told when it fails."""
    if isinstance(err, AssetmapError):
        return str(err)
    name = type(err).__name__
    return f"The job stopped with an unexpected error ({name}). Nothing was published."


class JobRunner:
    """Runs jobs on a few threads of this process and keeps their heartbeats going."""

    def __init__(
        self,
        store: Store,
        *,
        workers: int = DEFAULT_WORKERS,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
    ) -> None:
        self.store = store
        self.workers = workers
        self.heartbeat_s = heartbeat_s
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._beater: threading.Thread | None = None
        self._running: set[str] = set()
        self._stop = threading.Event()

    def _start(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="assetmap-job"
                )
                self._beater = threading.Thread(
                    target=self._beat, name="assetmap-job-heartbeat", daemon=True
                )
                self._beater.start()
            return self._executor

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                running = list(self._running)
            for job_id in running:
                try:
                    self.store.update_job_progress(job_id)
                except Conflict:
                    pass  # it finished between the snapshot and now
                except Exception:  # a failed heartbeat must not stop the others
                    log.exception("heartbeat for job %s failed", job_id)

    def submit(self, job_id: str, work: Work) -> Future[None]:
        """Run ``work(progress)`` for a stored job; its return value becomes the result.

        ``progress(step)`` records that a step is done (the step count goes up by one). Any
        exception fails the job with :func:`failure_text`; nothing escapes the thread.
        """
        executor = self._start()
        with self._lock:
            self._running.add(job_id)
        return executor.submit(self._run, job_id, work)

    def _run(self, job_id: str, work: Work) -> None:
        done = 0

        def progress(step: str) -> None:
            nonlocal done
            done += 1
            self.store.update_job_progress(job_id, step=step, steps_done=done)

        try:
            self.store.update_job_progress(job_id, step="starting", steps_done=0)
            result = work(progress)
            self.store.finish_job(job_id, result=result)
        except Exception as err:
            log.exception("job %s failed", job_id)
            try:
                self.store.fail_job(job_id, error=failure_text(err))
            except Exception:
                log.exception("could not record the failure of job %s", job_id)
        finally:
            with self._lock:
                self._running.discard(job_id)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let the running ones finish."""
        self._stop.set()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait)
