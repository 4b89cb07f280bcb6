"""The weekly compliance digest: its content, counts, redlines and chart geometry."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from differ.models import ChapterDiff, Edit, SectionChange
from reports.importance import (
    OutlineItem,
    changes_duties,
    cosmetic_only,
    counted,
    headline,
    outline,
    rank,
    reading_order,
    stamp_only,
)
from reports.models import (
    DetectedChange,
    Digest,
    FailedCheck,
    ManualInfo,
    Period,
    Reconciliation,
    ReviewNote,
    WeekCount,
)
from reports.periods import week_key
from reports.redline import word_edits
from reports.timefmt import week_label
from scraper.models import Link

ELLIPSIS = "…"
QUARTER_WEEKS = 13
_LAYOUT_ONLY = frozenset({"renumbered", "moved"})
_FLAGGED = re.compile(
    r"\d|\b(must|shall|should|required|requires|mandatory|days?|weeks?|months?|hours?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Segment:
    """A piece of a redline: op -1 deleted, 0 unchanged (maybe elided), 1 inserted."""

    op: Literal[-1, 0, 1]
    text: str
    flagged: bool = False  # a number, duration or obligation word in changed text

    @property
    def parts(self) -> tuple[str, str, str]:
        """Leading spaces, the words, trailing spaces: a template marks only the words."""
        core = self.text.strip()
        if not core:
            return "", self.text, ""
        start = self.text.index(core)
        return self.text[:start], core, self.text[start + len(core) :]


@dataclass(frozen=True)
class SummaryCounts:
    """The digest's counts: cosmetic-only and stamp-only changes are left out of every count
    but the last two, which say how many were left out."""

    chapters_changed: int
    chapters_new: int
    chapters_removed: int
    chapters_renamed: int
    chapters_reverted: int  # flips: back to an earlier version's content
    chapters_with_duties: int  # an obligation, duration or number changed in the chapter
    sections_changed: int  # in existing chapters: wording, title, added or removed
    sections_renumbered: int  # only renumbered or moved: nothing to read
    links_changed: int  # added to or removed from existing chapters
    pages_not_checked: int
    not_counted_cosmetic_only: int  # chapters whose only changes were cosmetic
    not_counted_stamp_only: int  # chapters where only the page's date stamp moved


@dataclass(frozen=True)
class SectionView:
    label: str
    old_label: str
    kinds: tuple[str, ...]
    segments: tuple[Segment, ...]
    links_added: tuple[Link, ...]
    links_removed: tuple[Link, ...]
    flags: tuple[str, ...]
    cosmetic: bool


@dataclass(frozen=True)
class ChapterView:
    change: DetectedChange
    href: str | None  # only http(s); anything else is shown as text
    sections: tuple[SectionView, ...]
    cosmetic: tuple[SectionView, ...]
    layout: tuple[SectionView, ...] = ()  # renumbered or moved, wording unchanged
    headline: str = ""  # the drafted sentence that opens the chapter
    rank: int = 1  # reports.importance: ACT, READ or COSMETIC
    outline: tuple[OutlineItem, ...] = ()  # a new or removed chapter: its sections
    review: ReviewNote | None = None  # its review in the web application, if any


@dataclass(frozen=True)
class ManualView:
    manual: str
    chapters: tuple[ChapterView, ...]
    heading: str = ""  # the manual's display name (else its short name)

    @property
    def groups(self) -> tuple[tuple[int, tuple[ChapterView, ...]], ...]:
        """The chapters in runs of equal rank, most important first."""
        ranks = list(dict.fromkeys(view.rank for view in self.chapters))
        return tuple((r, tuple(v for v in self.chapters if v.rank == r)) for r in ranks)


@dataclass(frozen=True)
class Bar:
    week: str
    count: int
    x: int
    y: int
    height: int
    tick: str = ""  # the axis label: "9 Nov", or "16" after a week of the same month

    @property
    def label(self) -> str:
        """ "9 Nov": the week's Monday."""
        return week_label(self.week)

    @property
    def title(self) -> str:
        """ "Week of 9 Nov 2026: 3 changes"."""
        plural = "" if self.count == 1 else "s"
        return f"Week of {week_label(self.week, year=True)}: {self.count} change{plural}"


@dataclass(frozen=True)
class Chart:
    manual: str  # its heading
    bars: tuple[Bar, ...]
    peak: int
    width: int
    height: int
    bar_width: int


