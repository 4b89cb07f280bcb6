from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from reports_builders import WHEN, added, change, modified, prebirth_change, section

from amendwatch.errors import InputError
from differ.models import SectionChange
from reports.digest import build_digest, weekly_counts
from reports.draft import draft_entries
from reports.models import DetectedChange, Digest, FailedCheck
from reports.periods import parse_month, parse_week
from reports.reconcile import reconcile
from reports.render import (
    md_escape,
    render_change,
    render_digest,
    render_drafts,
    render_version,
)
from scraper.models import Chapter, Link, PublishedEntry

NOVEMBER = parse_month("2026-11")
WEEK = parse_week("2026-W47")
EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'
EVIL_LINK = Link('click <b onmouseover="x()">me</b>', "javascript:alert(3)")


def _evil_change() -> DetectedChange:
    old = section("2", "Threshold", "Concerns are recorded.")
    new = section("2", f"Threshold {EVIL}", f"Concerns are recorded. {EVIL} Staff must act.")
    info = section(None, "Further Information", "", (EVIL_LINK,))
    return change(
        (
            modified(old, new),
            SectionChange(frozenset({"modified"}), info, info, links_added=(EVIL_LINK,)),
        ),
        title=f"Escalation {EVIL}",
        url="javascript:alert(4)",
        change_id=9,
    )


def _assert_inert(html: str) -> BeautifulSoup:
    soup = BeautifulSoup(html, "lxml")
    assert soup.find("script") is None
    assert soup.find("img") is None
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
    hrefs = [a.get("href", "") for a in soup.find_all(href=True)]
    assert not [h for h in hrefs if "javascript:" in str(h).lower()]
    return soup


def _digest(*changes: DetectedChange, failures: tuple[FailedCheck, ...] = ()) -> Digest:
    return build_digest(
        list(changes),
        list(failures),
        WEEK,
        history=weekly_counts(changes),
        generated_at=WHEN,
    )


def test_drafts_html_follows_the_house_layout() -> None:
    new = change(
        (),
        kind="new",
        title="Young Carers",
        summary="This chapter is new.",
        change_id=2,
        url="https://x.test/young-carers",
    )
    entries = draft_entries([prebirth_change(), new], NOVEMBER)
    soup = BeautifulSoup(
        render_drafts(entries, NOVEMBER, "html", next_update="January 2027"), "lxml"
    )
    assert soup.h1.get_text() == "Working Together – Amendments"
    assert soup.h2.get_text() == "November 2026"
    assert [h.get_text() for h in soup.find_all("h3")] == [
        "Updated Chapters",
        "New Chapters and Features",
    ]
    first_table = soup.find("table")
    assert [th.get_text() for th in first_table.find_all("th")] == ["Chapter Name", "Details"]
    cells = [td.get_text() for td in first_table.find_all("td")]
    assert cells[0] == "Initial Child Protection Conferences"
    assert "(see Section 8, Pre-birth Conferences)" in cells[1]
    assert "Next update: January 2027" in soup.get_text()


def test_drafts_markdown_and_json() -> None:
    entries = draft_entries([prebirth_change()], NOVEMBER)
    md = render_drafts(entries, NOVEMBER, "md")
    assert "## November 2026" in md
    assert "| Chapter Name | Details |" in md
    assert "| Initial Child Protection Conferences | This chapter has been updated" in md
    data = json.loads(render_drafts(entries, NOVEMBER, "json"))
    assert data["period"]["key"] == "2026-11"
    assert data["entries"][0]["sections_cited"] == ["Section 8, Pre-birth Conferences"]
    assert data["entries"][0]["category"] == "updated"


def test_digest_html_structure() -> None:
    failure = FailedCheck("Working Together", "https://x.test/down", WHEN, 503, "server error")
    link = Link("New Guide", "https://example.org/guide")
    cosmetic_old = section("3", "Attendance", "All agencies attend.")
    linked = change(
        (
            modified(
                cosmetic_old, section("3", "Attendance", "All agencies  attend ."), cosmetic=True
            ),
            added(section(None, "Related Guidance", "See:", (link,))),
        ),
        title="Review Conferences",
        url="https://x.test/rc",
        change_id=4,
        when=WHEN - timedelta(days=1),
    )
    html = render_digest(_digest(prebirth_change(), linked, failures=(failure,)), "html")
    soup = _assert_inert(html)
    assert "@page" in soup.style.get_text() and "@media print" in soup.style.get_text()
    summary = {tr.th.get_text(): tr.td.get_text() for tr in soup.select("table.summary tbody tr")}
    assert summary["Chapters changed"] == "2"
    assert summary["Pages not checked"] == "1"
    rects = soup.select("svg rect.bar")  # from the first week with changes
    assert len(rects) == 1 and rects[-1]["height"] != "0"
    ins = soup.select("p.redline ins")
    assert any("within 20 working days" in i.get_text() for i in ins)
    assert soup.select("span.badge.flag")
    live = soup.find("a", href="https://example.trixonline.co.uk/chapter/icpc")
    assert live is not None and live.get_text() == "Initial Child Protection Conferences"
    assert "b" * 64 in soup.get_text()
    details = soup.select("details.cosmetic")
    assert len(details) == 1 and "Section 3, Attendance" in details[0].get_text()
    assert soup.find("a", href="https://example.org/guide") is not None
    not_checked = soup.find("h2", id="not-checked").find_next("table")
    assert "https://x.test/down" in not_checked.get_text()


