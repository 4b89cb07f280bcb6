"""Pair the sections of two versions of a chapter.

Passes, each over what the previous ones left: (1) same number and same title, then the same
heading read with another split into number and title; (2) same title, other number
(renumbered); (3) same number, other title, similar body (renamed); (4) similar body anywhere
(renamed and/or moved, proposed by word shingles, confirmed by difflib). Then splits and
merges are detected among what is left, and moves via the longest increasing run of old
indices over the pairs in new order.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from differ.similarity import Profiles, compare_words, propose_pairs, share_contained
from scraper.models import Section

RENAMED_FLOOR = 0.5  # body similarity for pass 3 (same number, other title)
SIMILAR_FLOOR = 0.6  # body similarity for pass 4 (anywhere)
SHINGLE_FLOOR = 0.15  # Jaccard of shingles to propose a pass 4 candidate
PART_FLOOR = 0.6  # share of a section's shingles found in another for a split or merge
PARTNER_CEILING = 0.3  # ... while its partner holds at most this share of them
LONG_TEXT = 30  # words; longer texts are compared by shingles before difflib
GROUP_LIMIT = 400  # largest group (old x new) scored by similarity; larger ones pair in order
_PUNCT_RE = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class Alignment:
    """How the sections of two versions correspond (all values are indices).

    ``pairs`` (old, new) is one-to-one and in new order; ``moved`` holds the new indices of the
    pairs whose order changed; ``splits`` (old, (new, ...)): the old section's text is now spread
    over these new sections (its partner first, when it has one); ``merges`` (new, (old, ...)):
    these old sections were merged into the new one. The extra sections of a split stay in
    ``added`` and those of a merge in ``removed``.
    """

    pairs: tuple[tuple[int, int], ...]
    added: tuple[int, ...]
    removed: tuple[int, ...]
    moved: frozenset[int]
    splits: tuple[tuple[int, tuple[int, ...]], ...] = ()
    merges: tuple[tuple[int, tuple[int, ...]], ...] = ()

    def partner_of_old(self, old_index: int) -> int | None:
        return dict(self.pairs).get(old_index)

    def partner_of_new(self, new_index: int) -> int | None:
        return {n: o for o, n in self.pairs}.get(new_index)


def make_title_key(title: str) -> str:
    """Titles compare without case, punctuation, quote style or spacing differences."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_PUNCT_RE.sub(" ", text).split())


def make_number_key(number: str | None) -> str | None:
    return None if number is None else number.strip().rstrip(".").casefold()


def make_heading_key(section: Section) -> str:
    """The whole heading, number and title, as titles compare: "A. Definitions" read as a
    title alone and read as number "A" plus title "Definitions" give the same key."""
    return make_title_key(f"{section.number or ''} {section.title}")


class _Matcher:
    """The pairing under construction (private to one align_sections call)."""

    def __init__(self, old: Sequence[Section], new: Sequence[Section]) -> None:
        self.old, self.new = old, new
        self.old_text = Profiles([s.text for s in old])
        self.new_text = Profiles([s.text for s in new])
        self.by_old: dict[int, int] = {}
        self.by_new: dict[int, int] = {}

    def free_old(self) -> list[int]:
        return [i for i in range(len(self.old)) if i not in self.by_old]

    def free_new(self) -> list[int]:
        return [i for i in range(len(self.new)) if i not in self.by_new]

    def pair(self, o: int, n: int) -> None:
        self.by_old[o] = n
        self.by_new[n] = o

    def score(self, o: int, n: int, floor: float = 0.0) -> float:
        return compare_words(self.old_text.words(o), self.new_text.words(n), floor)

    def pair_greedy(self, scored: Iterable[tuple[float, int, int]]) -> None:
        """Pair best scores first; ties go to the pair closest in position."""
        for _, o, n in sorted(scored, key=lambda t: (-t[0], abs(t[1] - t[2]), t[2])):
            if o not in self.by_old and n not in self.by_new:
                self.pair(o, n)

    def pair_groups(
        self,
        old_key: Callable[[int], Hashable | None],
        new_key: Callable[[int], Hashable | None],
    ) -> None:
        """Pair free sections with equal keys (None never matches)."""
        old_groups: dict[Hashable, list[int]] = defaultdict(list)
        new_groups: dict[Hashable, list[int]] = defaultdict(list)
        for o in self.free_old():
            key = old_key(o)
            if key is not None:
                old_groups[key].append(o)
        for n in self.free_new():
            key = new_key(n)
            if key is not None:
                new_groups[key].append(n)
        for key, olds in old_groups.items():
            news = new_groups.get(key, [])
            if len(olds) == 1 and len(news) == 1:
                self.pair(olds[0], news[0])
            elif len(olds) * len(news) > GROUP_LIMIT:
                for o, n in zip(olds, news, strict=False):
                    self.pair(o, n)
            else:
                self.pair_greedy((self.score(o, n), o, n) for o in olds for n in news)


