"""Frozen dataclasses that leave the store (what a snapshot reads and writes; the history,
point-in-time and draft answers are in :mod:`store.readmodels`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
