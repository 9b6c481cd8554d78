"""Staff sign-in and sign-out, the signed-in user, and the ``login_required(role)`` decorator.

Sessions live in the database (``store.create_session``): the browser holds only the token,
in its own cookie (HttpOnly, SameSite=Lax, and Secure with a ``__Host-`` name unless
``settings.secure_cookies`` is off for plain-http development). Each request that asks who is
signed in checks the token against the store, so a password or role change or a disabled
account, which ends the user's sessions there, signs them out on their next request, whichever
worker serves it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.wrappers import Response
from werkzeug.wrappers import Response as BaseResponse

from assetmap.domain.errors import Forbidden, TooManyRequests
from assetmap.domain.people import ROLES, StaffSession, User
from assetmap.services.accounts import LOCKOUT_WINDOW, authenticate, client_key
from assetmap.web.app import current_store, state

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

_SESSION = "_assetmap_staff_session"
_STALE = "_assetmap_stale_auth_cookie"
# Longest password the form accepts; argon2 would hash megabytes, but nobody types them.
MAX_PASSWORD_CHARS = 1024


def auth_cookie_name() -> str:
    """The sign-in cookie's name: ``__Host-`` prefixed (HTTPS only, this host only) if Secure."""
    return "__Host-assetmap-auth" if state().settings.secure_cookies else "assetmap-auth"


def idle_limit_s() -> int | None:
    """Seconds without a request after which a staff session ends (None: never)."""
    minutes = state().settings.staff_idle_minutes
    return minutes * 60 if minutes else None


def current_session() -> StaffSession | None:
    """The signed-in member of staff's session for this request, checked once.

    Asking counts as activity: the session's idle time starts again.
    """
    if _SESSION not in g:
        token = request.cookies.get(auth_cookie_name(), "")
        found = current_store().staff_session(token, idle_s=idle_limit_s()) if token else None
        setattr(g, _SESSION, found)
        # A cookie whose session has ended (sign-out elsewhere, password or role change,
        # account disabled, expiry) is removed from the browser with this response.
        setattr(g, _STALE, bool(token) and found is None)
    found_now: StaffSession | None = getattr(g, _SESSION)
    return found_now


def current_user() -> User | None:
    """The signed-in member of staff for this request (see :func:`current_session`)."""
    found = current_session()
    return None if found is None else found.user


def _user_for_templates() -> User | None:
    """current_user() for the page header; an error page must render even if the store fails."""
    try:
        return current_user()
    except Exception:
        return None


def login_required(role: str | None = None) -> Callable[[F], F]:
    """Let a view run only for a signed-in user holding ``role`` (any staff role when None).

    Anyone not signed in is sent to the sign-in page (and back here afterwards, for a GET);
    a signed-in user without the role gets a 403 page. ``next`` is the path within the app,
    without the prefix it is mounted at: the sign-in puts the prefix back (see ``_safe_next``).
    """
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None and request.method not in {"GET", "HEAD"}:
                return _signed_out_page()
            if user is None:
                back = request.full_path.rstrip("?")
                return redirect(url_for("auth.login", next=back or None))
            if role is not None and not user.can(role):
                raise Forbidden(
                    f"You are signed in as {user.display_name} ({ROLES[user.role]}). "
                    f"This page is for the {role} role."
                )
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


# Form fields the pages fill in themselves, not anything a person typed.
_BOOKKEEPING = frozenset(
    {"csrf_token", "form_token", "version", "revision", "to_revision", "next", "same_as"}
)


def _signed_out_page() -> tuple[str, int]:
    """A staff form sent after its sender's session ended: what they typed, shown back.

    Sessions end after ``staff_idle_minutes`` without a request, a day after sign-in, at a
    sign-out elsewhere, when the password or role changes, or when the account is disabled;
    a redirect to the sign-in page would throw away a rejection reason or a page of edits
    typed meanwhile. Nothing is saved; the page offers a sign-in that returns to the form the
    request came from.
    """
    entered = [
        (name.replace("_", " ").capitalize(), value)
        for name, value in request.form.items(multi=True)
        if name not in _BOOKKEEPING and value.strip()
    ]
    files = [f.filename for f in request.files.values() if f.filename]
    referrer = urlsplit(request.referrer or "")
    back = ""
    # The browser's path holds the prefix the app is mounted at (script_root); next is
    # without it, and a page outside the prefix is not this app's.
    root = request.script_root
    if referrer.netloc == request.host and referrer.path.startswith(f"{root}/"):
        path = referrer.path[len(root) :]
        back = _safe_next(path + (f"?{referrer.query}" if referrer.query else ""))
    page = render_template(
        "staff/signed_out.html",
        entered=entered,
        files=files,
        sign_in=url_for("auth.login", next=back or None),
    )
    return page, 401


