"""Drafted wording that states a change: old and new values, and a new chapter's outline.

"within 10 working days (reduced from 15)", "must (previously should)", "The chapter has
sections on A, B and C." The values come from the section's word-level edits: a run of deleted
and inserted words that are each a number, a date or an obligation word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from differ.classify import DATE_RE, NUMBER_RE, OBLIGATION_RE
from differ.models import Edit, SectionChange
from reports.wording import join, unique
from scraper.models import Section

Pair = tuple[str, str]  # (old value, new value)

_MONTH = re.compile(
    r"(?:\d{1,2}\s+)?(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December)(?:\s+\d{4})?",
    re.IGNORECASE,
)
_VALUES = (NUMBER_RE, DATE_RE, OBLIGATION_RE, _MONTH)
# a character-level edit is widened to whole words, and a changed month to its whole date
_HEAD = re.compile(r"(?:\b\d{1,2}\s+(?=$))?[\w,.]*$")
_TAIL = re.compile(r"^\w*(?:\s+\d{4}\b)?")
_UNIT = (
    r"(?:\s+(?:working|calendar|school|clear))?"
    r"\s+(?:minute|hour|day|week|fortnight|month|year)s?\b"
)
# a number edited right after "Section" is a renumbered cross-reference, not a changed value
_REFERENCE = re.compile(r"\b(Sections?|Appendix|Paragraph|Chapter)\s+(\d+\.)*$", re.IGNORECASE)


def value_changes(change: SectionChange) -> list[Pair]:
    """The values the section's edits replaced, as (old, new), each pair once."""
    pairs: list[Pair] = []
    before = ""
    for run, after in _runs(change.edits):
        head = _HEAD.search(before)
        tail = _TAIL.match(after)
        lead = head.group(0) if head else ""
        trail = tail.group(0) if tail else ""
        old = lead + "".join(e.text for e in run if e.op == -1).strip() + trail
        new = lead + "".join(e.text for e in run if e.op == 1).strip() + trail
        context = before[: len(before) - len(lead)]
        if run and _is_value(old) and _is_value(new) and not _REFERENCE.search(context):
            pairs.append((old.strip(), new.strip()))
        before = after
    return list(dict.fromkeys(pairs))


def _runs(edits: Sequence[Edit]) -> Iterable[tuple[list[Edit], str]]:
    """Each run of changed edits with the unchanged text that follows it."""
    run: list[Edit] = []
    for edit in edits:
        if edit.op != 0:
            run.append(edit)
            continue
        yield run, edit.text
        run = []
    if run:
        yield run, ""


def _is_value(text: str) -> bool:
    return bool(text) and any(pattern.fullmatch(text) for pattern in _VALUES)


def state_values(text: str, pairs: Sequence[Pair]) -> tuple[str, list[Pair]]:
    """``text`` with each new value followed by its old one; and the pairs not found in it."""
    missing: list[Pair] = []
    for old, new in pairs:
        found = re.search(rf"\b{re.escape(new)}\b(?:{_UNIT})?(?! \()", text, re.IGNORECASE)
        if found is None:
            missing.append((old, new))
            continue
        note = f" ({_movement(old, new)})"
        text = text[: found.end()] + note + text[found.end() :]
    return text, missing


def _movement(old: str, new: str) -> str:
    """ "reduced from 15", "increased from 3", or "previously should"."""
    old_number, new_number = _number(old), _number(new)
    if old_number is None or new_number is None or old_number == new_number:
        return f"previously {old}"
    return f"{'reduced' if new_number < old_number else 'increased'} from {old}"


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def values_sentence(label: str, pairs: Sequence[Pair]) -> str:
    """The fallback when the quoted wording does not hold the new value."""
    stated = join([f"{old} has been changed to {new}" for old, new in pairs])
    return f"In {label}, {stated}."


def outline_sentence(sections: Iterable[Section]) -> str:
    """ "The chapter has sections on A, B and C." from the top-level numbered sections."""
    titles = unique(s.title.strip() for s in sections if s.number and "." not in s.number)
    titles = [t for t in titles if t]
    if not titles:
        return ""
    return f"The chapter has sections on {join(titles)}."
