"""HTTP measurement on loopback: a gunicorn runner, a one-at-a-time client and wrk.

Only 127.0.0.1 is ever contacted. Every loop is bounded both by a request count and by
seconds. wrk (Debian package ``wrk``) generates the load when it is installed; otherwise a
threaded Python client does, and the table says which.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """One GET on a fresh connection (sync gunicorn workers close after each response)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (after the parenthesised command) is the parent pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _status_mb(pid: int, key: str) -> float:
    """One memory figure from /proc/PID/status, in MB (NaN if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Server:
    """A running gunicorn: its port, and (after it stops) its workers' memory in MB.

    Peak RSS counts the pages of a memory-mapped database file a worker touched: they are the
    operating system's file cache, shared by every worker. Private memory (RssAnon, read
    just before the workers stop) is what each worker holds on its own.
    """

    port: int
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    worker_private_mb: list[float] = field(default_factory=list)


@contextmanager
def gunicorn(
    app_spec: str, env: Mapping[str, str], *, workers: int = 2, log: Path
) -> Iterator[Server]:
    """Run ``gunicorn app_spec`` on a free loopback port until the block ends.

    The arguments mirror ``assetmap serve --production`` (sync workers, no proxy headers
    trusted) apart from the fixed worker count and no access log, identically for every app
    measured.
    """
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--chdir",
        str(REPO),
        "--forwarded-allow-ips",
        "",
        app_spec,
    ]
    with open(log, "ab") as log_file:
        proc = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Server(port)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}")
            try:
                if get(port, "/healthz", timeout=60)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 120 s; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        worker_pids = _children(proc.pid)
        server.worker_peak_rss_mb = [_status_mb(pid, "VmHWM") for pid in worker_pids]
        server.worker_private_mb = [_status_mb(pid, "RssAnon") for pid in worker_pids]
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Sequential:
    """One request at a time: latencies in ms, and the bodies when asked for."""

    latencies_ms: np.ndarray
    bodies: dict[str, bytes]


def sequential(
    port: int, paths: Sequence[str], *, max_seconds: float, keep_bodies: bool = False
) -> Sequential:
    """GET each path in turn (stopping after ``max_seconds``); every answer must be 200."""
    times: list[float] = []
    bodies: dict[str, bytes] = {}
    deadline = time.perf_counter() + max_seconds
    for path in paths:
        start = time.perf_counter()
        status, body = get(port, path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        if keep_bodies:
            bodies[path] = body
        if time.perf_counter() > deadline:
            break
    return Sequential(np.array(times), bodies)


def interleaved(
    ports: Sequence[int], paths: Sequence[str], *, max_seconds: float
) -> list[np.ndarray]:
    """GET each path from each server in turn, one request at a time; latencies per server.

    Turns alternate request by request, so the servers meet the same machine conditions.
    Stops after ``max_seconds``; every answer must be 200.
    """
    times: list[list[float]] = [[] for _ in ports]
    deadline = time.perf_counter() + max_seconds
    for path in paths:
        for k, port in enumerate(ports):
            start = time.perf_counter()
            status, body = get(port, path)
            times[k].append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path} on port {port} answered {status}: {body[:300]!r}")
        if time.perf_counter() > deadline:
            break
    return [np.array(t) for t in times]


@dataclass(frozen=True)
class Load:
    """Throughput and latency under concurrent load, over ``seconds``."""

    tool: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_WRK_SCRIPT = """
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = tonumber(args[2]) % #paths
end
request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
"""
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unreadable wrk time {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def wrk_available() -> bool:
    """Whether the wrk load generator is installed."""
    return shutil.which("wrk") is not None


def load(
    port: int, paths: Sequence[str], *, seconds: int, connections: int, start: int = 0
) -> Load:
    """``connections`` clients sending the paths round-robin from ``start`` for ``seconds``."""
    if wrk_available():
        return _wrk(port, paths, seconds=seconds, connections=connections, start=start)
    return _threaded(port, paths, seconds=seconds, connections=connections, start=start)


def _wrk(port: int, paths: Sequence[str], *, seconds: int, connections: int, start: int) -> Load:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_WRK_SCRIPT)
        path_file = Path(tmp) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n")
        out = subprocess.run(
            [
                "wrk",
                "--threads",
                "1",
                "--connections",
                str(connections),
                "--duration",
                f"{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "--script",
                str(script),
                f"http://127.0.0.1:{port}",
                "--",
                str(path_file),
                str(start),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        ).stdout
    # wrk pads a one-letter unit ("1.02s ") with a trailing space.
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, flags=re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unreadable wrk output:\n{out}")
    total = int(re.search(r"([0-9]+) requests in", out)[1])  # type: ignore[index]
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", out)
    socket_errors = re.search(
        r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)", out
    )
    errors = int(non2xx[1]) if non2xx else 0
    if socket_errors:
        # A sync worker closes each connection after answering; wrk counts the reads that
        # meet the closed socket only when a response was cut short, so any count matters.
        errors += sum(int(x) for x in socket_errors.groups())
    return Load("wrk", seconds, total, rps, _wrk_ms(latency["50"]), _wrk_ms(latency["99"]), errors)


def _threaded(
    port: int, paths: Sequence[str], *, seconds: int, connections: int, start: int
) -> Load:
    lock = threading.Lock()
    times: list[float] = []
    errors = [0]
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        i = start + offset
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            try:
                status, _ = get(port, paths[i % len(paths)])
            except OSError:
                status = 0
            mine.append((time.perf_counter() - sent) * 1000)
            bad += status != 200
            i += connections
        with lock:
            times.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    arr = np.array(times)
    return Load(
        "python threads",
        elapsed,
        len(arr),
        len(arr) / elapsed,
        float(np.percentile(arr, 50)),
        float(np.percentile(arr, 99)),
        errors[0],
    )
