"""Read-only copies (issue 15, part 3): every read command works on a write-protected database
file (0444) in a write-protected folder (0555) with no -wal/-shm beside it, and writes nothing;
a read command never creates a database."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.conftest import AT2, run

CHAPTER = "Initial Child Protection"


def _listing(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Each file's size, mtime and content hash: any write shows."""
    return {
        item.name: (
            item.stat().st_size,
            item.stat().st_mtime_ns,
            hashlib.sha256(item.read_bytes()).hexdigest(),
        )
        for item in sorted(folder.iterdir())
    }


@pytest.fixture
def archived(built_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the built database at 0444 inside a folder at 0555 (modes restored after)."""
    folder = tmp_path / "archive"
    folder.mkdir()
    target = folder / "aw.db"
    shutil.copyfile(built_db, target)
    assert sorted(p.name for p in folder.iterdir()) == ["aw.db"]  # no -wal, no -shm
    target.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield target
    finally:
        folder.chmod(0o755)
        target.chmod(0o644)


READS = [
    (("show", CHAPTER, "--as-of", AT2), CHAPTER),
    (("show-manual", "northmoor", "--as-of", AT2), CHAPTER),
    (("history", CHAPTER), CHAPTER),
    (("changes", "--since", "2026-11-01", "--until", "2026-11-30"), CHAPTER),
    (("changes", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "json"), "kinds"),
    (("diff", CHAPTER, "--from", "2026-11-05", "--to", "2026-11-10"), CHAPTER),
    (("report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "md"), "Chain head:"),
    (("draft", "--preview", "--period", "2026-11", "--format", "md"), "2026"),
    (("verify",), "chain head: "),
    (("feed", "northmoor"), "aw:chainHead"),
]


@pytest.mark.parametrize(("args", "expected"), READS, ids=[" ".join(a[:2]) for a, _ in READS])
def test_read_command_works_on_a_read_only_copy_and_writes_nothing(
    archived: Path, args: tuple[str, ...], expected: str
) -> None:
    before = _listing(archived.parent)
    result = run(archived, *args)
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert _listing(archived.parent) == before


@pytest.mark.parametrize("kind", ["evidence", "warc"])
def test_export_from_a_read_only_copy(archived: Path, tmp_path: Path, kind: str) -> None:
    before = _listing(archived.parent)
    out = tmp_path / f"out.{'zip' if kind == 'evidence' else 'warc.gz'}"
    args = ("export", "evidence", CHAPTER) if kind == "evidence" else ("export", "warc")
    result = run(archived, *args, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    assert _listing(archived.parent) == before


def test_draft_preview_stores_nothing(db_copy: Path) -> None:
    result = run(db_copy, "draft", "--preview", "--period", "2026-11", "--format", "json")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_copy) as con:
        assert con.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0
    stored = run(db_copy, "draft", "--period", "2026-11", "--format", "json")
    assert stored.exit_code == 0, stored.output
    with sqlite3.connect(db_copy) as con:
        assert con.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] > 0


def test_read_on_a_writable_database_leaves_no_side_files(db_copy: Path) -> None:
    before = sorted(p.name for p in db_copy.parent.iterdir())
    digest = hashlib.sha256(db_copy.read_bytes()).hexdigest()
    assert run(db_copy, "verify").exit_code == 0
    assert run(db_copy, "history", CHAPTER).exit_code == 0
    assert sorted(p.name for p in db_copy.parent.iterdir()) == before
    assert hashlib.sha256(db_copy.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("command", [("changes",), ("verify",), ("history", CHAPTER)])
def test_a_missing_database_is_a_one_line_error_and_is_not_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "typo.db"
    result = run(missing, *command)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "does not exist" in lines[0] and "never create" in lines[0]
    assert os.listdir(tmp_path) == []


def test_a_read_command_refuses_an_older_schema_without_migrating_it(archived: Path) -> None:
    folder = archived.parent
    folder.chmod(0o755)
    archived.chmod(0o644)
    with sqlite3.connect(archived) as con:
        con.execute("PRAGMA user_version = 6")
    con.close()
    before = _listing(folder)
    result = run(archived, "verify")
    assert result.exit_code != 0
    assert "cannot be upgraded read-only" in result.output
    assert _listing(folder) == before
