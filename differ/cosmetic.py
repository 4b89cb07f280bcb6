"""What a cosmetic difference is: whitespace, quotes, dashes, case and punctuation only."""

from __future__ import annotations

import re
import unicodedata

_DECIMAL_RE = re.compile(r"(?<=\d)[.,:/](?=\d)")


def make_cosmetic_key(text: str) -> str:
    """What is left of a text when whitespace, quotes, dashes, case and punctuation go."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DECIMAL_RE.sub("§", text)  # 1.5 and 15 differ; keep the separator between digits
    return "".join(ch for ch in text if ch.isalnum() or ch == "§")


def is_cosmetic(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ only in whitespace, quotes, dashes, case or punctuation."""
    return make_cosmetic_key(a) == make_cosmetic_key(b)
