"""Background jobs: a long task started by one request, with progress any process can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

JOB_STATUSES = ("queued", "running", "done", "failed")
# Shown for a job whose process stopped sending heartbeats (see Job.as_seen_at).
RESTARTED = (
    "The job stopped reporting progress, most likely because the server restarted while it "
    "ran. Nothing it wrote is published; start the assessment again."
)


@dataclass(frozen=True)
class Job:
    """A background job as stored.

    ``heartbeat_at`` is when the process running it last reported (progress or a periodic
    heartbeat); times are ISO 8601 UTC strings, '' when not yet reached.
    """

    id: str
    kind: str
    status: str
    title: str
    created_by: str
    created_at: str
    heartbeat_at: str
    started_at: str = ""
    finished_at: str = ""
    step: str = ""
    steps_done: int = 0
    steps_total: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def finished(self) -> bool:
        """Done or failed: it will not change again."""
        return self.status in ("done", "failed")

    @property
    def progress(self) -> float:
        """Share of the steps done, 0 to 1 (1 when done)."""
        if self.status == "done":
            return 1.0
        if self.steps_total <= 0:
            return 0.0
        return min(1.0, max(0.0, self.steps_done / self.steps_total))

    def is_stale(self, now: datetime, timeout: timedelta) -> bool:
        """Unfinished, and no heartbeat for longer than ``timeout``."""
        if self.finished or not self.heartbeat_at:
            return False
        return now - datetime.fromisoformat(self.heartbeat_at) > timeout

    def as_seen_at(self, now: datetime, timeout: timedelta) -> Job:
        """The job as a reader should show it: failed when its heartbeat is stale."""
        if not self.is_stale(now, timeout):
            return self
        return replace(self, status="failed", error=RESTARTED)