def _safe_next(target: str) -> str:
    """``target`` when it is a path on this site, else ''. Stops open redirects.

    ``target`` is a path within the app (``/moderate``); redirect to it with
    ``request.script_root`` in front, so that under a prefix (``/assetmap``) it stays there.
    """
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
        or any(ord(ch) < 32 for ch in target)
    ):
        return ""
    return target


def _landing(user: User) -> str:
    return url_for("moderate.queue") if user.can("moderator") else url_for("pages.home")


def _set_auth_cookie(response: BaseResponse, token: str) -> None:
    secure = state().settings.secure_cookies
    # No Max-Age: the cookie ends with the browser session; the store's session expires too.
    response.set_cookie(
        auth_cookie_name(), token, path="/", secure=secure, httponly=True, samesite="Lax"
    )


def _clear_auth_cookie(response: BaseResponse) -> None:
    secure = state().settings.secure_cookies
    response.delete_cookie(
        auth_cookie_name(), path="/", secure=secure, httponly=True, samesite="Lax"
    )


def _login_page(
    errors: dict[str, str],
    username: str,
    next_url: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> tuple[str, int, dict[str, str]]:
    return (
        render_template("staff/login.html", errors=errors, username=username, next_url=next_url),
        status,
        headers or {},
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in as a member of staff."""
    next_url = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return _login_page({}, "", next_url)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
    if errors:
        return _login_page(errors, username, next_url, 400)
    store = current_store()
    settings = state().settings
    client = client_key(request.remote_addr or "", settings.secret_key)
    try:
        user = (
            authenticate(store, username, password, client=client)
            if len(password) <= MAX_PASSWORD_CHARS
            else None
        )
    except TooManyRequests as err:
        # The lockout lasts at most one window from the latest failure: a safe time to wait.
        wait_s = str(int(LOCKOUT_WINDOW.total_seconds()))
        return _login_page(
            {"username": err.message}, username, next_url, err.status, {"Retry-After": wait_s}
        )
    if user is None:
        return _login_page(
            {"username": "The username or password is not correct"}, username, next_url, 401
        )
    # A new session on every sign-in: the old token (if any) is ended, and everything kept
    # before signing in (the CSRF secret included) is dropped, so nothing set by someone
    # else before the sign-in carries over.
    old_token = request.cookies.get(auth_cookie_name(), "")
    if old_token:
        store.end_session(old_token)
    session.clear()
    # next_url is a path within the app; _landing's url_for has the mount prefix already.
    response = redirect(request.script_root + next_url if next_url else _landing(user), 303)
    _set_auth_cookie(response, store.create_session(user))
    return response


@bp.post("/logout")
def logout() -> Any:
    """Sign out: end the session in the store and remove the cookie."""
    token = request.cookies.get(auth_cookie_name(), "")
    if token:
        current_store().end_session(token)
    session.clear()
    flash("You have signed out.")
    response = redirect(url_for("auth.login"), 303)
    _clear_auth_cookie(response)
    return response


def _seconds_left(found: StaffSession | None) -> int:
    if found is None:
        return 0
    return max(0, int((found.ends_at - datetime.now(UTC)).total_seconds()))


def _session_answer(found: StaffSession | None) -> Response:
    answer = jsonify(signed_in=found is not None, seconds_left=_seconds_left(found))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/session")
def session_status() -> Any:
    """How long the staff session has left (JSON); asking does not count as activity."""
    # For the signing-out warning: another tab may have kept the session going meanwhile.
    token = request.cookies.get(auth_cookie_name(), "")
    store = current_store()
    found = store.staff_session(token, idle_s=idle_limit_s(), touch=False) if token else None
    return _session_answer(found)


@bp.post("/session")
def stay_signed_in() -> Any:
    """Keep the staff session going, as any page would (JSON); 401 once it has ended."""
    found = current_session()
    answer = _session_answer(found)
    answer.status_code = 200 if found is not None else 401
    return answer


def _timeout_for_templates() -> dict[str, int] | None:
    """What the signing-out warning needs: seconds left and the idle limit in minutes."""
    try:
        found = current_session()
    except Exception:  # an error page must render even if the store fails
        return None
    limit_s = idle_limit_s()
    if found is None or limit_s is None:
        return None
    return {"seconds_left": _seconds_left(found), "idle_minutes": limit_s // 60}


def init_app(app: Flask) -> None:
    """Register the blueprint, the header's ``staff_user()`` and the cookie bookkeeping."""
    app.register_blueprint(bp)
    app.add_template_global(_user_for_templates, "staff_user")
    app.add_template_global(_timeout_for_templates, "staff_timeout")

    @app.after_request
    def staff_response_headers(response: Response) -> Response:
        if g.get(_STALE):
            _clear_auth_cookie(response)
        if g.get(_SESSION) is not None:
            # Pages for staff show private details (submitters' names and emails).
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response
