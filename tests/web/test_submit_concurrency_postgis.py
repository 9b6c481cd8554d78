"""Concurrent submissions on PostGIS: two app instances share one database (issue 6).

Two ``assetmap serve --production`` instances (gunicorn, two workers each) run on loopback
against one fresh PostGIS schema. 50 client threads send 5,000 new assets through the JSON
API, spread over both instances; 10 % are re-sent with the same Idempotency-Key to the *other*
instance. Half-way through, one gunicorn worker is killed with SIGKILL: requests it was
serving fail at the connection, and their clients retry with the same key, as a real client
would. Afterwards every acknowledged reference is a stored pending submission and the other
way round, with no duplicates and no 5xx.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from assetmap.store import open_store
from tests.conftest import postgis_url
from tests.production_server import Server, start, stop, wait_ready
from tests.web.test_submit_concurrency import NO_LIMITS, payload, request

pytestmark = pytest.mark.postgis

SUBMISSIONS = 5000
RESENT = SUBMISSIONS // 10
CLIENTS = 50


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[str, list[Server]]]:
    base = postgis_url()
    schema = f"conc_{uuid.uuid4().hex[:10]}"
    database_url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    open_store(database_url).close()  # migrate once, before both instances start
    servers = [
        start(
            database_url,
            tmp_path,
            name,
            workers=2,
            secret="concurrency-test-secret",
            env=NO_LIMITS,
        )
        for name in ("a", "b")
    ]
    try:
        for server in servers:
            wait_ready(server)
        yield database_url, servers
    finally:
        stop(servers)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_5000_submissions_two_instances_retries_and_a_killed_worker(
    two_instances: tuple[str, list[Server]],
) -> None:
    database_url, servers = two_instances
    ports = [server.port for server in servers]
    rng = random.Random(6)
    jobs = [(str(uuid.uuid4()), payload(i, rng), i % 2) for i in range(SUBMISSIONS)]
    jobs += [(key, body, 1 - side) for key, body, side in rng.sample(jobs, RESENT)]
    rng.shuffle(jobs)
    done = 0
    lock = threading.Lock()
    killed: list[int] = []

    def send(job: tuple[str, dict[str, Any], int]) -> tuple[str, int, bytes, int]:
        nonlocal done
        key, body, side = job
        data = json.dumps(body).encode()
        failures = 0
        while True:
            try:
                status, answer = request(ports[side], "POST", "/api/v1/submissions", data, key)
                break
            except OSError:
                # The worker died under this request: not acknowledged, so retry with the key.
                failures += 1
                assert failures < 5
                time.sleep(0.2)
        with lock:
            done += 1
            if done == SUBMISSIONS // 2 and not killed:
                victims = _worker_pids(servers[0].process.pid)
                assert victims, "gunicorn has no workers"
                os.kill(victims[0], signal.SIGKILL)
                killed.append(victims[0])
        return key, status, answer, failures

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(send, jobs))

    assert killed, "no worker was killed"
    statuses = Counter(status for _, status, _, _ in results)
    assert set(statuses) <= {200, 201}, statuses  # no 5xx
    refs_by_key: dict[str, set[str]] = defaultdict(set)
    for key, _, answer, _ in results:
        refs_by_key[key].add(json.loads(answer)["reference"])
    assert all(len(refs) == 1 for refs in refs_by_key.values())  # retries got the first one
    acknowledged = {ref for refs in refs_by_key.values() for ref in refs}
    assert len(acknowledged) == SUBMISSIONS
    store = open_store(database_url)
    try:
        stored = {s.ref for s in store.list_submissions(status="pending", limit=SUBMISSIONS * 2)}
        assert stored == acknowledged  # nothing acknowledged was lost, nothing extra stored
        assert store.count_assets(status="pending") == SUBMISSIONS
    finally:
        store.close()
    for server in servers:
        assert "Traceback" not in server.log.read_text(errors="replace")
