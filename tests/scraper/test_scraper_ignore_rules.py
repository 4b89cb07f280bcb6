"""Per-manual ignore rules: selectors and text patterns remove only what they name."""

from __future__ import annotations

import pytest

from amendwatch.errors import ExtractError
from scraper.extract import extract_chapter

URL = "https://manual.example/chapters/a.html"
PAGE = """<html><body><main><h1>Assessments</h1>
<h2>1. Introduction</h2>
<p>This chapter sets out how assessments are made.</p>
<p>Page reviewed on 14 November 2026 by the web team.</p>
<div class="editor-note"><p>Draft note for editors.</p></div>
<h2>2. Timescales</h2>
<ul><li>Within 45 working days.</li><li>Reviewed on request.</li></ul>
</main></body></html>"""


def texts(**rules: tuple[str, ...]) -> str:
    return "\n".join(s.text for s in extract_chapter(PAGE, URL, **rules).sections)


def test_without_rules_everything_is_content() -> None:
    text = texts()
    assert "Page reviewed on 14 November" in text and "Draft note" in text


def test_a_text_pattern_drops_only_the_matching_block() -> None:
    text = texts(ignore_text=(r"^Page reviewed on \d+ \w+ \d{4}",))
    assert "Page reviewed" not in text
    assert "This chapter sets out how assessments are made." in text
    assert "Reviewed on request." in text  # the pattern is anchored: this item stays


def test_a_selector_drops_its_element() -> None:
    text = texts(ignore=(".editor-note",))
    assert "Draft note" not in text and "Within 45 working days." in text


def test_rules_make_a_changing_review_date_invisible() -> None:
    rule = (r"^Page reviewed on",)
    before = extract_chapter(PAGE, URL, ignore_text=rule)
    after = extract_chapter(PAGE.replace("14 November", "21 November"), URL, ignore_text=rule)
    assert before.content_hash == after.content_hash


def test_an_invalid_pattern_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="invalid ignore pattern"):
        extract_chapter(PAGE, URL, ignore_text=("([unclosed",))
