"""Matching what the CLI reported against the truth of the Markdown (rules in docs/quality.md).

A reported section change counts when it is not cosmetic and names a change of content (added,
removed, modified or renamed); renumbered- or moved-only changes, cosmetic ones and ``stamp``
changes are listed apart. Each reported change of a chapter in a week is then judged:

1. **by title**: one of its titles (new or old; number prefixes stripped, case and punctuation
   ignored; its number when the title is empty) is the title of a changed truth section of
   that document that week, not yet found by an earlier reported change -> a true positive,
   and those truth sections are found (the product's own introduction is only the truth's
   introduction or an unnumbered "Introduction" heading);
2. **by text**: when nothing matched by title, or one of its titles is no heading of either
   version (a bold lead-in the product promoted, a heading it missed: sections split
   differently), the changed truth section holding at least 80 % of the words it inserted and
   deleted and of the links it added and removed is found too, and the change is a true
   positive. Inserted words are looked for in that section's new text, deleted ones in its old
   text; a side of fewer than 12 words only among the words the section's own edit inserted
   (deleted), so that a changed date stamp is not credited to a section that merely mentions
   the date. When no single section holds both sides, each side may be found in one (a
   heading renamed and merged); a section not yet found is preferred among those holding as
   much. A change whose titles are all headings of the versions is not
   credited with a section that another change reported under that section's own title
   (unless it bears that title too);
3. otherwise a **false positive** when one of its titles is a heading (or the introduction) of
   either version, or when the document had no real change that week; else **unattributed**
   (no heading's title, its text in no changed section, the document did change): left out of
   precision and listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from quality_truth import (
    INTRO,
    TruthChange,
    norm_title,
    split_sections,
    strip_number,
    text_key,
    words,
)

CONTENT_KINDS = frozenset({"added", "removed", "modified", "renamed"})
COVERAGE = 0.8  # share of a reported change's words that must lie in one truth section
LONG = 12  # words from which a side is looked for in a section's whole text, not its edit


@dataclass(frozen=True)
class Reported:
    kinds: tuple[str, ...]
    old_title: str | None
    new_title: str | None
    old_number: str | None
    new_number: str | None
    inserted: str
    deleted: str
    cosmetic: bool
    links_added: tuple[tuple[str, str], ...] = ()  # (text, url)
    links_removed: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reported:
        old, new = data.get("old") or {}, data.get("new") or {}
        return cls(
            tuple(sorted(data.get("kinds", ()))),
            old.get("title"),
            new.get("title"),
            old.get("number"),
            new.get("number"),
            str(data.get("inserted") or ""),
            str(data.get("deleted") or ""),
            bool(data.get("cosmetic")),
            _links(data.get("links_added")),
            _links(data.get("links_removed")),
        )

    @property
    def substantive(self) -> bool:
        kinds = set(self.kinds)
        return not self.cosmetic and "stamp" not in kinds and bool(kinds & CONTENT_KINDS)

    @property
    def title(self) -> str:
        return self.new_title if self.new_title is not None else (self.old_title or "")

    @property
    def named(self) -> list[tuple[str, bool]]:
        """(title key, whether it is the product's own introduction) of the old and new side;
        the product's introduction has no number and is titled "Introduction"."""
        pairs = ((self.old_title, self.old_number), (self.new_title, self.new_number))
        found = [
            (norm_title(t or "") or norm_title(n or ""), n is None and t == INTRO)
            for t, n in pairs
            if t or n
        ]
        return list(dict.fromkeys((key, intro) for key, intro in found if key))

    @property
    def keys(self) -> set[str]:
        return {key for key, _ in self.named}

    def label(self) -> str:
        snippet = " ".join((self.inserted or self.deleted).split())[:100]
        if not snippet and (self.links_added or self.links_removed):
            snippet = f"links +{len(self.links_added)} -{len(self.links_removed)}"
        title = repr(self.title)
        if self.old_title is not None and self.new_title not in (None, self.old_title):
            title = f"{self.old_title!r} → {self.new_title!r}"
        return f"{'/'.join(self.kinds)} {title}: {snippet!r}"


def _links(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(i.get("text") or ""), str(i.get("url") or "")) for i in items or ())


def _link_in(link: tuple[str, str], links: Sequence[tuple[str, str]]) -> bool:
    """A reported link (URL resolved by the product) among a truth section's (href as written)."""
    text, url = text_key(link[0]), link[1]
    return any(text_key(t) == text and u and _same_target(url, u) for t, u in links)


def _same_target(url: str, href: str) -> bool:
    """The product drops tracking and token parameters from links (scraper/urlcanon.py):
    compare with the href as written, then without queries."""
    if url == href or url.endswith(href):
        return True
    bare = href.split("#", 1)[0].split("?", 1)[0]
    return bool(bare) and url.split("#", 1)[0].split("?", 1)[0].endswith(bare)


