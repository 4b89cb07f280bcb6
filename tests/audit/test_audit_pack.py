"""Evidence pack (issue 15, part 4): validity of both versions, the chain head, VERIFY.md, and
a pack that ``sha256sum -c`` checks with nothing but standard tools."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.audit.conftest import AT2, AT3, AT4, run


def _pack(db: Path, out: Path, *args: str) -> zipfile.ZipFile:
    result = run(db, "export", "evidence", "Initial Child Protection", *args, "-o", str(out))
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def _head(db: Path) -> str:
    result = run(db, "verify")
    assert result.exit_code == 0, result.output
    return result.output.split("chain head: ")[1].split()[0]


def test_pack_validity_is_when_each_version_took_effect(db_copy: Path, tmp_path: Path) -> None:
    with _pack(db_copy, tmp_path / "p.zip", "--from", "2026-11-05", "--to", "2026-11-10") as p:
        summary = json.loads(p.read("summary.json"))
    before, after = summary["before"], summary["after"]
    assert before["valid_to"] == after["valid_from"]
    assert after["valid_from"].startswith(AT2[:16])  # took effect, not last seen
    with sqlite3.connect(db_copy) as conn:
        row = conn.execute(
            "SELECT valid_from, valid_to, last_seen FROM versions WHERE id = ?",
            (after["version"],),
        ).fetchone()
    assert (after["valid_from"], after["last_seen"]) == (row[0], row[2])
    assert after["valid_to"] == row[1]


def test_pack_current_version_is_open_and_carries_the_head(db_copy: Path, tmp_path: Path) -> None:
    with _pack(db_copy, tmp_path / "p.zip") as p:
        summary = json.loads(p.read("summary.json"))
        verify_md = p.read("VERIFY.md").decode()
        sums = p.read("SHA256SUMS").decode()
    assert summary["after"]["valid_to"] is None
    assert summary["after"]["last_seen"].startswith(AT4[:16])
    assert summary["after"]["valid_from"] <= AT3
    head = _head(db_copy)
    assert summary["chain_head"]["text"] == head
    assert head in verify_md and "sha256sum -c SHA256SUMS" in verify_md
    assert "verify --against" in verify_md
    assert "  VERIFY.md" in sums


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_pack_checks_with_sha256sum_alone(db_copy: Path, tmp_path: Path) -> None:
    with _pack(db_copy, tmp_path / "p.zip") as p:
        p.extractall(tmp_path / "unpacked")
    ok = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"],
        check=False,
        cwd=tmp_path / "unpacked",
        capture_output=True,
    )
    assert ok.returncode == 0, ok.stdout
    (tmp_path / "unpacked" / "summary.json").write_text("{}")
    bad = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"],
        check=False,
        cwd=tmp_path / "unpacked",
        capture_output=True,
    )
    assert bad.returncode != 0 and b"summary.json: FAILED" in bad.stdout


def _snippet(verify_md: str) -> str:
    """The Python check VERIFY.md gives for seals.json (its indented block)."""
    section = verify_md.split("## Seals of the rows this pack relies on", 1)[1]
    lines = [line[4:] for line in section.splitlines() if line.startswith("    ")]
    return "\n".join(lines)


def _check_seals(folder: Path, verify_md: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3", "-c", _snippet(verify_md)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_pack_carries_the_seals_of_its_rows_checkable_with_the_stdlib(
    db_copy: Path, tmp_path: Path
) -> None:
    with _pack(db_copy, tmp_path / "p.zip", "--from", "2026-11-05", "--to", "2026-11-10") as p:
        p.extractall(tmp_path / "pack")
        verify_md = p.read("VERIFY.md").decode()
        pack = json.loads(p.read("seals.json"))
        summary = json.loads(p.read("summary.json"))
    tables = {(row["table"], row["id"]) for row in pack["rows"]}
    versions = {summary["before"]["version"], summary["after"]["version"]}
    assert {("versions", v) for v in versions} <= tables
    assert any(table == "sections" for table, _ in tables)
    assert any(table == "changes" for table, _ in tables)
    assert all(row["row_hash"] == row["recomputed"] for row in pack["rows"])
    done = _check_seals(tmp_path / "pack", verify_md)
    assert done.returncode == 0, done.stderr
    # a forged value in the pack no longer matches its row hash
    pack["rows"][0]["values"][1] = "forged"
    (tmp_path / "pack" / "seals.json").write_text(json.dumps(pack))
    assert _check_seals(tmp_path / "pack", verify_md).returncode != 0
