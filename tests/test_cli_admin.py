"""Admin commands through the real console script: users, migrate-store, init."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assetmap.store import open_store

BIN = Path(sys.executable).parent / "assetmap"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_users_add_and_migrate_store(tmp_path: Path, store_url: str) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    added = run(
        "--db",
        src,
        "users",
        "add",
        "mo",
        "--role",
        "moderator",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added mo (moderator)"
    short = run(
        "--db", src, "users", "add", "al", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2
    assert "field 'password': password must be at least 12 characters" in short.stderr
    dup = run(
        "--db",
        src,
        "users",
        "add",
        "MO",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert dup.returncode == 2 and "already exists" in dup.stderr
    listed = run("--db", src, "users", "list")
    assert listed.stdout.splitlines() == ["mo\tmoderator\tmo"]

    copied = run("migrate-store", "--from", src, "--to", store_url)
    assert copied.returncode == 0, copied.stderr
    assert "copied and verified" in copied.stdout
    assert "users                      1 ->         1  sha256 ok" in copied.stdout
    target = open_store(store_url)
    user = target.get_user("mo")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    target.close()
    again = run("migrate-store", "--from", src, "--to", store_url)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_help_lists_every_command() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in ("init", "import", "demo", "export", "serve", "users", "migrate-store"):
        assert f"  {command}" in out.stdout
    serve = run("serve", "--help")
    assert "--production" in serve.stdout
