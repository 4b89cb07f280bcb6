"""The digest as a compliance officer reads it (issue 14, part 4): golden queries on the HTML.

One week of hand-built changes to one manual, each kind once: a duty's timescale cut from 15 to
10 working days, a new chapter, a removed one, a renamed one, a links-only update, a
cosmetic-only one and a stamp-only one. The order, the one-line summaries, the counts, the
times, the outline of the new chapter, the chart's first week and the place of the evidence are
each checked against what is written here by hand.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup, Tag
from reports_builders import added, change, modified, removed, section

from differ.models import ChapterDiff
from reports.digest import build_digest
from reports.draft import draft_entries
from reports.models import DetectedChange, Digest, ManualInfo, WeekCount
from reports.periods import parse_month, parse_week
from reports.render import render_digest, render_drafts
from scraper.models import Link, Section

MANUAL = "northmoor"
HEADING = "Northmoor Safeguarding Children Partnership Procedures Manual"
WEEK = parse_week("2026-W46")  # Monday 9 November 2026
MONDAY = datetime(2026, 11, 9, 14, 5, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
INFO = ManualInfo(MANUAL, HEADING, monitored_since=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _url(slug: str) -> str:
    return f"https://northmoor.example/chapters/{slug}.html"


def timescale() -> DetectedChange:
    text = "The conference must be held within {} working days of the strategy discussion."
    old = section("4", "Conference Timescales", text.format(15))
    new = section("4", "Conference Timescales", text.format(10))
    flags = frozenset({"duration", "number"})
    return change(
        (modified(old, new, flags=flags),),
        change_id=2,
        title="Initial Child Protection Conferences",
        manual=MANUAL,
        url=_url("icpc"),
        when=MONDAY,
    )


def _sub(number: str, title: str, text: str) -> Section:
    return Section(number, title, 2, (number.split(".", maxsplit=1)[0], number), text)


def new_chapter() -> DetectedChange:
    sections = (
        section(None, "Scope of this Chapter", "This chapter sets out how to respond."),
        section("1", "Definition", "Harmful sexual behaviour is ..."),
        section("4", "Responding to Concerns", ""),
        _sub("4.1", "Immediate Safety", "Make sure the child is safe."),
        _sub("4.2", "Referral and Assessment", "Refer to children's social care."),
        section("5", "Support for the Child", "Offer a specialist assessment."),
    )
    return change(
        tuple(added(s) for s in sections),
        kind="new",
        change_id=6,
        title="Harmful Sexual Behaviour",
        manual=MANUAL,
        url=_url("hsb"),
        when=MONDAY + timedelta(hours=1),
        summary="This chapter sets out how to respond.",
    )


def removed_chapter() -> DetectedChange:
    sections = (section("1", "Principles", "Visits must be agreed."), section("2", "Recording", ""))
    return change(
        tuple(removed(s) for s in sections),
        kind="removed",
        change_id=7,
        title="Visiting of Psychiatric Patients by Children",
        manual=MANUAL,
        url=_url("visits"),
        when=MONDAY + timedelta(days=1),
    )


def renamed_chapter() -> DetectedChange:
    return change(
        (),
        kind="renamed",
        change_id=5,
        title="Keeping Children Safe around Dogs",
        old_title="Safeguarding Children from Dangerous Dogs",
        manual=MANUAL,
        url=_url("dogs"),
        when=MONDAY,
    )


def links_only() -> DetectedChange:
    link = Link("Domestic Abuse: How to Get Help (GOV.UK)", "https://www.gov.uk/help")
    info = section(None, "Further Information", "Women's Aid")
    after = section(None, "Further Information", "Women's Aid\nDomestic Abuse: How to Get Help")
    return change(
        (modified(info, after, links_added=(link,)),),
        change_id=3,
        title="Domestic Abuse",
        manual=MANUAL,
        url=_url("da"),
        when=MONDAY,
    )


def cosmetic_only() -> DetectedChange:
    old = section("2", "Health Services", "Health staff 'Think Family'.")
    new = section("2", "Health Services", "Health staff ‘Think Family’.")
    return change(
        (modified(old, new, cosmetic=True),),
        change_id=1,
        title="Agency Roles and Responsibilities",
        manual=MANUAL,
        url=_url("agency"),
        when=MONDAY,
    )


def stamp_only() -> DetectedChange:
    base = change((), change_id=8, title="Single Assessments", manual=MANUAL, url=_url("sa"))
    diff = ChapterDiff(
        chapter_url=base.chapter_url,
        kind="stamp",
        old_version=8,
        new_version=9,
        sections=(),
        old_stamp="Last reviewed: 1 October 2026",
        new_stamp="Last reviewed: 9 November 2026",
    )
    return DetectedChange(8, MANUAL, base.chapter_title, base.chapter_url, MONDAY, diff)


def week_digest() -> Digest:
    changes = [
        cosmetic_only(),
        links_only(),
        timescale(),
        renamed_chapter(),
        new_chapter(),
        removed_chapter(),
        stamp_only(),
    ]
    quiet = [WeekCount(f"2026-W{n}", MANUAL, 0) for n in range(34, 46)]
    history = (*quiet, WeekCount("2026-W46", MANUAL, 6))
    return build_digest(
        changes,
        [],
        WEEK,
        history=history,
        generated_at=MONDAY + timedelta(days=8),
        chain_head="60:" + "d" * 64,
    )


@pytest.fixture(scope="module")
def soup() -> BeautifulSoup:
    html = render_digest(week_digest(), "html", tz=LONDON, manuals=(INFO,))
    return BeautifulSoup(html, "lxml")


def test_chapters_are_ordered_by_importance(soup: BeautifulSoup) -> None:
    assert [a["data-change"] for a in soup.select("article.chapter")] == [
        "2",  # a duty's timescale changed
        "6",  # a new chapter
        "7",  # a removed chapter
        "3",  # links: something to read
        "5",  # renamed: something to read
        "1",  # cosmetic only, last
    ]
    groups = [p.get_text(" ", strip=True) for p in soup.select("p.group-label")]
    assert len(groups) == 3
    assert groups[2].startswith("Cosmetic changes only")
    assert soup.select_one('article[data-change="8"]') is None  # stamp only: not shown


def test_each_chapter_opens_with_its_drafted_sentence(soup: BeautifulSoup) -> None:
    first = {a["data-change"]: a.find("p") for a in soup.select("article.chapter")}
    assert all(p is not None and "headline" in p["class"] for p in first.values())
    text = {key: p.get_text(" ", strip=True) for key, p in first.items()}
    assert text["2"] == (
        "This chapter has been updated to note that the conference must be held within 10 "
        "working days (reduced from 15) of the strategy discussion (see Section 4, Conference "
        "Timescales)."
    )
    assert text["6"] == "This chapter sets out how to respond."
    assert text["7"] == "This chapter has been removed."
    assert text["5"] == (
        "This chapter has been renamed from 'Safeguarding Children from Dangerous Dogs' to "
        "'Keeping Children Safe around Dogs'."
    )
    assert text["3"] == (
        "A link has been added to Domestic Abuse: How to Get Help (GOV.UK) "
        "(see Further Information)."
    )
    assert text["1"].startswith("Cosmetic changes only")


def test_counts_leave_out_cosmetic_and_stamp_only_changes(soup: BeautifulSoup) -> None:
    rows = {tr.th.get_text(): tr.td.get_text() for tr in soup.select("table.summary tbody tr")}
    assert rows["Chapters changed"] == "5"  # not Agency Roles (cosmetic), not the stamp
    assert rows["New chapters"] == "1"
    assert rows["Chapters removed"] == "1"
    assert rows["Chapters with changed duties, timescales or numbers"] == "1"
    assert rows["Sections changed in existing chapters"] == "2"  # not the new/removed ones
    assert rows["Links added or removed"] == "1"
    assert not [label for label in rows if "osmetic" in label]
    note = soup.select_one("p.not-counted").get_text(" ", strip=True)
    assert "1 chapter with cosmetic changes only" in note
    assert "1 chapter whose date stamp alone changed" in note


def test_times_are_in_the_configured_zone_never_raw_iso(soup: BeautifulSoup) -> None:
    text = soup.body.get_text(" ")
    assert ISO_TIME.search(text) is None
    assert "Mon 9 Nov 2026, 14:05 GMT" in text  # the timescale change, detected 14:05 UTC
    assert "generated Tue 17 Nov 2026, 14:05 GMT" in text
    stamp = soup.select_one("#evidence-2 time")
    assert stamp["datetime"] == "2026-11-09T14:05:00+00:00"  # exact, for machines
    summer = render_digest(
        build_digest([timescale()], [], WEEK, generated_at=datetime(2026, 7, 6, 13, 5, tzinfo=UTC)),
        "md",
        tz=LONDON,
    )
    assert "generated Mon 6 Jul 2026, 14:05 BST" in summer
    assert ISO_TIME.search(summer) is None
    default = render_digest(build_digest([timescale()], [], WEEK), "html")
    assert "Mon 9 Nov 2026, 14:05 UTC" in default


def test_a_new_chapter_is_its_outline_of_sections(soup: BeautifulSoup) -> None:
    article = soup.select_one('article[data-change="6"]')
    assert article.find("ins") is None and article.select("p.redline") == []
    outline = article.select_one("ul.outline")
    top = [li.find(string=True).strip() for li in outline.find_all("li", recursive=False)]
    assert top == [
        "Scope of this Chapter",
        "1 Definition",
        "4 Responding to Concerns",
        "5 Support for the Child",
    ]
    nested = outline.find_all("li", recursive=False)[2].find("ul")
    assert [li.get_text(strip=True) for li in nested.find_all("li")] == [
        "4.1 Immediate Safety",
        "4.2 Referral and Assessment",
    ]
    gone = soup.select_one('article[data-change="7"]')
    assert [li.get_text(strip=True) for li in gone.select("ul.outline li")] == [
        "1 Principles",
        "2 Recording",
    ]


def test_chart_starts_at_the_first_week_of_monitoring(soup: BeautifulSoup) -> None:
    bars = soup.select("figure.chart svg rect.bar")
    weeks = [bar.title.get_text() for bar in bars]
    assert weeks == ["Week of 2 Nov 2026: 0 changes", "Week of 9 Nov 2026: 6 changes"]
    unknown = render_digest(week_digest(), "html")  # no monitoring date: the first change
    assert len(BeautifulSoup(unknown, "lxml").select("figure.chart svg rect.bar")) == 1


def test_evidence_and_chain_head_come_after_the_reading_part(soup: BeautifulSoup) -> None:
    chapters = soup.select("article.chapter")
    assert not [a for a in chapters if a.select("dl.evidence, .chain-head")]
    order = [tag for tag in soup.body.descendants if isinstance(tag, Tag)]
    evidence = soup.find(id="evidence")
    last_reading = max(order.index(t) for t in [*chapters, soup.find(id="not-checked")])
    assert order.index(evidence) > last_reading
    assert order.index(soup.select_one(".chain-head")) > order.index(evidence)
    assert len(soup.select("section.evidence dl.evidence")) == 6  # one per chapter shown
    live = soup.select_one("#evidence-2 a")
    assert live["href"] == _url("icpc")
    link = soup.select_one('article[data-change="2"] a.evidence-link')
    assert link["href"] == "#evidence-2"


def test_manual_heading_is_used_in_digest_and_drafts(soup: BeautifulSoup) -> None:
    assert soup.select_one("h2.manual-name").get_text() == f"Changes: {HEADING}"
    assert HEADING in soup.select_one("figure.chart figcaption").get_text()
    month = parse_month("2026-11")
    entries = draft_entries(week_digest().changes, month)
    drafts = BeautifulSoup(render_drafts(entries, month, "html", manuals=(INFO,)), "lxml")
    assert drafts.h1.get_text() == f"{HEADING} – Amendments"
    assert render_drafts(entries, month, "md", manuals=(INFO,)).startswith(f"# {HEADING} –")
    plain = BeautifulSoup(render_drafts(entries, month, "html"), "lxml")
    assert plain.h1.get_text() == f"{MANUAL} – Amendments"  # no display name: the short name


def test_removed_chapter_is_drafted_in_the_house_wording() -> None:
    month = parse_month("2026-11")
    entries = draft_entries(week_digest().changes, month)
    soup = BeautifulSoup(render_drafts(entries, month, "html"), "lxml")
    headings = [h.get_text() for h in soup.find_all("h3")]
    assert headings == ["Updated Chapters", "New Chapters and Features", "Removed Chapters"]
    rows = soup.find_all("table")[2].select("tbody tr")
    assert [[td.get_text() for td in tr.find_all("td")] for tr in rows] == [
        ["Visiting of Psychiatric Patients by Children", "This chapter has been removed."]
    ]
    md = render_drafts(entries, month, "md")
    assert "| Visiting of Psychiatric Patients by Children | This chapter has been removed. |" in md
    assert "Agency Roles" not in md and "Single Assessments" not in md


def test_markdown_digest_follows_the_same_reading_order() -> None:
    md = render_digest(week_digest(), "md", tz=LONDON, manuals=(INFO,))
    positions = [md.index(f"### {title}") for title in _expected_titles()]
    assert positions == sorted(positions)
    assert md.index("## Evidence") > md.index("## Not checked")
    assert md.index("Chain head:") > md.index("## Evidence")
    icpc = md[positions[0] :]
    assert icpc.split("\n\n")[1].startswith("This chapter has been updated to note that")
    assert "~~15~~ → **10**" in md


def _expected_titles() -> list[str]:
    return [
        "Initial Child Protection Conferences",
        "Harmful Sexual Behaviour",
        "Visiting of Psychiatric Patients by Children",
        "Domestic Abuse",
        "Keeping Children Safe around Dogs",
        "Agency Roles and Responsibilities",
    ]


def test_a_changed_number_shows_old_struck_then_new(soup: BeautifulSoup) -> None:
    redline = soup.select_one('article[data-change="2"] p.redline')
    assert [d.get_text() for d in redline.find_all("del")] == ["15"]
    assert [i.get_text() for i in redline.find_all("ins")] == ["10"]
    assert redline.find("del").find_next_sibling() is redline.find("ins")


def test_section_changes_are_unaffected_for_json() -> None:
    data = render_digest(week_digest(), "json")
    assert '"not_counted_cosmetic_only": 1' in data
    assert '"not_counted_stamp_only": 1' in data
    assert '"chapters_changed": 5' in data
