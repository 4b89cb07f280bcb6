"""Compare a publisher's declared amendments with the changes amendwatch detected."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

from reports.models import DetectedChange, Reconciliation, SectionCheck
from scraper.models import PublishedEntry

MATCH_RATIO = 0.85
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
) -> Reconciliation:
    """Match declared entries to detected changes of ``manual`` by chapter title."""
    candidates = [c for c in detected if c.manual == manual and not c.diff.is_empty]
    matched: list[tuple[PublishedEntry, int]] = []
    declared_only: list[PublishedEntry] = []
    checks: list[SectionCheck] = []
    used: set[int] = set()
    for entry in declared:
        hits = [c for c in candidates if _best_ratio(entry.chapter, c) >= MATCH_RATIO]
        if not hits:
            declared_only.append(entry)
            continue
        for hit in hits:
            matched.append((entry, hit.change_id))
            used.add(hit.change_id)
        checks.extend(_section_checks(entry, hits))
    silent = tuple(c.change_id for c in candidates if c.change_id not in used and _substantive(c))
    return Reconciliation(
        manual=manual,
        matched=tuple(matched),
        declared_only=tuple(declared_only),
        detected_only=silent,
        sections=tuple(checks),
    )


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
