"""The fast forms must answer exactly as the plain definitions they replace: ``has_text`` as
``len(normalise_line(s)) >= n`` and the garbage share as a character-by-character count."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.checks import _garbage_share
from scraper.models import Chapter, Section
from scraper.text import has_text, normalise_line

TRICKY = st.text(
    alphabet=st.sampled_from(
        list("ab \n\t\r\u00a0\u00ad\u200b\u2028e\u0301\u0f73\x00\x85\ufffd\ue000")
    ),
    max_size=3000,
)


@settings(max_examples=300, deadline=None)
@given(text=TRICKY, minimum=st.sampled_from([1, 5, 40, 200]))
def test_has_text_is_the_length_of_the_normalised_line(text: str, minimum: int) -> None:
    assert has_text(text, minimum) == (len(normalise_line(text)) >= minimum)


def _slow_share(texts: list[str]) -> float:
    text = "".join(texts)
    if not text:
        return 0.0
    bad = sum(
        1
        for char in text
        if (ord(char) < 32 and char not in "\n\t\r")
        or 0x7F <= ord(char) <= 0x9F
        or char == "\ufffd"
        or 0xE000 <= ord(char) <= 0xF8FF
    )
    return bad / len(text)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.text(max_size=300), max_size=5))
def test_the_garbage_share_counts_what_it_always_counted(texts: list[str]) -> None:
    sections = tuple(Section(str(i), f"S{i}", 1, (str(i),), t, ()) for i, t in enumerate(texts))
    chapter = Chapter("http://127.0.0.1:1/c.html", "C", sections, ())
    assert _garbage_share(chapter) == _slow_share(texts)
