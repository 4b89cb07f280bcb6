"""diff-match-patch's semantic cleanup for diffs over words (one character per word).

diff-match-patch (Apache 2.0) absorbs an unchanged stretch into the edits around it when it
is no longer than the edits on either side. Over word tokens with the whitespace between them
(the differ's former input) that meant: a stretch of w words is absorbed when the edits on
both sides hold more than w words, since the stretch carries one space more than its words
and each edit one space fewer. Over words alone the same comparison would also absorb one
unchanged word between two one-word changes ("must notify us" -> "should notify them"), so
the rule is applied here with a strict comparison; punctuation, which the word diff leaves
out, no longer counts at all ("10(b)(v)" -> "10.b.v" keeps "b" and "v").
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch

Diffs = list[tuple[int, str]]


def cleanup_semantic_words(dmp: diff_match_patch, diffs: Diffs) -> None:
    """Absorb each unchanged run of w words that has edits of more than w words (inserted or
    deleted) on both sides; then merge, as diff-match-patch does (``diffs`` changes in place).

    The loop is diff-match-patch's ``diff_cleanupSemantic`` first phase, with ``<`` for
    ``<=``; its later phases (shifting edits to word boundaries, overlaps of a deletion and an
    insertion) have nothing to do on one character per word."""
    changed = False
    equalities: list[int] = []  # stack of the indices of the equalities seen
    last: str | None = None  # the text of diffs[equalities[-1]]
    pointer = 0
    before = (0, 0)  # (inserted, deleted) characters before the last equality
    after = [0, 0]  # ... and after it
    while pointer < len(diffs):
        op, text = diffs[pointer]
        if op == 0:
            equalities.append(pointer)
            before, after, last = (after[0], after[1]), [0, 0], text
        else:
            after[0 if op == 1 else 1] += len(text)
            if last and len(last) < max(before) and len(last) < max(after):
                at = equalities.pop()
                diffs[at : at + 1] = [(-1, last), (1, last)]
                if equalities:  # the previous equality must be looked at again
                    equalities.pop()
                pointer = equalities[-1] if equalities else -1
                before, after, last = (0, 0), [0, 0], None
                changed = True
        pointer += 1
    if changed:
        dmp.diff_cleanupMerge(diffs)
