"""``verify --deep``: re-derive what the database derived and compare.

The seals (store/seals.py) prove that no row changed since it was written. They cannot prove
that what was written was right, and a person who recomputes every hash defeats them. The
captures are the primary evidence (hash-chained, and anchored by the published heads), so
everything derived from them is checked by deriving it again:

- each version's content is extracted again from its stored capture, with its manual's
  rules, and must have the stored content hash and title;
- the stored content must still hash to the stored content hash;
- each version's ``sections`` rows must list the sections its content holds (number,
  title, level, in order);
- each change is diffed again from the two versions it joins and must equal the stored diff
  (kind, titles, sections touched and how), and the columns shown without the diff
  (``kind``, ``old_title``, ``new_title``, ``revised_throughout``, ``summary``) must agree
  with it.

A version re-derived on purpose (``rederive --apply``) is compared with its latest applied
derivation's rule as it stands now: if the extraction rules changed since a version was
stored, its re-extraction differs, and ``verify --deep`` says so — run ``rederive`` (which
records the difference as a derivation, never as a change) and look before trusting it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import AmendwatchError
from differ.chapter import diff_chapters, diff_moved
from differ.models import ChapterDiff
from scraper.extract import extract_chapter
from scraper.fetch import decode_body
from scraper.models import Chapter, Page
from store import rederive
from store.codec import diff_to_json, unpack_diff
from store.db import open_db_readonly
from store.rows import fetch_all
from store.versions import change_summary, version_chapter

MAX_PROBLEMS = 50  # listed; every problem is counted
CHUNK = 200  # rows per unit of work (a worker process takes one at a time)
Progress = Callable[[int], None]  # called with the number of rows checked so far


@dataclass(frozen=True)
class DeepResult:
    versions: int  # versions re-extracted from their captures
    changes: int  # changes re-diffed from their versions
    skipped: int  # versions with no stored capture (nothing to re-derive them from)
    problems: tuple[str, ...]  # the first MAX_PROBLEMS, each naming the table and row
    problem_count: int

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


@dataclass
class _Tally:
    problems: list[str]
    count: int = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def deep_verify(
    db: Database, progress: Progress | None = None, *, path: Path | None = None, jobs: int = 1
) -> DeepResult:
    """Re-extract every version, re-check its sections, re-diff every change; with ``path``
    and ``jobs`` > 1, in that many worker processes (each opens the file read-only)."""
    skipped = _count(db, "SELECT COUNT(*) AS n FROM versions v LEFT JOIN observations o"
                     " ON o.id = v.observation_id WHERE o.body_sha256 IS NULL")  # fmt: skip
    work = [("versions", lo, hi) for lo, hi in _ranges(db, "versions")]
    work += [("changes", lo, hi) for lo, hi in _ranges(db, "changes")]
    if path is None or jobs <= 1:
        results: Iterator[_Part] = (_check_part(db, *item) for item in work)
        return _collect(results, skipped, progress)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_check_part_in, str(path), *item) for item in work]
        return _collect((f.result() for f in futures), skipped, progress)


def _collect(parts: Iterable[_Part], skipped: int, progress: Progress | None) -> DeepResult:
    tally, counts, done = _Tally([]), {"versions": 0, "changes": 0}, 0
    for part in parts:
        counts[part.table] += part.checked
        tally.count += part.problem_count
        tally.problems.extend(part.problems[: MAX_PROBLEMS - len(tally.problems)])
        done += part.checked
        if progress is not None:
            progress(done)
    problems = tuple(tally.problems)
    return DeepResult(counts["versions"], counts["changes"], skipped, problems, tally.count)


@dataclass(frozen=True)
class _Part:
    table: str
    checked: int
    problems: tuple[str, ...]
    problem_count: int


def _ranges(db: Database, table: str, size: int = CHUNK) -> list[tuple[int, int]]:
    """(low, high] id ranges of about ``size`` rows each."""
    ids = [int(r["id"]) for r in fetch_all(db, f"SELECT id FROM {table} ORDER BY id")]
    return [(ids[i] - 1, ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def _check_part_in(path: str, table: str, low: int, high: int) -> _Part:
    db = open_db_readonly(Path(path))
    try:
        return _check_part(db, table, low, high)
    finally:
        db.close()


def _check_part(db: Database, table: str, low: int, high: int) -> _Part:
    tally, checked = _Tally([]), 0
    if table == "versions":
        for row in rederive.captured_versions(db, ids=(low, high)):
            _check_version(db, row, tally)
            checked += 1
    else:
        for row in fetch_all(
            db, "SELECT * FROM changes WHERE id > ? AND id <= ? ORDER BY id", (low, high)
        ):
            _check_change(db, row, tally)
            checked += 1
    return _Part(table, checked, tuple(tally.problems), tally.count)


def _count(db: Database, sql: str) -> int:
    return int(fetch_all(db, sql)[0]["n"])


def extract_capture(
    page: Page, rules: rederive.ExtractionRules, selector: str | None = None
) -> Chapter:
    """A stored capture extracted again with its manual's rules (``selector`` overrides the
    manual's): what ``rederive`` and ``verify --deep`` compare with the stored version."""
    return extract_chapter(
        decode_body(page),
        page.final_url or page.url,
        selector=selector or rules.selector,
        ignore=rules.ignore,
        ignore_text=rules.ignore_text,
    )


