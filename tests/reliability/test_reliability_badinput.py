"""Bad input at the command line: each case is one ``Error:`` line that says what to do, a
non-zero exit, and nothing written (the database file absent, or byte-for-byte unchanged)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from store.db import open_db

AT = "2026-11-02T09:00:00+00:00"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def one_line_error(result: Result, *needles: str) -> str:
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]
    return errors[0]


def files_of(path: Path) -> dict[str, bytes]:
    """The database and its WAL/SHM side files, as bytes (what "nothing written" compares)."""
    found = {}
    for suffix in ("", "-wal", "-journal"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            found[suffix] = side.read_bytes()
    return found


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A database with one manual, checkpointed so that its bytes are all in the main file."""
    path = tmp_path / "aw.db"
    added = run(path, "manual", "add", "northmoor", "http://127.0.0.1:9/", "--no-check")
    assert added.exit_code == 0, added.output
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield path


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("manual", "add", "x", "not a url"), ("http",)),
        (("manual", "add", "x", "ftp://example.org/manual/"), ("http",)),
        (("manual", "add", "x", "file:///etc/passwd"), ("http",)),
        (("manual", "add", "x", "javascript:alert(1)"), ("http",)),
        (("manual", "add", "x", "http://"), ("http",)),
        (("manual", "add", "x", "https://exa mple.org/"), ("host",)),
        (("manual", "add", "x", "https://ok.example/", "--amendments-url", "mailto:a@b"), ()),
        (("manual", "add", "northmoor", "https://ok.example/"), ("northmoor",)),
        (("snapshot", "nosuchmanual"), ("nosuchmanual",)),
        (("snapshot", "--at", "last tuesday"), ()),
        (("snapshot", "--at", "2026-02-30"), ()),
        (("history", "No Such Chapter"), ("No Such Chapter",)),
        (("draft", "--period", "2026-13"), ("YYYY-MM",)),
        (("draft", "--period", "November"), ()),
        (("draft", "--period", "2026-11", "--since", "2026-11-01"), ("not both",)),
        (("draft", "--since", "2026-11-30", "--until", "2026-11-01"), ()),
        (("report", "--week", "2026-W99"), ("W",)),
        (("report", "--week", "2026-W00"), ("W",)),
        (("report", "--since", "soon"), ()),
        (("changes", "--since", "2026-11-31"), ()),
        (("changes", "--manual", "nosuchmanual"), ("nosuchmanual",)),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    db: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    before = files_of(db)
    one_line_error(run(db, *args), *needles)
    assert files_of(db) == before


def test_bad_input_on_a_fresh_path_creates_no_database(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    one_line_error(run(path, "manual", "add", "x", "gopher://example.org/"), "http")
    one_line_error(run(path, "snapshot", "--at", "not-a-date"))
    assert sorted(os.listdir(tmp_path)) == []


def test_a_database_from_a_newer_schema_is_refused_untouched(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = files_of(db)
    one_line_error(run(db, "manual", "list"), "newer", "upgrade")
    one_line_error(run(db, "manual", "add", "y", "https://ok.example/"), "newer")
    assert files_of(db) == before


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is not a database\n" * 10,
        bytes(range(256)) * 8,
        b"SQLite format 3\x00" + b"\xff" * 2000,  # the right magic, a ruined header
    ],
)
def test_a_file_that_is_not_an_amendwatch_database_is_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(content)
    one_line_error(run(bogus, "manual", "add", "x", "https://ok.example/"))
    assert bogus.read_bytes() == content


def test_another_applications_sqlite_database_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    before = other.read_bytes()
    one_line_error(run(other, "manual", "list"), "another application")
    assert other.read_bytes() == before


def test_a_directory_or_a_missing_directory_as_db(tmp_path: Path) -> None:
    one_line_error(run(tmp_path, "manual", "list"), "directory")
    one_line_error(run(tmp_path / "nowhere" / "aw.db", "manual", "list"), "does not exist")
    assert os.listdir(tmp_path) == []


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` read-only even for root (``chattr +i`` where chmod is not enough)."""
    mode = path.stat().st_mode & 0o777
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    if os.access(path, os.W_OK) and shutil.which("chattr"):
        immutable = (
            subprocess.run(["chattr", "+i", str(path)], check=False, capture_output=True).returncode
            == 0
        )
    try:
        if os.access(path, os.W_OK):
            pytest.skip("cannot make a read-only path here (root without chattr)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def test_a_read_only_database_is_refused_untouched(db: Path) -> None:
    before = files_of(db)
    with read_only(db):
        one_line_error(run(db, "manual", "add", "y", "https://ok.example/"), "read-only")
        one_line_error(run(db, "snapshot"), "read-only")
    assert files_of(db) == before


def test_a_read_only_directory_gets_no_new_database(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder):
        one_line_error(run(folder / "aw.db", "manual", "list"), "not writable")
    assert os.listdir(folder) == []


@pytest.mark.parametrize(
    "toml",
    [
        "[schedule\ntimezone = 'Europe/London'\n",
        "[schedule]\ntimezone = 'Mars/Olympus'\n",
        "[[manual]]\nname = 'x'\n",
        "schedule = 3\n",
    ],
)
def test_a_broken_toml_config_is_one_line_and_writes_nothing(tmp_path: Path, toml: str) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(toml)
    path = tmp_path / "aw.db"
    one_line_error(run(path, "schedule", "list", "--config", str(config)))
    one_line_error(run(path, "schedule", "run", "--config", str(config)))
    assert sorted(os.listdir(tmp_path)) == ["amendwatch.toml"]


def test_a_missing_config_file_is_one_line(tmp_path: Path) -> None:
    one_line_error(
        run(tmp_path / "aw.db", "schedule", "list", "--config", str(tmp_path / "none.toml")),
        "not found",
    )


def test_a_new_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    open_db(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    run(tmp_path / "cli.db", "manual", "list")
    assert (tmp_path / "cli.db").stat().st_mode & 0o777 == 0o600
    for side in ("-wal", "-shm"):
        extra = Path(f"{tmp_path / 'cli.db'}{side}")
        if extra.exists():
            assert extra.stat().st_mode & 0o077 == 0, side
