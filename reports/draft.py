"""Draft amendment entries in the publisher's house style from detected changes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from differ.models import ADDED, MOVED, REMOVED, RENAMED, RENUMBERED, SectionChange
from reports.models import AmendmentEntry, DetectedChange, DraftSentence, EntryCategory, Period
from reports.stated import outline_sentence, state_values, value_changes, values_sentence
from reports.wording import (
    QUOTE_LIMIT,
    join,
    norm,
    quote,
    shorten,
    shorten_sentences,
    split_sentences,
    unique,
)
from scraper.models import Link, Section

__all__ = [
    "draft_change",
    "draft_entries",
    "draft_section",
    "only_cross_references",
    "shorten",
    "shorten_sentences",
    "summary_sentence",
]
Traced = tuple[str, tuple[str, ...]]  # a sentence and the section labels it came from

SUMMARY_LIMIT = 250
_LAYOUT_KINDS = frozenset({RENUMBERED, MOVED})
_NUMBER = re.compile(r"[\d.]+")
_REFERENCE = re.compile(r"\b(Sections?|Appendix|Paragraph)\s+(\d+\.)*$", re.IGNORECASE)
_REVISED = "This chapter has been revised throughout and should be re-read."
REMOVED_CHAPTER = "This chapter has been removed."  # the house wording, under "Removed Chapters"
_NOTE = "This chapter has been updated to note that "
_ALSO = " has also been updated to note that "
# the chapter's own amendment note is not guidance: it is not quoted back to the publisher
_NOTE_SECTIONS = frozenset({"amendment", "amendments", "document control", "version history"})
REREFERENCE_AFTER = 3  # sections with new wording before "Please re-reference." is added


@dataclass(frozen=True)
class Drafted:
    """Sentences drafted for one chapter diff or section, each with the labels it cites."""

    items: tuple[Traced, ...] = ()

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(text for text, _ in self.items)

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(unique(label for _, labels in self.items for label in labels))


def draft_entries(changes: Sequence[DetectedChange], period: Period) -> tuple[AmendmentEntry, ...]:
    """One entry per (manual, chapter) for the changes detected in ``period``."""
    groups: dict[tuple[str, str], list[DetectedChange]] = {}
    in_period = sorted(
        (c for c in changes if period.contains(c.detected_at)),
        key=lambda c: (c.detected_at, c.change_id),
    )
    aliases: dict[tuple[str, str], tuple[str, str]] = {}
    for change in in_period:
        key = (change.manual, change.diff.chapter_url)
        if change.diff.old_url:
            aliases[(change.manual, change.diff.old_url)] = key
        key = aliases.get(key, key)
        groups.setdefault(key, []).append(change)
    entries = [_entry_for(group, period) for group in groups.values()]
    kept = [e for e in entries if e is not None]
    order = {"updated": 0, "new": 1, "removed": 2}
    return tuple(sorted(kept, key=lambda e: (e.manual, order[e.category], e.chapter_title.lower())))


def _entry_for(group: Sequence[DetectedChange], period: Period) -> AmendmentEntry | None:
    latest = group[-1]
    category = _category(group)
    if category == "new":
        traced: list[DraftSentence] = _new_chapter_sentences(group)
    elif category == "removed":
        traced = [DraftSentence(REMOVED_CHAPTER, latest.change_id)]
    else:
        traced = _updated_sentences(group, period)
        if not traced:
            return None
    return AmendmentEntry(
        manual=latest.manual,
        period=period.key or period.label,
        category=category,
        chapter_title=latest.chapter_title,
        details=" ".join(s.text for s in traced),
        sections_cited=tuple(unique(label for s in traced for label in s.sections)),
        change_ids=tuple(c.change_id for c in group),
        chapter_url=latest.chapter_url,
        sentences=tuple(traced),
    )


def _updated_sentences(group: Sequence[DetectedChange], period: Period) -> list[DraftSentence]:
    """An updated chapter's sentences, drafted from the changes that make its net change in
    the period: a page that flipped back and forth gives one entry (or none), never "updated
    to note X" and "updated to remove X" together."""
    net = net_changes(group)
    last = net[-1] if net else None
    if last is None or last.reverted_to is None or last.reverted_to.valid_from >= period.start:
        return _traced(net)
    # back to a version published before the period: one "reverted" note
    cited = unique(s.section.label for c in net for s in c.diff.sections if s.is_substantive)
    see = f" (see {join(cited)})" if cited else ""
    text = f"This chapter has been {last.reverted_to.text}{see}."
    return [DraftSentence(text, last.change_id, tuple(cited))]


