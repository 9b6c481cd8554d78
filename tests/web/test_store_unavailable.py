"""The database going away while the app runs: a 503 for each request, then back with it."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask.testing import FlaskClient

from assetmap.settings import Settings
from assetmap.store import open_store
from assetmap.web.app import create_app

pytestmark = pytest.mark.postgis

NEARBY = "/api/v1/assets/nearby?postcode=M32+0TH"


class Relay:
    """A TCP relay to the PostgreSQL server that can be cut, as an outage or a restart is.

    Cutting it closes every relayed connection (the server "went away") and, until it is
    restored, closes new ones as soon as they arrive (the server is down).
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                # Closed here too, once both pumps have been told: a socket left to the
                # garbage collector is a ResourceWarning, which the suite treats as an error.
                end.close()
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relay(store_url: str, settings: Settings) -> Iterator[tuple[Relay, Settings]]:
    """A :class:`Relay` to the PostGIS test store, and settings that reach it through that."""
    open_store(store_url).close()  # the schema, made directly
    parts = urlsplit(store_url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = (
        f"{parts.username}@127.0.0.1:{relay.port}" if parts.username else f"127.0.0.1:{relay.port}"
    )
    yield relay, replace(settings, database_url=urlunsplit(parts._replace(netloc=netloc)))
    relay.close()


@pytest.fixture
def relayed(relay: tuple[Relay, Settings]) -> Iterator[tuple[Relay, FlaskClient]]:
    """An app on the PostGIS test store reached through a :class:`Relay`."""
    cut, settings = relay
    store = open_store(settings.database_url)
    yield cut, create_app(settings, store=store).test_client()
    store.close()


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_an_outage_is_a_503_page_and_json_error_and_the_app_comes_back(
    relayed: tuple[Relay, FlaskClient],
) -> None:
    relay, client = relayed
    assert client.get(NEARBY).status_code == 200
    relay.cut()
    for _ in range(2):  # the connection that broke, then a new one that cannot be made
        api = client.get(NEARBY)
        assert api.status_code == 503 and api.headers["Retry-After"] == "30"
        assert api.json == {
            "error": {
                "field": None,
                "message": "The service cannot reach its database just now, so this could not"
                " be done. Please try again in a few minutes.",
            }
        }
    page = client.get("/nearby?postcode=M32+0TH")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Sorry, the service is unavailable" in text and "cannot reach its database" in text
    assert str(relay.port) not in text  # nothing about where the database is
    assert client.get("/healthz").status_code == 503
    relay.restore()
    assert client.get(NEARBY).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_after_a_restart_the_first_request_is_answered(
    relayed: tuple[Relay, FlaskClient],
) -> None:
    relay, client = relayed
    assert client.get(NEARBY).status_code == 200
    relay.cut()  # the server restarts: its connections end, and it is soon back
    relay.restore()
    assert client.get(NEARBY).status_code == 200


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_an_app_started_while_the_database_is_down_serves_503_until_it_is_back(
    relay: tuple[Relay, Settings],
) -> None:
    """As a gunicorn worker replaced during an outage: failing to start stops the server."""
    cut, settings = relay
    cut.cut()
    app = create_app(settings)
    client = app.test_client()
    assert client.get(NEARBY).status_code == 503
    cut.restore()
    assert client.get(NEARBY).status_code == 200
    app.extensions["assetmap"].store.close()
