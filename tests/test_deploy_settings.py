"""Deployment: the secret key that signs sessions and forms, as an operator sets it up."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest

from assetmap.domain.errors import ValidationError
from assetmap.settings import Settings
from assetmap.store.sqlite import sqlite_path


def test_a_key_is_made_once_and_kept_for_the_user_only(tmp_path: Path) -> None:
    made = Settings(instance_path=tmp_path / "instance").with_secret()
    kept = tmp_path / "instance" / "secret_key"
    assert len(made.secret_key) == 64
    assert kept.read_text() == made.secret_key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert Settings(instance_path=tmp_path / "instance").with_secret() == made
    assert [p.name for p in kept.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_a_process_starting_at_the_same_moment_shares_the_first_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gunicorn workers (or hosts sharing the folder) both find no key and make one."""
    kept = tmp_path / "secret_key"
    linked_modes: list[int] = []
    link = os.link

    def other_process_first(nbytes: int) -> str:
        # The other process writes its key while this one makes its own.
        kept.write_text("b" * 64)
        return "a" * 64

    def watched_link(src: str, dst: Path) -> None:
        linked_modes.append(stat.S_IMODE(os.stat(src).st_mode))
        link(src, dst)

    monkeypatch.setattr(secrets, "token_hex", other_process_first)
    monkeypatch.setattr(os, "link", watched_link)
    assert Settings(instance_path=tmp_path).with_secret().secret_key == "b" * 64
    assert kept.read_text() == "b" * 64
    # Written under another name, for the user only, before it was put in place.
    assert linked_modes == [0o600]
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_an_instance_folder_the_key_cannot_be_kept_in_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(ValidationError) as refused:
        Settings(instance_path=blocker / "instance").with_secret()
    assert refused.value.field == "ASSETMAP_INSTANCE_PATH"
    assert refused.value.message == (
        f"cannot read or create the secret key file {blocker}/instance/secret_key (Not a"
        f" directory): make {blocker}/instance a folder this user may write, or set"
        " ASSETMAP_SECRET_KEY"
    )


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path) -> None:
    """An empty key made every page with a form a 500 ("no secret key was set")."""
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ValidationError) as refused:
        Settings(instance_path=tmp_path).with_secret()
    assert str(refused.value) == (
        f"field 'ASSETMAP_INSTANCE_PATH': the secret key file {tmp_path}/secret_key is empty:"
        " delete it (a new key is made at the next start, and staff sign in again) or set"
        " ASSETMAP_SECRET_KEY"
    )


@pytest.mark.parametrize("blank", ["", "  ", "\n"])
def test_a_secret_key_variable_set_blank_is_refused(blank: str) -> None:
    """Each host would make a key of its own: forms signed by one refused by another."""
    with pytest.raises(ValidationError) as refused:
        Settings.from_env({"ASSETMAP_SECRET_KEY": blank})
    assert str(refused.value) == (
        "field 'ASSETMAP_SECRET_KEY': is set but empty: give the key, or unset the variable"
        " to use the key kept in the instance folder"
    )
    given = Settings.from_env({"ASSETMAP_SECRET_KEY": " shared-key\n"})
    assert given.secret_key == "shared-key"


def test_the_default_store_is_assetmap_db_in_the_instance_folder(tmp_path: Path) -> None:
    """It stayed ./instance/assetmap.db whatever ASSETMAP_INSTANCE_PATH said."""
    folder = tmp_path / "council #2?"  # characters a URL would otherwise cut the path at
    settings = Settings.from_env({"ASSETMAP_INSTANCE_PATH": str(folder)})
    assert settings.database_url == f"sqlite:///{tmp_path}/council%20%232%3F/assetmap.db"
    assert sqlite_path(settings.database_url) == f"{folder}/assetmap.db"
    assert Settings.from_env({}).database_url == "sqlite:///instance/assetmap.db"
    given = {"ASSETMAP_INSTANCE_PATH": str(folder), "ASSETMAP_DATABASE_URL": "sqlite:///a.db"}
    assert Settings.from_env(given).database_url == "sqlite:///a.db"
