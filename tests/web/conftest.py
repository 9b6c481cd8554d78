"""Web fixtures: an app on the test store, and its test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app


@pytest.fixture
def app(settings: Settings, store: Store) -> Flask:
    return create_app(settings, store=store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
