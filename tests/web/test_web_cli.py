"""`amendwatch user ...` and `amendwatch web` (and the `serve` alias) on the command line."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from amendwatch.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def run(db: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=stdin)


def test_accounts_are_added_listed_disabled_and_given_new_passwords(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    added = run(db, "user", "add", "alice", "--role", "editor", stdin="a long password 1\n")
    assert added.exit_code == 0 and "user alice added (editor)" in added.output
    assert (
        run(db, "user", "add", "bob", "--role", "viewer", stdin="another long one\n").exit_code == 0
    )
    listing = run(db, "user", "list").output.splitlines()
    assert listing[0].split()[:3] == ["alice", "editor", "active"]
    assert listing[1].split()[:3] == ["bob", "viewer", "active"]

    short = run(db, "user", "add", "carol", "--role", "viewer", stdin="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert "Traceback" not in short.output and len(short.output.strip().splitlines()) == 1
    again = run(db, "user", "add", "alice", "--role", "admin", stdin="a long password 2\n")
    assert again.exit_code == 1 and "user 'alice' exists" in again.output
    role = run(db, "user", "add", "dave", "--role", "superuser", stdin="a long password\n")
    assert role.exit_code == 2  # click's usage error names the roles

    assert run(db, "user", "disable", "bob").exit_code == 0
    assert "disabled" in run(db, "user", "list").output.splitlines()[1]
    assert run(db, "user", "disable", "bob", "--enable").exit_code == 0
    changed = run(db, "user", "passwd", "alice", stdin="a brand new password\n")
    assert changed.exit_code == 0
    unknown = run(db, "user", "passwd", "nobody", stdin="a brand new password\n")
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT who, action, target FROM audit_log ORDER BY id").fetchall()
    assert [(a, t) for _, a, t in rows] == [
        ("user add", "user alice"), ("user add", "user bob"), ("user disable", "user bob"),
        ("user enable", "user bob"), ("user passwd", "user alice"),
    ]  # fmt: skip
    assert all(who.startswith("cli:") for who, _, _ in rows)
    assert run(db, "verify").exit_code == 0


def test_web_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run(tmp_path / "aw.db", "web", "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_serve_is_an_alias_of_web(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "amendwatch", "--db", str(db), "serve", "--port", "0",
         "--allow-host", "feeds.example.org"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stderr.readline().strip() == "serve is now `amendwatch web`"
        line = process.stderr.readline()
        base = line.split("serving on ", 1)[1].split(" ", 1)[0]
        health = httpx.get(f"{base}healthz", headers={"Host": "feeds.example.org"})
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(base, headers={"Host": "rebind.example"}).status_code == 421
        first = httpx.get(base)
        assert first.status_code == 303 and first.headers["location"] == "/login?next=%2F"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
