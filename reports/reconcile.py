"""Compare a publisher's declared amendments with the changes amendwatch detected."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import timedelta
from difflib import SequenceMatcher

from reports.models import DetectedChange, Period, Reconciliation, SectionCheck
from scraper.models import PublishedEntry

MATCH_RATIO = 0.85
# a declared amendment is matched to a change detected up to this far either side of the period
DEFAULT_WINDOW = timedelta(weeks=8)
_SECTION_NUMBER = re.compile(
    r"^\s*(?:section\s+)?(\d+(?:\.\d+)*|appendix\s+\w+)\b[\s,:.-]*(.*)$", re.I
)


def normalise_title(title: str) -> str:
    """Comparison form of a title: case, accents, punctuation and "&"/"and" folded."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def title_ratio(a: str, b: str) -> float:
    left, right = normalise_title(a), normalise_title(b)
    if left == right:
        return 1.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def reconcile(
    manual: str,
    declared: Sequence[PublishedEntry],
    detected: Sequence[DetectedChange],
    *,
    period: Period | None = None,
    window: timedelta = DEFAULT_WINDOW,
    chapters: Collection[str] | None = None,
) -> Reconciliation:
    """Match declared entries to detected changes of ``manual`` by chapter title.

    With ``period``, a declared entry matches a change detected within ``window`` either side
    of it (whatever week that was), and only changes detected in the period can be "silent"
    (detected, never declared). ``chapters``, the titles of the manual's current chapters,
    lets a declared entry about a chapter that no longer exists be told apart.
    """
    own = [c for c in detected if c.manual == manual and not c.diff.is_empty]
    candidates = own if period is None else [c for c in own if _near(c, period, window)]
    matched: list[tuple[PublishedEntry, int]] = []
    declared_only: list[PublishedEntry] = []
    gone: list[PublishedEntry] = []
    checks: list[SectionCheck] = []
    for entry in declared:
        hits = [c for c in candidates if _best_ratio(entry.chapter, c) >= MATCH_RATIO]
        if _no_longer_exists(entry, hits, chapters):
            gone.append(entry)
        elif not hits:
            declared_only.append(entry)
        else:
            matched.extend((entry, hit.change_id) for hit in hits)
            checks.extend(_section_checks(entry, hits))
    used = {change_id for _, change_id in matched}
    in_period = own if period is None else [c for c in own if period.contains(c.detected_at)]
    silent = tuple(c.change_id for c in in_period if c.change_id not in used and _substantive(c))
    shown = used | set(silent)
    return Reconciliation(
        manual=manual,
        matched=tuple(matched),
        declared_only=tuple(declared_only),
        detected_only=silent,
        sections=tuple(checks),
        gone=tuple(gone),
        detected_at=tuple((c.change_id, c.detected_at) for c in own if c.change_id in shown),
        window_weeks=window // timedelta(weeks=1) if period is not None else 0,
    )


def _near(change: DetectedChange, period: Period, window: timedelta) -> bool:
    return period.start - window <= change.detected_at < period.end + window


def _no_longer_exists(
    entry: PublishedEntry, hits: Sequence[DetectedChange], chapters: Collection[str] | None
) -> bool:
    """A declared update or addition of a chapter that was since removed, or (when the current
    chapters are known) that matches none of them."""
    if entry.category == "removed":
        return False
    if hits:
        return hits[-1].diff.kind == "removed"
    if chapters is None:
        return False
    return all(title_ratio(entry.chapter, title) < MATCH_RATIO for title in chapters)


def _best_ratio(title: str, change: DetectedChange) -> float:
    names = {change.chapter_title, change.diff.old_title or "", change.diff.new_title or ""}
    return max(title_ratio(title, name) for name in names if name)


def _substantive(change: DetectedChange) -> bool:
    diff = change.diff
    if diff.kind in {"new", "removed", "renamed"} or diff.revised_throughout:
        return True
    return any(not s.cosmetic or s.links_added or s.links_removed for s in diff.sections)


def _section_checks(entry: PublishedEntry, hits: Sequence[DetectedChange]) -> list[SectionCheck]:
    checks = []
    for cited in entry.sections:
        found = ""
        change_id = hits[-1].change_id
        for hit in hits:
            label = _find_section(cited, hit)
            if label:
                found, change_id = label, hit.change_id
                break
        checks.append(SectionCheck(entry.chapter, cited, change_id, bool(found), found))
    return checks


def _find_section(cited: str, change: DetectedChange) -> str:
    """The label of the changed section that ``cited`` names, or ""."""
    number, title = _split_citation(cited)
    for section_change in change.diff.sections:
        for section in (section_change.new, section_change.old):
            if section is None:
                continue
            if number and section.number and section.number.lower() == number:
                return section.label
            if not number and title and title_ratio(title, section.title) >= MATCH_RATIO:
                return section.label
    return ""


def _split_citation(cited: str) -> tuple[str, str]:
    """Split "Section 8, Prebirth Conferences" into ("8", "Prebirth Conferences").

    A bare title gives ("", title).
    """
    cleaned = cited.strip().strip("'‘’\"“”()").strip()
    found = _SECTION_NUMBER.match(cleaned)
    if found:
        return found.group(1).lower(), found.group(2).strip("'‘’\"“” ")
    return "", cleaned
