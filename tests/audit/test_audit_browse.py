"""Datasette on 127.0.0.1 with the auditors' canned queries, queried over HTTP."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from amendwatch import audit
from amendwatch.errors import InputError
from store.db import open_db
from store.versions import version_chapter
from tests.audit.conftest import run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metadata_describes_every_table(built_db: Path) -> None:
    data = audit.browse_metadata(built_db)
    described = set(data["databases"][built_db.stem]["tables"])
    with sqlite3.connect(built_db) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        }
    assert tables <= described


def test_browse_serves_a_canned_query(built_db: Path, tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps(audit.browse_metadata(built_db)))
    port = free_port()
    command = audit.browse_command(built_db, metadata, port)
    assert command[command.index("-h") + 1] == "127.0.0.1"
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/{built_db.stem}/changes_in_period.json"
        params = {"since": "2026-11-09", "until": "2026-11-10", "_shape": "array"}
        rows = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and rows is None:
            try:
                answer = httpx.get(url, params=params, timeout=2)
                rows = answer.json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert rows is not None, "datasette did not answer"
        chapters = {row["chapter"] for row in rows}
        assert "Initial Child Protection Conferences" in chapters
        assert all(row["detected_at"].startswith("2026-11-09") for row in rows)
        stale = httpx.get(
            f"http://127.0.0.1:{port}/{built_db.stem}/chapters_not_checked_recently.json",
            params={"since": "2026-11-20", "_shape": "array"},
            timeout=5,
        ).json()
        assert stale == []  # every chapter still listed was checked on 2026-11-23
        assert_section_text_shown(built_db, port)
        assert_diff_shown(built_db, port, rows[0]["change_id"])
    finally:
        server.terminate()
        server.wait(timeout=10)


def stored_sections(db_path: Path, version_id: int) -> list[tuple[str | None, str]]:
    """(number, text) of a version's sections, read through the store."""
    db = open_db(db_path)
    try:
        row = next(db.query("SELECT * FROM versions WHERE id = ?", [version_id]))
        return [(s.number, s.text) for s in version_chapter(db, row).sections]
    finally:
        db.close()


def assert_section_text_shown(db_path: Path, port: int) -> None:
    """The canned queries show each section's text (the sections rows no longer hold it)."""
    base = f"http://127.0.0.1:{port}/{db_path.stem}"
    rows = httpx.get(
        f"{base}/chapter_as_of.json",
        params={"chapter": "Initial Child Protection", "as_of": "2026-11-10", "_shape": "array"},
        timeout=5,
    ).json()
    assert rows and len({row["version_id"] for row in rows}) == 1
    expected = stored_sections(db_path, rows[0]["version_id"])
    assert [(row["number"], row["text"]) for row in rows] == expected
    assert any(text.strip() for _, text in expected)
    history = httpx.get(
        f"{base}/section_history.json",
        params={"chapter": "Initial Child Protection", "section": "Who Should Attend",
                "_shape": "array"},
        timeout=5,
    ).json()  # fmt: skip
    assert len(history) >= 2 and len({row["number"] for row in history}) >= 2  # renumbered
    for row in history:
        assert row["text"] and (row["number"], row["text"]) in stored_sections(
            db_path, row["version_id"]
        )


def assert_diff_shown(db_path: Path, port: int, change_id: int) -> None:
    (row,) = httpx.get(
        f"http://127.0.0.1:{port}/{db_path.stem}/change_diff.json",
        params={"change_id": change_id, "_shape": "array"},
        timeout=5,
    ).json()
    assert json.loads(row["diff"])["kind"] == row["kind"]


def test_browse_without_datasette_says_what_to_install(
    built_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"amendwatch\[browse\]"):
        audit.browse_command(built_db, tmp_path / "m.json", 8001)
    result = run(built_db, "browse", "--port", "1")
    assert result.exit_code != 0 and "pip install 'amendwatch[browse]'" in result.output
