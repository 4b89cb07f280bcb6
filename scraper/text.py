"""Text normalisation shared by extraction, sectioning, discovery and the amendments parser."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ANY_SPACE = re.compile(r"\s+")

#: Words that stay lower case inside a title ("Children who Abuse Others").
SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "within",
        "without",
        "under",
        "over",
        "across",
        "against",
        "about",
        "between",
        "among",
        "via",
        "per",
        "nor",
        "but",
        "than",
        "who",
        "whose",
        "which",
        "that",
        "their",
        "his",
        "her",
        "its",
        "this",
        "is",
        "are",
        "be",
        "been",
        "being",
        "have",
        "has",
        "may",
        "can",
        "not",
    ]
)


def normalise_text(s: str) -> str:
    """Comparison form: NBSP -> space, soft hyphens and zero-width characters removed,
    runs of spaces collapsed within each line, blank lines dropped, lines joined by "\\n"."""
    cleaned = unicodedata.normalize("NFC", s).translate(_INVISIBLE)
    lines = (_SPACES.sub(" ", line).strip() for line in cleaned.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_line(s: str) -> str:
    """Like :func:`normalise_text` but the result is a single line."""
    return _ANY_SPACE.sub(" ", normalise_text(s)).strip()


def title_case(s: str) -> str:
    """ "SCOPE OF THIS CHAPTER" -> "Scope of this Chapter"; other text is returned as written."""
    if not s or s.upper() != s or not any(ch.isalpha() for ch in s):
        return s
    words = s.split(" ")
    out = []
    for index, word in enumerate(words):
        lowered = word.lower()
        if index > 0 and lowered in SMALL_WORDS:
            out.append(lowered)
        else:
            out.append(lowered[:1].upper() + lowered[1:])
    return " ".join(out)
