"""Concurrent submissions against a real server on the embedded (SQLite) store.

``assetmap serve --production --workers 2`` runs gunicorn on a free loopback port with a
temporary database; 20 client threads send 2,000 new assets through the JSON API and re-send
10 % of them with the same Idempotency-Key. Every acknowledged reference must be a stored
pending submission and the other way round, with no duplicates, no 5xx and no "database is
locked" anywhere.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from assetmap.store import open_store
from tests.production_server import serving

SUBMISSIONS = 2000
RESENT = SUBMISSIONS // 10
CLIENTS = 20
WORKERS = 2
# One machine sends everything: the per-client and per-email limits would stop it.
NO_LIMITS = {
    "ASSETMAP_SUBMISSIONS_PER_CLIENT_PER_HOUR": "0",
    "ASSETMAP_SUBMISSIONS_PER_EMAIL_PER_DAY": "0",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """gunicorn with two workers on the embedded store; yields (database URL, port, log)."""
    database_url = f"sqlite:///{tmp_path / 'assetmap.db'}"
    open_store(database_url).close()  # serve refuses a store that is not there
    with serving(
        database_url,
        tmp_path,
        "server",
        workers=WORKERS,
        secret="concurrency-test-secret",
        env=NO_LIMITS,
    ) as started:
        yield database_url, started.port, started.log


def request(
    port: int, method: str, path: str, body: bytes | None = None, key: str = ""
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def payload(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"Concurrent group {i}",
        "category": "activity_group",
        "lon": round(-2.40 + rng.random() * 0.15, 6),
        "lat": round(53.40 + rng.random() * 0.08, 6),
        "opening_times": "Tuesdays 10am-12pm",
        "submitter_email": f"resident{i % 50}@example.org",
    }


def test_2000_concurrent_submissions_with_retries(server: tuple[str, int, Path]) -> None:
    database_url, port, log = server
    rng = random.Random(2026)
    jobs = [(str(uuid.uuid4()), payload(i, rng)) for i in range(SUBMISSIONS)]
    jobs += rng.sample(jobs, RESENT)  # the same key and body again: a client's retry
    rng.shuffle(jobs)

    def send(job: tuple[str, dict[str, Any]]) -> tuple[str, int, bytes]:
        key, body = job
        status, answer = request(
            port, "POST", "/api/v1/submissions", json.dumps(body).encode(), key
        )
        return key, status, answer

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(send, jobs))
    elapsed = time.monotonic() - started

    statuses = Counter(status for _, status, _ in results)
    assert set(statuses) <= {200, 201}, statuses  # no 5xx, no 4xx
    assert statuses[201] == SUBMISSIONS and statuses[200] == RESENT, statuses
    refs_by_key: dict[str, set[str]] = defaultdict(set)
    for key, _, answer in results:
        assert b"database is locked" not in answer
        refs_by_key[key].add(json.loads(answer)["reference"])
    assert all(len(refs) == 1 for refs in refs_by_key.values())  # a retry got the same one
    acknowledged = {ref for refs in refs_by_key.values() for ref in refs}
    assert len(acknowledged) == SUBMISSIONS

    store = open_store(database_url)
    try:
        stored = {s.ref for s in store.list_submissions(status="pending", limit=SUBMISSIONS * 2)}
        assert stored == acknowledged
        assert store.count_submissions() == SUBMISSIONS
        assert store.count_assets(status="pending") == SUBMISSIONS
    finally:
        store.close()
    text = log.read_text(errors="replace")
    assert "database is locked" not in text
    assert "Traceback" not in text
    print(f"\n{len(jobs)} requests from {CLIENTS} clients in {elapsed:.1f} s")
