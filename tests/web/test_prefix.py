"""The app mounted under a path prefix (/assetmap): every staff redirect stays under it.

Two ways to mount it, each tested as a browser sees it (whole paths, /assetmap included):
``serve --production`` with ``SCRIPT_NAME=/assetmap`` in its environment, which mounts the
app there (``production.mount``, moving the prefix from the path to ``SCRIPT_NAME``); and a
reverse proxy that strips the prefix and says so in ``X-Forwarded-Prefix``, believed only
with ``trusted_proxies`` set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound
from werkzeug.test import TestResponse

from assetmap.domain.taxonomy import Taxonomy
from assetmap.services.accounts import hash_password
from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from assetmap.web.production import mount
from tests.web.staff import PASSWORD, add_user, csrf_from, main_text
from tests.web.test_moderate import form_fields, submit_new

PREFIX = "/assetmap"


def proxy_at_prefix(app: Any) -> Any:
    """nginx's ``location /assetmap/ { proxy_pass http://app/; }`` with X-Forwarded-Prefix."""

    def proxy(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if not path.startswith(f"{PREFIX}/"):
            return NotFound()(environ, start_response)
        environ["PATH_INFO"] = path[len(PREFIX) :]
        environ["HTTP_X_FORWARDED_PREFIX"] = PREFIX
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return proxy


@pytest.fixture(params=["SCRIPT_NAME", "X-Forwarded-Prefix"])
def mounted(request: pytest.FixtureRequest, settings: Settings, store: Store) -> Flask:
    """The app as served at /assetmap, by gunicorn's SCRIPT_NAME or behind a proxy."""
    if request.param == "SCRIPT_NAME":
        # As serve --production runs it with SCRIPT_NAME in its environment.
        app = mount(create_app(settings, store=store), PREFIX)
    else:
        app = create_app(replace(settings, trusted_proxies=1), store=store)
        app.wsgi_app = proxy_at_prefix(app.wsgi_app)  # type: ignore[method-assign]
    return app


def sign_in(client: FlaskClient, username: str, next_url: str | None = None) -> TestResponse:
    """Open the sign-in page under the prefix and send its form as a browser would."""
    page = client.get(f"{PREFIX}/login")
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    if next_url is not None:
        data["next"] = next_url
    return client.post(f"{PREFIX}/login", data=data)


def test_a_staff_page_sends_to_sign_in_and_back_under_the_prefix(
    mounted: Flask, store: Store
) -> None:
    add_user(store, "mo", "moderator")
    client = mounted.test_client()
    # Outside the prefix is not the app: the redirects below must never lead there.
    assert client.get("/moderate").status_code == 404
    asked = client.get(f"{PREFIX}/moderate?sort=oldest")
    assert asked.status_code == 302
    assert asked.location == f"{PREFIX}/login?next=/moderate?sort%3Doldest"
    page = client.get(asked.location)
    assert page.status_code == 200
    assert f'action="{PREFIX}/login"' in page.text
    assert 'name="next" value="/moderate?sort=oldest"' in page.text
    form = {"username": "mo", "password": PASSWORD, "next": "/moderate?sort=oldest"}
    signed_in = client.post(f"{PREFIX}/login", data={**form, "csrf_token": csrf_from(page.text)})
    # It was /moderate?sort=oldest: outside the prefix, another site's page or a 404.
    assert signed_in.status_code == 303
    assert signed_in.location == f"{PREFIX}/moderate?sort=oldest"
    queue = client.get(signed_in.location)
    assert queue.status_code == 200 and "Signed in as" in queue.text
    assert f'action="{PREFIX}/logout"' in queue.text
    signed_out = client.post(f"{PREFIX}/logout", data={"csrf_token": csrf_from(queue.text)})
    assert signed_out.status_code == 303 and signed_out.location == f"{PREFIX}/login"
    assert "You have signed out." in main_text(client.get(signed_out.location))
    assert client.get(f"{PREFIX}/moderate").status_code == 302


@pytest.mark.parametrize(("role", "landing"), [("moderator", "/moderate"), ("commissioner", "/")])
def test_sign_in_without_next_lands_under_the_prefix(
    mounted: Flask, store: Store, role: str, landing: str
) -> None:
    add_user(store, "sam", role)
    response = sign_in(mounted.test_client(), "sam")
    assert response.status_code == 303 and response.location == PREFIX + landing


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\t//evil.example/",
    ],
)
def test_next_never_leaves_the_site_under_the_prefix(
    mounted: Flask, store: Store, target: str
) -> None:
    add_user(store, "mo", "moderator")
    response = sign_in(mounted.test_client(), "mo", target)
    assert response.status_code == 303 and response.location == f"{PREFIX}/moderate"