def build_digest(
    changes: Sequence[DetectedChange],
    failures: Sequence[FailedCheck],
    period: Period,
    *,
    history: Sequence[WeekCount] = (),
    reconciliations: Sequence[Reconciliation] = (),
    generated_at: datetime | None = None,
    chain_head: str | None = None,
    reviews: Mapping[int, ReviewNote] | None = None,
) -> Digest:
    """The digest of ``period``: its non-empty changes and failed checks, in a stable order;
    ``reviews``: the current review of a change (by change id), shown beside it."""
    in_period = [c for c in changes if period.contains(c.detected_at)]
    kept = sorted(
        (c for c in in_period if not stamp_only(c)),
        key=lambda c: (c.manual, c.chapter_title.lower(), c.detected_at, c.change_id),
    )
    failed = sorted(
        (f for f in failures if period.contains(f.observed_at)),
        key=lambda f: (f.manual, f.url, f.observed_at),
    )
    return Digest(
        period=period,
        changes=tuple(kept),
        failures=tuple(failed),
        history=tuple(history),
        reconciliations=tuple(reconciliations),
        generated_at=generated_at,
        chain_head=chain_head,
        stamp_only=len({(c.manual, c.chapter_url) for c in in_period if stamp_only(c)}),
        reviews=tuple(
            (c.change_id, (reviews or {})[c.change_id])
            for c in kept
            if c.change_id in (reviews or {})
        ),
    )


def weekly_counts(changes: Iterable[DetectedChange]) -> tuple[WeekCount, ...]:
    """Changes per (ISO week, manual), cosmetic-only and stamp-only ones left out: the history
    a digest's chart is drawn from."""
    counts: dict[tuple[str, str], int] = {}
    for change in changes:
        if not counted(change):
            continue
        key = (week_key(change.detected_at), change.manual)
        counts[key] = counts.get(key, 0) + 1
    return tuple(WeekCount(week, manual, n) for (week, manual), n in sorted(counts.items()))


def summary_counts(digest: Digest) -> SummaryCounts:
    """Counts of what changed, leaving out cosmetic-only and stamp-only changes; the sections
    and links of new and removed chapters are the chapters themselves, not counted again."""
    kept = [c for c in digest.changes if counted(c)]
    chapters = {_chapter_key(c) for c in kept}
    kinds = {(*_chapter_key(c), c.diff.kind) for c in kept}
    existing = [c for c in kept if c.diff.kind not in ("new", "removed")]
    sections = [s for c in existing for s in c.diff.sections]
    cosmetic = {_chapter_key(c) for c in digest.changes if cosmetic_only(c)} - chapters
    return SummaryCounts(
        chapters_changed=len(chapters),
        chapters_new=sum(1 for k in kinds if k[2] == "new"),
        chapters_removed=sum(1 for k in kinds if k[2] == "removed"),
        chapters_renamed=sum(1 for k in kinds if k[2] == "renamed"),
        chapters_reverted=len({_chapter_key(c) for c in kept if c.reverted_to}),
        chapters_with_duties=len({_chapter_key(c) for c in existing if changes_duties(c)}),
        sections_changed=sum(1 for s in sections if not s.cosmetic and not _moved_only(s)),
        sections_renumbered=sum(1 for s in sections if _moved_only(s)),
        links_changed=sum(len(s.links_added) + len(s.links_removed) for s in sections),
        pages_not_checked=len({(f.manual, f.url) for f in digest.failures}),
        not_counted_cosmetic_only=len(cosmetic),
        not_counted_stamp_only=digest.stamp_only,
    )


def _chapter_key(change: DetectedChange) -> tuple[str, str]:
    return change.manual, change.chapter_url


def _moved_only(change: SectionChange) -> bool:
    """Renumbered or moved, with no edit to the words and no link added or removed."""
    if not change.kinds or not change.kinds <= _LAYOUT_ONLY:
        return False
    edited = any(e.op != 0 and e.text.strip() for e in change.edits)
    return not (edited or change.links_added or change.links_removed)


def redline(edits: Sequence[Edit], context_words: int = 12) -> tuple[Segment, ...]:
    """The edits, as whole words, with unchanged runs cut to ``context_words`` words around
    each change."""
    if not any(e.op != 0 for e in edits):
        return ()
    edits = word_edits(edits)
    segments: list[Segment] = []
    last = len(edits) - 1
    for index, edit in enumerate(edits):
        if edit.op != 0:
            flagged = _FLAGGED.search(edit.text) is not None
            segments.append(Segment(edit.op, edit.text, flagged))
            continue
        keep_head = index > 0
        keep_tail = index < last
        segments.append(Segment(0, _elide(edit.text, context_words, keep_head, keep_tail)))
    return tuple(segments)


def _elide(text: str, words: int, keep_head: bool, keep_tail: bool) -> str:
    parts = re.split(r"(\s+)", text)
    tokens = [p for p in parts if p and not p.isspace()]
    limit = words * (int(keep_head) + int(keep_tail))
    if len(tokens) <= max(limit, 1) or not (keep_head or keep_tail):
        return text if keep_head or keep_tail else ""
    head = _first_words(parts, words).rstrip() if keep_head else ""
    tail = _first_words(parts[::-1], words, reverse=True).lstrip() if keep_tail else ""
    if keep_head and keep_tail:
        return f"{head} {ELLIPSIS} {tail}"
    return f"{head} {ELLIPSIS}" if keep_head else f"{ELLIPSIS} {tail}"


def _first_words(parts: Sequence[str], count: int, *, reverse: bool = False) -> str:
    """Leading (or, for reversed parts, trailing) ``count`` words, keeping the adjoining space."""
    taken: list[str] = []
    seen = 0
    for part in parts:
        if part and not part.isspace():
            if seen == count:
                break
            seen += 1
        taken.append(part)
    ordered = taken[::-1] if reverse else taken
    return "".join(ordered) if count else ""


