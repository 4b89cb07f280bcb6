"""Evidence packs, re-derivation and tamper detection through the CLI on a real database."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
import zlib
from pathlib import Path

from store.db import open_db
from store.observations import get_body
from store.versions import version_content
from tests.audit.conftest import run


def test_evidence_pack_has_captures_diff_drafts_and_a_manifest(
    db_copy: Path, tmp_path: Path
) -> None:
    assert run(db_copy, "draft", "--period", "2026-11", "--format", "json").exit_code == 0
    out = tmp_path / "pack.zip"
    result = run(
        db_copy, "export", "evidence", "Initial Child Protection", "--from", "2026-11-05",
        "--to", "2026-11-10", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as pack:
        names = set(pack.namelist())
        manifest = json.loads(pack.read("manifest.json"))
        for item in manifest["files"]:
            assert hashlib.sha256(pack.read(item["path"])).hexdigest() == item["sha256"]
        assert {item["path"] for item in manifest["files"]} == names - {
            "manifest.json",
            "SHA256SUMS",
        }
        before = pack.read("before/capture.html.txt").decode()
        after = pack.read("after/capture.html.txt").decode()
        diff = pack.read("diff/section-diff.txt").decode()
        drafts = json.loads(pack.read("drafts.json"))
        observation = json.loads(pack.read("after/observation.json"))
        sums = pack.read("SHA256SUMS").decode()
    assert "15 working days" in before and "10 working days" in after
    assert "Pre-birth Conferences" in diff
    assert drafts and "Initial Child Protection Conferences" in drafts[0]["chapter_title"]
    assert observation["observed_at"].startswith("2026-11-09T09:00")
    assert hashlib.sha256(after.encode()).hexdigest() == observation["body_sha256"]
    assert "  before/capture.html.txt" in sums


def test_rederive_records_derivations_never_changes(db_copy: Path) -> None:
    same = run(db_copy, "rederive")
    assert same.exit_code == 0 and "0 differ" in same.output
    with sqlite3.connect(db_copy) as conn:
        changes_before = conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    narrowed = run(db_copy, "rederive", "Initial Child Protection", "--selector", "h2, p")
    assert narrowed.exit_code == 0, narrowed.output
    with sqlite3.connect(db_copy) as conn:
        rows = conn.execute(
            "SELECT version_id, applied, old_hash, new_hash FROM derivations"
        ).fetchall()
        changes_after = conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    assert len(rows) == 2 and all(r[1] == 0 and r[2] != r[3] for r in rows)
    assert changes_after == changes_before


def _content(db: Path, version_id: int) -> tuple[str, str]:
    """(content JSON read through the store, derived_by) of a version."""
    store = open_db(db)
    try:
        row = next(store.query("SELECT * FROM versions WHERE id = ?", [version_id]))
        return version_content(store, row), str(row["derived_by"])
    finally:
        store.close()


def test_rederive_apply_keeps_the_original_in_derivations(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as conn:
        (version_id,) = conn.execute(
            "SELECT v.id FROM versions v JOIN chapters c ON c.id = v.chapter_id"
            " WHERE c.title LIKE 'Initial Child%' ORDER BY v.id LIMIT 1"
        ).fetchone()
    original, _ = _content(db_copy, version_id)
    result = run(db_copy, "rederive", "Initial Child Protection", "--selector", "h2, p", "--apply")
    assert "applied" in result.output
    now, derived_by = _content(db_copy, version_id)
    with sqlite3.connect(db_copy) as conn:
        kept = conn.execute(
            "SELECT old_content FROM derivations WHERE version_id = ?", (version_id,)
        ).fetchone()
    assert derived_by == "rederive" and now != original
    assert kept[0] == original
    assert run(db_copy, "verify").exit_code == 0


def read_body(db: Path, sha256: str) -> bytes:
    store = open_db(db)
    try:
        return get_body(store, sha256)
    finally:
        store.close()


def _verify_fails(db: Path, expected: str) -> None:
    result = run(db, "verify")
    assert result.exit_code != 0
    assert expected in result.output


def test_verify_detects_an_altered_row(db_copy: Path) -> None:
    assert run(db_copy, "verify").exit_code == 0
    with sqlite3.connect(db_copy) as conn:
        conn.execute("UPDATE observations SET status = 500 WHERE id = 5")
    _verify_fails(db_copy, "observation 5: hash mismatch")


def test_verify_detects_a_deleted_row(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as conn:
        conn.execute("DELETE FROM observations WHERE id = 7")
    _verify_fails(db_copy, "observation 8: prev_hash does not match observation 6")


def test_verify_detects_a_changed_body(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as conn:
        (sha,) = conn.execute("SELECT sha256 FROM bodies LIMIT 1").fetchone()
        body = read_body(db_copy, sha) + b"<!-- altered -->"
        conn.execute(
            "UPDATE bodies SET compression = 'zlib', data = ? WHERE sha256 = ?",
            (zlib.compress(body), sha),
        )
    _verify_fails(db_copy, f"body {sha[:12]}")
