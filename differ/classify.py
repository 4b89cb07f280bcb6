"""Classify changes: cosmetic or substantive, link changes, and flags for what matters most."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from differ.models import Edit
from scraper.models import Link

FLAG_NUMBER = "number"
FLAG_DATE = "date"
FLAG_DURATION = "duration"
FLAG_OBLIGATION = "obligation"

CONTEXT = 6  # words of unchanged text either side of a change examined for flags
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
)
NUMBER_RE = re.compile(rf"\b(?:\d+(?:[.,]\d+)*|{_NUMBER_WORDS})\b", re.IGNORECASE)
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{4}}"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
DURATION_RE = re.compile(
    rf"\b(?:\d+|{_NUMBER_WORDS}|a|an)\s+(?:\w+\s+)?"
    r"(?:minute|hour|day|week|fortnight|month|year)s?\b",
    re.IGNORECASE,
)
OBLIGATION_RE = re.compile(
    r"\b(?:must|should|may|will|shall|might|could|can)(?:\s+not|n['’]t)?\b"
    r"|\b(?:is|are)\s+(?:required|expected|obliged)\s+to\b",
    re.IGNORECASE,
)
_QUOTES = "‘’“”'\"`´‚„«»"
_DASHES = "-‐‑‒–—―−"


def _link_key(link: Link) -> tuple[str, str]:
    return " ".join(link.text.split()).casefold(), link.url.strip()


def link_changes(
    old_links: Sequence[Link], new_links: Sequence[Link]
) -> tuple[tuple[Link, ...], tuple[Link, ...], tuple[tuple[Link, Link], ...]]:
    """(added, removed, retargeted) links; links compared as multisets of (text, URL).

    A retargeted link (same text, new URL) is listed as a pair (old, new) and its two sides also
    appear in ``removed`` and ``added``.
    """
    old_count = Counter(_link_key(link) for link in old_links)
    new_count = Counter(_link_key(link) for link in new_links)
    removed = _excess(old_links, old_count - new_count)
    added = _excess(new_links, new_count - old_count)
    retargeted: list[tuple[Link, Link]] = []
    used: set[int] = set()
    for old in removed:
        for index, new in enumerate(added):
            if index not in used and _link_key(new)[0] == _link_key(old)[0]:
                used.add(index)
                retargeted.append((old, new))
                break
    return added, removed, tuple(retargeted)


def _excess(links: Sequence[Link], extra: Counter[tuple[str, str]]) -> tuple[Link, ...]:
    left = Counter(extra)
    found: list[Link] = []
    for link in links:
        key = _link_key(link)
        if left[key] > 0:
            left[key] -= 1
            found.append(link)
    return tuple(found)


def _words_at(text: str, count: int, *, tail: bool) -> str:
    """The first (or last) ``count`` words of ``text``, keeping a partial word at the cut."""
    parts = re.split(r"(\s+)", text)
    kept, seen = [], 0
    for part in reversed(parts) if tail else parts:
        if part and not part.isspace():
            seen += 1
            if seen > count:
                break
        kept.append(part)
    return "".join(reversed(kept) if tail else kept)


def _runs(edits: Sequence[Edit]) -> list[tuple[str, str, bool]]:
    """(old text, new text, unchanged) runs; a whitespace-only change counts as unchanged."""
    runs: list[tuple[str, str, bool]] = []
    index = 0
    while index < len(edits):
        if edits[index].op == 0:
            run = (edits[index].text, edits[index].text, True)
            index += 1
        else:
            old: list[str] = []
            new: list[str] = []
            while index < len(edits) and edits[index].op != 0:
                (old if edits[index].op == -1 else new).append(edits[index].text)
                index += 1
            old_text, new_text = "".join(old), "".join(new)
            run = (old_text, new_text, not old_text.strip() and not new_text.strip())
        if runs and run[2] and runs[-1][2]:
            runs[-1] = (runs[-1][0] + run[0], runs[-1][1] + run[1], True)
        else:
            runs.append(run)
    return runs


def split_hunks(edits: Sequence[Edit], context: int = CONTEXT) -> Iterable[tuple[str, str]]:
    """Each run of changes as (old side, new side), with ``context`` unchanged words around it."""
    runs = _runs(edits)
    for index, (old, new, unchanged) in enumerate(runs):
        if unchanged:
            continue
        before_old = before_new = after_old = after_new = ""
        if index > 0:
            before_old = _words_at(runs[index - 1][0], context, tail=True)
            before_new = _words_at(runs[index - 1][1], context, tail=True)
        if index + 1 < len(runs):
            after_old = _words_at(runs[index + 1][0], context, tail=False)
            after_new = _words_at(runs[index + 1][1], context, tail=False)
        yield before_old + old + after_old, before_new + new + after_new


def _found(pattern: re.Pattern[str], text: str) -> Counter[str]:
    return Counter(" ".join(m.group().casefold().split()) for m in pattern.finditer(text))


def flags_for(edits: Sequence[Edit]) -> frozenset[str]:
    """Flags for the changes in ``edits``: "number", "date", "duration", "obligation"."""
    patterns = {
        FLAG_NUMBER: NUMBER_RE,
        FLAG_DATE: DATE_RE,
        FLAG_DURATION: DURATION_RE,
        FLAG_OBLIGATION: OBLIGATION_RE,
    }
    flags: set[str] = set()
    for old_side, new_side in split_hunks(edits):
        for flag, pattern in patterns.items():
            old_text, new_text = old_side, new_side
            if flag == FLAG_NUMBER:  # a changed date is a "date", not also a "number"
                old_text, new_text = DATE_RE.sub(" ", old_text), DATE_RE.sub(" ", new_text)
            if flag not in flags and _found(pattern, old_text) != _found(pattern, new_text):
                flags.add(flag)
    return frozenset(flags)
