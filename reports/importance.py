"""What a compliance officer reads first: each change's rank, one-line summary and outline.

Ranks: ``ACT`` (new and removed chapters; a changed obligation, duration or number), ``READ``
(other wording, titles, links, layout), ``COSMETIC`` (quotes, dashes, spacing only: nothing to
re-read). A change where only the page's date stamp moved is not shown at all (``stamp_only``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from differ.models import SectionChange
from reports.draft import only_cross_references, summary_sentence
from reports.models import DetectedChange
from scraper.models import Section

ACT: Final = 0
READ: Final = 1
COSMETIC: Final = 2
GROUP_LABELS: Final = {
    ACT: "Act on: new and removed chapters, changed duties, timescales and numbers",
    READ: "Read: other changes to wording, titles and links",
    COSMETIC: "Cosmetic changes only (quotation marks, dashes, spacing): nothing to re-read",
}
COSMETIC_HEADLINE: Final = (
    "Cosmetic changes only (quotation marks, dashes or spacing): nothing to re-read."
)
_DUTY_FLAGS: Final = frozenset({"obligation", "duration", "number"})


@dataclass(frozen=True)
class OutlineItem:
    """One section of a new (or removed) chapter's outline, with its subsections."""

    text: str  # "4.1 Immediate Safety", or the title of an unnumbered section
    children: tuple[OutlineItem, ...] = ()


def stamp_only(change: DetectedChange) -> bool:
    """Nothing changed but, perhaps, the page's date stamp: never shown, never counted."""
    return change.diff.is_empty


def cosmetic_only(change: DetectedChange) -> bool:
    """Every section change is cosmetic (no wording, title, link or layout to read)."""
    diff = change.diff
    if diff.kind not in ("updated", "stamp") or diff.revised_throughout or not diff.sections:
        return False
    return all(s.cosmetic and not (s.links_added or s.links_removed) for s in diff.sections)


def counted(change: DetectedChange) -> bool:
    """Whether the summary counts (and the chart) include this change."""
    return not (stamp_only(change) or cosmetic_only(change))


def changes_duties(change: DetectedChange) -> bool:
    """A section's obligation, duration or number changed (a renumbered cross-reference such
    as "Section 8.1" -> "9.1" is not a changed number)."""
    return any(_duty_section(s) for s in change.diff.sections)


def _duty_section(section: SectionChange) -> bool:
    if section.cosmetic or not (section.flags & _DUTY_FLAGS):
        return False
    return section.is_substantive and not only_cross_references(section)


def rank(change: DetectedChange) -> int:
    kind = change.diff.kind
    if kind in ("new", "removed") or changes_duties(change):
        return ACT
    return COSMETIC if cosmetic_only(change) else READ


def reading_order(change: DetectedChange) -> tuple[int, int, str, str, int]:
    """Sort key: rank; within "act on", changed duties, then new, then removed chapters."""
    within = {"new": 1, "removed": 2}.get(change.diff.kind, 0)
    when = change.detected_at.isoformat()
    return rank(change), within, change.chapter_title.casefold(), when, change.change_id


def headline(change: DetectedChange) -> str:
    """The drafted sentence that opens the chapter in the digest."""
    if cosmetic_only(change):
        return COSMETIC_HEADLINE
    drafted = summary_sentence(change)
    if drafted:
        return drafted
    diff = change.diff
    if diff.kind == "moved" and diff.old_url:
        return f"This chapter has moved to a new address (it was {diff.old_url})."
    if diff.revised_throughout:
        return "This chapter has been revised throughout and should be re-read."
    return "This chapter has changed: see the sections below."


def outline(change: DetectedChange) -> tuple[OutlineItem, ...]:
    """A new chapter's sections (a removed chapter's, as they were), nested by number."""
    kind = change.diff.kind
    if kind not in ("new", "removed"):
        return ()
    sections = [s.new if kind == "new" else s.old for s in change.diff.sections]
    return _tree([s for s in sections if s is not None])


def _tree(sections: list[Section]) -> tuple[OutlineItem, ...]:
    """Sections nested under the section whose path is their path's parent."""
    children: dict[tuple[str, ...], list[Section]] = {}
    paths = {s.path for s in sections}
    roots: list[Section] = []
    for section in sections:
        parent = _nearest_parent(section.path, paths)
        if parent is None:
            roots.append(section)
        else:
            children.setdefault(parent, []).append(section)

    def build(section: Section) -> OutlineItem:
        kids = tuple(build(kid) for kid in children.get(section.path, []))
        return OutlineItem(_outline_text(section), kids)

    return tuple(build(root) for root in roots)


def _nearest_parent(path: tuple[str, ...], paths: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    for cut in range(len(path) - 1, 0, -1):
        if path[:cut] in paths:
            return path[:cut]
    return None


def _outline_text(section: Section) -> str:
    if section.number and section.title:
        return f"{section.number} {section.title}"
    return section.title or section.number or ""
