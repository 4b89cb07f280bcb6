"""WARC export read back with warcio (digests checked), and WARC import (backfill)."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from amendwatch.demo.server import DemoServer
from store import lock
from tests.audit.conftest import AT1, AT2, AT4, build, run


def export(db: Path, out: Path, *args: str) -> str:
    result = run(db, "export", "warc", "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return result.output


def records(path: Path) -> list[tuple[str, dict[str, str], bytes]]:
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            headers = dict(record.rec_headers.headers)
            found.append((record.rec_type, headers, record.content_stream().read()))
    return found


def sha1_digest(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def test_export_round_trips_through_warcio(built_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.warc.gz"
    export(built_db, out)
    found = records(out)
    assert found[0][0] == "warcinfo"
    kinds = [kind for kind, _, _ in found]
    assert {"request", "response", "revisit"} <= set(kinds)
    with sqlite3.connect(built_db) as conn:
        captures = conn.execute(
            "SELECT COUNT(*) FROM observations WHERE body_sha256 IS NOT NULL"
        ).fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT body_sha256) FROM observations").fetchone()[
            0
        ]
    assert kinds.count("response") == distinct
    assert kinds.count("response") + kinds.count("revisit") == captures
    assert kinds.count("request") == captures
    responses = {}
    for kind, headers, body in found:
        if kind == "response":
            assert headers["WARC-Payload-Digest"] == sha1_digest(body)
            responses[headers["WARC-Payload-Digest"]] = headers
        if kind == "revisit":
            assert headers["WARC-Profile"].endswith("identical-payload-digest")
            assert headers["WARC-Payload-Digest"] in responses
    assert found[1][1]["WARC-Date"].startswith("2026-11-02T09:00:00")


def test_export_of_one_chapter_in_a_period(built_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "icpc.warc.gz"
    text = export(
        built_db, out, "--chapter", "Initial Child Protection", "--since", "2026-11-09",
        "--until", "2026-11-09",
    )  # fmt: skip
    assert "1 responses" in text
    uris = {h["WARC-Target-URI"] for kind, h, _ in records(out) if kind == "response"}
    assert uris == {u for u in uris if u.endswith("/initial-child-protection-conferences.html")}
    assert len(uris) == 1


def test_304_observations_become_server_not_modified_revisits(tmp_path: Path) -> None:
    db = build(tmp_path / "validators.db", validators=True)
    out = tmp_path / "v.warc.gz"
    export(db, out)
    profiles = [h.get("WARC-Profile", "") for kind, h, _ in records(out) if kind == "revisit"]
    assert any(p.endswith("server-not-modified") for p in profiles)


def test_import_backfills_history_with_capture_dates(built_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.warc.gz"
    export(built_db, archive)
    fresh = tmp_path / "fresh.db"
    assert (
        run(fresh, "manual", "add", "northmoor", _contents_url(built_db), "--no-check").exit_code
        == 0
    )
    result = run(fresh, "import", "warc", str(archive), "--manual", "northmoor")
    assert result.exit_code == 0, result.output
    assert "new versions" in result.output
    history = run(fresh, "history", "Initial Child Protection").output
    assert history.count("  v") == 2 and "from 2026-11-02 09:00" in history
    shown = run(fresh, "show", "Initial Child Protection", "--as-of", "2026-11-05").output
    assert "15 working days" in shown
    with sqlite3.connect(fresh) as conn:
        imported = conn.execute("SELECT COUNT(*), MIN(imported) FROM observations").fetchone()
        changes = conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    assert imported[0] > 0 and imported[1] == 1
    assert changes >= 3  # ICPC, Domestic Abuse, Review Conferences, ... re-detected
    assert run(fresh, "verify").exit_code == 0
    again = run(fresh, "import", "warc", str(archive))
    assert "imported 0 captures" in again.output  # already stored: idempotent


def _archive_and_monitor(
    tmp_path: Path, archived: tuple[tuple[int, str], ...], monitored: tuple[tuple[int, str], ...]
) -> tuple[Path, Path]:
    """Snapshot ``archived`` (edition, time) into a scratch database and export it as a WARC;
    snapshot ``monitored`` into another database (the same loopback site, so the same URLs)."""
    archive, scratch, live = tmp_path / "early.warc.gz", tmp_path / "s.db", tmp_path / "m.db"
    with DemoServer(validators=False, dynamic=False) as server:
        for db in (scratch, live):
            run(db, "manual", "add", "northmoor", f"{server.base_url}/")
        for db, plan in ((scratch, archived), (live, monitored)):
            for edition, at in plan:
                server.set_edition(edition)
                assert run(db, "snapshot", "--at", at).exit_code == 0
    export(scratch, archive)
    return archive, live


def test_import_older_captures_become_history_before_monitoring(tmp_path: Path) -> None:
    archive, live = _archive_and_monitor(tmp_path, ((1, AT1), (2, AT2)), ((3, AT4),))
    result = run(live, "import", "warc", str(archive))
    assert result.exit_code == 0, result.output
    icpc = run(live, "history", "Initial Child Protection").output
    assert icpc.count("  v") == 2  # edition 1, then edition 2 (= the monitored content)
    assert "from 2026-11-02 09:00  to 2026-11-09 09:00" in icpc
    lineage = run(live, "history", "Initial Child Protection", "--section", "Conduct").output
    assert "8 Conduct of the Conference" in lineage and "9 Conduct of the Conference" in lineage
    assert len({line.rsplit(" ", 1)[-1] for line in lineage.splitlines()[1:]}) == 1
    dogs = run(live, "history", "Keeping Children Safe").output
    assert dogs.count("  v") == 2 and "renamed" in dogs
    shown = run(live, "show", "Initial Child Protection", "--as-of", "2026-11-05").output
    assert "15 working days" in shown
    assert run(live, "verify").exit_code == 0


def test_import_refuses_captures_that_would_interleave(tmp_path: Path) -> None:
    archive, live = _archive_and_monitor(tmp_path, ((2, AT2),), ((1, AT1), (3, AT4)))
    before = run(live, "history", "Initial Child Protection").output
    result = run(live, "import", "warc", str(archive))
    assert result.exit_code == 0
    assert "older than the chapter's latest observation" in result.output
    assert run(live, "history", "Initial Child Protection").output == before
    assert run(live, "verify").exit_code == 0


def _contents_url(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT contents_url FROM manuals").fetchone()[0])


def test_at_is_the_first_capture_date() -> None:
    assert AT1.startswith("2026-11-02")


def test_import_is_refused_while_a_snapshot_holds_the_lock(built_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.warc.gz"
    export(built_db, archive)
    fresh = tmp_path / "fresh.db"
    assert (
        run(fresh, "manual", "add", "northmoor", _contents_url(built_db), "--no-check").exit_code
        == 0
    )
    with lock.hold(fresh, "manual snapshot", datetime(2026, 11, 23, tzinfo=UTC)):
        result = run(fresh, "import", "warc", str(archive), "--manual", "northmoor")
    assert result.exit_code == 1
    assert "holds the lock" in result.output and "manual snapshot" in result.output
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
