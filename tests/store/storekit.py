"""Builders shared by the store tests (imported as a sibling module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from scraper.models import Chapter, ChapterRef, Link, Page, Section
from store.db import open_db
from store.manuals import add_manual
from store.models import ChapterRow, Manual, StoredVersion
from store.observations import record_observation
from store.versions import add_version, mark_seen, upsert_chapter

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "https://example.proceduresonline.com/chapters/p_pre_birth.html"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def page(url: str, body: bytes, when: datetime, *, status: int = 200, etag: str = "") -> Page:
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html"),)
    if etag:
        headers += (("ETag", etag),)
    return Page(url=url, final_url=url, status=status, headers=headers, body=body, fetched_at=when)


def sec(number: str | None, title: str, text: str, level: int = 1) -> Section:
    key = number if number else title
    return Section(
        number=number,
        title=title,
        level=level,
        path=(key,),
        text=text,
        links=(Link("Working Together", "https://example.org/wt"),) if number == "1" else (),
    )


def chapter(title: str, *sections: Section, url: str = URL) -> Chapter:
    return Chapter(url=url, title=title, sections=sections, links=(Link("Home", "https://x/"),))


def new_db() -> Database:
    return open_db(None)


def seed(
    db: Database, name: str = "tri-x", url: str = URL, title: str = "Pre-birth Procedure"
) -> tuple[Manual, ChapterRow]:
    manual = add_manual(db, name, f"https://{name}.example.org/contents.html", now=T0)
    row = upsert_chapter(db, manual.id, ChapterRef(url=url, title=title, number="1.2"), T0)
    return manual, row


def observe_version(
    db: Database,
    row: ChapterRow,
    content: Chapter,
    when: datetime,
    previous: StoredVersion | None,
    pairs: tuple[tuple[int, int], ...] = (),
) -> StoredVersion:
    """What the pipeline does for a new version: an observation, then the version."""
    obs = record_observation(
        db,
        page(row.url, content.content_json().encode(), when),
        manual_id=row.manual_id,
        chapter_id=row.id,
        role="chapter",
        outcome="new-version",
    )
    return add_version(
        db, row.id, content, observation_id=obs, observed_at=when, previous=previous, pairs=pairs
    )


def observe_unchanged(db: Database, row: ChapterRow, version: StoredVersion, when: datetime) -> int:
    obs = record_observation(
        db,
        page(row.url, version.chapter.content_json().encode(), when),
        manual_id=row.manual_id,
        chapter_id=row.id,
        role="chapter",
        outcome="unchanged",
    )
    mark_seen(db, version.id, when)
    return obs


def table_counts(db: Database) -> dict[str, int]:
    return {name: db[name].count for name in db.table_names()}
