"""Frozen dataclasses of the store's read side: a chapter's history and its state at an
instant (``store.history``, ``store.pointintime``) and the stored drafts (``store.drafts``).

Kept apart from :mod:`store.models`, which every snapshot imports: a frozen dataclass costs
about 1 ms to define, and a snapshot reads none of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reports.models import AmendmentEntry, EntryCategory
from store.models import ChapterRow, StoredVersion

__all__ = ["AsOf", "ChapterState", "DraftEvent", "HistoryEntry", "SectionEvent", "StoredDraft"]


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
