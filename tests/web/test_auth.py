"""Staff sign-in through the test client: cookies, lockout, session lifetime, roles."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from assetmap.cli import cli
from assetmap.services.accounts import MAX_FAILURES_PER_USER, hash_password
from assetmap.store import Store
from assetmap.web.auth import auth_cookie_name, login_required
from tests.maps.trafford import LIBRARIES, create_all
from tests.web.staff import (
    PASSWORD,
    add_user,
    app_without_secure_cookies,
    auth_token,
    csrf,
    main_text,
    sign_in,
    signed_in_client,
    text_of,
)

AUTH_COOKIE = "__Host-assetmap-auth"


def set_cookies(response: object) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the raw header, attributes included)."""
    headers = response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_sign_in_page_has_the_form(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrf_token"' in html
    assert "Signed in as" not in html


def test_sign_in_sets_one_flagged_cookie_holding_only_a_token(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    # A long name: a short one like "mo" turns up in a random token by chance.
    add_user(store, "jane-coordinator", "moderator")
    response = sign_in(client, "jane-coordinator", next_url="/moderate")
    assert response.status_code == 303 and response.location == "/moderate"
    header = set_cookies(response)[AUTH_COOKIE]
    assert attributes(header) == {"secure", "httponly", "path", "samesite"}
    assert "SameSite=Lax" in header and "Path=/" in header
    token = SimpleCookie(header)[AUTH_COOKIE].value
    # Only the random token: nothing about the user is readable from the cookie.
    assert "jane" not in token.lower() and "coordinator" not in token.lower()
    assert len(token) >= 40
    user = store.session_user(token)
    assert user is not None and user.username == "jane-coordinator"
    # The Flask session cookie carries the same flags.
    page = client.get("/moderate")
    assert page.status_code == 200
    assert "Signed in as" in text_of(page.get_data(as_text=True))


def test_session_cookie_flags(client: FlaskClient) -> None:
    response = client.get("/login")
    header = set_cookies(response).get("session")
    assert header is not None, "the CSRF secret lives in the session cookie"
    assert {"secure", "httponly", "samesite"} <= attributes(header)
    assert "SameSite=Lax" in header


def test_plain_http_development_drops_secure(app: Flask, store: Store) -> None:
    insecure = app_without_secure_cookies(app, store)
    add_user(store, "mo", "moderator")
    client = insecure.test_client()
    response = sign_in(client, "mo")
    header = set_cookies(response)["assetmap-auth"]
    assert "secure" not in attributes(header)
    assert {"httponly", "samesite"} <= attributes(header)
    assert client.get("/moderate").status_code == 200


@pytest.mark.parametrize("username", ["mo", "nobody"])
def test_wrong_password_or_unknown_user_gets_the_same_answer(
    client: FlaskClient, store: Store, username: str
) -> None:
    add_user(store, "mo", "moderator")
    response = sign_in(client, username, "not the password at all")
    assert response.status_code == 401
    assert AUTH_COOKIE not in set_cookies(response)
    text = main_text(response)
    assert "There is a problem" in text
    assert "The username or password is not correct" in text
    assert client.get("/moderate").status_code == 302


def test_empty_fields_are_named_in_the_error_summary(client: FlaskClient) -> None:
    response = client.post(
        "/login", data={"username": " ", "password": "", "csrf_token": csrf(client)}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<a href="#username">Enter your username</a>' in html
    assert '<a href="#password">Enter your password</a>' in html
    assert 'aria-describedby="username-error"' in html
    assert html.count("govuk-form-group--error") == 2


def test_repeated_failures_lock_the_account_with_a_429(client: FlaskClient, store: Store) -> None:
    add_user(store, "mo", "moderator")
    for _ in range(MAX_FAILURES_PER_USER):
        assert sign_in(client, "mo", "wrong password, again").status_code == 401
    # Now even the right password is refused, with the reason and no cookie.
    response = sign_in(client, "mo")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Wait 15 minutes" in main_text(response)
    assert response.headers["Retry-After"] == "900"
    assert AUTH_COOKIE not in set_cookies(response)
    # The count is in the store, so another client (another worker) sees the same lockout.
    other = client.application.test_client()
    assert sign_in(other, "mo").status_code == 429


def test_signing_in_again_issues_a_new_token_and_ends_the_old_one(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    first = auth_token(client, app)
    with client.session_transaction() as before:
        before["planted"] = "set before sign-in"
    sign_in(client, "mo")
    second = auth_token(client, app)
    assert first and second and first != second
    assert store.session_user(first) is None
    assert store.session_user(second) is not None
    with client.session_transaction() as after:
        assert "planted" not in after


def test_sign_out_ends_the_session_in_the_store(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    token = auth_token(client, app)
    assert token
    response = client.post("/logout", data={"csrf_token": csrf(client, "/moderate")})
    assert response.status_code == 303 and response.location == "/login"
    assert "Max-Age=0" in set_cookies(response)[AUTH_COOKIE]
    assert store.session_user(token) is None
    assert "You have signed out." in main_text(client.get("/login"))
    # A copy of the old cookie gets nowhere, and is told to go away.
    replay = app.test_client()
    replay.set_cookie(AUTH_COOKIE, token)
    response = replay.get("/moderate")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "Max-Age=0" in set_cookies(response)[AUTH_COOKIE]


def test_sign_out_needs_the_csrf_token(app: Flask, client: FlaskClient, store: Store) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    token = auth_token(client, app)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert token and store.session_user(token) is not None


def test_password_change_signs_the_user_out(app: Flask, client: FlaskClient, store: Store) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    assert client.get("/moderate").status_code == 200
    store.set_password("mo", hash_password("a brand new long password"))
    response = client.get("/moderate")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert sign_in(client, "mo").status_code == 401
    assert sign_in(client, "mo", "a brand new long password").status_code == 303


def test_role_change_signs_the_user_out(app: Flask, client: FlaskClient, store: Store) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    assert client.get("/moderate").status_code == 200
    store.set_role("mo", "commissioner")
    assert client.get("/moderate").status_code == 302  # signed out, not just refused
    sign_in(client, "mo")
    assert client.get("/moderate").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client: FlaskClient, store: Store) -> None:
    response = client.get("/moderate")
    assert response.status_code == 302 and response.location == "/login?next=/moderate"
    add_user(store, "mo", "moderator")
    response = sign_in(client, "mo", next_url="/moderate?x=1")
    assert response.location == "/moderate?x=1"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(client: FlaskClient, store: Store, target: str) -> None:
    add_user(store, "mo", "moderator")
    response = sign_in(client, "mo", next_url=target)
    assert response.status_code == 303 and response.location == "/moderate"


def test_roles(app: Flask, store: Store) -> None:
    (asset,) = create_all(store, LIBRARIES[:1], app.extensions["assetmap"].taxonomy)
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    response = commissioner.get("/moderate")
    assert response.status_code == 403
    assert "You are signed in as cara (Commissioner)" in main_text(response)
    # Any member of staff may read an asset's history.
    assert commissioner.get(f"/assets/{asset.id}/history").status_code == 200
    admin = signed_in_client(app, store, "ada", "admin")
    assert admin.get("/moderate").status_code == 200
    # A commissioner's landing page is the map; a moderator's the queue.
    add_user(store, "cleo", "commissioner")
    assert sign_in(app.test_client(), "cleo").location == "/"


def test_login_required_decorator_for_other_roles(app: Flask, store: Store) -> None:
    @login_required("commissioner")
    def jsaa() -> str:
        return "the assessment"

    app.add_url_rule("/test-only-jsaa", view_func=jsaa)
    commissioner = signed_in_client(app, store, "cara", "commissioner")
    moderator = signed_in_client(app, store, "mo", "moderator")
    admin = signed_in_client(app, store, "ada", "admin")
    assert commissioner.get("/test-only-jsaa").get_data(as_text=True) == "the assessment"
    assert admin.get("/test-only-jsaa").status_code == 200
    assert moderator.get("/test-only-jsaa").status_code == 403
    assert app.test_client().get("/test-only-jsaa").status_code == 302
    with pytest.raises(ValueError, match="unknown role"):
        login_required("superuser")


def test_header_shows_who_is_signed_in_and_a_sign_out_button(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as" not in home and "Sign out" not in home
    signed_in = signed_in_client(app, store, "mo", "moderator")
    html = signed_in.get("/").get_data(as_text=True)
    assert "Signed in as" in text_of(html) and ">mo</strong>" in html
    assert 'action="/logout"' in html and ">Sign out</button>" in html
    assert 'href="/moderate"' in html


def test_staff_pages_are_not_cached(app: Flask, store: Store) -> None:
    signed_in = signed_in_client(app, store, "mo", "moderator")
    response = signed_in.get("/moderate")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers["Vary"]


def test_disabled_account_cannot_sign_in_or_stay_signed_in(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    add_user(store, "mo", "moderator")
    sign_in(client, "mo")
    assert client.get("/moderate").status_code == 200
    store.set_active("mo", False)  # what `assetmap users disable mo` does
    response = client.get("/moderate")
    assert response.status_code == 302 and response.location == "/login?next=/moderate"
    assert "Max-Age=0" in set_cookies(response)[AUTH_COOKIE]
    # The right password gets exactly the wrong password's page: nothing says "disabled".
    right = sign_in(client, "mo", PASSWORD)
    wrong = sign_in(client, "mo", "not the password at all")
    assert right.status_code == wrong.status_code == 401
    assert AUTH_COOKIE not in set_cookies(right)
    assert main_text(right) == main_text(wrong)
    assert "The username or password is not correct" in main_text(right)
    store.set_active("mo", True)
    assert sign_in(client, "mo").status_code == 303
    assert client.get("/moderate").status_code == 200


@pytest.mark.parametrize(("env", "secure"), [(None, False), ("1", True), ("0", False)])
def test_development_server_serves_plain_http_cookies_unless_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str | None, secure: bool
) -> None:
    seen: dict[str, object] = {}

    def fake_run(self: Flask, **kwargs: object) -> None:
        seen["secure"] = self.config["SESSION_COOKIE_SECURE"]
        with self.test_request_context():
            seen["cookie"] = auth_cookie_name()

    monkeypatch.setattr(Flask, "run", fake_run)
    monkeypatch.setenv("ASSETMAP_INSTANCE_PATH", str(tmp_path / "instance"))
    if env is None:
        monkeypatch.delenv("ASSETMAP_SECURE_COOKIES", raising=False)
    else:
        monkeypatch.setenv("ASSETMAP_SECURE_COOKIES", env)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert CliRunner().invoke(cli, ["--db", db, "init"]).exit_code == 0  # serve needs a store
    result = CliRunner().invoke(cli, ["--db", db, "serve"])
    assert result.exit_code == 0, result.output
    assert seen["secure"] is secure
    assert seen["cookie"] == (AUTH_COOKIE if secure else "assetmap-auth")
