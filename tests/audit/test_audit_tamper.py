"""Tamper tests (issue 15, part 1): for every sealed table, an edited value, a deleted row, an
inserted row and two rows' contents swapped are each caught by ``verify``, naming the table
and the row; a clean database, and the same after ``compact``, verifies ok."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.auditlog import log_action
from store.db import open_db
from store.reviews import record_review
from store.seals import SEALED, hash_of_row, seal_pending
from tests.audit.conftest import run

EDIT = {
    "manuals": "name", "chapters": "title", "versions": "title", "sections": "title",
    "changes": "summary", "drafts": "details", "draft_events": "who", "runs": "status",
    "derivations": "rule", "unwatched": "reason", "reviews": "note", "audit_log": "action",
    "listings": "data",
}  # fmt: skip


UNIQUE = {  # columns a copied row must change to be inserted
    ("manuals", "name"): "name || ' 2'",
    ("chapters", "url"): "url || '?2'",
    ("sections", "ordinal"): "ordinal + 1000",
    ("listings", "manual_id"): "manual_id + 1000",
}


@pytest.fixture(scope="module")
def sealed_db(built_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database with drafts edited and approved (draft events) and a second manual
    written through the store (two rows in every sealed table)."""
    path = tmp_path_factory.mktemp("tamper") / "aw.db"
    shutil.copyfile(built_db, path)
    assert run(path, "draft", "--period", "2026-11", "--format", "json").exit_code == 0
    assert run(path, "draft", "edit", "1", "--text", "Edited by the editor.").exit_code == 0
    assert run(path, "draft", "approve", "1").exit_code == 0
    db = open_db(path)
    db.execute(
        "INSERT INTO manuals (name, contents_url, created_at) VALUES (?, ?, ?)",
        ("second", "http://127.0.0.1:9/", "2026-11-24T09:00:00+00:00"),
    )
    for n in (1, 2):
        db.execute(
            "INSERT INTO derivations (version_id, observation_id, old_hash, new_hash,"
            " old_content, new_content, rule, at) VALUES (?, NULL, 'a', 'b', '{}', '{}', ?, ?)",
            (n, f"rule {n}", "2026-11-24T09:00:00+00:00"),
        )
        db.execute(
            "INSERT INTO unwatched (run_id, manual_id, observed_at, url, title, reason)"
            " VALUES (1, 1, ?, ?, ?, 'off-site link')",
            ("2026-11-24T09:00:00+00:00", f"https://elsewhere.example/{n}", f"Entry {n}"),
        )
    for n in (1, 2):
        at = datetime(2026, 11, 24, 9, n, tzinfo=UTC)
        record_review(db, n, status="acknowledged", impact="low", owner="lead", note=f"note {n}",
                      who="reviewer", now=at)  # fmt: skip
        log_action(db, who="reviewer", action="review", target=f"change {n}", now=at)
    db.execute(  # the second manual's listing (the demo's own is kept by its runs)
        "INSERT INTO listings (manual_id, body_sha256, rules, data) VALUES (2, 'f00d', '[]', ?)",
        ('{"url":"http://127.0.0.1:9/","title":"Second","chapters":[],"skipped":[]}',),
    )
    seal_pending(db)
    db.close()
    return path


@pytest.fixture
def copy(sealed_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copyfile(sealed_db, target)
    return target


def _failed(db: Path, *expected: str) -> str:
    result = run(db, "verify")
    assert result.exit_code != 0, result.output
    for text in expected:
        assert text in result.output, result.output
    return result.output


def _two_ids(db: Path, table: str) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        low, high = conn.execute(f"SELECT MIN(id), MAX(id) FROM {table}").fetchone()
    assert low is not None and low != high, f"{table} needs two rows"
    return int(low), int(high)


def test_a_clean_database_verifies_with_every_table_sealed(copy: Path) -> None:
    result = run(copy, "verify")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(copy) as conn:
        for table in SEALED:
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= 2, table
            unhashed = f"SELECT COUNT(*) FROM {table} WHERE row_hash IS NULL"
            assert conn.execute(unhashed).fetchone()[0] == 0, table


def test_compact_then_verify_stays_ok(copy: Path) -> None:
    assert run(copy, "compact").exit_code == 0
    result = run(copy, "verify")
    assert result.exit_code == 0 and "verify ok" in result.output, result.output


@pytest.mark.parametrize("table", list(SEALED))
def test_an_edited_value_is_caught(copy: Path, table: str) -> None:
    low, _ = _two_ids(copy, table)
    column = EDIT[table]
    with sqlite3.connect(copy) as conn:
        conn.execute(f"UPDATE {table} SET {column} = {column} || ' (forged)' WHERE id = ?", (low,))
    _failed(copy, f"{table} {low}: content does not match its row hash")


@pytest.mark.parametrize("table", list(SEALED))
def test_an_edit_with_a_recomputed_row_hash_is_caught(copy: Path, table: str) -> None:
    low, _ = _two_ids(copy, table)
    with sqlite3.connect(copy) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute(f"UPDATE {table} SET {EDIT[table]} = 'forged' WHERE id = ?", (low,))
        row = dict(conn.execute(f"SELECT * FROM {table} WHERE id = ?", (low,)).fetchone())
        conn.execute(
            f"UPDATE {table} SET row_hash = ? WHERE id = ?", (hash_of_row(table, row), low)
        )
    _failed(copy, f"{table} {low}: row hash differs from its seal")


@pytest.mark.parametrize("table", list(SEALED))
def test_a_deleted_row_is_caught(copy: Path, table: str) -> None:
    _, high = _two_ids(copy, table)
    with sqlite3.connect(copy) as conn:
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (high,))
    _failed(copy, f"{table} {high}: sealed but missing (row deleted)")


