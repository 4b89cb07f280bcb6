"""Redline helpers: changes widened to whole words, and the words a reader must not miss."""

from __future__ import annotations

import re
from collections.abc import Sequence

from differ.models import Edit

__all__ = ["FLAG_WORDS", "flag_spans", "word_edits"]

# what a reader's eye should catch inside changed wording: numbers with their unit, durations,
# obligations
FLAG_WORDS = re.compile(
    r"(?<!Section )(?<!Sections )\b\d(?:[\d,:/]|\.(?=\d))*(?:st|nd|rd|th)?"
    r"(?:\s+(?:working\s+|calendar\s+)?"
    r"(?:days?|weeks?|months?|hours?|years?|minutes?))?"
    r"|\b(?:must|shall|should|required|requires|mandatory|within|no later than|at least)\b",
    re.IGNORECASE,
)


def flag_spans(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, flagged) runs: numbers, durations and obligations flagged."""
    spans: list[tuple[str, bool]] = []
    last = 0
    for match in FLAG_WORDS.finditer(text):
        if match.start() > last:
            spans.append((text[last : match.start()], False))
        spans.append((match.group(), True))
        last = match.end()
    if last < len(text):
        spans.append((text[last:], False))
    return spans


_Group = list[str]  # [deleted, inserted]
_WORD_TAIL = re.compile(r"\w+\Z")
_WORD_HEAD = re.compile(r"\A\w+")
_SPACE_HEAD = re.compile(r"\A\s+")
_SPACE_TAIL = re.compile(r"\s+\Z")


def word_edits(edits: Sequence[Edit]) -> tuple[Edit, ...]:
    """The same edits with every change widened to whole words ("In~~Octo~~**Novem**ber"
    becomes "In ~~October~~ **November**") and surrounding spaces moved out of the change.
    The old text (unchanged + deleted) and the new text (unchanged + inserted) stay the same."""
    equal, groups = _split_groups(edits)
    for index, group in enumerate(groups):
        before, after = equal[index], equal[index + 1]
        head = _WORD_TAIL.search(before)
        if head and any(_WORD_HEAD.match(side) for side in group if side):
            equal[index] = before[: head.start()]
            group[:] = [head.group() + side for side in group]
        tail = _WORD_HEAD.search(after)
        if tail and any(_WORD_TAIL.search(side) for side in group if side):
            equal[index + 1] = after[tail.end() :]
            group[:] = [side + tail.group() for side in group]
    equal, groups = _merge_adjacent(equal, groups)
    for index, group in enumerate(groups):
        lead = _common_space(group, _SPACE_HEAD)
        trail = _common_space([side[len(lead) :] for side in group], _SPACE_TAIL)
        equal[index] += lead
        equal[index + 1] = trail + equal[index + 1]
        group[:] = [side[len(lead) : len(side) - len(trail)] if side else "" for side in group]
    result: list[Edit] = [Edit(0, equal[0])] if equal[0] else []
    for index, (deleted, inserted) in enumerate(groups):
        result += [Edit(-1, deleted)] if deleted else []
        result += [Edit(1, inserted)] if inserted else []
        result += [Edit(0, equal[index + 1])] if equal[index + 1] else []
    return tuple(result)


def _split_groups(edits: Sequence[Edit]) -> tuple[list[str], list[_Group]]:
    """Alternating unchanged texts (one more than the groups) and [deleted, inserted] groups."""
    equal: list[str] = [""]
    groups: list[_Group] = []
    for edit in edits:
        if edit.op == 0:
            equal[-1] += edit.text
            continue
        if not groups or equal[-1]:
            groups.append(["", ""])
            equal.append("")
        groups[-1][0 if edit.op == -1 else 1] += edit.text
    return equal, groups


def _merge_adjacent(equal: list[str], groups: list[_Group]) -> tuple[list[str], list[_Group]]:
    """Groups that now touch (the unchanged text between them was taken) become one."""
    kept_equal, kept_groups = [equal[0]], [groups[0]] if groups else []
    for index, group in enumerate(groups[1:], start=1):
        if equal[index]:
            kept_equal.append(equal[index])
            kept_groups.append(group)
        else:
            kept_groups[-1] = [kept_groups[-1][0] + group[0], kept_groups[-1][1] + group[1]]
    kept_equal.append(equal[-1])
    return kept_equal, kept_groups


def _common_space(group: Sequence[str], pattern: re.Pattern[str]) -> str:
    """The whitespace both sides of a replacement start (or end) with, if neither becomes
    empty; a one-sided change keeps its spaces (the other text has none there)."""
    if not all(group):
        return ""
    found = [pattern.search(side) for side in group]
    spaces = {m.group() if m else "" for m in found}
    if len(spaces) != 1 or any(
        len(m.group()) == len(side) for m, side in zip(found, group, strict=True) if m
    ):
        return ""
    return spaces.pop()