def _pass_same_number(m: _Matcher) -> None:
    """Pass 3: same number, other title, similar (or both empty) body."""
    by_number: dict[str, list[int]] = defaultdict(list)
    for n in m.free_new():
        key = make_number_key(m.new[n].number)
        if key is not None:
            by_number[key].append(n)
    scored: list[tuple[float, int, int]] = []
    for o in m.free_old():
        key = make_number_key(m.old[o].number)
        for n in by_number.get(key, []) if key is not None else []:
            both_empty = not m.old_text.words(o) and not m.new_text.words(n)
            if not both_empty and not _may_be_similar(m, o, n):
                continue
            score = 1.0 if both_empty else m.score(o, n, RENAMED_FLOOR)
            if score >= RENAMED_FLOOR:
                scored.append((score, o, n))
    m.pair_greedy(scored)


def _may_be_similar(m: _Matcher, o: int, n: int) -> bool:
    """Cheap shingle test before difflib, for texts long enough to have many shingles."""
    if min(len(m.old_text.words(o)), len(m.new_text.words(n))) < LONG_TEXT:
        return True
    mine, theirs = m.old_text.shingles(o), m.new_text.shingles(n)
    shared = len(mine & theirs)
    return shared / (len(mine) + len(theirs) - shared) >= SHINGLE_FLOOR


def _pass_similar(m: _Matcher) -> None:
    """Pass 4: similar body anywhere."""
    olds, news = m.free_old(), m.free_new()
    if not olds or not news:
        return
    scored: list[tuple[float, int, int]] = []
    for o, n in propose_pairs(m.old_text, olds, m.new_text, news, SHINGLE_FLOOR):
        score = m.score(o, n, SIMILAR_FLOOR)
        if score >= SIMILAR_FLOOR:
            scored.append((score, o, n))
    m.pair_greedy(scored)


def _best_holder(
    part: frozenset[tuple[str, ...]], holders: Profiles, indices: Iterable[int]
) -> tuple[float, int] | None:
    best: tuple[float, int] | None = None
    for i in indices:
        share = share_contained(part, holders.shingles(i))
        if share >= PART_FLOOR and (best is None or share > best[0]):
            best = (share, i)
    return best


def _could_lose_text(m: _Matcher, o: int) -> bool:
    """An old section paired with an unchanged text kept all of it: it split off nothing."""
    partner = m.by_old.get(o)
    return partner is None or m.old[o].text != m.new[partner].text


def _could_gain_text(m: _Matcher, n: int) -> bool:
    """A new section paired with an unchanged text took nothing in."""
    partner = m.by_new.get(n)
    return partner is None or m.new[n].text != m.old[partner].text


def _find_splits(m: _Matcher) -> dict[int, list[int]]:
    """Free new sections whose text came out of an old section (old -> [new, ...])."""
    parts: dict[int, list[int]] = defaultdict(list)
    holders: list[int] | None = None
    for n in m.free_new():
        mine = m.new_text.shingles(n)
        if len(mine) < 2:
            continue
        if holders is None:  # only sections whose text changed can have given some away
            holders = [o for o in range(len(m.old)) if _could_lose_text(m, o)]
        best = _best_holder(mine, m.old_text, holders)
        if best is None:
            continue
        partner = m.by_old.get(best[1])
        if (
            partner is None
            or share_contained(mine, m.new_text.shingles(partner)) <= PARTNER_CEILING
        ):
            parts[best[1]].append(n)
    return parts


