"""Compact storage (schema 6): delta bodies, versions compressed with their capture as the
dictionary, sections rows without text, compressed diffs; old-style rows still read."""

from __future__ import annotations

import hashlib
import io
import json
import random
from typing import Any

import pytest
import zstandard
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from amendwatch.errors import IntegrityError
from differ.chapter import diff_chapters
from store.codec import diff_to_json, dumps, pack_content
from store.evidence import verify
from store.export import WarcScope, export_warc
from store.history import changes_in, get_version, scope_summary, section_timeline, version_as_of
from store.observations import _BaseCache, get_body, record_observation, store_body
from store.versions import record_change, version_content
from tests.store.storekit import URL, chapter, day, new_db, observe_version, page, sec, seed

RNG = random.Random(5)
WORDS = [
    "child",
    "plan",
    "conference",
    "review",
    "referral",
    "social",
    "care",
    "assessment",
    "within",
    "days",
]


def html_page(paragraphs: int, footer: str = "", seed_: int = 0) -> bytes:
    rng = random.Random(seed_)
    text = "".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(30))}</p>\n" for _ in range(paragraphs)
    )
    return f"<html><body><main>{text}</main><footer>{footer}</footer></body></html>".encode()


def capture(db: Database, manual_id: int, chapter_id: int, body: bytes, n: int) -> str:
    record_observation(
        db,
        page(URL, body, day(n)),
        manual_id=manual_id,
        chapter_id=chapter_id,
        role="chapter",
        outcome="unchanged",
    )
    return hashlib.sha256(body).hexdigest()


def body_row(db: Database, sha: str) -> dict[str, Any]:
    return dict(next(db.query("SELECT * FROM bodies WHERE sha256 = ?", [sha])))


def test_a_small_change_is_stored_as_a_delta_against_a_whole_base() -> None:
    db = new_db()
    manual, row = seed(db)
    first = html_page(200)
    shas = [
        capture(db, manual.id, row.id, first.replace(b"</main>", f"{n}</main>".encode()), n)
        for n in range(4)
    ]
    rows = [body_row(db, sha) for sha in shas]
    assert rows[0]["base_sha256"] is None
    assert all(r["base_sha256"] == shas[0] for r in rows[1:])  # depth 1: always the base
    assert all(len(r["data"]) * 16 < len(first) for r in rows[1:])
    for n, sha in enumerate(shas):
        assert get_body(db, sha) == first.replace(b"</main>", f"{n}</main>".encode())
    assert verify(db).ok


def test_a_large_change_is_stored_whole_and_becomes_the_base() -> None:
    db = new_db()
    manual, row = seed(db)
    old, new = html_page(200, seed_=1), html_page(200, seed_=2)
    capture(db, manual.id, row.id, old, 0)
    new_sha = capture(db, manual.id, row.id, new, 1)
    assert body_row(db, new_sha)["base_sha256"] is None
    later = capture(db, manual.id, row.id, new + b"<!-- x -->", 2)
    assert body_row(db, later)["base_sha256"] == new_sha
    assert get_body(db, new_sha) == new and get_body(db, later) == new + b"<!-- x -->"


def test_dynamic_footer_captures_cost_little_more_than_one() -> None:
    db = new_db()
    manual, row = seed(db)
    bodies = [html_page(150, footer=f"{n} {RNG.getrandbits(64):x}") for n in range(10)]
    for n, body in enumerate(bodies):
        capture(db, manual.id, row.id, body, n)
    stored = sum(len(r["data"]) for r in db.query("SELECT data FROM bodies"))
    one = len(zstandard.ZstdCompressor(level=3).compress(bodies[0]))
    assert db["bodies"].count == 10 and stored < 1.2 * one
    assert [get_body(db, hashlib.sha256(b).hexdigest()) for b in bodies] == bodies