def net_changes(group: Sequence[DetectedChange]) -> list[DetectedChange]:
    """The changes of one chapter left once every run of changes that came back to a
    content already seen is cut out (loop erasure over the content hashes): empty when the
    chapter ends as it began. Only a group with a flip is cut; a change that leaves the
    content as it was (a move) is always kept."""
    hashes = [group[0].old_content_hash, *(c.new_content_hash for c in group)] if group else []
    if not any(c.reverted_to for c in group) or None in hashes:
        return list(group)
    states: list[str | None] = [hashes[0]]
    path: list[DetectedChange] = []
    kept: list[DetectedChange] = []  # content-neutral changes (moves)
    for change in group:
        if change.new_content_hash == change.old_content_hash:
            kept.append(change)
        elif change.new_content_hash in states:
            cut = states.index(change.new_content_hash)
            del states[cut + 1 :], path[cut:]
        else:
            states.append(change.new_content_hash)
            path.append(change)
    return sorted([*kept, *path], key=lambda c: (c.detected_at, c.change_id))


def _traced(group: Sequence[DetectedChange]) -> list[DraftSentence]:
    """Each change's sentences with its id; a sentence drafted twice is kept once (the first)."""
    seen: dict[str, DraftSentence] = {}
    for change in group:
        for text, labels in draft_change(change).items:
            seen.setdefault(text, DraftSentence(text, change.change_id, labels))
    return list(seen.values())


def _category(group: Sequence[DetectedChange]) -> EntryCategory:
    kinds = [c.diff.kind for c in group]
    if kinds[-1] == "removed":
        return "removed"
    if "new" in kinds:
        return "new"
    return "updated"


def _new_chapter_sentences(group: Sequence[DetectedChange]) -> list[DraftSentence]:
    """What the new chapter is about, then what it covers (its top-level sections)."""
    first = next((c for c in group if c.diff.kind == "new"), group[0])
    outline = outline_sentence(s.section for s in first.diff.sections)
    about = _new_chapter_sentence(group)
    return [about, DraftSentence(outline, first.change_id)] if outline else [about]


def _new_chapter_sentence(group: Sequence[DetectedChange]) -> DraftSentence:
    """One sentence (or two short ones) from the new chapter's scope or introduction."""
    first = next((c for c in group if c.diff.kind == "new"), group[0])
    with_summary = next((c for c in group if c.summary.strip()), None)
    if with_summary is not None:
        text = shorten_sentences(with_summary.summary, SUMMARY_LIMIT)
        return DraftSentence(text, with_summary.change_id, _summary_source(with_summary))
    for section_change in first.diff.sections:
        if section_change.section.text.strip():
            text = shorten_sentences(section_change.section.text, SUMMARY_LIMIT)
            return DraftSentence(text, first.change_id, (section_change.section.label,))
    return DraftSentence("This chapter has been added.", first.change_id)


def _summary_source(change: DetectedChange) -> tuple[str, ...]:
    """The section the summary was taken from, when one holds its text."""
    head = norm(change.summary)[:80]
    for section_change in change.diff.sections:
        if head and norm(section_change.section.text).startswith(head):
            return (section_change.section.label,)
    return ()


