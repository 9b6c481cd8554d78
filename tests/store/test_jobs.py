"""Background jobs in the store: create, progress, finish or fail, read; on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assetmap.domain.errors import Conflict, NotFound, ValidationError
from assetmap.domain.job import RESTARTED
from assetmap.store import Store


def test_a_job_goes_from_queued_to_running_to_done(store: Store) -> None:
    job = store.create_job(
        "jsaa",
        title="Trafford",
        created_by="user:cara",
        params={"config": "a.toml"},
        steps_total=4,
    )
    assert (job.status, job.steps_done, job.steps_total, job.progress) == ("queued", 0, 4, 0.0)
    assert job.params == {"config": "a.toml"} and job.started_at == ""
    job = store.update_job_progress(job.id, step="areas", steps_done=1)
    assert (job.status, job.step, job.progress) == ("running", "areas", 0.25)
    started = job.started_at
    assert started
    job = store.update_job_progress(job.id)  # a heartbeat alone keeps the step
    assert (job.step, job.steps_done, job.started_at) == ("areas", 1, started)
    job = store.finish_job(job.id, result={"files": 39})
    assert (job.status, job.progress, job.steps_done, job.result) == ("done", 1.0, 4, {"files": 39})
    assert job.finished and job.finished_at
    assert store.get_job(job.id) == job


def test_a_failed_job_keeps_its_message(store: Store) -> None:
    job = store.create_job("jsaa", title="T", created_by="user:cara")
    store.update_job_progress(job.id, step="assets", steps_done=3, steps_total=10)
    job = store.fail_job(job.id, error="[table:uploaded] code E0 is not one of the areas")
    assert (job.status, job.error, job.steps_done) == (
        "failed",
        "[table:uploaded] code E0 is not one of the areas",
        3,
    )


@pytest.mark.parametrize("end", ["finish", "fail"])
def test_a_finished_job_never_changes_again(store: Store, end: str) -> None:
    job = store.create_job("jsaa", title="T", created_by="user:cara")
    if end == "finish":
        store.finish_job(job.id)
    else:
        store.fail_job(job.id, error="x")
    before = store.get_job(job.id)
    for change in (
        lambda: store.update_job_progress(job.id, step="late"),
        lambda: store.finish_job(job.id),
        lambda: store.fail_job(job.id, error="late"),
    ):
        with pytest.raises(Conflict):
            change()
    assert store.get_job(job.id) == before


def test_jobs_are_listed_newest_first_and_filtered(store: Store) -> None:
    first = store.create_job("jsaa", title="one", created_by="user:a")
    second = store.create_job("jsaa", title="two", created_by="user:b")
    other = store.create_job("export", title="three", created_by="user:a")
    assert [j.id for j in store.list_jobs()] == [other.id, second.id, first.id]
    assert [j.id for j in store.list_jobs(kind="jsaa")] == [second.id, first.id]
    assert [j.id for j in store.list_jobs(created_by="user:a")] == [other.id, first.id]
    store.finish_job(first.id)
    assert [j.id for j in store.list_jobs(status="done")] == [first.id]
    assert len(store.list_jobs(limit=1)) == 1
    with pytest.raises(ValidationError):
        store.list_jobs(status="lost")


def test_unknown_jobs_and_bad_input(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get_job("0123456789abcdef")
    with pytest.raises(NotFound):
        store.update_job_progress("0123456789abcdef", step="x")
    with pytest.raises(ValidationError):
        store.create_job("", title="T", created_by="user:a")
    job = store.create_job("jsaa", title="T", created_by="user:a")
    with pytest.raises(ValidationError):
        store.update_job_progress(job.id, steps_done=-1)


def test_a_job_without_a_recent_heartbeat_is_shown_as_failed(store: Store) -> None:
    job = store.update_job_progress(
        store.create_job("jsaa", title="T", created_by="user:a").id, step="maps"
    )
    beat = datetime.fromisoformat(job.heartbeat_at)
    timeout = timedelta(minutes=5)
    assert job.as_seen_at(beat + timedelta(minutes=4), timeout) == job
    seen = job.as_seen_at(beat + timedelta(minutes=6), timeout)
    assert (seen.status, seen.error) == ("failed", RESTARTED)
    # Only the view changes: the row is as the runner left it, and a finished job is final.
    assert store.get_job(job.id).status == "running"
    done = store.finish_job(job.id)
    assert done.as_seen_at(datetime.now(UTC) + timedelta(days=1), timeout).status == "done"
