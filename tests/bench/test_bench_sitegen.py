"""Smoke test of the benchmark's synthetic site (bench/sitegen.py): it must be what the
harness claims it is, or the figures measure something else."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from sitegen import Site, footer

from scraper.extract import extract_chapter
from scraper.fingerprint import fingerprint

URL = "http://127.0.0.1:1/dynamic/ch/00001.html"


def page(site: Site, number: int, stamp: str = "t1", token: str = "k1") -> str:
    before, after = site.furniture()
    head = before.replace("{title}", site.title_of(number))
    return head + site.chapter_main(number) + after + footer(stamp, token)


def test_pages_split_into_the_intended_sections() -> None:
    site = Site(40, seed=5)
    small = [n for n in range(1, 41) if site.size_of(n) == 30_000][:3]
    for number in small:
        chapter = extract_chapter(page(site, number), URL)
        assert len(chapter.sections) == len(site.sections_of(number))
        assert chapter.title == site.title_of(number)
        assert [s.number for s in chapter.sections][:3] == ["1", "2", "3"]


def test_dynamic_bytes_differ_but_content_and_fingerprint_do_not() -> None:
    site = Site(10, seed=5)
    first, second = page(site, 2, "t1", "k1"), page(site, 2, "t2", "k2")
    assert first != second
    assert extract_chapter(first, URL) == extract_chapter(second, URL)
    assert fingerprint(first, URL) == fingerprint(second, URL)


def test_an_inserted_section_renumbers_the_later_ones() -> None:
    site = Site(10, seed=5)
    before = extract_chapter(page(site, 3), URL)
    while True:
        edits = dict(site.advance(0.5))
        if 3 in edits and edits[3].kind == "section":
            break
        site.edits.pop(3, None)
    after = extract_chapter(page(site, 3), URL)
    assert len(after.sections) == len(before.sections) + 1
    assert after.sections[-1].title == before.sections[-1].title
    assert after.sections[-1].number == str(len(before.sections) + 1)
    assert fingerprint(page(site, 3), URL) != fingerprint(page(site, 3, "x", "y"), URL + "?")