def summary_sentence(change: DetectedChange) -> str:
    """The first sentence an editor would draft for this one change: the digest's one-line
    summary of it ("" when nothing would be drafted, as for a cosmetic-only change)."""
    kind = change.diff.kind
    if kind == "removed":
        return REMOVED_CHAPTER
    if kind == "new":
        return _new_chapter_sentence([change]).text
    if change.reverted_to is not None:
        return f"This chapter has been {change.reverted_to.text}."
    drafted = draft_change(change).sentences
    return drafted[0] if drafted else ""


def draft_change(change: DetectedChange) -> Drafted:
    """The house-style sentences for one detected chapter change (updated or renamed)."""
    diff = change.diff
    items: list[Traced] = []
    if diff.kind == "renamed" and diff.old_title and diff.new_title:
        text = f"This chapter has been renamed from '{diff.old_title}' to '{diff.new_title}'."
        items.append((text, ()))
    substantive = [s for s in diff.sections if not s.cosmetic or _link_changes(s)]
    if diff.revised_throughout:
        items.append((_REVISED, ()))
    for section_change in substantive:
        noted = diff.revised_throughout or any(t.startswith(_NOTE) for t, _ in items)
        items.extend(draft_section(section_change, first=not noted).items)
    items.extend(_renumbering_sentence(diff.sections))
    for removed_links in (False, True):  # added links first, as the publisher writes them
        for section_change in substantive:
            label = section_change.section.label
            sentences = _link_sentences(section_change, removed=removed_links)
            items.extend((text, (label,)) for text in sentences)
    wording = sum(1 for t, _ in items if t.startswith(_NOTE) or _ALSO in t)
    if diff.revised_throughout or wording >= REREFERENCE_AFTER:
        items.append(("Please re-reference.", ()))
    return Drafted(tuple(_unique_items(items)))


def _unique_items(items: Iterable[Traced]) -> list[Traced]:
    """Each sentence once, citing every section it was drafted from."""
    merged: dict[str, list[str]] = {}
    for text, labels in items:
        merged.setdefault(text, []).extend(labels)
    return [(text, tuple(unique(labels))) for text, labels in merged.items()]


def draft_section(change: SectionChange, *, first: bool = True) -> Drafted:
    """Sentences about one section's wording, title and existence (links are separate).

    ``first`` is False when the entry already has a "This chapter has been updated" sentence.
    """
    section = change.section
    label = section.label
    if ADDED in change.kinds:
        return Drafted(((_added_sentence(section), (label,)),))
    if REMOVED in change.kinds:
        return Drafted(((f"{label} has been removed.", (label,)),))
    sentences: list[str] = []
    if RENAMED in change.kinds and change.old is not None and change.new is not None:
        sentences.append(_renamed_sentence(change.old, change.new))
    if not change.cosmetic and change.kinds - _LAYOUT_KINDS - {RENAMED}:
        sentences.extend(_wording_sentences(change, label, first=first))
    return Drafted(tuple((text, (label,)) for text in sentences))


def _added_sentence(section: Section) -> str:
    if section.number is None:
        return f"A new section, {section.title}, has been added."
    return f"A new {section.label} has been added."


def _renamed_sentence(old: Section, new: Section) -> str:
    if new.number is None:
        return f"A section has been renamed from '{old.title}' to '{new.title}'."
    prefix = f"Section {new.number}" if new.number[:1].isdigit() else new.number
    return f"{prefix} has been renamed from '{old.title}' to '{new.title}'."


def _wording_sentences(change: SectionChange, label: str, *, first: bool) -> list[str]:
    old_text = change.old.text if change.old is not None else ""
    new_text = change.new.text if change.new is not None else ""
    if _only_links_changed(change) or only_cross_references(change):
        return []
    if norm(change.section.title) in _NOTE_SECTIONS:
        return []
    added, removed = changed_sentences(old_text, new_text)
    keep = [e.text.strip() for e in change.edits if e.op == 1 and e.text.strip()]
    if added:
        quoted, missing = state_values(quote(added[0], new_text, keep), value_changes(change))
        stated = [values_sentence(label, missing)] if missing else []
        if first:
            return [f"{_NOTE}{quoted} (see {label}).", *stated]
        return [f"{label}{_ALSO}{quoted}{'' if quoted.endswith('…') else '.'}", *stated]
    if change.inserted:
        return [f"{label} has been updated to add '{shorten(change.inserted, QUOTE_LIMIT)}'."]
    if removed:
        return [f"{label} has been updated to remove '{shorten(removed[0], QUOTE_LIMIT)}'."]
    if change.deleted:
        return [f"{label} has been updated to remove '{shorten(change.deleted, QUOTE_LIMIT)}'."]
    return []