def test_digest_html_escapes_hostile_page_content() -> None:
    html = render_digest(_digest(_evil_change()), "html")
    soup = _assert_inert(html)
    text = soup.get_text()
    assert "<script>alert(1)</script>" in text  # shown as text, not run
    assert "javascript:alert(4)" in text
    assert "javascript:alert(3)" in text


def test_change_html_and_drafts_escape_hostile_content() -> None:
    evil = _evil_change()
    _assert_inert(render_change(evil, "html"))
    entries = draft_entries([evil], NOVEMBER)
    soup = _assert_inert(render_drafts(entries, NOVEMBER, "html"))
    assert "<script>" in soup.find("td").get_text()


def test_markdown_neutralises_html_and_links() -> None:
    md = render_digest(_digest(_evil_change()), "md")
    assert "<script" not in md and "<img" not in md and "<b " not in md
    assert "&lt;script&gt;" in md
    assert "](javascript" not in md
    assert md_escape("a | b [x](y)") == "a \\| b \\[x\\](y)"


def test_digest_json_is_machine_readable() -> None:
    failure = FailedCheck("Working Together", "https://x.test/down", WHEN, 0, "timeout")
    data = json.loads(render_digest(_digest(prebirth_change(), failures=(failure,)), "json"))
    assert data["period"]["key"] == "2026-W47"
    assert data["summary"]["sections_changed"] == 1
    (entry,) = data["changes"]
    section_json = entry["diff"]["sections"][0]
    assert section_json["new"]["number"] == "8"
    assert "20 working days" in section_json["inserted"]
    assert data["failures"][0]["reason"] == "timeout"
    assert data["history"] == [{"week": "2026-W47", "manual": "Working Together", "changes": 1}]


def test_digest_shows_reconciliation() -> None:
    declared = (
        PublishedEntry(
            "2026-11",
            "updated",
            "Initial Child Protection Conferences",
            "Updated.",
            ("Section 8, Prebirth Conferences",),
        ),
        PublishedEntry("2026-11", "updated", "Domestic Abuse", "Link added."),
    )
    real = prebirth_change()
    rec = reconcile("Working Together", declared, [real])
    digest = build_digest([real], [], WEEK, reconciliations=[rec], generated_at=WHEN)
    soup = BeautifulSoup(render_digest(digest, "html"), "lxml")
    rows = [tr.get_text(" ") for tr in soup.select("section.reconciliation tbody tr")]
    assert any("Domestic Abuse" in r and "no change detected" in r for r in rows)
    assert any("Section 8, Prebirth Conferences: changed" in r for r in rows)


def test_change_text_uses_redline_markers() -> None:
    text = render_change(prebirth_change(), "text")
    assert "@@ Section 8, Pre-birth Conferences [modified]" in text
    assert "{+ The first review conference" in text
    old = section("1", "Frequency", "Meet every 6 months.")
    new = section("1", "Frequency", "Meet every 3 months.")
    assert "[-6-]{+3+}" in render_change(change((modified(old, new),)), "text")
    data = json.loads(render_change(prebirth_change(), "json"))
    assert data["new_content_hash"] == "b" * 64


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="html"):
        render_digest(_digest(), "pdf")


def test_render_version_shows_sections_and_escapes() -> None:
    bad = Link("Bad", "javascript:alert(5)")
    good = Link("Guide", "https://example.org/guide")
    sections = (
        section("8", "Pre-birth Conferences", f"First paragraph.\n\nSecond {EVIL}."),
        section(None, "Further Information", "See:", (bad, good)),
    )
    chapter = Chapter("https://x.test/icpc", "Initial Child Protection Conferences", sections)
    soup = _assert_inert(render_version(chapter, sections, "valid from 2026-11-01"))
    assert soup.h1.get_text() == "Initial Child Protection Conferences"
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert headings == ["Section 8, Pre-birth Conferences", "Further Information"]
    assert len(soup.select("section.section")[0].find_all("p")) == 2
    assert soup.find("a", href="https://example.org/guide") is not None
    assert "valid from 2026-11-01" in soup.get_text()