def safe_href(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (render it as text)."""
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() in {"http", "https"} and parts.netloc:
        return candidate
    return None


def manual_views(
    changes: Sequence[DetectedChange],
    context_words: int = 12,
    manuals: Sequence[ManualInfo] = (),
    reviews: Mapping[int, ReviewNote] | None = None,
) -> tuple[ManualView, ...]:
    """Changes grouped manual -> chapter -> section, ready for the templates; in each manual
    the chapters in reading order (``reports.importance``): new and removed chapters and
    changed duties first, other wording next, cosmetic-only changes last."""
    headings = {m.name: m.heading for m in manuals}
    grouped: dict[str, list[DetectedChange]] = {}
    for change in changes:
        grouped.setdefault(change.manual, []).append(change)
    return tuple(
        ManualView(
            name,
            tuple(
                replace(chapter_view(c, context_words), review=(reviews or {}).get(c.change_id))
                for c in sorted(own, key=reading_order)
            ),
            headings.get(name, name),
        )
        for name, own in grouped.items()
    )


def chapter_view(change: DetectedChange, context_words: int = 12) -> ChapterView:
    """One chapter's change for the templates: its headline, rank, outline and sections."""
    views = [section_view(s, context_words) for s in change.diff.sections]
    layout = [v for v in views if _layout_only(v)]
    return ChapterView(
        change=change,
        href=None if change.diff.kind == "removed" else safe_href(change.chapter_url),
        sections=tuple(v for v in views if not v.cosmetic and v not in layout),
        cosmetic=tuple(v for v in views if v.cosmetic and v not in layout),
        layout=tuple(layout),
        headline=headline(change),
        rank=rank(change),
        outline=outline(change),
    )


def _layout_only(view: SectionView) -> bool:
    """Only renumbered or moved: nothing to read, listed in one line."""
    moved = bool(view.kinds) and set(view.kinds) <= _LAYOUT_ONLY
    return moved and not (view.segments or view.links_added or view.links_removed)


def section_view(change: SectionChange, context_words: int = 12) -> SectionView:
    old_label = change.old.label if change.old is not None else ""
    return SectionView(
        label=change.section.label,
        old_label=old_label if old_label != change.section.label else "",
        kinds=tuple(sorted(change.kinds)),
        segments=redline(change.edits, context_words),
        links_added=change.links_added,
        links_removed=change.links_removed,
        flags=tuple(sorted(change.flags)),
        cosmetic=change.cosmetic and not (change.links_added or change.links_removed),
    )


def chapter_heading(diff: ChapterDiff, title: str) -> str:
    if diff.kind == "renamed" and diff.old_title and diff.old_title != title:
        return f"{title} (formerly {diff.old_title})"
    return title


def charts(
    digest: Digest, manuals: Sequence[ManualInfo] = (), weeks: int = QUARTER_WEEKS
) -> tuple[Chart, ...]:
    """Bars of changes per week, per manual, up to the digest's period: from the week the
    manual was first watched (or its first week with changes, if earlier or not known), at
    most ``weeks`` weeks."""
    last = digest.period.end - timedelta(microseconds=1)
    keys = [week_key(last - timedelta(weeks=n)) for n in range(weeks - 1, -1, -1)]
    info = {m.name: m for m in manuals}
    names = sorted({w.manual for w in digest.history} | {c.manual for c in digest.changes})
    result = []
    for manual in names:
        counts = {w.week: w.changes for w in digest.history if w.manual == manual}
        shown = keys[_first_week(keys, counts, info.get(manual)) :]
        heading = info[manual].heading if manual in info else manual
        result.append(_chart(heading, [(k, counts.get(k, 0)) for k in shown]))
    return tuple(result)


def _first_week(keys: Sequence[str], counts: dict[str, int], info: ManualInfo | None) -> int:
    """Index in ``keys`` of the chart's first week (the last week when nothing is known)."""
    starts = [i for i, key in enumerate(keys) if counts.get(key, 0)][:1]
    if info is not None and info.monitored_since is not None:
        watched = week_key(info.monitored_since)
        starts.append(next((i for i, key in enumerate(keys) if key >= watched), len(keys) - 1))
    return min(starts, default=len(keys) - 1)


def _chart(manual: str, counts: Sequence[tuple[str, int]]) -> Chart:
    bar_width, gap, height = 24, 6, 80
    peak = max((n for _, n in counts), default=0)
    bars = []
    month = ""
    for index, (week, count) in enumerate(counts):
        bar_height = round(height * count / peak) if peak else 0
        x = index * (bar_width + gap)
        label = week_label(week)
        tick = label if label.split()[1] != month else label.split()[0]
        month = label.split()[1]
        bars.append(Bar(week, count, x, height - bar_height, bar_height, tick))
    width = len(counts) * (bar_width + gap)
    return Chart(manual, tuple(bars), peak, width, height, bar_width)