def _only_links_changed(change: SectionChange) -> bool:
    """Whether every inserted or deleted word belongs to an added or removed link's text."""
    links = (*change.links_added, *change.links_removed)
    if not links:
        return False
    link_words = set(norm(" ".join(link.text for link in links)).split())
    changed_words = set(norm(f"{change.inserted} {change.deleted}").split())
    return changed_words <= link_words


def only_cross_references(change: SectionChange) -> bool:
    """Whether the only edits are renumbered references such as "Section [-8-]{+9+}.1"."""
    before = ""
    found = False
    for edit in change.edits:
        if edit.op == 0:
            before = edit.text
            continue
        if not edit.text.strip():
            continue
        if not _NUMBER.fullmatch(edit.text.strip()) or not _REFERENCE.search(before):
            return False
        found = True
    return found


def _renumbering_sentence(sections: Iterable[SectionChange]) -> list[Traced]:
    changes = tuple(sections)
    layout_only = [
        s for s in changes if s.kinds and s.kinds <= _LAYOUT_KINDS and not _has_text_edit(s)
    ]
    if not any(RENUMBERED in s.kinds for s in layout_only):
        return []
    inserted = [s.section for s in changes if ADDED in s.kinds and s.section.number]
    removed = [s.section for s in changes if REMOVED in s.kinds and s.section.number]
    if inserted:
        text = f"Sections have been renumbered following the insertion of {_refs(inserted)}."
        return [(text, tuple(s.label for s in inserted))]
    if removed:
        text = f"Sections have been renumbered following the removal of {_refs(removed)}."
        return [(text, tuple(s.label for s in removed))]
    return [("Sections have been renumbered.", ())]


def _refs(sections: Sequence[Section]) -> str:
    numbers = [s.number or s.title for s in sections]
    word = "Section" if len(numbers) == 1 else "Sections"
    return f"{word} {join(numbers)}"


def _has_text_edit(change: SectionChange) -> bool:
    return any(e.op != 0 and e.text.strip() for e in change.edits)


def _link_changes(change: SectionChange) -> bool:
    return bool(change.links_added or change.links_removed)


def _link_sentences(change: SectionChange, *, removed: bool) -> list[str]:
    """The sentence about the links added to (or, with ``removed``, taken from) a section."""
    label = change.section.label
    links = change.links_removed if removed else change.links_added
    if not links:
        return []
    names = join(_link_names(links))
    if removed and len(links) == 1:
        return [f"The link to {names} has been removed (see {label})."]
    if removed:
        return [f"The links to {names} have been removed (see {label})."]
    if len(links) == 1:
        return [f"A link has been added to {names} (see {label})."]
    return [f"Links have been added to {names} (see {label})."]


def _link_names(links: Sequence[Link]) -> list[str]:
    return unique(shorten(link.text.strip() or link.url, 120) for link in links)


def changed_sentences(old: str, new: str) -> tuple[list[str], list[str]]:
    """Sentences of ``new`` not in ``old`` (inserted or reworded), and those only in ``old``."""
    old_sentences = split_sentences(old)
    new_sentences = split_sentences(new)
    old_keys = {norm(s) for s in old_sentences}
    new_keys = {norm(s) for s in new_sentences}
    added = [s for s in new_sentences if norm(s) not in old_keys]
    removed = [s for s in old_sentences if norm(s) not in new_keys]
    return added, removed
