"""``assetmap serve --production`` (gunicorn) started for a test, on a free port of 127.0.0.1.

The access-log and concurrency tests each started, awaited and stopped it with their own
copy of the same steps.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A started server: its process, its port and the file its output goes to."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path


def start(
    database_url: str,
    tmp_path: Path,
    name: str,
    *,
    workers: int,
    secret: str,
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start serving ``database_url`` (which must exist: serve refuses a missing store)."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    environment = {
        **os.environ,
        "ASSETMAP_DATABASE_URL": database_url,
        "ASSETMAP_INSTANCE_PATH": str(tmp_path / "instance"),
        "ASSETMAP_SECRET_KEY": secret,
        "ASSETMAP_TILE_URL": "",
        **(env or {}),
    }
    command = [str(Path(sys.executable).with_name("assetmap")), "serve", "--production"]
    command += ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    return Server(process, port, log)


def wait_ready(server: Server, path: str = "/healthz") -> None:
    """Until ``path`` answers 200; fails with the server's output if it stops or takes 90 s."""
    deadline = time.monotonic() + 90
    while True:
        assert server.process.poll() is None, server.log.read_text()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        assert time.monotonic() < deadline, "the server did not start:\n" + server.log.read_text()
        time.sleep(0.2)


def stop(servers: list[Server]) -> None:
    """Ask each to stop, then wait for each (killed if it has not stopped in 30 s)."""
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextmanager
def serving(
    database_url: str,
    tmp_path: Path,
    name: str,
    *,
    workers: int,
    secret: str,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/healthz",
) -> Iterator[Server]:
    """One server, ready to answer, stopped at the end."""
    server = start(database_url, tmp_path, name, workers=workers, secret=secret, env=env)
    try:
        wait_ready(server, ready_path)
        yield server
    finally:
        stop([server])
