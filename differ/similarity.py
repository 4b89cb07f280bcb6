"""Text similarity for section alignment: word shingles to propose, difflib ratio to confirm."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

WORD_RE = re.compile(r"\w+", re.UNICODE)
SHINGLE = 3  # words per shingle


def split_words(text: str) -> tuple[str, ...]:
    """The comparison words of ``text`` (case folded; punctuation and whitespace dropped)."""
    return tuple(WORD_RE.findall(text.casefold()))


def make_shingles(tokens: Sequence[str], size: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """Overlapping runs of ``size`` words; a shorter text is one shingle of all its words."""
    if not tokens:
        return frozenset()
    if len(tokens) <= size:
        return frozenset({tuple(tokens)})
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def compare_words(a: Sequence[str], b: Sequence[str], floor: float = 0.0) -> float:
    """difflib's ratio over word lists (0..1); 0.0 early when it cannot reach ``floor``."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    if tuple(a) == tuple(b):
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def share_contained(part: frozenset[tuple[str, ...]], whole: frozenset[tuple[str, ...]]) -> float:
    """Share of the shingles of ``part`` that also occur in ``whole``."""
    if not part:
        return 0.0
    return len(part & whole) / len(part)


class Profiles:
    """Lazily computed words and shingles of a list of texts (work only for what is compared)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._words: dict[int, tuple[str, ...]] = {}
        self._shingles: dict[int, frozenset[tuple[str, ...]]] = {}

    def words(self, index: int) -> tuple[str, ...]:
        found = self._words.get(index)
        if found is None:
            found = self._words[index] = split_words(self._texts[index])
        return found

    def shingles(self, index: int) -> frozenset[tuple[str, ...]]:
        found = self._shingles.get(index)
        if found is None:
            found = self._shingles[index] = make_shingles(self.words(index))
        return found

    def index(self, indices: Iterable[int]) -> dict[tuple[str, ...], list[int]]:
        """Inverted index shingle -> the given texts that contain it."""
        table: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i in indices:
            for shingle in self.shingles(i):
                table[shingle].append(i)
        return table


def propose_pairs(
    old: Profiles, old_free: Iterable[int], new: Profiles, new_free: Iterable[int], floor: float
) -> list[tuple[int, int]]:
    """(old, new) pairs whose shingle Jaccard similarity reaches ``floor``."""
    table = new.index(new_free)
    found: list[tuple[int, int]] = []
    for o in old_free:
        mine = old.shingles(o)
        shared: dict[int, int] = defaultdict(int)
        for shingle in mine:
            for n in table.get(shingle, ()):
                shared[n] += 1
        for n, count in shared.items():
            union = len(mine) + len(new.shingles(n)) - count
            if union and count / union >= floor:
                found.append((o, n))
    return found
