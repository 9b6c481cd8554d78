"""The app behind a trusted reverse proxy (``trusted_proxies``), as a browser reaches it.

The proxy tells the app how the browser addressed it (X-Forwarded-Proto/Host/Port/Prefix);
over HTTPS, Flask-WTF refuses a form whose Referer is not the request's own origin, so an
origin the app gets wrong refuses every form.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assetmap.settings import Settings
from assetmap.store import Store
from assetmap.web.app import create_app
from tests.web.staff import PASSWORD, add_user, csrf_from, main_text


@pytest.mark.parametrize(
    ("port", "origin"),
    [("8443", "https://example.org:8443"), ("443", "https://example.org")],
)
def test_staff_sign_in_on_a_proxy_port_of_its_own(
    settings: Settings, store: Store, port: str, origin: str
) -> None:
    """nginx at https://example.org:8443 sends ``Host $host`` (no port) and the port apart.

    X-Forwarded-Port was not believed: the browser's Referer (…:8443) did not match the
    origin the app made up (https://example.org), and sign-in failed with "This form has
    expired or was not sent from this website".
    """
    add_user(store, "mo", "moderator")
    app = create_app(replace(settings, trusted_proxies=1), store=store)
    client = app.test_client()
    proxy = {
        "Host": "example.org",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "example.org",
        "X-Forwarded-Port": port,
    }
    page = client.get("/login", headers=proxy)
    assert page.status_code == 200
    form = {"username": "mo", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    signed_in = client.post("/login", data=form, headers={**proxy, "Referer": f"{origin}/login"})
    assert signed_in.status_code == 303, main_text(signed_in)
    assert signed_in.location == "/moderate"
    queue = client.get("/moderate", headers=proxy)
    assert queue.status_code == 200 and "Signed in as" in queue.text


def test_only_the_trusted_host_names_are_answered(settings: Settings, store: Store) -> None:
    """ASSETMAP_TRUSTED_HOSTS: another Host (or X-Forwarded-Host through a proxy) is a 400.

    The API document's ``servers`` and the licences link are written with the request's
    host: a forged one reaching the app made them point at the forger's site.
    """
    env = {"ASSETMAP_TRUSTED_HOSTS": " assets.example.gov.uk, .trafford.gov.uk ,"}
    hosts = Settings.from_env(env).trusted_hosts
    assert hosts == ("assets.example.gov.uk", ".trafford.gov.uk")
    app = create_app(replace(settings, trusted_hosts=hosts, trusted_proxies=1), store=store)
    client = app.test_client()
    ok = client.get("/api/v1/openapi.json", headers={"Host": "assets.example.gov.uk:8443"})
    assert ok.status_code == 200
    sub = client.get("/healthz", headers={"Host": "maps.trafford.gov.uk"})
    assert sub.status_code == 200
    forged = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert forged.get_json()["error"]["message"] == "Host 'evil.example' is not trusted."
    through = client.get(
        "/licences",
        headers={"Host": "assets.example.gov.uk", "X-Forwarded-Host": "evil.example"},
    )
    assert through.status_code == 400
    assert through.get_data(as_text=True) == "Host 'evil.example' is not trusted."
    assert through.headers["Content-Type"] == "text/plain; charset=utf-8"
    # Unset, any host is answered, as before.
    assert (
        create_app(settings, store=store)
        .test_client()
        .get("/healthz", headers={"Host": "evil.example"})
        .status_code
        == 200
    )


@pytest.mark.parametrize("given", ["https://assets.example.gov.uk", "assets.example.gov.uk/maps"])
def test_a_trusted_host_with_a_scheme_or_path_is_refused_naming_the_variable(given: str) -> None:
    from assetmap.domain.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        Settings.from_env({"ASSETMAP_TRUSTED_HOSTS": given})
    assert refused.value.field == "ASSETMAP_TRUSTED_HOSTS"
    assert f"{given!r} is not a host name" in str(refused.value)
