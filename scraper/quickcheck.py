"""A quick "same content" check on the decoded page, before any parsing.

Pages that change on every request (a footer with the time and a random token) differ from
the capture a version came from by a few characters outside the chapter. ``guard_of`` records,
once per capture, where in its text the elements the fingerprint hashes lie (the body
candidates up to the chosen one, every <h1> and <title>: ``fingerprint.covered_elements``).
``same_content`` then compares a new page with that capture character by character: when every
difference is a run of plain characters (no ``<``, ``>``, ``&`` or quotes, so the markup is
tokenised exactly as before and the tree has the same shape), sits in text or inside a
never-content tag (script, link, meta ...), and lies outside every recorded extent, the
fingerprint of the new page equals the capture's, so the full extraction is not needed.
Anything else answers False and the page takes the normal path (fingerprint, then bs4).

Extents come from a second lxml parse of the capture with a line break before every ``<``:
lxml reports each element's start line, which then maps to the offset of its ``<``. An
element's extent runs from its start tag to the start tag of the next element after its
subtree (or the end). The two parses must give the same elements in the same order, source
order must equal document order, and each reported line must start at ``<`` + the tag name;
otherwise there is no guard and no quick path.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from scraper.pageparts import NEVER_CONTENT, RULES, SELECTING_ATTRIBUTES

if TYPE_CHECKING:  # lxml loads with the first page parsed: `same_content` needs none
    from lxml import html

__all__ = ["Guard", "guard_of", "same_content", "whole_guard"]

# a guard is valid for these extraction rules and this module's own code
GUARD_RULES = hashlib.sha256(RULES.encode() + Path(__file__).read_bytes()).hexdigest()
MAX_LINES = 65_000  # libxml2 reports source lines up to 65,535
_MARKUP = "<>&\"'`"  # the characters tokenising depends on
_MARKUP_CHAR = re.compile("[" + re.escape(_MARKUP) + "]")
MAX_CHANGES = 64  # runs of changed text looked at before giving up
_RISKY = frozenset("/-!")  # harmless unless they extend markup: "</", "<!", "/>", "-->"
_OPENS, _CLOSES = frozenset("<!-"), frozenset(">-!")  # the neighbours that would let them
_TAG_NAME = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")
_BREAKS = re.compile(r"[\n<]")
# the attribute whose value ends a tag's text so far: name = "...  or  name=...
_ATTRIBUTE_VALUE = re.compile(r"""([^\s"'<>/=]+)\s*=\s*(?:"[^"]*|'[^']*|[^\s"'<>=`]*)$""")


@dataclass(frozen=True)
class Guard:
    """Where a capture's fingerprinted elements lie: ``[start, end)`` offsets in its text,
    merged and in order, for the extraction rules ``rules``."""

    rules: str
    extents: tuple[tuple[int, int], ...]

    def to_json(self) -> str:
        return json.dumps({"rules": self.rules, "extents": [list(e) for e in self.extents]})

    @classmethod
    def from_json(cls, text: str) -> Guard:
        data = json.loads(text)
        return cls(str(data["rules"]), tuple((int(a), int(b)) for a, b in data["extents"]))


def guard_of(page_html: str, root: html.HtmlElement) -> Guard | None:
    """The guard of ``page_html``, whose pruned parse (``parse_pruned``) is ``root``."""
    from scraper.fingerprint import covered_elements, parse_document, prune  # noqa: PLC0415

    covered = covered_elements(root)
    if covered is None or page_html.count("\n") + page_html.count("<") >= MAX_LINES:
        return None
    broken = parse_document(page_html.replace("<", "\n<"))
    if broken is None:
        return None
    everything = list(broken.iter())  # before pruning: extents end at the next tag of any kind
    lines = [element.sourceline or 0 for element in everything]
    if any(b < a for a, b in pairwise(lines)):
        return None  # source order is not document order: do not guess
    place = {element: index for index, element in enumerate(everything)}
    original, elements = list(root.iter()), list(prune(broken).iter())
    if len(original) != len(elements) or any(
        a.tag != b.tag for a, b in zip(original, elements, strict=True)
    ):
        return None
    starts = [0] + [m.start() + (m.group() == "\n") for m in _BREAKS.finditer(page_html)]
    position = {element: index for index, element in enumerate(original)}
    extents: list[tuple[int, int]] = []
    for element in covered:
        index = position.get(element)
        if index is None or not _starts_tag(page_html, starts, elements[index]):
            return None
        first = place[elements[index]]
        after = _index_after(everything, first)
        start = starts[lines[first] - 1]
        end = len(page_html) if after is None else starts[lines[after] - 1]
        extents.append((start, max(end, start + 1)))
    return Guard(GUARD_RULES, _merged(extents))


def whole_guard(page_html: str) -> Guard:
    """The guard of a page whose elements could not be placed: it all counts, so only the
    very same text is "same" (remembering it spares the next run another try)."""
    return Guard(GUARD_RULES, ((0, max(1, len(page_html))),))


def _starts_tag(page_html: str, starts: list[int], element: html.HtmlElement) -> bool:
    line = element.sourceline or 0
    if not 0 < line <= len(starts) or not isinstance(element.tag, str):
        return False
    offset = starts[line - 1]
    return page_html[offset : offset + 1 + len(element.tag)].lower() == "<" + element.tag


def _index_after(elements: list[html.HtmlElement], index: int) -> int | None:
    """The index of the first element after ``elements[index]``'s subtree, in document order."""
    descendants = sum(1 for _ in elements[index].iterdescendants())
    after = index + 1 + descendants
    return after if after < len(elements) else None


def _merged(extents: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(extents):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def same_content(old: str, new: str, guard: Guard) -> bool:
    """True when ``new`` certainly fingerprints as ``old`` (the capture ``guard`` is of)."""
    if guard.rules != GUARD_RULES:
        return False
    at_old = at_new = 0
    for _ in range(MAX_CHANGES + 1):
        common = _common_prefix(old[at_old:], new[at_new:])
        at_old, at_new = at_old + common, at_new + common
        if at_old == len(old) and at_new == len(new):
            return True
        piece = 1 + max(old.rfind(char, 0, at_old) for char in _MARKUP)  # this text run's start
        shift = at_new - at_old
        end_old, end_new = _markup_at(old, at_old), _markup_at(new, at_new)
        was, now = old[piece:end_old], new[piece + shift : end_new]
        if old[end_old : end_old + 1] != new[end_new : end_new + 1]:
            return False  # the markup itself changed (or one page ended early)
        if not _safe_change(old, piece, was, now, guard):
            return False
        at_old, at_new = end_old, end_new
    return False


def _markup_at(text: str, start: int) -> int:
    """The position of the first markup character at or after ``start`` (or the end)."""
    found = _MARKUP_CHAR.search(text, start)
    return len(text) if found is None else found.start()


def _safe_change(old: str, start: int, was: str, now: str, guard: Guard) -> bool:
    """Replacing ``old[start:start + len(was)]`` (no markup characters) with ``now``."""
    common = _common_prefix(was, now)
    tail = _common_prefix(was[common:][::-1], now[common:][::-1])
    begin, end = start + common, start + len(was) - tail
    changed = was[common : len(was) - tail] + now[common : len(now) - tail]
    if "\x00" in changed:
        return False
    before, after = old[begin - 1 : begin], old[end : end + 1]
    if any(char in _RISKY for char in changed) and (before in _OPENS or after in _CLOSES):
        return False
    if any(a <= end and begin <= b for a, b in guard.extents):
        return False
    return _plain_context(old, begin, changed)


def _plain_context(old: str, position: int, changed: str) -> bool:
    """Whether ``position`` is in text (after a ``>``), inside a never-content tag, or in the
    value of an attribute no body candidate is chosen by (a form token, an asset version)."""
    opened, closed = old.rfind("<", 0, position), old.rfind(">", 0, position)
    if closed >= opened:
        return True
    name = _TAG_NAME.match(old, opened)
    if name is None:
        return False
    if name.group(1).lower() in NEVER_CONTENT:
        return True
    if any(char.isspace() or char in "=/" for char in changed):
        return False  # could start another attribute
    value = _ATTRIBUTE_VALUE.search(old[opened:position])
    return value is not None and value.group(1).lower() not in SELECTING_ATTRIBUTES


def _common_prefix(a: str, b: str) -> int:
    """The length of the common prefix of ``a`` and ``b`` (C-speed slice comparisons)."""
    low, high = 0, min(len(a), len(b))
    if a[:high] == b[:high]:
        return high
    while low < high:  # a[:low] == b[:low]; the answer is at most high
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low
