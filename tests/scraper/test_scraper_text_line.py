"""``normalise_line`` is ``normalise_text`` on one line (every run of white space one space,
none at the ends), computed without the per-line regular expressions: the same result for any
text, ASCII or not (NFC, invisible characters, every kind of Unicode space)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.text import normalise_line, normalise_text

_ANY_SPACE = re.compile(r"\s+")
SPACES = "ab \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
COMBINING = "e\u0301\u00e9\u2019x"


def by_definition(text: str) -> str:
    return _ANY_SPACE.sub(" ", normalise_text(text)).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=SPACES + INVISIBLE + COMBINING, max_size=24))
def test_the_same_line_as_normalise_text_gives(text: str) -> None:
    assert normalise_line(text) == by_definition(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_the_same_line_for_any_text(text: str) -> None:
    assert normalise_line(text) == by_definition(text)


def test_examples() -> None:
    assert normalise_line("  Working\u00a0with\n\n schools\u00ad ") == "Working with schools"
    assert normalise_line("cafe\u0301\u200b  menu") == "caf\u00e9 menu"
    assert normalise_line("\t\n ") == ""