@dataclass
class Match:
    found: set[int] = field(default_factory=set)  # indices of truth changes found
    true_pos: list[Reported] = field(default_factory=list)
    false_pos: list[Reported] = field(default_factory=list)
    unattributed: list[Reported] = field(default_factory=list)


def _by_title(change: Reported, truth: Sequence[TruthChange], found: set[int]) -> set[int]:
    chosen: set[int] = set()
    for key, intro in change.named:
        candidates = [
            i
            for i, t in enumerate(truth)
            if key in t.title_keys and i not in found | chosen and _may_be(intro, t)
        ]
        if candidates:  # a section named by two reported changes is credited to the first
            chosen.add(candidates[0])
    return chosen


def _may_be(intro: bool, item: TruthChange) -> bool:
    """The product's own introduction is the truth's, or an unnumbered "Introduction" heading;
    a numbered "1. Introduction" is never the introduction."""
    sections = [s for s in (item.old, item.new) if s is not None]
    if any(s.intro for s in sections):
        return intro
    if intro:
        return all(strip_number(s.title) == s.title for s in sections)
    return True


def _coverage(needles: list[str], hay: set[str]) -> int:
    return sum(1 for word in needles if word in hay)


@dataclass(frozen=True)
class _Side:
    """One side of a reported change: the words and links it inserted (or deleted)."""

    words: list[str]
    links: tuple[tuple[str, str], ...]
    new: bool  # looked for in the truth section's new text (else its old text)

    @property
    def size(self) -> int:
        return len(self.words) + len(self.links)

    def found_in(self, item: TruthChange) -> int:
        """Units found: a long side's words anywhere in the section's text (new or old), a
        short one's among the words that section's own edit inserted (or deleted), so that a
        date stamp is not credited to a section that merely mentions that date."""
        mine = item.new if self.new else item.old
        if mine is None:
            return 0
        links = sum(_link_in(link, mine.links) for link in self.links)
        if len(self.words) >= LONG:
            return _coverage(self.words, set(words(f"{mine.title} {mine.text}"))) + links
        inserted, deleted = item.edits()
        edited = Counter(inserted if self.new else deleted)
        found = 0
        for word in self.words:
            if edited[word] > 0:
                edited[word] -= 1
                found += 1
        return found + links


def _best(
    sides: list[_Side], truth: Sequence[TruthChange], skip: set[int], found: set[int]
) -> int | None:
    """The truth change holding at least COVERAGE of ``sides``: the one holding most, then
    one not yet found, then the first."""
    total = sum(side.size for side in sides)
    best: tuple[int, bool, int] | None = None
    for index, item in enumerate(truth):
        if index in skip:
            continue
        held = sum(side.found_in(item) for side in sides)
        score = (held, index not in found, -index)
        if held / total >= COVERAGE and (best is None or score > best):
            best = score
    return -best[2] if best else None


def _by_text(
    change: Reported, truth: Sequence[TruthChange], skip: set[int], found: set[int]
) -> set[int]:
    """The changed truth sections holding what was reported: one section holding at least
    COVERAGE of the words inserted and links added (in its new text) and of those deleted and
    removed (in its old text); else one section per side (a heading renamed and merged)."""
    sides = [
        _Side(words(change.inserted), change.links_added, new=True),
        _Side(words(change.deleted), change.links_removed, new=False),
    ]
    sides = [side for side in sides if side.size]
    if not sides:
        return set()
    both = _best(sides, truth, skip, found)
    if both is not None:
        return {both}
    each = [_best([side], truth, skip, found) for side in sides]
    return {i for i in each if i is not None} if None not in each else set()


def heading_keys(old_md: str, new_md: str) -> set[str]:
    """Every section title of either version (with the introduction), normalised."""
    keys = {norm_title(s.title) for md in (old_md, new_md) for s in split_sections(md)}
    return keys | {norm_title(INTRO)}


def match_week(
    reported: Sequence[Reported], truth: Sequence[TruthChange], known: set[str]
) -> Match:
    """Reported substantive changes of one chapter and week against its truth changes;
    ``known`` holds the titles of both versions (see heading_keys)."""
    result = Match()
    changes = [c for c in reported if c.substantive]
    titled = []
    for change in changes:  # first every match by title, then by text
        titled.append(_by_title(change, truth, result.found))
        result.found |= titled[-1]
    named = set(result.found)
    for change, by_title in zip(changes, titled, strict=True):
        hit = set(by_title)
        if not hit or change.keys - known:  # a title that is no heading: split differently
            # a change under an unchanged heading's name is not credited with a section
            # that was reported under its own name
            same = {i for i, t in enumerate(truth) if t.title_keys & change.keys}
            skip = set() if change.keys - known else named - same
            hit |= _by_text(change, truth, skip, result.found)
        if hit:
            result.found |= hit
            result.true_pos.append(change)
        elif change.keys & known or not truth:
            result.false_pos.append(change)
        else:
            result.unattributed.append(change)
    return result
