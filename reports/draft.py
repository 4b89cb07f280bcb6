"""Draft amendment entries in the publisher's house style from detected changes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from differ.models import ADDED, MOVED, REMOVED, RENAMED, RENUMBERED, SectionChange
from reports.models import AmendmentEntry, DetectedChange, EntryCategory, Period
from scraper.models import Link, Section

QUOTE_LIMIT = 200
SUMMARY_LIMIT = 250
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")
_STARTERS = (
    "a an the this that these those all any each every where when whenever if it its in on "
    "for from with within there they their we you no some once before after following "
    "practitioners professionals staff agencies social workers managers"
)
_LOWER_STARTERS = frozenset(_STARTERS.split(" "))
_LAYOUT_KINDS = frozenset({RENUMBERED, MOVED})
_NUMBER = re.compile(r"[\d.]+")
_REFERENCE = re.compile(r"\b(Sections?|Appendix|Paragraph)\s+(\d+\.)*$", re.IGNORECASE)
_REVISED = "This chapter has been revised throughout and should be re-read."
_NOTE = "This chapter has been updated to note that "
_ALSO = "A note has also been added to "
# the chapter's own amendment note is not guidance: it is not quoted back to the publisher
_NOTE_SECTIONS = frozenset({"amendment", "amendments", "document control", "version history"})
REREFERENCE_AFTER = 3  # sections with new wording before "Please re-reference." is added


@dataclass(frozen=True)
class Drafted:
    """Sentences drafted for one chapter diff, with the section labels they cite."""

    sentences: tuple[str, ...]
    cited: tuple[str, ...]


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
        details = _new_chapter_details(group)
        cited: tuple[str, ...] = ()
    elif category == "removed":
        details, cited = "This chapter has been removed.", ()
    else:
        drafted = [draft_change(c) for c in group]
        sentences = _unique(s for d in drafted for s in d.sentences)
        if not sentences:
            return None
        details = " ".join(sentences)
        cited = tuple(_unique(label for d in drafted for label in d.cited))
    return AmendmentEntry(
        manual=latest.manual,
        period=period.key or period.label,
        category=category,
        chapter_title=latest.chapter_title,
        details=details,
        sections_cited=cited,
        change_ids=tuple(c.change_id for c in group),
        chapter_url=latest.chapter_url,
    )


def _category(group: Sequence[DetectedChange]) -> EntryCategory:
    kinds = [c.diff.kind for c in group]
    if kinds[-1] == "removed":
        return "removed"
    if "new" in kinds:
        return "new"
    return "updated"


def _new_chapter_details(group: Sequence[DetectedChange]) -> str:
    summary = next((c.summary for c in group if c.summary.strip()), "")
    if not summary:
        first = next((c for c in group if c.diff.kind == "new"), group[0])
        texts = (s.section.text for s in first.diff.sections if s.section.text.strip())
        summary = next(texts, "")
    if not summary.strip():
        return "This chapter has been added."
    return shorten_sentences(summary, SUMMARY_LIMIT)


def draft_change(change: DetectedChange) -> Drafted:
    """The house-style sentences for one detected chapter change (updated or renamed)."""
    diff = change.diff
    sentences: list[str] = []
    cited: list[str] = []
    if diff.kind == "renamed" and diff.old_title and diff.new_title:
        sentences.append(
            f"This chapter has been renamed to '{diff.new_title}' from '{diff.old_title}'."
        )
    substantive = [s for s in diff.sections if not s.cosmetic or _link_changes(s)]
    if diff.revised_throughout:
        sentences.append(_REVISED)
    for section_change in substantive:
        noted = diff.revised_throughout or any(s.startswith(_NOTE) for s in sentences)
        drafted = draft_section(section_change, first=not noted)
        sentences.extend(drafted.sentences)
        cited.extend(drafted.cited)
    sentences.extend(_renumbering_sentence(diff.sections))
    for section_change in substantive:
        sentences.extend(_link_sentences(section_change))
        if _link_changes(section_change):
            cited.append(section_change.section.label)
    wording = sum(1 for s in sentences if s.startswith((_NOTE, _ALSO)))
    if diff.revised_throughout or wording >= REREFERENCE_AFTER:
        sentences.append("Please re-reference.")
    return Drafted(tuple(_unique(sentences)), tuple(_unique(cited)))


def draft_section(change: SectionChange, *, first: bool = True) -> Drafted:
    """Sentences about one section's wording, title and existence (links are separate).

    ``first`` is False when the entry already has a "This chapter has been updated" sentence.
    """
    section = change.section
    label = section.label
    if ADDED in change.kinds:
        return Drafted((_added_sentence(section),), (label,))
    if REMOVED in change.kinds:
        return Drafted((f"{label} has been removed.",), (label,))
    sentences: list[str] = []
    if RENAMED in change.kinds and change.old is not None and change.new is not None:
        sentences.append(_renamed_sentence(change.old, change.new))
    if not change.cosmetic and change.kinds - _LAYOUT_KINDS - {RENAMED}:
        sentences.extend(_wording_sentences(change, label, first=first))
    return Drafted(tuple(sentences), (label,) if sentences else ())


def _added_sentence(section: Section) -> str:
    if section.number is None:
        return f"A new section, {section.title}, has been added."
    return f"A new {section.label} has been added."


def _renamed_sentence(old: Section, new: Section) -> str:
    if new.number is None:
        return f"The section '{old.title}' has been renamed '{new.title}'."
    prefix = f"Section {new.number}" if new.number[:1].isdigit() else new.number
    return f"{prefix} has been renamed '{new.title}' (formerly '{old.title}')."


def _wording_sentences(change: SectionChange, label: str, *, first: bool) -> list[str]:
    old_text = change.old.text if change.old is not None else ""
    new_text = change.new.text if change.new is not None else ""
    if _only_links_changed(change) or _only_cross_references(change):
        return []
    if _norm(change.section.title) in _NOTE_SECTIONS:
        return []
    added, removed = changed_sentences(old_text, new_text)
    if added and first:
        return [f"{_NOTE}{_quote(added[0], new_text)} (see {label})."]
    if added:
        quoted = _quote(added[0], new_text)
        return [f"{_ALSO}{label} that {quoted}{'' if quoted.endswith('…') else '.'}"]
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
    link_words = set(_norm(" ".join(link.text for link in links)).split())
    changed_words = set(_norm(f"{change.inserted} {change.deleted}").split())
    return changed_words <= link_words


def _only_cross_references(change: SectionChange) -> bool:
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


def _renumbering_sentence(sections: Iterable[SectionChange]) -> list[str]:
    changes = tuple(sections)
    layout_only = [
        s for s in changes if s.kinds and s.kinds <= _LAYOUT_KINDS and not _has_text_edit(s)
    ]
    if not any(RENUMBERED in s.kinds for s in layout_only):
        return []
    inserted = [s.section for s in changes if ADDED in s.kinds and s.section.number]
    removed = [s.section for s in changes if REMOVED in s.kinds and s.section.number]
    if inserted:
        return [f"Sections have been renumbered following the insertion of {_refs(inserted)}."]
    if removed:
        return [f"Sections have been renumbered following the removal of {_refs(removed)}."]
    return ["Sections have been renumbered."]


def _refs(sections: Sequence[Section]) -> str:
    numbers = [s.number or s.title for s in sections]
    word = "Section" if len(numbers) == 1 else "Sections"
    return f"{word} {_join(numbers)}"


def _has_text_edit(change: SectionChange) -> bool:
    return any(e.op != 0 and e.text.strip() for e in change.edits)


def _link_changes(change: SectionChange) -> bool:
    return bool(change.links_added or change.links_removed)


def _link_sentences(change: SectionChange) -> list[str]:
    label = change.section.label
    sentences: list[str] = []
    if change.links_added:
        names = _join(_link_names(change.links_added))
        if len(change.links_added) == 1:
            sentences.append(f"A link has been added to {names} (see {label}).")
        else:
            sentences.append(f"Links have been added to {names} (see {label}).")
    if change.links_removed:
        names = _join(_link_names(change.links_removed))
        if len(change.links_removed) == 1:
            sentences.append(f"The link to {names} has been removed (see {label}).")
        else:
            sentences.append(f"The links to {names} have been removed (see {label}).")
    return sentences


def _link_names(links: Sequence[Link]) -> list[str]:
    return _unique(shorten(link.text.strip() or link.url, 120) for link in links)


def changed_sentences(old: str, new: str) -> tuple[list[str], list[str]]:
    """Sentences of ``new`` not in ``old`` (inserted or reworded), and those only in ``old``."""
    old_sentences = split_sentences(old)
    new_sentences = split_sentences(new)
    old_keys = {_norm(s) for s in old_sentences}
    new_keys = {_norm(s) for s in new_sentences}
    added = [s for s in new_sentences if _norm(s) not in old_keys]
    removed = [s for s in old_sentences if _norm(s) not in new_keys]
    return added, removed


def split_sentences(text: str) -> list[str]:
    return [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ending with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–") + "…"


def shorten_sentences(text: str, limit: int) -> str:
    """Whole sentences of ``text`` up to ``limit`` characters (the first one shortened if long)."""
    sentences = split_sentences(" ".join(text.split()))
    kept: list[str] = []
    for sentence in sentences:
        if len(" ".join([*kept, sentence])) > limit:
            break
        kept.append(sentence)
    if not kept:
        return shorten(text, limit)
    joined = " ".join(kept)
    return joined if joined[-1] in ".!?…" else joined + "."


def _quote(sentence: str, context: str = "") -> str:
    """The sentence shortened, its first word lower-cased when it is not a proper noun."""
    text = shorten(sentence, QUOTE_LIMIT).rstrip(".")
    first, _, rest = text.partition(" ")
    if first[:1].isupper() and first[1:].islower() and _common_word(first, context):
        text = f"{first.lower()} {rest}" if rest else first.lower()
    return text


def _common_word(word: str, context: str) -> bool:
    """A function word, or one that the section also uses in lower case (not a name)."""
    lowered = word.lower()
    if lowered in _LOWER_STARTERS:
        return True
    return re.search(rf"\b{re.escape(lowered)}\b", context) is not None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
