"""Charset decoding: what a browser would read, never mojibake invented from valid UTF-8."""

from __future__ import annotations

import pytest

from scraper.text import decode_bytes

TEXT = "The manager’s decision – café, naïve – must be recorded."


@pytest.mark.parametrize(
    "content_type", [None, "text/html; charset=iso-8859-1", "text/html; charset=utf-8"]
)
def test_valid_utf8_is_utf8_whatever_single_byte_charset_is_declared(
    content_type: str | None,
) -> None:
    assert decode_bytes(TEXT.encode("utf-8"), content_type) == TEXT


def test_a_stray_cp1252_byte_in_a_utf8_page_keeps_the_rest_utf8() -> None:
    body = TEXT.encode("utf-8").replace("é".encode(), "é".encode("cp1252"))
    assert decode_bytes(body, "text/html; charset=utf-8") == TEXT


def test_latin1_label_means_windows_1252_as_in_browsers() -> None:
    body = "It’s 10 – 15 days".encode("cp1252")
    assert decode_bytes(body, "text/html; charset=iso-8859-1") == "It’s 10 – 15 days"


def test_real_cp1252_page_without_a_charset() -> None:
    assert decode_bytes("café".encode("cp1252"), None) == "café"


def test_meta_charset_of_another_encoding_is_honoured() -> None:
    body = '<meta charset="shift_jis"><p>児童</p>'.encode("shift_jis")
    assert "児童" in decode_bytes(body, None)
