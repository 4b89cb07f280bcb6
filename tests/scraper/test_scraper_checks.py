"""judge_page: failed, suspect and ok."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.checks import judge_page
from scraper.models import Chapter, Page, Section

NOW = datetime(2026, 3, 1, tzinfo=UTC)
URL = "https://m.example/c.html"


def page(status: int = 200, error: str | None = None) -> Page:
    return Page(URL, URL, status, (), b"<html></html>", NOW, error)


def chapter(text: str, title: str = "Bullying", first: str = "Scope") -> Chapter:
    return Chapter(URL, title, (Section(None, first, 1, (first,), text),))


PREVIOUS = chapter("word " * 200)


@pytest.mark.parametrize("status", [404, 500, 503, 301, 0])
def test_non_success_status_fails(status: int) -> None:
    judgement = judge_page(page(status), chapter("text"), None)
    assert judgement.outcome == "failed" and str(status) in judgement.reason


def test_page_error_fails_even_with_200() -> None:
    judgement = judge_page(page(200, "truncated: 10 of 100 bytes"), chapter("x"), None)
    assert judgement == judgement.__class__("failed", "truncated: 10 of 100 bytes")


def test_304_is_not_a_failure() -> None:
    assert judge_page(page(304), None, PREVIOUS).outcome == "ok"


def test_empty_chapter_is_suspect() -> None:
    judgement = judge_page(page(), chapter(""), None)
    assert judgement.outcome == "suspect" and "no section text" in judgement.reason


def test_much_shorter_than_previous_is_a_large_change_to_confirm() -> None:
    shrunk = judge_page(page(), chapter("word " * 40), PREVIOUS)
    assert shrunk.outcome == "large" and "shrank" in shrunk.reason
    assert judge_page(page(), chapter("word " * 150), PREVIOUS).outcome == "ok"
    assert judge_page(page(), chapter("word " * 40), PREVIOUS, min_fraction=0.1).outcome == "ok"


@pytest.mark.parametrize(
    ("title", "first"),
    [
        ("Page not found", "Introduction"),
        ("Log in", "Introduction"),
        ("Manual", "Sign in to continue"),
        ("Down for maintenance", "Introduction"),
        ("503 Service Unavailable", "Introduction"),
        ("Access denied", "Introduction"),
    ],
)
def test_error_login_and_maintenance_pages_are_suspect(title: str, first: str) -> None:
    judgement = judge_page(page(), chapter("Please try again later.", title, first), PREVIOUS)
    assert judgement.outcome == "suspect" and "error" in judgement.reason


def test_ordinary_chapter_is_ok() -> None:
    title = "Maintenance of Records and Login Details for Foster Carers"
    assert judge_page(page(), chapter("word " * 120, title), PREVIOUS).outcome == "ok"
    assert judge_page(page(), chapter("text"), None).outcome == "ok"


def test_text_full_of_control_characters_is_suspect() -> None:
    junk = "Scope of the chapter. " + "".join(chr(c) for c in range(1, 31)) * 20
    judgement = judge_page(page(), chapter(junk), PREVIOUS)
    assert judgement.outcome == "suspect"
    assert "control or undecodable" in judgement.reason


def test_a_few_replacement_characters_are_tolerated() -> None:
    text = "The conference decides within 15 working days. " * 40 + "\ufffd"
    assert judge_page(page(), chapter(text), PREVIOUS).outcome == "ok"
