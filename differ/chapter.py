"""Diff two versions of a chapter section by section."""

from __future__ import annotations

from collections.abc import Sequence

from amendwatch.errors import InputError
from differ.align import Alignment, align_sections, make_heading_key, make_number_key
from differ.classify import flags_for, link_changes
from differ.cosmetic import is_cosmetic
from differ.models import (
    ADDED,
    MODIFIED,
    MOVED,
    REMOVED,
    RENAMED,
    RENUMBERED,
    ChapterDiff,
    ChapterKind,
    Edit,
    SectionChange,
)
from differ.textdiff import diff_words
from scraper.models import Chapter, Section

THROUGHOUT = 0.6  # share of sections changed substantively for "revised throughout"
SAME_CONTENT = 0.9  # similarity above which a chapter under a new URL is the same chapter


def is_same_text(a: str, b: str) -> bool:
    """Texts equal but for irrelevant whitespace (runs, leading and trailing)."""
    return a == b or a.split() == b.split()


def measure_similarity(edits: Sequence[Edit], a: str, b: str) -> float:
    """2 * unchanged characters / all characters, 0..1 (1.0 for two empty texts)."""
    if not a.strip() and not b.strip():
        return 1.0
    equal = sum(len(e.text) for e in edits if e.op == 0)
    return 2 * equal / (len(a) + len(b))


def _notes_for(
    alignment: Alignment, old: Sequence[Section], new: Sequence[Section]
) -> dict[tuple[int | None, int | None], str]:
    """Notes for the extra sections of splits and merges, keyed (old index, new index)."""
    notes: dict[tuple[int | None, int | None], str] = {}
    for o, pieces in alignment.splits:
        for n in pieces:
            if n in alignment.added:
                notes[(None, n)] = f"split from {old[o].label}"
    for n, pieces in alignment.merges:
        for o in pieces:
            if o in alignment.removed:
                notes[(o, None)] = f"merged into {new[n].label}"
    return notes


def _text_change(
    old: Section | None, new: Section | None
) -> tuple[tuple[Edit, ...], bool, float, frozenset[str]]:
    """(edits, cosmetic, similarity, flags) of a section's text."""
    a = old.text if old is not None else ""
    b = new.text if new is not None else ""
    if is_same_text(a, b):
        return (), True, 1.0, frozenset()
    edits = diff_words(a, b)
    return edits, is_cosmetic(a, b), measure_similarity(edits, a, b), flags_for(edits)


def _layout_kinds(old: Section | None, new: Section | None, *, moved: bool) -> set[str]:
    """added / removed, or renamed, renumbered and moved for a pair."""
    if old is None:
        return {ADDED}
    if new is None:
        return {REMOVED}
    kinds: set[str] = {MOVED} if moved else set()
    if is_resplit(old, new):
        return kinds
    if not is_cosmetic(old.title, new.title):
        kinds.add(RENAMED)
    if make_number_key(old.number) != make_number_key(new.number):
        kinds.add(RENUMBERED)
    return kinds


def is_resplit(old: Section, new: Section) -> bool:
    """The same heading split otherwise into number and title ("A. Definitions" as a title,
    then number "A" and title "Definitions"): how it was read changed, not the heading."""
    renumbered = make_number_key(old.number) != make_number_key(new.number)
    return renumbered and make_heading_key(old) == make_heading_key(new)


def _is_retitled(old: Section | None, new: Section | None, kinds: set[str]) -> bool:
    """A title change that is only cosmetic (case, quotes, dashes): a modification."""
    if old is None or new is None or RENAMED in kinds or is_resplit(old, new):
        return False
    return old.title.split() != new.title.split()


def build_section_change(
    old: Section | None, new: Section | None, *, moved: bool = False, note: str = ""
) -> SectionChange | None:
    """The change from ``old`` to ``new`` (either may be None), or None when nothing changed."""
    kinds = _layout_kinds(old, new, moved=moved)
    edits, cosmetic, similarity, flags = _text_change(old, new)
    added, removed, retargeted = link_changes(
        old.links if old is not None else (), new.links if new is not None else ()
    )
    retitled = _is_retitled(old, new, kinds)
    if old is not None and new is not None and (edits or added or removed or retitled):
        kinds.add(MODIFIED)
    if not kinds:
        return None
    return SectionChange(
        kinds=frozenset(kinds),
        old=old,
        new=new,
        edits=edits,
        links_added=added,
        links_removed=removed,
        cosmetic=MODIFIED in kinds and cosmetic and not (added or removed),
        similarity=similarity,
        flags=flags,
        links_retargeted=retargeted,
        note=note,
    )