def _find_merges(m: _Matcher) -> dict[int, list[int]]:
    """Free old sections whose text went into a new section (new -> [old, ...])."""
    parts: dict[int, list[int]] = defaultdict(list)
    holders: list[int] | None = None
    for o in m.free_old():
        mine = m.old_text.shingles(o)
        if len(mine) < 2:
            continue
        if holders is None:  # only sections whose text changed can have taken some in
            holders = [n for n in range(len(m.new)) if _could_gain_text(m, n)]
        best = _best_holder(mine, m.new_text, holders)
        if best is None:
            continue
        partner = m.by_new.get(best[1])
        if (
            partner is None
            or share_contained(mine, m.old_text.shingles(partner)) <= PARTNER_CEILING
        ):
            parts[best[1]].append(o)
    return parts


def _group_parts(
    parts: dict[int, list[int]], partners: dict[int, int], pair: Callable[[int, int], None]
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Turn holder -> parts into (holder, (partner, *parts)); a lone part becomes a pair."""
    found: list[tuple[int, tuple[int, ...]]] = []
    for holder in sorted(parts):
        pieces = sorted(parts[holder])
        partner = partners.get(holder)
        if partner is None and len(pieces) == 1:
            pair(holder, pieces[0])
            continue
        if partner is None:  # the first piece takes the holder's place
            pair(holder, pieces[0])
            found.append((holder, tuple(pieces)))
        else:
            found.append((holder, (partner, *pieces)))
    return tuple(found)


def find_moved(pairs: Sequence[tuple[int, int]]) -> frozenset[int]:
    """New indices of the pairs outside the longest run of increasing old indices."""
    ordered = sorted(pairs, key=lambda p: p[1])
    tails: list[int] = []  # smallest old index ending an increasing run of each length
    tail_at: list[int] = []  # position in ordered of that tail
    back: list[int] = [-1] * len(ordered)
    for pos, (o, _) in enumerate(ordered):
        length = bisect.bisect_left(tails, o)
        if length == len(tails):
            tails.append(o)
            tail_at.append(pos)
        else:
            tails[length] = o
            tail_at[length] = pos
        back[pos] = tail_at[length - 1] if length > 0 else -1
    kept: set[int] = set()
    pos = tail_at[-1] if tail_at else -1
    while pos >= 0:
        kept.add(pos)
        pos = back[pos]
    return frozenset(n for pos, (_, n) in enumerate(ordered) if pos not in kept)


def align_sections(old: Sequence[Section], new: Sequence[Section]) -> Alignment:
    """Pair the sections of ``old`` with those of ``new`` (see the module docstring)."""
    m = _Matcher(old, new)
    m.pair_groups(
        lambda o: (make_number_key(old[o].number), make_title_key(old[o].title)),
        lambda n: (make_number_key(new[n].number), make_title_key(new[n].title)),
    )
    m.pair_groups(
        lambda o: make_heading_key(old[o]) or None,
        lambda n: make_heading_key(new[n]) or None,
    )
    m.pair_groups(
        lambda o: make_title_key(old[o].title) or None,
        lambda n: make_title_key(new[n].title) or None,
    )
    _pass_same_number(m)
    _pass_similar(m)
    split_parts = _find_splits(m) if m.free_new() else {}
    splits = _group_parts(split_parts, m.by_old, m.pair)
    merge_parts = _find_merges(m) if m.free_old() else {}
    merges = _group_parts(merge_parts, m.by_new, lambda n, o: m.pair(o, n))
    pairs = tuple(sorted(m.by_old.items(), key=lambda p: p[1]))
    return Alignment(
        pairs=pairs,
        added=tuple(m.free_new()),
        removed=tuple(m.free_old()),
        moved=find_moved(pairs),
        splits=splits,
        merges=merges,
    )
