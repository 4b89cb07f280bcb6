"""Word-level text diff: diff-match-patch over words, with a fallback for degenerate results.

Every word, whitespace run and punctuation mark becomes one token, but only words are matched:
diff-match-patch sees each distinct word (case folded) as one unicode character (as its line
mode does for lines), and its semantic cleanup is counted in words (differ/semantic.py). The
words it keeps are the anchors of the diff; what lies between two anchors is either
punctuation and whitespace only (diffed token by token), the same words (kept, their
punctuation diffed) or a change (one delete plus one insert, the punctuation and whitespace
both sides share at its ends kept). So punctuation never makes an unchanged word look
changed: "Section 10(b)(v)" -> "Section 10.b.v" changes "(", ")(" and ")" and no word, and a
case change is an edit of that word alone. When diff-match-patch gives up (its timeout turns
the result into one whole delete plus one whole insert although the texts share most of their
words) the diff is redone with ``difflib.SequenceMatcher``: first over sentences, then over
the words of the sentences that differ.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence

from diff_match_patch import diff_match_patch

from differ.models import Edit
from differ.semantic import cleanup_semantic_words

TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
WORD_START_RE = re.compile(r"\w", re.UNICODE)
SENTENCE_RE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")
DIFF_TIMEOUT = 1.0  # seconds diff-match-patch may spend before it settles for a coarse diff
SENTENCE_ENDS = frozenset({".", "!", "?"})
SENTENCE_WORDS = 40  # longest run of words (and punctuation) treated as one sentence
WORD_MATCH_LIMIT = 250_000  # largest tokens x tokens a fallback compares word by word
_FIRST_CHAR = 0x100  # keep clear of control characters
_SURROGATES = range(0xD800, 0xE000)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, whitespace runs and single punctuation marks (lossless)."""
    return TOKEN_RE.findall(text)


def _encode(tokens: Sequence[str], table: dict[str, str], alphabet: list[str]) -> str | None:
    chars: list[str] = []
    for token in tokens:
        char = table.get(token)
        if char is None:
            code = _FIRST_CHAR + len(alphabet)
            if code >= _SURROGATES.start:
                code += len(_SURROGATES)
            if code > 0x10FFFF:
                return None
            char = chr(code)
            table[token] = char
            alphabet.append(token)
        chars.append(char)
    return "".join(chars)