def _chapter_kind(old: Chapter | None, new: Chapter | None) -> ChapterKind:
    if old is None:
        return "new"
    if new is None:
        return "removed"
    if not is_cosmetic(old.title, new.title):
        return "renamed"
    return "updated"


def _collect_changes(
    old: Chapter | None, new: Chapter | None
) -> tuple[tuple[SectionChange, ...], tuple[tuple[int, int], ...]]:
    old_sections = old.sections if old is not None else ()
    new_sections = new.sections if new is not None else ()
    alignment = align_sections(old_sections, new_sections)
    notes = _notes_for(alignment, old_sections, new_sections)
    ordered: list[tuple[tuple[int, int], SectionChange]] = []
    for o, n in alignment.pairs:
        found = build_section_change(old_sections[o], new_sections[n], moved=n in alignment.moved)
        if found is not None:
            ordered.append(((n, o), found))
    for n in alignment.added:
        found = build_section_change(None, new_sections[n], note=notes.get((None, n), ""))
        if found is not None:
            ordered.append(((n, -1), found))
    for o in alignment.removed:
        found = build_section_change(old_sections[o], None, note=notes.get((o, None), ""))
        if found is not None:
            ordered.append(((_removed_position(o, alignment), o), found))
    ordered.sort(key=lambda item: item[0])
    return tuple(change for _, change in ordered), alignment.pairs


def _removed_position(o: int, alignment: Alignment) -> int:
    """Where a removed section sorts in new order: after the new partner of its predecessor."""
    before = [n for po, n in alignment.pairs if po < o]
    return max(before) if before else -1


def diff_chapters(
    old: Chapter | None,
    new: Chapter | None,
    *,
    old_version: int | None,
    new_version: int | None,
) -> ChapterDiff:
    """What changed between two versions of a chapter (``None`` for "did not exist")."""
    if old is None and new is None:
        raise InputError("diff_chapters needs an old or a new chapter")
    kind = _chapter_kind(old, new)
    sections, pairs = _collect_changes(old, new)
    old_stamp = old.stamp if old is not None else None
    new_stamp = new.stamp if new is not None else None
    if old is None or new is None or old_stamp == new_stamp:
        old_stamp = new_stamp = None  # kept only when they differ (a new chapter's is none)
    elif kind == "updated" and not sections:
        kind = "stamp"
    size = max(len(old.sections) if old else 0, len(new.sections) if new else 0)
    substantive = sum(1 for change in sections if change.is_substantive)
    url = new.url if new is not None else old.url if old is not None else ""
    return ChapterDiff(
        chapter_url=url,
        kind=kind,
        old_version=old_version,
        new_version=new_version,
        sections=sections,
        old_title=old.title if old is not None else None,
        new_title=new.title if new is not None else None,
        pairs=pairs,
        revised_throughout=kind in {"updated", "renamed"}
        and size > 0
        and substantive / size > THROUGHOUT,
        old_stamp=old_stamp,
        new_stamp=new_stamp,
    )


def measure_chapter_similarity(a: Chapter, b: Chapter) -> float:
    """How much of the two chapters' text (titles included) is the same, 0..1."""
    text_a = a.title + "\n\n" + a.text
    text_b = b.title + "\n\n" + b.text
    return measure_similarity(diff_words(text_a, text_b), text_a, text_b)


def is_same_content(a: Chapter, b: Chapter, *, floor: float = SAME_CONTENT) -> bool:
    """True when ``b`` (under another URL) is nearly the same chapter as ``a``."""
    return measure_chapter_similarity(a, b) > floor


def diff_moved(
    old: Chapter, new: Chapter, *, old_version: int | None, new_version: int | None
) -> ChapterDiff:
    """The diff of a chapter re-published under a new URL: kind "moved", ``old_url`` set."""
    diff = diff_chapters(old, new, old_version=old_version, new_version=new_version)
    return ChapterDiff(
        chapter_url=new.url,
        kind="moved",
        old_version=old_version,
        new_version=new_version,
        sections=diff.sections,
        old_title=diff.old_title,
        new_title=diff.new_title,
        pairs=diff.pairs,
        revised_throughout=diff.revised_throughout,
        old_url=old.url,
    )
