from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from amendwatch.errors import SchemaError, StoreError
from store.db import SCHEMA_VERSION, open_db

EXPECTED_TABLES = {
    "manuals",
    "chapters",
    "bodies",
    "observations",
    "versions",
    "sections",
    "changes",
    "drafts",
    "draft_events",
    "runs",
}


def test_new_file_is_migrated_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "aw.db"
    db = open_db(path)
    assert set(db.table_names()) >= EXPECTED_TABLES
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert os.stat(path).st_mode & 0o777 == 0o600
    db.close()


def test_opening_twice_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "aw.db"
    first = open_db(path)
    first["manuals"].insert(
        {"name": "m", "contents_url": "https://h/", "created_at": "2026-01-01T00:00:00+00:00"}
    )
    applied = first.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    first.close()
    second = open_db(path)
    assert second.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == applied
    assert second["manuals"].count == 1
    assert second.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "aw.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError) as caught:
        open_db(path)
    assert f"schema {SCHEMA_VERSION + 3} > {SCHEMA_VERSION}" in str(caught.value)
    assert "upgrade amendwatch" in str(caught.value)
    assert path.read_bytes() == before


def test_text_file_is_a_store_error_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        open_db(path)
    assert "not a SQLite database" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before
    assert not (tmp_path / "notes.txt-wal").exists()


def test_missing_directory_is_a_store_error_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "aw.db"
    with pytest.raises(StoreError) as caught:
        open_db(path)
    assert "does not exist" in str(caught.value)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "aw.db"
    open_db(path).close()
    path.chmod(0o400)
    with pytest.raises(StoreError) as caught:
        open_db(path)
    assert "read-only" in str(caught.value)


def test_directory_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        open_db(tmp_path)


def test_memory_database_has_the_schema() -> None:
    db = open_db(None)
    assert set(db.table_names()) >= EXPECTED_TABLES
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as caught:
        open_db(path)
    assert "another application" in str(caught.value)
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"notes"}