def test_a_form_sent_after_sign_in_ended_offers_sign_in_back_to_it_under_the_prefix(
    mounted: Flask, store: Store, taxonomy: Taxonomy
) -> None:
    add_user(store, "mo", "moderator", areas=("E08000009",))
    client = mounted.test_client()
    assert sign_in(client, "mo").status_code == 303
    item = f"/moderate/{submit_new(store, taxonomy).ref}"
    fields = form_fields(client.get(PREFIX + item).text, f"{PREFIX}{item}/reject")
    new_password = "a brand new long password"
    store.set_password("mo", hash_password(new_password))  # which ends the session

    def reject(referrer: str) -> TestResponse:
        return client.post(
            f"{PREFIX}{item}/reject",
            data={**fields, "reason": "Closed for good."},
            headers={"Referer": referrer},
        )

    # A page on this host outside the prefix is not this app's: no way back to it.
    elsewhere = reject(f"http://localhost/elsewhere{item}")
    assert elsewhere.status_code == 401
    assert f'href="{PREFIX}/login"' in elsewhere.text and "next=" not in elsewhere.text
    sent = reject(f"http://localhost{PREFIX}{item}")
    assert sent.status_code == 401 and "You have been signed out" in main_text(sent)
    assert f'href="{PREFIX}/login?next={item}"' in sent.text
    page = client.get(f"{PREFIX}/login?next={item}")
    form = form_fields(page.text, f"{PREFIX}/login")
    assert form["next"] == item
    again = client.post(
        f"{PREFIX}/login", data={**form, "username": "mo", "password": new_password}
    )
    assert again.status_code == 303 and again.location == PREFIX + item
    assert client.get(again.location).status_code == 200


def test_the_api_document_names_the_prefix_as_its_server(mounted: Flask) -> None:
    document = mounted.test_client().get(f"{PREFIX}/api/v1/openapi.json").get_json()
    assert document["servers"] == [{"url": PREFIX}]


def test_x_forwarded_prefix_is_believed_only_from_a_trusted_proxy(app: Flask) -> None:
    # Without ASSETMAP_TRUSTED_PROXIES any client could send it, and be sent anywhere.
    response = app.test_client().get("/moderate", headers={"X-Forwarded-Prefix": "/elsewhere"})
    assert response.location == "/login?next=/moderate"


def test_a_path_outside_the_prefix_is_not_found(settings: Settings, store: Store) -> None:
    """gunicorn, given SCRIPT_NAME, answered these with a 500 naming its configuration."""
    client = mount(create_app(settings, store=store), PREFIX).test_client()
    for path in ("/healthz", "/", "/moderate", "/static/js/nearby.js", "/assetmapx/healthz"):
        outside = client.get(path)
        assert (path, outside.status_code) == (path, 404)
        assert "this service is at /assetmap/." in main_text(outside)
        assert f'href="{PREFIX}/"' in outside.text  # its links lead into the app
    # Neither the CSRF check (400) nor sign-in (a redirect) answers first.
    assert client.post("/login", data={"username": "mo"}).status_code == 404
    api = client.get("/api/v1/categories")
    assert (api.status_code, api.get_json()["error"]["field"]) == (404, None)
    assert api.get_json()["error"]["message"].endswith("this service is at /assetmap/.")
    assert client.get(f"{PREFIX}/healthz").get_json()["status"] == "ok"
    assert client.get(f"{PREFIX}/static/js/nearby.js").status_code == 200
    bare = client.get(PREFIX)
    assert (bare.status_code, bare.location) == (308, f"http://localhost{PREFIX}/")


def test_staff_cookies_keep_path_slash_under_the_prefix(mounted: Flask, store: Store) -> None:
    """A ``__Host-`` cookie must have Path=/ or browsers drop it; the session's is / too."""
    add_user(store, "mo", "moderator")
    client = mounted.test_client()
    page = client.get(f"{PREFIX}/login")
    form = {"username": "mo", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    signed_in = client.post(f"{PREFIX}/login", data=form)
    cookies = {c.split("=", 1)[0]: c for c in signed_in.headers.getlist("Set-Cookie")}
    assert sorted(cookies) == ["__Host-assetmap-auth", "session"]
    for cookie in cookies.values():
        assert "; Path=/;" in cookie or cookie.endswith("; Path=/"), cookie
        assert "; Secure" in cookie
