"""Golden cases: tests/data/differ_<case>/{old.html,new.html,expected.json}.

Chapters come from scraper.extract.extract_chapter; html_chapter.parse_chapter (a minimal
private parser) stands in when that module is missing, and a test checks the two agree.

expected.json was written by hand from what should happen. Each expected section change is
found among the actual ones by its old/new number, title (and path when given); then only the
fields the case names are compared ("inserted"/"deleted" must occur in the change's quoted
text, "inserted_exact"/"deleted_exact" must be all of it). Unless ``section_count`` is given,
the expected list must account for every actual change (no noise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from html_chapter import parse_chapter

from differ.align import align_sections
from differ.chapter import diff_chapters, diff_moved, is_same_content
from differ.models import ChapterDiff, SectionChange, chapter_diff_to_json
from scraper.models import Chapter, Section

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = sorted(p.name for p in DATA.glob("differ_*") if (p / "expected.json").exists())
DEFAULT_URL = "https://www.proceduresonline.com/testshire/scb/p_prebirth_conf.html"


def load_chapter(html: str, url: str) -> Chapter:
    """The real extractor (scraper.extract), or the private stand-in when it is missing."""
    try:
        from scraper.extract import extract_chapter  # noqa: PLC0415
    except ImportError:
        return parse_chapter(html, url)
    return extract_chapter(html, url)


def load_case(name: str) -> tuple[Chapter | None, Chapter, dict[str, Any]]:
    folder = DATA / name
    expected: dict[str, Any] = json.loads((folder / "expected.json").read_text("utf-8"))
    old_url = expected.get("old_url", DEFAULT_URL)
    new_url = expected.get("new_url", DEFAULT_URL)
    new = load_chapter((folder / "new.html").read_text("utf-8"), new_url)
    if expected.get("old_missing"):
        return None, new, expected
    return load_chapter((folder / "old.html").read_text("utf-8"), old_url), new, expected


def run_case(old: Chapter | None, new: Chapter, expected: dict[str, Any]) -> ChapterDiff:
    if old is not None and old.url != new.url:
        assert is_same_content(old, new), "a re-published chapter should count as the same"
        return diff_moved(old, new, old_version=1, new_version=2)
    return diff_chapters(old, new, old_version=None if old is None else 1, new_version=2)


def same_ref(section: Section | None, ref: dict[str, Any] | None) -> bool:
    if section is None or ref is None:
        return section is None and ref is None
    if section.number != ref["number"] or section.title != ref["title"]:
        return False
    return "path" not in ref or list(section.path) == ref["path"]


def find_change(changes: tuple[SectionChange, ...], want: dict[str, Any]) -> SectionChange:
    found = [c for c in changes if same_ref(c.old, want["old"]) and same_ref(c.new, want["new"])]
    assert len(found) == 1, f"expected one change {want['old']} -> {want['new']}, got {found}"
    return found[0]


def check_change(change: SectionChange, want: dict[str, Any]) -> None:
    label = f"{want['old']} -> {want['new']}"
    assert sorted(change.kinds) == want["kinds"], label
    if "cosmetic" in want:
        assert change.cosmetic is want["cosmetic"], label
    if "flags" in want:
        assert sorted(change.flags) == want["flags"], label
    if "links_added" in want:
        assert sorted(link.url for link in change.links_added) == sorted(want["links_added"])
    if "links_removed" in want:
        assert sorted(link.url for link in change.links_removed) == sorted(want["links_removed"])
    if "links_retargeted" in want:
        assert len(change.links_retargeted) == want["links_retargeted"], label
    if "inserted" in want:
        assert want["inserted"] in change.inserted, f"{label}: {change.inserted!r}"
    if "deleted" in want:
        assert want["deleted"] in change.deleted, f"{label}: {change.deleted!r}"
    if "inserted_exact" in want:
        assert change.inserted == want["inserted_exact"], f"{label}: {change.inserted!r}"
    if "deleted_exact" in want:
        assert change.deleted == want["deleted_exact"], f"{label}: {change.deleted!r}"
    if "note" in want:
        assert want["note"] in change.note, f"{label}: {change.note!r}"


def numbered(sections: tuple[Section, ...], pieces: tuple[int, ...]) -> list[str | None]:
    return [sections[i].number for i in pieces]


@pytest.mark.parametrize("name", CASES)
def test_golden_case(name: str) -> None:
    old, new, expected = load_case(name)
    diff = run_case(old, new, expected)
    assert diff.kind == expected["kind"]
    if "revised_throughout" in expected:
        assert diff.revised_throughout is expected["revised_throughout"]
    if diff.kind == "moved":
        assert diff.old_url == expected["old_url"] and diff.chapter_url == expected["new_url"]
    assert chapter_diff_to_json(diff)["stamp"] == expected.get("stamp")
    wanted = expected["sections"]
    for want in wanted:
        check_change(find_change(diff.sections, want), want)
    count = expected.get("section_count", len(wanted))
    assert len(diff.sections) == count, [(c.old, c.new, c.kinds) for c in diff.sections]
    as_json = chapter_diff_to_json(diff)
    assert json.loads(json.dumps(as_json)) == as_json
    assert [sorted(c.kinds) for c in diff.sections] == [s["kinds"] for s in as_json["sections"]]


@pytest.mark.parametrize("name", [c for c in CASES if c.endswith(("split", "merge"))])
def test_golden_split_and_merge(name: str) -> None:
    old, new, expected = load_case(name)
    assert old is not None
    alignment = align_sections(old.sections, new.sections)
    splits = [
        [old.sections[o].number, numbered(new.sections, pieces)] for o, pieces in alignment.splits
    ]
    merges = [
        [new.sections[n].number, numbered(old.sections, pieces)] for n, pieces in alignment.merges
    ]
    assert splits == expected.get("splits", [])
    assert merges == expected.get("merges", [])


def test_golden_cases_are_there() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_private_parser_agrees_with_extractor(name: str) -> None:
    extract = pytest.importorskip("scraper.extract")
    expected = json.loads((DATA / name / "expected.json").read_text("utf-8"))
    pages = ("new.html",) if expected.get("old_missing") else ("old.html", "new.html")
    for page in pages:
        html = (DATA / name / page).read_text("utf-8")
        real = extract.extract_chapter(html, DEFAULT_URL)
        assert real.sections == parse_chapter(html, DEFAULT_URL).sections, page
