"""Frozen dataclasses that leave the differ stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from differ.quote import quoted_edits
from scraper.models import Link, Section

# Section change kinds (DESIGN.md)
ADDED = "added"
REMOVED = "removed"
MODIFIED = "modified"
RENAMED = "renamed"
RENUMBERED = "renumbered"
MOVED = "moved"
SECTION_KINDS = frozenset({ADDED, REMOVED, MODIFIED, RENAMED, RENUMBERED, MOVED})

# "stamp": only the page's date stamp changed ("Last reviewed on ..."): never substantive
ChapterKind = Literal["new", "updated", "removed", "renamed", "moved", "stamp"]

EditOp = Literal[-1, 0, 1]  # diff-match-patch convention: delete, equal, insert


@dataclass(frozen=True)
class Edit:
    op: EditOp
    text: str


@dataclass(frozen=True)
class SectionChange:
    kinds: frozenset[str]
    old: Section | None
    new: Section | None
    edits: tuple[Edit, ...] = ()
    links_added: tuple[Link, ...] = ()
    links_removed: tuple[Link, ...] = ()
    cosmetic: bool = False
    similarity: float = 0.0
    # what compliance officers look for first: "number", "date", "duration", "obligation"
    flags: frozenset[str] = frozenset()
    # links whose text stayed and URL changed, as (old, new); both sides are also in
    # links_removed / links_added
    links_retargeted: tuple[tuple[Link, Link], ...] = ()
    # why a section appeared or went, e.g. "split from Section 3, Referrals"
    note: str = ""

    @property
    def inserted(self) -> str:
        """The text inserted, as a quote: reworded runs only (see differ/quote.py)."""
        return quoted_edits(self.edits, 1)

    @property
    def deleted(self) -> str:
        """The text deleted, as a quote: reworded runs only (see differ/quote.py)."""
        return quoted_edits(self.edits, -1)

    @property
    def is_substantive(self) -> bool:
        """Added, removed, renamed, or reworded/relinked beyond cosmetics.

        A section that was only renumbered or moved (same text, same title) is not.
        """
        if self.kinds & {ADDED, REMOVED, RENAMED}:
            return True
        return MODIFIED in self.kinds and not self.cosmetic

    @property
    def section(self) -> Section:
        """The section as it now stands (or stood, when removed)."""
        found = self.new if self.new is not None else self.old
        assert found is not None, "a SectionChange has an old or a new section"
        return found


@dataclass(frozen=True)
class ChapterDiff:
    """What changed in one chapter between two versions.

    ``pairs`` holds (old index, new index) for every aligned section, changed or not,
    so the store can carry lineage ids across renumbering and renaming.
    """

    chapter_url: str
    kind: ChapterKind
    old_version: int | None
    new_version: int | None
    sections: tuple[SectionChange, ...]
    old_title: str | None = None
    new_title: str | None = None
    pairs: tuple[tuple[int, int], ...] = ()
    revised_throughout: bool = False
    old_url: str | None = None  # set when kind == "moved"
    extra: tuple[tuple[str, str], ...] = field(default=())
    # the date stamps of the two versions, when they differ (metadata, not a section edit)
    old_stamp: str | None = None
    new_stamp: str | None = None

    @property
    def substantive(self) -> tuple[SectionChange, ...]:
        """The changes worth citing: not cosmetic, not only renumbered or moved."""
        return tuple(s for s in self.sections if s.is_substantive)

    @property
    def is_empty(self) -> bool:
        """No section changed and the title stayed: nothing to report but, perhaps, a stamp."""
        return not self.sections and self.kind in ("updated", "stamp")

    @property
    def stamp_changed(self) -> bool:
        return self.old_stamp != self.new_stamp


def section_ref(section: Section | None) -> dict[str, Any] | None:
    if section is None:
        return None
    return {"number": section.number, "title": section.title, "path": list(section.path)}


def link_json(link: Link) -> dict[str, str]:
    return {"text": link.text, "url": link.url}


def section_change_to_json(change: SectionChange) -> dict[str, Any]:
    """The JSON of one section change, as DESIGN.md's `changes --format json` defines it."""
    return {
        "kinds": sorted(change.kinds),
        "old": section_ref(change.old),
        "new": section_ref(change.new),
        "inserted": change.inserted,
        "deleted": change.deleted,
        "links_added": [link_json(link) for link in change.links_added],
        "links_removed": [link_json(link) for link in change.links_removed],
        "cosmetic": change.cosmetic,
        "similarity": round(change.similarity, 4),
        "flags": sorted(change.flags),
        "links_retargeted": [
            {"text": new.text, "old_url": old.url, "new_url": new.url}
            for old, new in change.links_retargeted
        ],
        "note": change.note,
    }


def chapter_diff_to_json(diff: ChapterDiff) -> dict[str, Any]:
    return {
        "chapter_url": diff.chapter_url,
        "kind": diff.kind,
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "old_title": diff.old_title,
        "new_title": diff.new_title,
        "revised_throughout": diff.revised_throughout,
        "old_url": diff.old_url,
        "stamp": {"old": diff.old_stamp, "new": diff.new_stamp} if diff.stamp_changed else None,
        "sections": [section_change_to_json(s) for s in diff.sections],
    }