@pytest.mark.parametrize("damaged", ["delta", "base"])
def test_a_damaged_delta_or_base_raises_and_verify_reports_it(damaged: str) -> None:
    db = new_db()
    base = html_page(100)
    base_sha = store_body(db, base)
    delta_sha = store_body(db, base + b"<p>more</p>", base=base_sha)
    assert body_row(db, delta_sha)["base_sha256"] == base_sha
    target = delta_sha if damaged == "delta" else base_sha
    data = bytearray(body_row(db, target)["data"])
    data[len(data) // 2] ^= 0xFF
    db.execute("UPDATE bodies SET data = ? WHERE sha256 = ?", [bytes(data), target])
    with pytest.raises(IntegrityError):
        get_body(db, delta_sha)
    result = verify(db)
    assert not result.ok and any(delta_sha[:12] in p for p in result.problems)


def test_version_content_uses_its_capture_as_dictionary_and_sections_hold_no_text() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = chapter("Pre-birth Procedure", sec("1", "Scope", "Applies to unborn babies. " * 40))
    stored = observe_version(db, row, v1, day(1), None)
    version = next(db.query("SELECT * FROM versions WHERE id = ?", [stored.id]))
    capture_sha = next(db.query("SELECT body_sha256 FROM observations"))["body_sha256"]
    assert version["content_dict"] == capture_sha
    assert len(version["content"]) < len(pack_content(v1))  # the dictionary pays
    assert version_content(db, version) == v1.content_json()
    assert get_version(db, stored.id).chapter == v1
    sections = list(db.query("SELECT text, links FROM sections"))
    assert sections == [{"text": "", "links": "[]"}]
    assert scope_summary(db, stored.id).startswith("Applies to unborn babies.")


def test_an_old_style_version_row_still_reads() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = chapter("Pre-birth Procedure", sec("1", "Scope", "Old text."), sec("2", "B", "More."))
    stored = observe_version(db, row, v1, day(1), None)
    db.execute(  # as an older release wrote it: plain JSON text, no dictionary
        "UPDATE versions SET content = ?, content_dict = NULL WHERE id = ?",
        [v1.content_json(), stored.id],
    )
    db.execute("UPDATE sections SET text = 'stale copy' WHERE version_id = ?", [stored.id])
    assert get_version(db, stored.id).chapter == v1
    assert version_as_of(db, row.id, day(2)).version == get_version(db, stored.id)
    assert [e.text for e in section_timeline(db, row.id, "2")] == ["More."]


def test_history_as_of_and_lineage_give_the_text_from_the_content() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = chapter("T", sec("1", "Scope", "First scope."), sec("2", "Review", "Reviewed yearly."))
    v2 = chapter(
        "T",
        sec("1", "Scope", "First scope."),
        sec("2", "New", "Inserted."),
        sec("3", "Review", "Reviewed monthly."),
    )
    s1 = observe_version(db, row, v1, day(1), None)
    diff = diff_chapters(v1, v2, old_version=s1.id, new_version=None)
    s2 = observe_version(db, row, v2, day(5), s1, diff.pairs)
    timeline = section_timeline(db, row.id, "Review")
    assert [(e.number, e.text) for e in timeline] == [
        ("2", "Reviewed yearly."),
        ("3", "Reviewed monthly."),
    ]
    assert version_as_of(db, row.id, day(3)).version.chapter == v1  # type: ignore[union-attr]
    assert version_as_of(db, row.id, day(6)).version.chapter == v2  # type: ignore[union-attr]
    assert s2.lineage[2] == s1.lineage[1]


def test_a_diff_round_trips_compressed_and_an_old_json_row_still_reads() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = chapter("T", sec("1", "Scope", "Within 15 working days. " * 20))
    v2 = chapter("T", sec("1", "Scope", "Within 10 working days. " * 20))
    s1 = observe_version(db, row, v1, day(1), None)
    s2 = observe_version(db, row, v2, day(2), s1)
    diff = diff_chapters(v1, v2, old_version=s1.id, new_version=s2.id)
    change_id = record_change(db, diff, chapter_id=row.id, detected_at=day(2), run_id=None)
    (stored,) = db.execute("SELECT diff FROM changes WHERE id = ?", [change_id]).fetchone()
    assert isinstance(stored, bytes) and len(stored) < len(dumps(diff_to_json(diff)))
    assert [c.diff for c in changes_in(db, day(0), day(9))] == [diff]
    db.execute(
        "UPDATE changes SET diff = ? WHERE id = ?", [json.dumps(diff_to_json(diff)), change_id]
    )
    assert [c.diff for c in changes_in(db, day(0), day(9))] == [diff]


def test_a_delta_against_a_delta_uses_the_whole_base_and_warc_export_gives_raw_bytes() -> None:
    db = new_db()
    manual, row = seed(db)
    bodies = [html_page(120, footer=f"token {n}") for n in range(3)]
    shas = [capture(db, manual.id, row.id, body, n) for n, body in enumerate(bodies)]
    again = store_body(db, bodies[0] + b"<!-- again -->", base=shas[2])  # shas[2] is a delta
    assert body_row(db, again)["base_sha256"] == shas[0]
    out = io.BytesIO()
    summary = export_warc(db, WarcScope(), out, filename="t.warc.gz", software="test")
    out.seek(0)
    payloads = [
        record.content_stream().read()
        for record in ArchiveIterator(out)
        if record.rec_type == "response"
    ]
    assert summary.responses == 3 and payloads == bodies


def test_the_base_cache_keeps_verified_bytes_within_its_budget() -> None:
    cache = _BaseCache(budget=400)
    for name in "abcde":
        cache.put(name, name.encode() * 90)  # 5 x 90 > 400: the oldest goes
    assert cache.get("a") is None
    assert [cache.get(name) for name in "bcde"] == [name.encode() * 90 for name in "bcde"]
    cache.put("huge", b"x" * 200)  # more than a quarter of the budget: never cached
    assert cache.get("huge") is None


def test_a_cached_read_never_hides_tampering_from_an_uncached_read() -> None:
    db = new_db()
    body = html_page(40)
    digest = store_body(db, body)
    assert get_body(db, digest, cached=True) == body
    db.execute("UPDATE bodies SET data = ? WHERE sha256 = ?", (zstandard.compress(b"x"), digest))
    with pytest.raises(IntegrityError):
        get_body(db, digest)
    assert get_body(db, digest, cached=True) == body  # verified when it was first read
