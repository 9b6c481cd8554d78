"""Settings: everything configurable, read from the environment in one place.

Nothing reads the environment at import time; :meth:`Settings.from_env` is called by the CLI
and by ``create_app`` only when it is not handed settings.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assetmap.domain.asset import DEFAULT_STALE_AFTER_DAYS
from assetmap.domain.errors import ValidationError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "© OpenStreetMap contributors"


_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


# A DNS name or an IPv4 address, optionally with a leading dot for its subdomains.
_HOST_NAME = re.compile(r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def _flag(env: Mapping[str, str], name: str) -> bool:
    """A yes/no variable; anything else is refused, naming it.

    Read as "no", ASSETMAP_SECURE_COOKIES=on (or a typo) would quietly let sign-in cookies
    travel over plain http.
    """
    text = env[name].strip().lower()
    if text not in _YES | _NO:
        raise ValidationError(
            f"{env[name]!r} is neither yes nor no: use 1 or 0 (true/false, yes/no, on/off)",
            field=name,
        )
    return text in _YES


def _host_names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated host names (``.example.org`` also takes its subdomains), lower case.

    A port, a scheme or a path is refused, naming the variable: the check compares names.
    """
    names = tuple(n.strip().lower() for n in env[name].split(",") if n.strip())
    for host in names:
        if not _HOST_NAME.fullmatch(host):
            raise ValidationError(
                f"{host!r} is not a host name: give names such as assets.example.gov.uk or"
                " .example.gov.uk (with its subdomains), separated by commas, without a scheme,"
                " port or path",
                field=name,
            )
    return names


