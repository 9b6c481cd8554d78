"""``assetmap serve --production`` as deployed: gunicorn on a free loopback port.

Its access log must not keep the postcodes coordinators searched near (they were in every
search's query string), and two instances on one host must not share gunicorn's control
socket (gunicorn 25.1+ made one per user, which a second instance took over and removed).
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assetmap.store import open_store
from tests import production_server

USER_AGENT = "assetmap-test/1.0 (production logging)"
# A path holding %0A and then what looks like a log line of its own.
FORGED = "/nearby/x%0A127.0.0.1%20-%20-%20%5B01/Jan/2026%5D%20x"


def request(
    port: int, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    """Send one GET as written (``path`` is not re-encoded) and read the whole answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


@contextmanager
def serving(tmp_path: Path, name: str, home: Path, **env: str) -> Iterator[tuple[int, Path]]:
    """``assetmap serve --production --workers 1``; yields its port and its output's file."""
    database_url = f"sqlite:///{tmp_path / 'assetmap.db'}"
    open_store(database_url).close()  # serve refuses a store that is not there
    # Where gunicorn's default control socket would go: this test's own folders.
    own = {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"), **env}
    ready = env.get("SCRIPT_NAME", "") + "/healthz"
    with production_server.serving(
        database_url,
        tmp_path,
        name,
        workers=1,
        secret="production-logging-test-secret",
        env=own,
        ready_path=ready,
    ) as server:
        yield server.port, server.log


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / "run").mkdir(parents=True)
    return tmp_path / "home"


def access_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("127.0.0.1 ")]


def test_the_access_log_keeps_paths_but_not_the_postcodes_searched(
    tmp_path: Path, home: Path
) -> None:
    with serving(tmp_path, "server", home) as (port, log):
        site = f"http://127.0.0.1:{port}"
        search = request(port, "/nearby?postcode=M32+0TH&radius_m=1000")
        assert search.status == 200
        api = request(port, "/api/v1/assets/nearby?postcode=WA15+9AE")
        assert api.status == 200
        # The referrer is usually a search too; %0A decoded was a line break in the log.
        forged = request(
            port,
            f"{FORGED}?postcode=WA14+2DT",
            headers={"Referer": f"{site}/nearby?postcode=M33+7XR&radius_m=800"},
        )
        assert forged.status == 404
    lines = access_lines(log)
    text = log.read_text()
    for postcode in ("M32", "0TH", "WA15", "9AE", "WA14", "2DT", "M33", "7XR", "postcode"):
        assert postcode not in text, (postcode, text)
    # Combined Log Format: the method, the path as sent, status, size, time, user agent.
    combined = re.compile(
        r"127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
        r'"GET (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) (?P<size>\d+) '
        r'"(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"'
    )
    matched = [combined.fullmatch(line) for line in lines]
    assert all(matched), lines
    seen = [(m["path"], m["status"], m["referrer"], m["agent"]) for m in matched if m]
    assert seen[-3:] == [
        ("/nearby", "200", "-", USER_AGENT),
        ("/api/v1/assets/nearby", "200", "-", USER_AGENT),
        (FORGED, "404", f"{site}/nearby", USER_AGENT),
    ]
    assert all(int(m["size"]) > 0 for m in matched if m)


def test_instances_share_no_control_socket_and_keep_their_prefix(
    tmp_path: Path, home: Path
) -> None:
    with serving(tmp_path, "first", home) as (first, _):
        with serving(tmp_path, "second", home, SCRIPT_NAME="/assetmap") as (second, log):
            sign_in = request(second, "/assetmap/moderate?sort=oldest")
            assert sign_in.status == 302
            assert sign_in.headers["Location"] == "/assetmap/login?next=/moderate?sort%3Doldest"
            # gunicorn's control socket starts once the workers are forked, in a thread.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                assert not [p for p in home.rglob("*") if p.is_socket()], list(home.rglob("*"))
                time.sleep(0.1)
            # gunicorn, given SCRIPT_NAME, answered a path outside it with a 500 naming it.
            assert request(second, "/healthz").status == 404
            assert request(second, "/assetmap/healthz").status == 200
        assert request(first, "/healthz").status == 200
    text = log.read_text()
    assert '"GET /assetmap/moderate HTTP/1.1" 302' in text
    assert '"GET /healthz HTTP/1.1" 404' in text
