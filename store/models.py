"""Frozen dataclasses that leave the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reports.models import AmendmentEntry, EntryCategory
from scraper.models import Chapter


@dataclass(frozen=True)
class Manual:
    id: int
    name: str
    contents_url: str
    amendments_url: str | None
    content_selector: str | None
    created_at: datetime | None = None
    ignore_selectors: tuple[str, ...] = ()  # CSS selectors of page parts that are not content
    ignore_patterns: tuple[str, ...] = ()  # regexes: blocks whose text matches are not content
    allowed_hosts: tuple[str, ...] = ()  # other hosts its chapters may be fetched from
    sitemap_url: str | None = None  # a sitemap.xml read beside the contents page, or "auto"
    display_name: str | None = None  # the drafts' and digests' heading (else ``name``)
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers (name, value)
    cookies: tuple[tuple[str, str], ...] = ()  # (cookie name, "env:VAR" or "file:PATH")
    user_agent: str | None = None  # this manual's User-Agent (else the configured one)

    @property
    def heading(self) -> str:
        """The name shown to readers: the display name when set, else the short name."""
        return self.display_name or self.name


@dataclass(frozen=True)
class ChapterRow:
    id: int
    manual_id: int
    url: str
    title: str
    number: str | None
    first_seen: datetime
    removed_at: datetime | None
    part: str | None = None
    last_listed: datetime | None = None
    missing_count: int = 0


@dataclass(frozen=True)
class StoredVersion:
    """One distinct extracted content of a chapter, valid over [valid_from, valid_to)."""

    id: int
    chapter_id: int
    chapter: Chapter
    content_hash: str
    valid_from: datetime
    valid_to: datetime | None
    last_seen: datetime
    observation_id: int | None
    lineage: tuple[str, ...]  # one lineage id per section, in section order
    derived_by: str = "extract"


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    checked: int
    changed: int
    failed: int
    errors: tuple[str, ...] = ()
    reverted: int = 0  # of the changed: flips back to an earlier version's content


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # observations and bodies
    problems: tuple[str, ...]
    sealed: int = 0  # rows of the sealed tables (store/seals.py) recomputed
    observations: int = 0  # of ``checked``: the observation chain's links
    bodies: int = 0  # of ``checked``: stored bodies re-hashed


@dataclass(frozen=True)
class AsOf:
    """What is known of a chapter at one instant, with honest bounds.

    ``seen_from``: the first observation of ``version``; ``seen_until``: the last observation
    at or before ``at`` that saw it; ``next_change_at``: when it stopped being valid (None if it
    still is); ``next_observed_at``: the first observation after ``at``.
    """

    chapter_id: int
    at: datetime
    version: StoredVersion | None
    seen_from: datetime | None = None
    seen_until: datetime | None = None
    next_change_at: datetime | None = None
    next_observed_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class ChapterState:
    """One chapter of a manual at one instant (``manual_as_of``)."""

    chapter: ChapterRow
    as_of: AsOf


@dataclass(frozen=True)
class HistoryEntry:
    version_id: int
    valid_from: datetime
    valid_to: datetime | None
    last_seen: datetime
    content_hash: str
    title: str
    summary: str = ""
    change_id: int | None = None


@dataclass(frozen=True)
class SectionEvent:
    """The state of one section (followed by lineage id) in one version of its chapter."""

    version_id: int
    valid_from: datetime
    valid_to: datetime | None
    lineage_id: str
    present: bool
    number: str | None
    title: str
    text: str
    changed: bool


@dataclass(frozen=True)
class StoredDraft:
    id: int
    period: str
    manual: str
    category: EntryCategory
    chapter_title: str
    chapter_url: str
    details: str
    generated_details: str
    sections_cited: tuple[str, ...]
    change_ids: tuple[int, ...]
    status: str  # draft | edited | approved | rejected
    updated_at: datetime
    updated_by: str | None

    def to_entry(self) -> AmendmentEntry:
        return AmendmentEntry(
            manual=self.manual,
            period=self.period,
            category=self.category,
            chapter_title=self.chapter_title,
            details=self.details,
            sections_cited=self.sections_cited,
            change_ids=self.change_ids,
            chapter_url=self.chapter_url,
        )


@dataclass(frozen=True)
class DraftEvent:
    id: int
    draft_id: int
    at: datetime
    who: str
    action: str
    old_text: str | None
    new_text: str | None
