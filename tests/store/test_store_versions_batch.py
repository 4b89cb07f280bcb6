"""The batched store paths of issue 18: ``versions.upsert_chapters`` (a whole contents listing
in a few statements) does what a loop of ``upsert_chapter`` did; ``versions.add_version``
returns the version it stored without reading it back, and that is what ``load_version``
reads; ``db.durable_at_the_end`` relaxes ``PRAGMA synchronous`` inside a run only."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.runcontext import ChapterOutcome
from scraper.models import Chapter, ChapterRef, Link, Section
from store.db import durable_at_the_end, open_db
from store.manuals import add_manual
from store.models import ChapterRow, StoredVersion
from store.observations import record_observation
from store.rows import fetch_all, fetch_one, to_db_time
from store.sealcheck import check_seals
from store.seals import seal_pending
from store.versions import (
    add_version,
    get_chapter,
    load_version,
    mark_removed,
    note_missing,
    upsert_chapter,
    upsert_chapters,
)
from tests.integration.minisite import MiniSite, chapter_html, contents_html
from tests.store.storekit import T0, chapter, day, new_db, observe_version, page, sec, seed

BASE = "https://m.example/chapters"
NORMAL, FULL = 1, 2


def ref(
    name: str, title: str | None = None, number: str | None = None, part: str | None = None
) -> ChapterRef:
    return ChapterRef(f"{BASE}/{name}.html", title or name.upper(), number, part)


def manual_in(db: Database, name: str = "m") -> int:
    return add_manual(db, name, f"https://{name}.example/contents.html", now=T0).id


def chapter_rows(db: Database, manual_id: int) -> list[dict[str, object]]:
    """Every column of the manual's chapters but ``row_hash`` (the seal's, checked apart)."""
    rows = fetch_all(db, "SELECT * FROM chapters WHERE manual_id = ? ORDER BY id", (manual_id,))
    return [{k: v for k, v in row.items() if k != "row_hash"} for row in rows]


def looped(db: Database, manual_id: int, refs: list[ChapterRef], now: datetime) -> list[ChapterRow]:
    """What the pipeline did before: ``upsert_chapter`` per listed chapter (one row per URL,
    the latest answer for it, in first-listed order)."""
    rows = {r.url: r for r in (upsert_chapter(db, manual_id, one, now) for one in refs)}
    return [rows[url] for url in dict.fromkeys(one.url for one in refs)]


# upsert_chapters ---------------------------------------------------------------------------


def test_new_chapters_are_inserted_in_listing_order_with_one_stamp() -> None:
    db = new_db()
    manual_id = manual_in(db)
    refs = [ref("c", number="1.3"), ref("a", part="Part 1"), ref("b", "Referrals", "1.2")]
    rows = upsert_chapters(db, manual_id, refs, day(1))
    assert [r.url for r in rows] == [one.url for one in refs]
    assert [r.id for r in rows] == sorted(r.id for r in rows)  # inserted as listed
    assert [(r.title, r.number, r.part) for r in rows] == [
        (one.title, one.number, one.part) for one in refs
    ]
    for row in rows:
        assert (row.first_seen, row.last_listed) == (day(1), day(1))
        assert (row.removed_at, row.missing_count) == (None, 0)
        assert row == get_chapter(db, row.id)


def test_a_chapter_listed_as_before_only_has_its_listing_time_moved() -> None:
    db = new_db()
    manual_id = manual_in(db)
    refs = [ref("a", number="1.1", part="P"), ref("b", number="1.2", part="P"), ref("c")]
    first = upsert_chapters(db, manual_id, refs, day(1))
    again = upsert_chapters(db, manual_id, refs, day(2))
    assert [r.id for r in again] == [r.id for r in first]
    assert [replace(r, last_listed=day(1)) for r in again] == first  # only that moved
    assert {r.last_listed for r in again} == {day(2)}  # one stamp for all
    assert {r["last_listed"] for r in chapter_rows(db, manual_id)} == {to_db_time(day(2))}
    assert db["chapters"].count == 3


def test_more_chapters_than_one_statement_takes_are_all_moved() -> None:
    """The unchanged chapters are moved 500 ids per UPDATE: 1,234 of them span three."""
    db = new_db()
    manual_id = manual_in(db)
    refs = [ref(f"c{n:04}", number=f"{n}") for n in range(1234)]
    upsert_chapters(db, manual_id, refs, day(1))
    rows = upsert_chapters(db, manual_id, refs, day(2))
    assert len(rows) == 1234
    assert {r.last_listed for r in rows} == {day(2)}
    assert {r["last_listed"] for r in chapter_rows(db, manual_id)} == {to_db_time(day(2))}


@pytest.mark.parametrize(
    "what",
    ["title", "number", "part", "number cleared", "removed", "missing", "removed and missing"],
)
def test_a_changed_listing_or_a_removed_or_missing_chapter_is_reset(what: str) -> None:
    """As ``upsert_chapter`` would: the listed title, number and part, the listing time, no
    removal and no missing count; the other chapters only have their listing time moved."""
    listed = [ref("a", "Assessments", "1.1", "P"), ref("b", "Referrals", "1.2", "P")]
    relisted = {
        "title": ref("a", "Assessment Procedures", "1.1", "P"),
        "number": ref("a", "Assessments", "2.1", "P"),
        "part": ref("a", "Assessments", "1.1", "Q"),
        "number cleared": ref("a", "Assessments", None, "P"),
    }.get(what, listed[0])
    databases = []
    for batch in (True, False):
        db = new_db()
        manual_id = manual_in(db)
        (a, _b) = upsert_chapters(db, manual_id, listed, day(1))
        if "removed" in what:
            mark_removed(db, a.id, day(2))
        if "missing" in what:
            note_missing(db, a.id)
            note_missing(db, a.id)
        refs = [relisted, listed[1]]
        rows = (upsert_chapters if batch else looped)(db, manual_id, refs, day(3))
        assert rows == [get_chapter(db, r.id) for r in rows]
        databases.append((rows, chapter_rows(db, manual_id)))
        (a_now, b_now) = rows
        assert (a_now.title, a_now.number, a_now.part) == (
            relisted.title,
            relisted.number,
            relisted.part,
        )
        assert (a_now.removed_at, a_now.missing_count) == (None, 0)
        assert a_now.first_seen == day(1) and a_now.last_listed == day(3)
        assert (b_now.title, b_now.last_listed) == ("Referrals", day(3))
    assert databases[0] == databases[1]


def test_a_url_listed_twice_yields_one_row_where_it_was_first_listed() -> None:
    db = new_db()
    manual_id = manual_in(db)
    refs = [ref("a"), ref("b"), ref("a"), ref("c"), ref("b")]
    rows = upsert_chapters(db, manual_id, refs, day(1))
    assert [r.url for r in rows] == [ref(n).url for n in "abc"]
    assert db["chapters"].count == 3
    again = upsert_chapters(db, manual_id, refs, day(2))  # listed twice, known already
    assert [r.id for r in again] == [r.id for r in rows]
    assert db["chapters"].count == 3
    assert {r.last_listed for r in again} == {day(2)}


def test_rows_come_back_in_listing_order_not_in_storage_order() -> None:
    db = new_db()
    manual_id = manual_in(db)
    upsert_chapters(db, manual_id, [ref("c"), ref("b"), ref("a")], day(1))
    refs = [ref("a"), ref("new"), ref("c", "Changed"), ref("b")]
    rows = upsert_chapters(db, manual_id, refs, day(2))
    assert [r.url for r in rows] == [one.url for one in refs]
    assert [r.title for r in rows] == ["A", "NEW", "Changed", "B"]
    assert rows[1].first_seen == day(2) and rows[0].first_seen == day(1)


def test_an_empty_listing_changes_nothing_and_other_manuals_are_left_alone() -> None:
    db = new_db()
    mine, other = manual_in(db, "mine"), manual_in(db, "other")
    upsert_chapters(db, mine, [ref("a"), ref("b")], day(1))
    theirs = upsert_chapters(db, other, [ref("a"), ref("b", "Elsewhere")], day(1))
    before = chapter_rows(db, mine)
    assert upsert_chapters(db, mine, [], day(2)) == []
    assert chapter_rows(db, mine) == before
    upsert_chapters(db, mine, [ref("a", "Moved on")], day(3))
    assert [get_chapter(db, r.id) for r in theirs] == theirs  # the same URLs, another manual


def test_the_batched_writes_are_sealed() -> None:
    """The bulk UPDATE goes through the sealing triggers like any write: verify holds."""
    db = new_db()
    manual_id = manual_in(db)
    first = upsert_chapters(db, manual_id, [ref("a"), ref("b"), ref("c")], day(1))
    note_missing(db, first[0].id)
    upsert_chapters(db, manual_id, [ref("a"), ref("b", "B2"), ref("c"), ref("d")], day(2))
    seal_pending(db, now=day(2))
    checked, problems = check_seals(db)
    assert problems == []
    assert checked >= 5  # the manual and its four chapters at least


_LISTING = st.lists(
    st.builds(
        ref,
        st.sampled_from("abcdef"),
        st.sampled_from(["Assessments", "Referrals"]),
        st.sampled_from([None, "1.1", "2"]),
        st.sampled_from([None, "Part 1"]),
    ),
    max_size=6,
)
_STEP = st.one_of(
    st.tuples(st.just("list"), _LISTING),
    st.tuples(st.sampled_from(["missing", "removed"]), st.sampled_from("abcdef")),
)


@pytest.fixture(scope="module")
def twins() -> tuple[Database, Database]:
    """Two databases shared by the examples below (each example adds its own manual)."""
    return new_db(), new_db()


NAMES = itertools.count()


def anonymous(rows: list[ChapterRow]) -> list[ChapterRow]:
    return [replace(row, id=0, manual_id=0) for row in rows]


def stored_anonymously(db: Database, manual_id: int) -> list[dict[str, object]]:
    """``chapter_rows`` in storage order, without the ids (the two databases' ids differ
    once an earlier example failed half way)."""
    return [
        {k: v for k, v in r.items() if k not in ("id", "manual_id")}
        for r in chapter_rows(db, manual_id)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(_STEP, min_size=1, max_size=6))
def test_a_listing_is_stored_as_a_loop_of_upsert_chapter_stores_it(
    twins: tuple[Database, Database], steps: list[tuple[str, object]]
) -> None:
    """Any sequence of listings (URLs listed once each, as the contents stage gives them),
    missing counts and removals: the same rows, returned and stored, either way."""
    name = f"m{next(NAMES)}"
    pair = [(twins[0], True), (twins[1], False)]
    ids = [manual_in(db, name) for db, _ in pair]
    for number, (kind, arg) in enumerate(steps):
        now = day(number)
        if kind == "list":
            assert isinstance(arg, list)
            refs = list({one.url: one for one in arg}.values())  # one entry per URL
            answers = [
                (upsert_chapters if batch else looped)(db, manual_id, refs, now)
                for (db, batch), manual_id in zip(pair, ids, strict=True)
            ]
            assert anonymous(answers[0]) == anonymous(answers[1])
            assert [r.url for r in answers[0]] == [one.url for one in refs]
            assert answers[0] == [get_chapter(pair[0][0], r.id) for r in answers[0]]
        else:
            url = ref(str(arg)).url
            for (db, _), manual_id in zip(pair, ids, strict=True):
                found = fetch_one(
                    db, "SELECT id FROM chapters WHERE manual_id = ? AND url = ?", (manual_id, url)
                )
                if found is not None and kind == "missing":
                    note_missing(db, found["id"])
                elif found is not None:
                    mark_removed(db, found["id"], now)
        assert stored_anonymously(twins[0], ids[0]) == stored_anonymously(twins[1], ids[1])


# add_version -------------------------------------------------------------------------------


def stored(db: Database, version: StoredVersion) -> StoredVersion:
    row = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version.id,))
    assert row is not None
    return load_version(db, row)


def same_version(returned: StoredVersion, loaded: StoredVersion) -> None:
    """Field by field (a failure names the field), then as a whole; times also in the same
    zone (equal datetimes may still print differently)."""
    for field in (
        "id", "chapter_id", "chapter", "content_hash", "valid_from", "valid_to", "last_seen",
        "observation_id", "lineage", "derived_by",
    ):  # fmt: skip
        assert getattr(returned, field) == getattr(loaded, field), field
    for field in ("valid_from", "last_seen"):
        assert getattr(returned, field).isoformat() == getattr(loaded, field).isoformat(), field
    assert returned == loaded


RICH = Chapter(
    url="https://m.example/chapters/rich.html",
    title="Conférences «élargies» – 2026",
    sections=(
        Section(None, "Scope of this Chapter", 1, ("Scope of this Chapter",), "Für alle."),
        Section("1", "Referral", 1, ("1",), "See the guide.", (Link("guide", "https://g/"),)),
        Section("1.1", "Timing", 2, ("1", "1.1"), "Within 15 days.\n\nOr 10."),
        Section("1.1.1", "", 3, ("1", "1.1", "1.1.1"), ""),
        Section("Appendix 1", "Forms", 1, ("Appendix 1",), "Form A; form B."),
    ),
    links=(Link("Home", "https://m.example/"), Link("Contents", "https://m.example/c")),
    stamp="Last reviewed: 3 March 2026",
)
V1 = chapter(
    "Pre-birth Procedure",
    sec("1", "Scope", "This chapter applies to unborn babies."),
    sec("2", "Referral", "Referrals are made to children's social care."),
    sec("3", "Review", "The plan is reviewed."),
)
V2 = chapter(
    "Pre-birth Procedure",
    sec("1", "Scope", "This chapter applies to unborn babies."),
    sec("2", "Assessment", "A pre-birth assessment starts at 12 weeks."),
    sec("3", "Referral", "Referrals are made within a day."),
    sec("4", "Review", "The plan is reviewed."),
)


@pytest.mark.parametrize("content", [V1, RICH, chapter("Empty")], ids=["plain", "rich", "empty"])
def test_a_first_version_is_returned_as_it_is_read_back(content: Chapter) -> None:
    db = new_db()
    _m, row = seed(db)
    version = observe_version(db, row, replace(content, url=row.url), day(1), None)
    same_version(version, stored(db, version))
    assert version.valid_to is None and version.valid_from == version.last_seen == day(1)
    assert len(version.lineage) == len(content.sections)


def test_a_later_version_with_pairs_is_returned_as_it_is_read_back() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    v2 = observe_version(db, row, V2, day(5), v1, ((0, 0), (1, 2), (2, 3)))
    same_version(v2, stored(db, v2))
    assert v2.lineage[2] == v1.lineage[1] and v2.lineage[1] not in v1.lineage
    assert stored(db, v1).valid_to == day(5)  # the previous one is closed, v1 itself is stale
    v3 = observe_version(db, row, V1, day(5), v2, ((0, 0), (2, 1), (3, 2)))  # the same instant
    same_version(v3, stored(db, v3))


def test_a_version_without_capture_at_another_offset_is_returned_as_read_back() -> None:
    """No observation (so no content dictionary), another derivation, a time given in
    another zone with microseconds: still what ``load_version`` reads."""
    db = new_db()
    _m, row = seed(db)
    at = datetime(2026, 3, 4, 11, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    version = add_version(
        db,
        row.id,
        replace(RICH, url=row.url),
        observation_id=None,
        observed_at=at,
        previous=None,
        derived_by="rederive",
        fingerprint="f" * 64,
    )
    loaded = stored(db, version)
    same_version(version, loaded)
    assert loaded.valid_from == at and loaded.valid_from.tzinfo == UTC
    assert (loaded.observation_id, loaded.derived_by) == (None, "rederive")


def test_a_version_from_a_capture_is_returned_as_read_back() -> None:
    """The content is compressed with the capture as dictionary; the returned chapter is the
    one that decompresses."""
    db = new_db()
    _m, row = seed(db)
    body = ("<html><body><main>" + "Pre-birth text. " * 40 + "</main></body></html>").encode()
    obs = record_observation(
        db,
        page(row.url, body, day(1)),
        manual_id=row.manual_id,
        chapter_id=row.id,
        role="chapter",
        outcome="new-version",
    )
    version = add_version(
        db, row.id, replace(RICH, url=row.url), observation_id=obs, observed_at=day(1),
        previous=None,
    )  # fmt: skip
    same_version(version, stored(db, version))
    dictionary = fetch_one(db, "SELECT content_dict FROM versions WHERE id = ?", (version.id,))
    capture = fetch_one(db, "SELECT body_sha256 FROM observations WHERE id = ?", (obs,))
    assert dictionary is not None and capture is not None
    assert dictionary["content_dict"] == capture["body_sha256"] is not None


# durable_at_the_end ------------------------------------------------------------------------


def synchronous(db: Database) -> int:
    return int(db.execute("PRAGMA synchronous").fetchone()[0])


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[Database]:
    db = open_db(tmp_path / "aw.db")
    yield db
    db.close()


def test_synchronous_is_normal_inside_the_block_and_full_after(file_db: Database) -> None:
    assert synchronous(file_db) == FULL
    with durable_at_the_end(file_db):
        assert synchronous(file_db) == NORMAL
        upsert_chapters(file_db, manual_in(file_db), [ref("a")], T0)  # commits inside
        assert synchronous(file_db) == NORMAL
    assert synchronous(file_db) == FULL


def test_synchronous_is_full_again_when_the_block_raises(file_db: Database) -> None:
    manual_id = manual_in(file_db)
    with pytest.raises(RuntimeError, match="boom"), durable_at_the_end(file_db):
        assert synchronous(file_db) == NORMAL
        upsert_chapters(file_db, manual_id, [ref("a")], T0)
        raise RuntimeError("boom")
    assert synchronous(file_db) == FULL
    assert file_db["chapters"].count == 1  # the commit made inside the block stays


def test_a_snapshot_runs_at_normal_and_leaves_the_connection_at_full(tmp_path: Path) -> None:
    seen: list[int] = []
    with MiniSite() as site:
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        text = "Staff must complete the assessment within ten working days."
        site.pages["/a.html"] = chapter_html("Assessments", [("1 Scope", text)])
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        try:
            app.add_manual("mini", f"{site.base_url}/")
            assert synchronous(app.db) == FULL

            def progress(_outcome: ChapterOutcome) -> None:
                seen.append(synchronous(app.db))

            for run in range(2):
                report = app.snapshot(["mini"], at=T0 + timedelta(days=run), progress=progress)
                assert report.results[0].checked == 1
                assert synchronous(app.db) == FULL
        finally:
            app.close()
    assert seen == [NORMAL, NORMAL]  # each run's chapter was stored inside the block
