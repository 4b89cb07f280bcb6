from __future__ import annotations

import zlib
from pathlib import Path

from store.db import open_db
from store.evidence import verify
from store.observations import observation_hash, record_observation
from tests.store.storekit import URL, day, page, seed


def _filled(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = open_db(tmp_path / "aw.db")
    manual, row = seed(db)
    for n in range(1, 6):
        record_observation(
            db,
            page(URL, f"body {n % 3}".encode(), day(n)),
            manual_id=manual.id,
            chapter_id=row.id,
            role="chapter",
            outcome="unchanged",
        )
    return db


def test_an_intact_database_verifies(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    result = verify(db)
    assert result.ok and result.problems == ()
    assert result.checked == 5 + 3  # five observations, three distinct bodies


def test_an_altered_row_is_detected(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    db.execute("UPDATE observations SET status = 404 WHERE id = 3")
    result = verify(db)
    assert not result.ok
    assert result.problems == ("observation 3: hash mismatch (row altered)",)


def test_an_altered_row_with_a_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    row = next(db.query("SELECT * FROM observations WHERE id = 2"))
    row["outcome"] = "failed"
    db.execute(
        "UPDATE observations SET outcome = ?, hash = ? WHERE id = 2",
        ["failed", observation_hash(row)],
    )
    assert verify(db).problems == (
        "observation 3: prev_hash does not match observation 2 (row removed?)",
    )


def test_a_deleted_row_is_detected(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    db.execute("DELETE FROM observations WHERE id = 4")
    result = verify(db)
    assert result.problems == (
        "observation 5: prev_hash does not match observation 3 (row removed?)",
    )
    db.execute("DELETE FROM observations WHERE id = 1")
    assert verify(db).problems[0] == (
        "observation 2: prev_hash does not match the start of the chain (row removed?)"
    )


def test_a_changed_body_is_detected(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    sha = next(db.query("SELECT sha256 FROM bodies ORDER BY sha256"))["sha256"]
    db.execute(
        "UPDATE bodies SET compression = 'zlib', data = ? WHERE sha256 = ?",
        [zlib.compress(b"forged"), sha],
    )
    result = verify(db)
    assert result.problems == (f"body {sha[:12]}: content does not match its hash",)
    db.execute("UPDATE bodies SET data = ? WHERE sha256 = ?", [b"not zlib", sha])
    assert "does not decompress" in verify(db).problems[0]


def test_two_connections_writing_in_turn_keep_one_valid_chain(tmp_path: Path) -> None:
    first = _filled(tmp_path)
    second = open_db(tmp_path / "aw.db")
    for n in range(6, 12):
        writer = first if n % 2 else second
        record_observation(
            writer,
            page(URL, f"body {n}".encode(), day(n)),
            manual_id=1,
            chapter_id=1,
            role="chapter",
            outcome="unchanged",
        )
    result = verify(second)
    assert result.ok, result.problems
    assert second["observations"].count == 11
