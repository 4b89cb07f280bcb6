"""Sentence handling for drafted entries: split, shorten sensibly, quote, join."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

QUOTE_LIMIT = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")
# a full stop after these is not the end of a sentence
_ABBREVIATION = re.compile(
    r"\b(e\.g|i\.e|etc|cf|no|nos|para|paras|dr|mr|mrs|ms|st|vol|ch|approx|incl)\.$", re.IGNORECASE
)
# a clause introduced by one of these qualifies what comes before it: never cut it off
_QUALIFIERS = frozenset(
    {"unless", "except", "but", "provided", "only", "if", "not", "save", "although", "though"}
    | {"however", "otherwise", "subject", "where", "when"}
)
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+[–—]\s+")
_STARTERS = (
    "a an the this that these those all any each every where when whenever if it its in on "
    "for from with within there they their we you no some once before after following "
    "practitioners professionals staff agencies social workers managers"
)
_LOWER_STARTERS = frozenset(_STARTERS.split(" "))


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; a piece after an abbreviation or starting in lower case (a list
    item continuing a sentence) is joined back to the sentence it continues."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    sentences: list[str] = []
    for piece in pieces:
        if sentences and (_ABBREVIATION.search(sentences[-1]) or piece[:1].islower()):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ending with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–") + "…"


def shorten_clause(sentence: str, limit: int, keep: Sequence[str] = ()) -> str:
    """``sentence`` cut after a whole clause when too long, keeping every piece of ``keep``
    (the changed wording) and never dropping a qualifying clause ("unless ...", "but ...");
    cut at a word boundary with "…" only when no clause boundary will do."""
    flat = " ".join(sentence.split())
    if len(flat) <= limit:
        return flat
    must_end = max((_end_of(flat, piece) for piece in keep), default=0)
    stretch = limit * 3 // 2 if must_end else limit  # room to keep the changed words
    cuts = [
        match.start()
        for match in _CLAUSE_BREAK.finditer(flat)
        if max(must_end, limit // 3) <= match.start() <= stretch
        and flat[match.end() :].split(" ", 1)[0].lower().strip("(\"'“‘") not in _QUALIFIERS
    ]
    within = [cut for cut in cuts if cut <= limit]
    best = within[-1] if within else (cuts[0] if cuts else 0)
    if best:
        return flat[:best].rstrip(" ,;:.-–")
    return shorten(flat, max(limit, min(must_end + 40, stretch)))


def _end_of(text: str, piece: str) -> int:
    wanted = " ".join(piece.split())
    if not wanted or len(wanted) >= 0.8 * len(text):
        return 0  # the whole sentence is new: any clause of it will do
    found = text.find(wanted)
    return found + len(wanted) if found >= 0 else 0


def shorten_sentences(text: str, limit: int) -> str:
    """Whole sentences of ``text`` up to ``limit`` characters (the first one shortened if long)."""
    sentences = split_sentences(" ".join(text.split()))
    kept: list[str] = []
    for sentence in sentences:
        if len(" ".join([*kept, sentence])) > limit:
            break
        kept.append(sentence)
    if not kept:
        kept = [shorten_clause(text, limit)]
    joined = " ".join(kept)
    return joined if joined[-1] in ".!?…" else joined + "."


def quote(sentence: str, context: str = "", keep: Sequence[str] = ()) -> str:
    """The sentence shortened, its first word lower-cased when it is not a proper noun."""
    text = shorten_clause(sentence, QUOTE_LIMIT, keep).rstrip(".")
    first, _, rest = text.partition(" ")
    if first[:1].isupper() and first[1:].islower() and _common_word(first, context):
        text = f"{first.lower()} {rest}" if rest else first.lower()
    return text


def _common_word(word: str, context: str) -> bool:
    """A function word, or one that the section also uses in lower case (not a name)."""
    lowered = word.lower()
    if lowered in _LOWER_STARTERS:
        return True
    return re.search(rf"\b{re.escape(lowered)}\b", context) is not None


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