def _merge(edits: list[Edit]) -> tuple[Edit, ...]:
    """Join neighbours: each run of changes becomes one delete then one insert."""
    merged: list[Edit] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            merged.append(Edit(-1, "".join(deleted)))
        if inserted:
            merged.append(Edit(1, "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for edit in edits:
        if not edit.text:
            continue
        if edit.op == 0:
            flush()
            if merged and merged[-1].op == 0:
                merged[-1] = Edit(0, merged[-1].text + edit.text)
            else:
                merged.append(edit)
        else:
            (deleted if edit.op == -1 else inserted).append(edit.text)
    flush()
    return tuple(merged)


def _key(token: str) -> str:
    """Whitespace runs compare equal whatever they hold; words compare without case."""
    return " " if token.isspace() else token.casefold()


def _is_word(token: str) -> bool:
    return WORD_START_RE.match(token) is not None


Anchor = tuple[int, int]  # token indices (in a, in b) of a word both texts keep


def _words(tokens: list[str]) -> tuple[list[int], list[str]]:
    """The indices of the word tokens and their keys."""
    indices = [i for i, token in enumerate(tokens) if _is_word(token)]
    return indices, [_key(tokens[i]) for i in indices]


def _dmp_diff(tokens_a: list[str], tokens_b: list[str]) -> list[Edit] | None:
    """Words matched by diff-match-patch (its semantic cleanup counted in words), woven back
    into tokens."""
    (words_a, keys_a), (words_b, keys_b) = _words(tokens_a), _words(tokens_b)
    table: dict[str, str] = {}
    alphabet: list[str] = []
    chars_a, chars_b = _encode(keys_a, table, alphabet), _encode(keys_b, table, alphabet)
    if chars_a is None or chars_b is None:
        return None
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(chars_a, chars_b, False)
    cleanup_semantic_words(dmp, diffs)
    anchors: list[Anchor] = []
    word_a = word_b = 0
    for op, chars in diffs:
        if op == 0:
            size = len(chars)
            kept = zip(
                words_a[word_a : word_a + size], words_b[word_b : word_b + size], strict=True
            )
            anchors.extend(kept)
        word_a += len(chars) if op <= 0 else 0
        word_b += len(chars) if op >= 0 else 0
    return _weave(tokens_a, tokens_b, anchors)


def _weave(tokens_a: list[str], tokens_b: list[str], anchors: Sequence[Anchor]) -> list[Edit]:
    """Edits of ``tokens_a`` into ``tokens_b`` that keep the anchored words unchanged."""
    edits: list[Edit] = []
    next_a = next_b = 0
    for index_a, index_b in anchors:
        edits.extend(_gap(tokens_a[next_a:index_a], tokens_b[next_b:index_b]))
        edits.extend(_equal_run([tokens_a[index_a]], [tokens_b[index_b]]))
        next_a, next_b = index_a + 1, index_b + 1
    edits.extend(_gap(tokens_a[next_a:], tokens_b[next_b:]))
    return edits


def _gap(gap_a: list[str], gap_b: list[str]) -> list[Edit]:
    """The tokens between two anchors: one change, unless both hold the same words (then only
    punctuation, whitespace or case differ: the words stay, the separators are diffed)."""
    words_a, keys_a = _words(gap_a)
    words_b, keys_b = _words(gap_b)
    if keys_a == keys_b:
        if not keys_a:
            return _token_diff(gap_a, gap_b)
        return _weave(gap_a, gap_b, list(zip(words_a, words_b, strict=True)))
    head = _shared_separators(gap_a, gap_b)
    rest_a, rest_b = gap_a[head:][::-1], gap_b[head:][::-1]
    tail = _shared_separators(rest_a, rest_b)
    end_a, end_b = len(gap_a) - tail, len(gap_b) - tail
    return [
        *_equal_run(gap_a[:head], gap_b[:head]),
        Edit(-1, "".join(gap_a[head:end_a])),
        Edit(1, "".join(gap_b[head:end_b])),
        *_equal_run(gap_a[end_a:], gap_b[end_b:]),
    ]


def _shared_separators(tokens_a: list[str], tokens_b: list[str]) -> int:
    """How many leading tokens both lists share that are no words (compared by key)."""
    count = 0
    for token_a, token_b in zip(tokens_a, tokens_b, strict=False):
        if _is_word(token_a) or _key(token_a) != _key(token_b):
            break
        count += 1
    return count


def _equal_run(run_a: list[str], run_b: list[str]) -> list[Edit]:
    edits: list[Edit] = []
    for token_a, token_b in zip(run_a, run_b, strict=True):
        if token_a == token_b:
            edits.append(Edit(0, token_a))
        else:
            edits.extend((Edit(-1, token_a), Edit(1, token_b)))
    return edits


def _token_diff(tokens_a: list[str], tokens_b: list[str]) -> list[Edit]:
    """difflib over the tokens themselves (for runs of punctuation and whitespace)."""
    keys_a, keys_b = [_key(t) for t in tokens_a], [_key(t) for t in tokens_b]
    if keys_a == keys_b:
        return _equal_run(tokens_a, tokens_b)
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            edits.extend(_equal_run(tokens_a[i1:i2], tokens_b[j1:j2]))
            continue
        edits.append(Edit(-1, "".join(tokens_a[i1:i2])))
        edits.append(Edit(1, "".join(tokens_b[j1:j2])))
    return edits


def _matcher_diff(tokens_a: list[str], tokens_b: list[str]) -> list[Edit]:
    """Words matched by difflib, woven back into tokens."""
    (words_a, keys_a), (words_b, keys_b) = _words(tokens_a), _words(tokens_b)
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    anchors = [
        (words_a[i + k], words_b[j + k])
        for i, j, size in matcher.get_matching_blocks()
        for k in range(size)
    ]
    return _weave(tokens_a, tokens_b, anchors)


def _sentences(tokens: list[str]) -> list[list[str]]:
    """Tokens grouped into sentences: a group ends after . ! ? or SENTENCE_WORDS words."""
    groups: list[list[str]] = [[]]
    words = 0
    for token in tokens:
        groups[-1].append(token)
        words += not token.isspace()
        if token in SENTENCE_ENDS or words >= SENTENCE_WORDS:
            groups.append([])
            words = 0
    return [group for group in groups if group]


def _fallback_diff(tokens_a: list[str], tokens_b: list[str]) -> list[Edit]:
    """Sentences matched with difflib, then words within the sentences that differ."""
    groups_a, groups_b = _sentences(tokens_a), _sentences(tokens_b)
    keys_a = [tuple(_key(t) for t in group) for group in groups_a]
    keys_b = [tuple(_key(t) for t in group) for group in groups_b]
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        run_a = [t for group in groups_a[i1:i2] for t in group]
        run_b = [t for group in groups_b[j1:j2] for t in group]
        if tag == "equal":
            edits.extend(_equal_run(run_a, run_b))
        elif run_a and run_b and len(run_a) * len(run_b) <= WORD_MATCH_LIMIT:
            edits.extend(_matcher_diff(run_a, run_b))
        else:
            edits.extend(_gap(run_a, run_b))
    return edits


def measure_overlap(tokens_a: Sequence[str], tokens_b: Sequence[str]) -> float:
    """Share of words (as a multiset, whitespace ignored) common to both token lists, 0..1."""
    words_a = Counter(t for t in tokens_a if not t.isspace())
    words_b = Counter(t for t in tokens_b if not t.isspace())
    total = max(sum(words_a.values()), sum(words_b.values()))
    if total == 0:
        return 1.0
    return sum((words_a & words_b).values()) / total


def is_degenerate(edits: Sequence[Edit], a: str, b: str) -> bool:
    """A whole-text delete plus a whole-text insert between texts that share most words."""
    if not a.strip() or not b.strip():
        return False
    equal = sum(len(e.text) for e in edits if e.op == 0 and e.text.strip())
    if equal > 0.2 * min(len(a), len(b)):
        return False
    return measure_overlap(tokenize(a), tokenize(b)) > 0.5


def diff_words(a: str, b: str) -> tuple[Edit, ...]:
    """Word-level diff of ``a`` into ``b``.

    Joining the texts of the edits with op != 1 gives ``a``; with op != -1 gives ``b``.
    Whitespace runs compare equal whatever they hold, so a reflowed text gives the same
    word edits (plus whitespace-only edits).
    """
    if a == b:
        return (Edit(0, a),) if a else ()
    lead_a, lead_b = len(a) - len(a.lstrip()), len(b) - len(b.lstrip())
    end_a, end_b = max(lead_a, len(a.rstrip())), max(lead_b, len(b.rstrip()))
    edits = [
        *_same_or_replaced(a[:lead_a], b[:lead_b]),
        *_diff_core(a[lead_a:end_a], b[lead_b:end_b]),
        *_same_or_replaced(a[end_a:], b[end_b:]),
    ]
    return _merge(edits)


def _same_or_replaced(a: str, b: str) -> list[Edit]:
    return [Edit(0, a)] if a == b else [Edit(-1, a), Edit(1, b)]


def _diff_core(a: str, b: str) -> list[Edit]:
    """Diff of two texts without leading or trailing whitespace."""
    start, end_a, end_b = _common_ends(a, b)
    mid_a, mid_b = a[start:end_a], b[start:end_b]
    tokens_a, tokens_b = tokenize(mid_a), tokenize(mid_b)
    edits = _dmp_diff(tokens_a, tokens_b)
    if edits is None or is_degenerate(edits, mid_a, mid_b):
        edits = _fallback_diff(tokens_a, tokens_b)
    return [Edit(0, a[:start]), *edits, Edit(0, a[end_a:])]


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search: slice comparisons run in C
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_ends(a: str, b: str) -> tuple[int, int, int]:
    """Common prefix and suffix, cut back to whole words and clear of whitespace runs."""
    prefix = _common_prefix(a, b)
    while prefix > 0 and not a[prefix - 1].isspace():
        prefix -= 1
    while prefix > 0 and a[prefix - 1].isspace():
        prefix -= 1
    suffix = _common_prefix(a[prefix:][::-1], b[prefix:][::-1])
    while suffix > 0 and not a[len(a) - suffix].isspace():
        suffix -= 1
    while suffix > 0 and a[len(a) - suffix].isspace():
        suffix -= 1
    return prefix, len(a) - suffix, len(b) - suffix


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in SENTENCE_RE.finditer(text):
        if match.group().strip():
            spans.append((match.start(), match.end()))
    return spans


def _touched(text: str, ranges: Sequence[tuple[int, int]]) -> tuple[str, ...]:
    found: list[str] = []
    for start, end in _sentence_spans(text):
        for r_start, r_end in ranges:
            # an empty range (an insertion point) touches the sentence it falls in
            if r_start < end and (r_end > start or (r_start == r_end and r_start >= start)):
                sentence = " ".join(text[start:end].split())
                if sentence not in found:
                    found.append(sentence)
                break
    return tuple(found)


def sentences_touched(
    a: str, b: str, edits: Sequence[Edit]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whole sentences of ``a`` holding deletions and of ``b`` holding insertions."""
    deleted: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    pos_a = pos_b = 0
    for edit in edits:
        size = len(edit.text)
        if edit.op == 0:
            pos_a += size
            pos_b += size
        elif edit.op == -1:
            if edit.text.strip():
                deleted.append((pos_a, pos_a + size))
            pos_a += size
        else:
            if edit.text.strip():
                inserted.append((pos_b, pos_b + size))
            pos_b += size
    return _touched(a, deleted), _touched(b, inserted)
