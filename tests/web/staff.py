"""Helpers for tests of the staff pages: accounts, signing in, CSRF tokens from real forms."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from assetmap.domain.people import User
from assetmap.services.accounts import hash_password
from assetmap.store import Store
from assetmap.web.app import AppState, create_app
from assetmap.web.auth import auth_cookie_name

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(
    store: Store, username: str, role: str, password: str = PASSWORD, areas: tuple[str, ...] = ()
) -> User:
    """A staff account with an argon2id hash of ``password``, looking after ``areas``."""
    return store.create_user(
        username, role=role, password_hash=hash_password(password), areas=areas
    )


def csrf_from(html: str) -> str:
    """The CSRF token in the first form of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return unescape(found.group(1))


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """A CSRF token for this client's session, read from a page's form."""
    return csrf_from(client.get(path).get_data(as_text=True))


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, *, next_url: str = ""
) -> TestResponse:
    """Post the sign-in form as a browser would (token from the form)."""
    data = {"username": username, "password": password, "csrf_token": csrf(client)}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


def signed_in_client(
    app: Flask, store: Store, username: str, role: str, areas: tuple[str, ...] = ()
) -> FlaskClient:
    """A new test client signed in as a new user with this role (and these areas)."""
    add_user(store, username, role, areas=areas)
    client = app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def auth_token(client: FlaskClient, app: Flask) -> str | None:
    """The sign-in token the client holds, if any."""
    with app.test_request_context():
        name = auth_cookie_name()
    cookie = client.get_cookie(name)
    return None if cookie is None else cookie.value


def app_without_secure_cookies(app: Flask, store: Store) -> Flask:
    """The same app, configured for plain-http development (``secure_cookies`` off)."""
    app_state: AppState = app.extensions["assetmap"]
    return create_app(replace(app_state.settings, secure_cookies=False), store=store)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    """A page's visible text, whitespace collapsed (what a reader sees, roughly)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def main_text(response: TestResponse) -> str:
    """The text of a page's <main> element."""
    html = response.get_data(as_text=True)
    start, end = html.find("<main"), html.find("</main>")
    return text_of(html[start:end] if start >= 0 else html)