def _extract(db: Database, row: dict[str, Any]) -> Chapter:
    return extract_capture(rederive.page_of(db, row), rederive.rules_of(row))


def _check_version(db: Database, row: dict[str, Any], tally: _Tally) -> None:
    name = f"versions row {row['id']} (chapter {row['chapter_id']})"
    try:
        stored = version_chapter(db, row)
    except AmendwatchError as exc:
        tally.add(f"{name}: its content cannot be read ({exc})")
        return
    if stored.content_hash != row["content_hash"]:
        tally.add(f"{name}: its content no longer hashes to its content_hash (content edited)")
    try:
        fresh = _extract(db, row)
    except AmendwatchError as exc:
        tally.add(f"{name}: its capture cannot be extracted again ({exc})")
        return
    if fresh.content_hash != row["content_hash"]:
        tally.add(
            f"{name}: re-extracted from observation {row['observation_id']}, the content"
            f" differs from the stored content (edited, or the extraction rules changed:"
            f" see `amendwatch rederive`)"
        )
    elif fresh.title != row["title"]:
        tally.add(f"{name}: title {row['title']!r}, the capture says {fresh.title!r}")
    _check_sections(db, row, stored, tally, name)


def _check_sections(
    db: Database, row: dict[str, Any], stored: Chapter, tally: _Tally, name: str
) -> None:
    rows = fetch_all(
        db,
        "SELECT id, ordinal, number, title, level FROM sections WHERE version_id = ?"
        " ORDER BY ordinal",
        (row["id"],),
    )
    found = [(r["ordinal"], r["number"], r["title"], r["level"]) for r in rows]
    wanted = [(i, s.number, s.title, s.level) for i, s in enumerate(stored.sections)]
    if found == wanted:
        return
    for index, (have, want) in enumerate(zip(found, wanted, strict=False)):
        if have != want:
            tally.add(
                f"sections row {rows[index]['id']} of {name}: {have[1:]!r}, the version's"
                f" content says {want[1:]!r}"
            )
            return
    tally.add(f"{name}: {len(found)} sections rows, its content has {len(wanted)} sections")


def _chapter_of(db: Database, version_id: object) -> Chapter | None:
    if version_id is None:
        return None
    rows = fetch_all(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if not rows:
        raise KeyError(version_id)
    return version_chapter(db, rows[0])


def _check_change(db: Database, row: dict[str, Any], tally: _Tally) -> None:
    name = f"changes row {row['id']} (chapter {row['chapter_id']})"
    try:
        stored = unpack_diff(row["diff"])
        old = _chapter_of(db, row["old_version_id"])
        new = _chapter_of(db, row["new_version_id"])
    except KeyError as exc:
        tally.add(f"{name}: version {exc.args[0]} it joins is missing")
        return
    except (AmendwatchError, ValueError) as exc:
        tally.add(f"{name}: cannot be read ({exc})")
        return
    fresh = _rediff(old, new, row, stored)
    if _canonical(fresh) != _canonical(stored):
        tally.add(f"{name}: re-diffed from versions {row['old_version_id']} and"
                  f" {row['new_version_id']}, the diff differs from the stored diff")  # fmt: skip
        return
    shown = (row["kind"], row["old_title"], row["new_title"], bool(row["revised_throughout"]))
    if shown != (stored.kind, stored.old_title, stored.new_title, stored.revised_throughout):
        tally.add(f"{name}: its kind or titles disagree with its stored diff")
    elif row["summary"] != change_summary(stored):
        tally.add(f"{name}: its summary disagrees with its stored diff")


def _rediff(
    old: Chapter | None, new: Chapter | None, row: dict[str, Any], stored: ChapterDiff
) -> ChapterDiff:
    versions = {"old_version": row["old_version_id"], "new_version": row["new_version_id"]}
    if stored.kind == "moved" and old is not None and new is not None:
        fresh = diff_moved(old, new, **versions)
    elif old is None and new is None:
        return stored
    else:
        fresh = diff_chapters(old, new, **versions)
    return replace(fresh, extra=stored.extra)


def _canonical(diff: ChapterDiff) -> str:
    return json.dumps(diff_to_json(diff), sort_keys=True, separators=(",", ":"))
