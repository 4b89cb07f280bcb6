"""Frozen dataclasses that enter and leave the reports stage.

The store produces ``DetectedChange`` and ``FailedCheck`` rows for a period; the reports
stage turns them into ``AmendmentEntry`` drafts and a ``Digest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from differ.models import ChapterDiff
from scraper.models import PublishedEntry

EntryCategory = Literal["updated", "new", "removed"]


@dataclass(frozen=True)
class Reversion:
    """A change back to the content of an earlier version (a "flip": a page alternating
    between two contents): which version, and since when that content was first seen."""

    version_id: int
    valid_from: datetime

    @property
    def text(self) -> str:
        """ "reverted to the version of 9 Nov 2026"."""
        when = self.valid_from
        return f"reverted to the version of {when.day} {when:%b %Y}"


@dataclass(frozen=True)
class DetectedChange:
    """A stored ChapterDiff with what a report needs to present it as evidence."""

    change_id: int
    manual: str
    chapter_title: str
    chapter_url: str
    detected_at: datetime
    diff: ChapterDiff
    old_content_hash: str | None = None
    new_content_hash: str | None = None
    chapter_number: str | None = None
    summary: str = ""  # for new chapters: the scope / introduction text
    reverted_to: Reversion | None = None  # a flip: the earlier version it returns to

    @property
    def kind_label(self) -> str:
        """The change's kind as reports name it: "reverted" for a flip."""
        return "reverted" if self.reverted_to is not None else self.diff.kind


@dataclass(frozen=True)
class FailedCheck:
    """A fetch during the period that failed or was suspect: shown as "not checked"."""

    manual: str
    url: str
    observed_at: datetime
    status: int
    reason: str


@dataclass(frozen=True)
class UnconfirmedChange:
    """A large change a second fetch in the same run did not confirm: both captures (their
    SHA-256) are the evidence; the next run tries again."""

    manual: str
    url: str
    chapter_title: str
    observed_at: datetime
    reason: str
    captures: tuple[str, ...]


@dataclass(frozen=True)
class DraftSentence:
    """One drafted sentence and what it traces back to: the change and the sections cited."""

    text: str
    change_id: int | None = None  # None for generic sentences of a removed/new chapter
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class AmendmentEntry:
    manual: str
    period: str  # "2022-03" or "2022-03-01..2022-03-31"
    category: EntryCategory
    chapter_title: str
    details: str
    sections_cited: tuple[str, ...] = ()
    change_ids: tuple[int, ...] = ()
    chapter_url: str = ""
    sentences: tuple[DraftSentence, ...] = ()  # the details, sentence by sentence, traced


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) with its human label."""

    start: datetime
    end: datetime
    label: str
    key: str = ""  # "2026-11", "2026-W47" or "2026-11-01..2026-11-30"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Reconciliation:
    """Publisher's declared entries compared with what was detected."""

    manual: str
    matched: tuple[tuple[PublishedEntry, int], ...]  # (declared entry, change_id)
    declared_only: tuple[PublishedEntry, ...]
    detected_only: tuple[int, ...]  # change ids ("silent changes")
    sections: tuple[SectionCheck, ...] = ()  # cited sections of matched entries
    # declared entries about chapters that no longer exist (removed, or not on the contents)
    gone: tuple[PublishedEntry, ...] = ()
    # when each matched or silent change was detected (it may lie outside the report's period)
    detected_at: tuple[tuple[int, datetime], ...] = ()
    window_weeks: int = 0  # how far either side of the period matches were looked for


@dataclass(frozen=True)
class SectionCheck:
    """One section a declared entry cites, and whether a change to it was detected."""

    chapter: str
    cited: str  # "Section 8, Prebirth Conferences" as the publisher wrote it
    change_id: int
    detected: bool
    matched_label: str = ""  # the detected section's label, when found


@dataclass(frozen=True)
class ManualInfo:
    """What reports show of a watched manual: its heading (the display name, else the short
    name) and since when it has been watched (where its chart starts)."""

    name: str
    heading: str
    monitored_since: datetime | None = None


@dataclass(frozen=True)
class WeekCount:
    week: str  # "2026-W47"
    manual: str
    changes: int


@dataclass(frozen=True)
class ReviewNote:
    """A change's current review in the web application (status, impact, owner, who, when)."""

    status: str
    impact: str | None
    owner: str
    who: str
    at: datetime

    @property
    def text(self) -> str:
        """``acknowledged, impact high, owner Dana (by reviewer, 2026-11-24)``."""
        parts = [self.status]
        if self.impact:
            parts.append(f"impact {self.impact}")
        if self.owner:
            parts.append(f"owner {self.owner}")
        return f"{', '.join(parts)} (by {self.who}, {self.at.date().isoformat()})"


@dataclass(frozen=True)
class Digest:
    """The weekly compliance report's content, ready to render."""

    period: Period
    changes: tuple[DetectedChange, ...]
    failures: tuple[FailedCheck, ...]
    history: tuple[WeekCount, ...] = ()
    reconciliations: tuple[Reconciliation, ...] = ()
    generated_at: datetime | None = None
    chain_head: str | None = None  # "COUNT:HASH" of the observation chain when it was made
    kind: Literal["digest"] = "digest"
    stamp_only: int = 0  # chapters whose only change in the period was a date stamp (not shown)
    reviews: tuple[tuple[int, ReviewNote], ...] = ()  # (change id, its current review)