def _whole_number(env: Mapping[str, str], name: str) -> int:
    """A count of 0 or more; anything else is refused naming the variable, not a traceback."""
    text = env[name].strip()
    if not text.isascii() or not text.isdigit():
        raise ValidationError(f"{env[name]!r} is not a whole number of 0 or more", field=name)
    return int(text)


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Paths are absolute or relative to the working directory."""

    # Empty: the SQLite file assetmap.db in the instance folder (see __post_init__).
    database_url: str = ""
    instance_path: Path = Path("instance")
    secret_key: str = field(default="", repr=False)
    # Map tiles are optional: pages and maps render offline without them (blank background).
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = DEFAULT_TILE_ATTRIBUTION
    # Serve Leaflet & co. from CDNs instead of the app's own copies.
    use_cdn: bool = False
    postcode_path: Path = REPO_ROOT / "data" / "postcodes" / "postcodes_study_las_nspl2025.csv.gz"
    taxonomy_path: Path = REPO_ROOT / "data" / "taxonomy.toml"
    data_path: Path = REPO_ROOT / "data"
    maps_path: Path = REPO_ROOT / "maps"
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS
    # How many reverse proxies stand in front of the app; X-Forwarded-* is trusted only then.
    trusted_proxies: int = 0
    # The host names the app answers to (empty: any). Links it writes in full (a licence
    # page, the API document's servers) take the request's host, so a forged Host header
    # that reached it made them point elsewhere.
    trusted_hosts: tuple[str, ...] = ()
    # Mark the session and sign-in cookies Secure (sent over HTTPS only). Keep it on wherever
    # the app is reached over HTTPS; `assetmap serve` without --production (plain http on
    # 127.0.0.1, as `make run` starts it) turns it off unless ASSETMAP_SECURE_COOKIES is set.
    secure_cookies: bool = True
    # Minutes without a request after which a staff member is signed out (0: never; a
    # session still ends a day after signing in). Pages warn two minutes before, with a
    # button to stay signed in.
    staff_idle_minutes: int = 30
    # Resident submissions accepted per client address per hour and per email address per
    # day, counted from stored rows (0 turns a limit off, e.g. for a load test).
    submissions_per_client_per_hour: int = 10
    submissions_per_email_per_day: int = 5
    # Who runs this copy of the service, and where people report accessibility problems:
    # both appear in its accessibility statement (/accessibility), which UK public bodies
    # must publish.
    organisation: str = ""
    accessibility_contact: str = ""
    testing: bool = False

    def __post_init__(self) -> None:
        """Put the default store in the instance folder, beside the secret key.

        It was ./instance/assetmap.db whatever ASSETMAP_INSTANCE_PATH said: an instance
        started with only that variable kept its key in the folder and its data elsewhere.
        """
        if not self.database_url:
            object.__setattr__(self, "database_url", default_database_url(self.instance_path))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ASSETMAP_*`` variables, then apply keyword overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "ASSETMAP_DATABASE_URL" in env:
            values["database_url"] = env["ASSETMAP_DATABASE_URL"]
        if "ASSETMAP_INSTANCE_PATH" in env:
            values["instance_path"] = Path(env["ASSETMAP_INSTANCE_PATH"])
        if "ASSETMAP_SECRET_KEY" in env:
            values["secret_key"] = env["ASSETMAP_SECRET_KEY"].strip()
            if not values["secret_key"]:
                # A template's blank line: each host would make a key of its own, and a form
                # one signs would be refused by another.
                raise ValidationError(
                    "is set but empty: give the key, or unset the variable to use the key"
                    " kept in the instance folder",
                    field="ASSETMAP_SECRET_KEY",
                )
        if "ASSETMAP_TILE_URL" in env:
            values["tile_url"] = env["ASSETMAP_TILE_URL"]
        if "ASSETMAP_TILE_ATTRIBUTION" in env:
            values["tile_attribution"] = env["ASSETMAP_TILE_ATTRIBUTION"]
        if "ASSETMAP_USE_CDN" in env:
            values["use_cdn"] = _flag(env, "ASSETMAP_USE_CDN")
        if "ASSETMAP_POSTCODES" in env:
            values["postcode_path"] = Path(env["ASSETMAP_POSTCODES"])
        if "ASSETMAP_TRUSTED_PROXIES" in env:
            values["trusted_proxies"] = _whole_number(env, "ASSETMAP_TRUSTED_PROXIES")
        if "ASSETMAP_TRUSTED_HOSTS" in env:
            values["trusted_hosts"] = _host_names(env, "ASSETMAP_TRUSTED_HOSTS")
        if "ASSETMAP_STALE_AFTER_DAYS" in env:
            values["stale_after_days"] = _whole_number(env, "ASSETMAP_STALE_AFTER_DAYS")
        if "ASSETMAP_SECURE_COOKIES" in env:
            values["secure_cookies"] = _flag(env, "ASSETMAP_SECURE_COOKIES")
        if "ASSETMAP_STAFF_IDLE_MINUTES" in env:
            values["staff_idle_minutes"] = _whole_number(env, "ASSETMAP_STAFF_IDLE_MINUTES")
        if "ASSETMAP_SUBMISSIONS_PER_CLIENT_PER_HOUR" in env:
            values["submissions_per_client_per_hour"] = _whole_number(
                env, "ASSETMAP_SUBMISSIONS_PER_CLIENT_PER_HOUR"
            )
        if "ASSETMAP_SUBMISSIONS_PER_EMAIL_PER_DAY" in env:
            values["submissions_per_email_per_day"] = _whole_number(
                env, "ASSETMAP_SUBMISSIONS_PER_EMAIL_PER_DAY"
            )
        if "ASSETMAP_ORGANISATION" in env:
            values["organisation"] = env["ASSETMAP_ORGANISATION"].strip()
        if "ASSETMAP_ACCESSIBILITY_CONTACT" in env:
            values["accessibility_contact"] = env["ASSETMAP_ACCESSIBILITY_CONTACT"].strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "database_url" in values and not values["database_url"].strip():
            # Left empty it would mean the default store, not the one someone meant to name.
            raise ValidationError(
                "is empty: give a store URL (sqlite:///path.db or postgresql://...), or leave"
                " it unset for assetmap.db in the instance folder",
                field="database_url",
            )
        return cls(**values)

    def with_secret(self) -> Settings:
        """Return settings with a secret key.

        The configured key wins; otherwise one is made once and kept in the instance folder,
        so sessions survive a restart. A folder the key cannot be kept in, or an empty key
        file, is refused naming it: an empty key leaves every form a 500.
        """
        if self.secret_key:
            return self
        path = self.instance_path / "secret_key"
        try:
            key = _read_or_make_key(path)
        except OSError as err:
            raise ValidationError(
                f"cannot read or create the secret key file {path} ({err.strerror or err}):"
                f" make {self.instance_path} a folder this user may write, or set"
                " ASSETMAP_SECRET_KEY",
                field="ASSETMAP_INSTANCE_PATH",
            ) from None
        if not key:
            raise ValidationError(
                f"the secret key file {path} is empty: delete it (a new key is made at the"
                " next start, and staff sign in again) or set ASSETMAP_SECRET_KEY",
                field="ASSETMAP_INSTANCE_PATH",
            )
        return replace(self, secret_key=key)


def default_database_url(instance_path: Path) -> str:
    """The URL of the SQLite store ``assetmap.db`` in ``instance_path``.

    ``sqlite:///instance/assetmap.db`` for the default relative folder, four slashes for an
    absolute one; the path is percent-encoded, as the store decodes it (a ``?`` or ``#`` in a
    folder name would otherwise end the path).
    """
    return f"sqlite:///{quote(str(instance_path / 'assetmap.db'))}"


def _read_or_make_key(path: Path) -> str:
    """The key kept at ``path``, made there first if there is none.

    Several processes may start at once (gunicorn's workers, instances sharing the folder):
    the key is written whole, readable by this user only, under a temporary name, then
    linked into place. Linking fails if another process got there first, and then its key
    is everyone's; no process ever reads a key half written.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(handle, "w") as out:
            out.write(key)
        os.link(temporary, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        os.unlink(temporary)
    return key
