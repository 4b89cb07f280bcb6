"""What a section change quotes as inserted and deleted text (`inserted`, `deleted`).

The edits keep every character, so that a redline shows each comma that moved; a quote names
only what was reworded. Runs of edits that only change whitespace, punctuation or case
("Section 10(b)(v)" -> "section 10.b.v") are left out when the edits hold a run that changes
words, and such a run is quoted without the words both its sides begin or end with (case
aside: "Section" -> "section and the Annex" quotes "and the Annex"). Edits that are all
cosmetic are quoted as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from differ.cosmetic import is_cosmetic

if TYPE_CHECKING:
    from differ.models import Edit

_WORD_RE = re.compile(r"\w+")


def change_runs(edits: Sequence[Edit]) -> list[tuple[str, str]]:
    """Each run of edits between two unchanged stretches as (deleted text, inserted text)."""
    runs: list[tuple[str, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for index, edit in enumerate(edits):
        if edit.op != 0:
            (deleted if edit.op == -1 else inserted).append(edit.text)
        if (edit.op == 0 or index == len(edits) - 1) and (deleted or inserted):
            runs.append(("".join(deleted), "".join(inserted)))
            deleted.clear()
            inserted.clear()
    return runs


def reworded(old: str, new: str) -> tuple[str, str]:
    """A run's two sides without the words both begin or end with (compared without case)."""
    words_old, words_new = list(_WORD_RE.finditer(old)), list(_WORD_RE.finditer(new))
    keys_old = [m.group().casefold() for m in words_old]
    keys_new = [m.group().casefold() for m in words_new]
    most = min(len(keys_old), len(keys_new))
    head = 0
    while head < most and keys_old[head] == keys_new[head]:
        head += 1
    tail = 0
    while tail < most - head and keys_old[-1 - tail] == keys_new[-1 - tail]:
        tail += 1
    return _cut(old, words_old, head, tail), _cut(new, words_new, head, tail)


def _cut(text: str, words: Sequence[re.Match[str]], head: int, tail: int) -> str:
    """``text`` without its first ``head`` and last ``tail`` words (and what joins them)."""
    if not head and not tail:
        return text
    kept = words[head : len(words) - tail]
    if not kept:
        return ""
    start = kept[0].start() if head else 0
    end = kept[-1].end() if tail else len(text)
    return text[start:end]


def quoted_edits(edits: Sequence[Edit], op: int) -> str:
    """The text that ``edits`` inserted (op 1) or deleted (op -1), runs joined by a space."""
    runs = [run for run in change_runs(edits) if run[0].strip() or run[1].strip()]
    worded = [reworded(*run) for run in runs if not is_cosmetic(*run)]
    side = 0 if op == -1 else 1
    return " ".join(run[side].strip() for run in worded or runs if run[side].strip())
