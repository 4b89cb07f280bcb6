"""`compact`: an older database (whole zlib bodies, plain or standalone content, filled
sections text, JSON diffs) is brought to the compact form without losing anything."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import zstandard
from click.testing import CliRunner
from sqlite_utils import Database

from amendwatch.cli import cli
from amendwatch.errors import StoreError
from differ.chapter import diff_chapters
from scraper.models import Chapter, ChapterRef, Link
from store import compact as compaction
from store import lock
from store.codec import compress, diff_json, diff_to_json, links_to_json, unpack_diff
from store.db import open_db
from store.evidence import verify
from store.history import changes_in, get_version, section_timeline, version_as_of
from store.manuals import add_manual
from store.models import StoredVersion
from store.observations import get_body, record_observation
from store.versions import record_change, upsert_chapter, version_chapter, version_content
from tests.store.storekit import T0, day, observe_unchanged, observe_version, page, sec

WORDS = ["child", "plan", "conference", "review", "referral", "social", "care", "within"]
CHAPTERS = 3
EDITIONS = 5


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def edition(number: int, n: int) -> Chapter:
    """Chapter ``number`` in edition ``n``: section n is reworded; edition 3 is rewritten."""
    rng = random.Random(number * 100 + (7 if n >= 3 else 0))
    texts = [words(rng, 250) for _ in range(6)]
    for k in range(1, n + 1):
        texts[k % 6] += f" Amended in edition {k}."
    url = f"https://example.proceduresonline.com/chapters/c{number}.html"
    return Chapter(
        url=url,
        title=f"Chapter {number}",
        sections=tuple(sec(str(i + 1), f"Section {i + 1}", t) for i, t in enumerate(texts)),
        links=(Link("Home", "https://x/"),),
    )


def build(db: Database) -> None:
    """Several chapters, each with several versions, changes, unchanged and footer captures."""
    manual = add_manual(db, "tri-x", "https://tri-x.example.org/contents.html", now=T0)
    for number in range(CHAPTERS):
        first = edition(number, 0)
        ref = ChapterRef(url=first.url, title=first.title, number=str(number + 1))
        row = upsert_chapter(db, manual.id, ref, T0)
        previous: StoredVersion | None = None
        for n in range(EDITIONS):
            content, when = edition(number, n), day(n * 3 + number / 10)
            diff = (
                diff_chapters(previous.chapter, content, old_version=previous.id, new_version=None)
                if previous
                else None
            )
            stored = observe_version(db, row, content, when, previous, diff.pairs if diff else ())
            if diff is not None:
                record_change(
                    db, replace(diff, new_version=stored.id), chapter_id=row.id,
                    detected_at=when, run_id=None,
                )  # fmt: skip
            observe_unchanged(db, row, stored, day(n * 3 + 1))
            footer = content.content_json().encode() + f"<!-- {n} {number} -->".encode()
            record_observation(
                db, page(row.url, footer, day(n * 3 + 2)), manual_id=manual.id,
                chapter_id=row.id, role="chapter", outcome="unchanged",
            )  # fmt: skip
            previous = stored


def make_old_style(db: Database) -> None:
    """Rewrite every row as the first release stored it."""
    versions = list(db.query("SELECT * FROM versions ORDER BY id"))
    chapters = {v["id"]: version_chapter(db, v) for v in versions}
    for v in versions:
        text = version_content(db, v)
        content: object = text if v["id"] % 2 else zstandard.compress(text.encode())
        db.execute(
            "UPDATE versions SET content = ?, content_dict = NULL WHERE id = ?", [content, v["id"]]
        )
        for ordinal, section in enumerate(chapters[v["id"]].sections):
            db.execute(
                "UPDATE sections SET text = ?, links = ? WHERE version_id = ? AND ordinal = ?",
                [section.text, json.dumps(links_to_json(section.links)), v["id"], ordinal],
            )
    for change in list(db.query("SELECT id, diff FROM changes")):
        text = json.dumps(diff_to_json(unpack_diff(change["diff"])))
        db.execute("UPDATE changes SET diff = ? WHERE id = ?", [text, change["id"]])
    raw = {r["sha256"]: get_body(db, r["sha256"]) for r in db.query("SELECT sha256 FROM bodies")}
    for sha, body in raw.items():
        db.execute(
            "UPDATE bodies SET compression = 'zlib', data = ?, base_sha256 = NULL WHERE sha256 = ?",
            [zlib.compress(body), sha],
        )


def old_database(path: Path) -> Database:
    db = open_db(path)
    build(db)
    make_old_style(db)
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def readings(db: Database) -> dict[str, Any]:
    """Everything a reader can get out of the store, through the readers."""
    versions = list(db.query("SELECT * FROM versions ORDER BY id"))
    timelines = {
        (v["chapter_id"], number): section_timeline(db, v["chapter_id"], number)
        for v in versions
        for number in ("1", "2", "4")
    }
    return {
        "bodies": {r[0]: get_body(db, r[0]) for r in db.execute("SELECT sha256 FROM bodies")},
        "content": {v["id"]: version_content(db, v) for v in versions},
        "versions": {v["id"]: get_version(db, v["id"]) for v in versions},
        "timelines": timelines,
        "as_of": [version_as_of(db, v["chapter_id"], day(n)) for v in versions for n in (2, 8)],
        "diffs": {r[0]: diff_json(r[1]) for r in db.execute("SELECT id, diff FROM changes")},
        "changes": changes_in(db, day(-1), day(99)),
        "chain": list(db.execute("SELECT id, body_sha256, hash FROM observations ORDER BY id")),
    }


def dump(db: Database) -> dict[str, list[Any]]:
    return {
        table: list(db.execute(f"SELECT * FROM {table} ORDER BY rowid"))
        for table in ("bodies", "versions", "sections", "changes", "observations")
    }


@pytest.fixture(scope="module")
def compacted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("compact") / "old.db"
    db = old_database(path)
    before, size = readings(db), path.stat().st_size
    calls: list[tuple[str, int, int]] = []
    result = compaction.compact(db, progress=lambda *call: calls.append(call), batch_size=8)
    return {"db": db, "path": path, "before": before, "size": size, "result": result,
            "progress": calls}  # fmt: skip


def test_compact_loses_nothing_and_verify_passes(compacted: dict[str, Any]) -> None:
    db = compacted["db"]
    assert verify(db).ok
    assert readings(db) == compacted["before"]


def test_compact_rewrites_every_kind_into_the_compact_form(compacted: dict[str, Any]) -> None:
    db, result = compacted["db"], compacted["result"]
    counts = {table: db[table].count for table in ("bodies", "versions", "changes")}
    assert result.bodies.rewritten == counts["bodies"]  # every zlib body
    assert result.versions.rewritten == counts["versions"]
    assert result.changes.rewritten == counts["changes"]
    assert result.sections.rewritten == db["sections"].count and result.sections.kept == 0
    assert all(k.bytes_after < k.bytes_before for k in result.kinds)
    deltas = db.execute("SELECT count(*) FROM bodies WHERE base_sha256 IS NOT NULL").fetchone()
    assert deltas[0] >= counts["bodies"] // 2
    assert db.execute(  # bases stay whole
        "SELECT count(*) FROM bodies d JOIN bodies b ON b.sha256 = d.base_sha256"
        " WHERE b.base_sha256 IS NOT NULL"
    ).fetchone() == (0,)
    assert db.execute("SELECT DISTINCT compression FROM bodies").fetchall() == [("zstd",)]
    assert db.execute(
        "SELECT count(*) FROM versions v JOIN observations o ON o.id = v.observation_id"
        " WHERE v.content_dict IS NOT o.body_sha256 OR typeof(v.content) != 'blob'"
    ).fetchone() == (0,)
    assert db.execute("SELECT DISTINCT text, links FROM sections").fetchall() == [("", "[]")]
    assert db.execute("SELECT DISTINCT typeof(diff) FROM changes").fetchall() == [("blob",)]
    done = {kind: [(n, total) for k, n, total in compacted["progress"] if k == kind]
            for kind in compaction.KINDS}  # fmt: skip
    assert done["bodies"] == [(8, 30), (16, 30), (24, 30), (30, 30)]
    assert all(seen[-1][0] == seen[-1][1] for seen in done.values())


def test_compact_shrinks_the_file(compacted: dict[str, Any]) -> None:
    result, path = compacted["result"], compacted["path"]
    assert path.stat().st_size < compacted["size"] / 2
    assert result.size_before == compacted["size"]
    assert result.size_after == path.stat().st_size < result.size_before


def test_a_second_compact_changes_nothing(compacted: dict[str, Any]) -> None:
    db = compacted["db"]
    rows = dump(db)
    again = compaction.compact(db)
    assert again.rewritten == 0 and again.sections.kept == 0
    assert dump(db) == rows


def test_an_interrupted_compact_verifies_and_finishes_on_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compacted: dict[str, Any]
) -> None:
    db = old_database(tmp_path / "old.db")
    before = readings(db)
    calls = {"n": 0}

    def failing(data: bytes, level: int, dictionary: bytes | None = None) -> bytes:
        calls["n"] += 1
        if calls["n"] == 5:  # in the second batch of bodies
            raise sqlite3.OperationalError("disk I/O error")
        return compress(data, level, dictionary)

    monkeypatch.setattr(compaction, "compress", failing)
    with pytest.raises(StoreError, match="run `amendwatch compact` again"):
        compaction.compact(db, batch_size=3)
    zlib_left = db.execute("SELECT count(*) FROM bodies WHERE compression = 'zlib'").fetchone()[0]
    assert 0 < zlib_left == db["bodies"].count - 3  # the first batch only
    assert verify(db).ok and readings(db) == before
    monkeypatch.setattr(compaction, "compress", compress)
    resumed = compaction.compact(db, batch_size=3)
    assert resumed.bodies.rewritten == zlib_left and verify(db).ok
    assert readings(db) == before
    assert dump(db) == dump(compacted["db"])  # the same as one uninterrupted run
    assert compaction.compact(db, batch_size=3).rewritten == 0


def test_a_body_that_is_a_base_never_becomes_a_delta() -> None:
    db = open_db(None)
    url = "https://example.org/c.html"
    bodies = [words(random.Random(1), 400).encode() + f" edition {n}".encode() for n in range(3)]
    for n, body in enumerate(bodies):
        record_observation(db, page(url, body, day(n)), manual_id=None, chapter_id=None,
                           role="chapter", outcome="unchanged")  # fmt: skip
    shas = [hashlib.sha256(body).hexdigest() for body in bodies]
    db.execute(  # bodies[1] whole and the base of bodies[2], as a later release stored them
        "UPDATE bodies SET compression = 'zstd', data = ?, base_sha256 = NULL WHERE sha256 = ?",
        [compress(bodies[1], 3), shas[1]],
    )
    db.execute(
        "UPDATE bodies SET compression = 'zstd', data = ?, base_sha256 = ? WHERE sha256 = ?",
        [compress(bodies[2], 3, bodies[1]), shas[1], shas[2]],
    )
    rows = dump(db)["bodies"]
    assert compaction.compact(db).bodies.rewritten == 0
    assert dump(db)["bodies"] == rows and verify(db).ok


def test_sections_that_disagree_with_the_content_are_kept(tmp_path: Path) -> None:
    db = old_database(tmp_path / "old.db")
    db.execute("UPDATE sections SET text = 'stale copy' WHERE version_id = 1 AND ordinal = 0")
    result = compaction.compact(db)
    kept = db.execute("SELECT count(*) FROM sections WHERE version_id = 1").fetchone()[0]
    assert result.sections.kept == kept
    assert db.execute(
        "SELECT count(*) FROM sections WHERE text != '' AND version_id != 1"
    ).fetchone() == (0,)
    assert get_version(db, 1).chapter.sections[0].text != "stale copy"


def test_cli_compact_prints_each_kind_and_the_sizes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path).close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "compact"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [*compaction.KINDS, "database"]
    assert not lines[0].startswith("bodies: 0 ") and "->" in lines[-1]
    checked = runner.invoke(cli, ["--db", str(path), "verify"], catch_exceptions=False)
    assert checked.exit_code == 0 and "verify ok" in checked.output
    again = runner.invoke(cli, ["--db", str(path), "compact"], catch_exceptions=False)
    assert all(" 0 rewritten" in line for line in again.output.splitlines()[:4])


def test_cli_compact_refuses_while_a_snapshot_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path).close()
    with lock.hold(path, "manual snapshot", T0):
        result = CliRunner().invoke(cli, ["--db", str(path), "compact"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert "manual snapshot" in line and "retry when it has finished" in line
    db = open_db(path)
    assert db.execute("SELECT DISTINCT compression FROM bodies").fetchall() == [("zlib",)]