@pytest.mark.parametrize("table", list(SEALED))
def test_an_inserted_row_is_caught(copy: Path, table: str) -> None:
    low, high = _two_ids(copy, table)
    new = high + 100
    columns = ", ".join(SEALED[table])
    values = ", ".join(UNIQUE.get((table, c), c) for c in SEALED[table])
    with sqlite3.connect(copy) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute(
            f"INSERT INTO {table} (id, {columns}) SELECT ?, {values} FROM {table} WHERE id = ?",
            (new, low),
        )  # a copy of a genuine row, with a correct row hash: only the seals know it
        row = dict(conn.execute(f"SELECT * FROM {table} WHERE id = ?", (new,)).fetchone())
        conn.execute(
            f"UPDATE {table} SET row_hash = ? WHERE id = ?", (hash_of_row(table, row), new)
        )
    _failed(copy, f"{table} {new}: not covered by any seal (row inserted)")


@pytest.mark.parametrize("table", list(SEALED))
def test_two_rows_swapped_are_caught(copy: Path, table: str) -> None:
    low, high = _two_ids(copy, table)
    columns = [*SEALED[table], "row_hash"]
    with sqlite3.connect(copy) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"UPDATE {table} SET id = -1 WHERE id = ?", (low,))
        conn.execute(f"UPDATE {table} SET id = ? WHERE id = ?", (low, high))
        conn.execute(f"UPDATE {table} SET id = ? WHERE id = -1", (high,))
        assert conn.execute(f"SELECT {columns[0]} FROM {table} WHERE id = ?", (low,)).fetchone()
    _failed(
        copy,
        f"{table} {low}: content does not match its row hash",
        f"{table} {high}: content does not match its row hash",
    )


def test_a_removed_seal_is_caught(copy: Path) -> None:
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM seals WHERE id = 2")
    _failed(copy, "seal 3: prev_hash does not match seal 1")


def test_an_altered_seal_is_caught(copy: Path) -> None:
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE seals SET sealed_at = '2020-01-01T00:00:00+00:00' WHERE id = 2")
    _failed(copy, "seal 2: hash mismatch")


def _downgrade_to_0007(path: Path) -> None:
    """The database as a release before migration 0008 wrote it: no seals, no row hashes."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE seals")
        conn.execute("DROP TABLE listings")  # 0014
        for table in SEALED:
            if table != "listings":
                conn.execute(f"ALTER TABLE {table} DROP COLUMN row_hash")
        for column in ("display_name", "headers", "cookies", "user_agent"):  # 0009
            conn.execute(f"ALTER TABLE manuals DROP COLUMN {column}")
        conn.execute("DROP TABLE timestamps")  # 0010
        conn.execute("DROP TABLE alerts")  # 0011
        conn.execute("DELETE FROM _sqlite_migrations WHERE name >= '0008'")
        conn.execute("PRAGMA user_version = 7")


def test_rows_written_before_the_migration_are_sealed_once_by_it(copy: Path) -> None:
    _downgrade_to_0007(copy)
    assert run(copy, "manual", "list").exit_code == 0  # a write command migrates
    with sqlite3.connect(copy) as conn:  # 0008 seals every table, 0009 the manuals again
        # (their new columns), 0012 the derivations and unwatched entries, 0013 the web's tables
        assert conn.execute("SELECT COUNT(*) FROM seals").fetchone()[0] == 4
    result = run(copy, "verify")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE sections SET text = 'forged' WHERE id = 3")
    _failed(copy, "sections 3: content does not match its row hash")


def test_a_large_file_has_its_seals_checked_in_a_second_process(copy: Path) -> None:
    """The same findings whether the seals are checked beside the chain or after it."""
    from store import evidence  # noqa: PLC0415
    from store.db import open_db_readonly  # noqa: PLC0415

    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE chapters SET title = 'forged' WHERE id = 2")
        (sha,) = conn.execute("SELECT sha256 FROM bodies ORDER BY sha256 LIMIT 1").fetchone()
        conn.execute("UPDATE bodies SET data = X'00' WHERE sha256 = ?", (sha,))
    conn.close()
    db = open_db_readonly(copy)
    alone = evidence.verify(db, copy, parallel_from=1 << 62)
    beside = evidence.verify(db, copy, parallel_from=0)  # bodies and seals in two workers
    db.close()
    assert not beside.ok and beside == alone
    assert any("chapters 2: content does not match" in p for p in beside.problems)
    assert any(f"body {sha[:12]}" in p for p in beside.problems)
