"""parse_contents on both contents-page layouts."""

from __future__ import annotations

from pathlib import Path

from scraper.discover import parse_contents, split_number

DATA = Path(__file__).parent / "data"
OLD_BASE = "https://northvale.proceduresonline.com/contents.html"
NEW_BASE = "https://northvale.trixonline.co.uk/northvale/contents"
PART3 = (
    "3. Managing Individual Cases where there are Concerns about a Child's Safety and Welfare"
    " - Procedures"
)


def test_older_layout_parts_numbers_titles_and_order() -> None:
    contents = parse_contents((DATA / "contents_old.html").read_bytes(), OLD_BASE)
    assert contents.title == "Contents" and contents.url == OLD_BASE
    got = [(c.number, c.title, c.part) for c in contents.chapters]
    assert got == [
        ("1.1", "Preface and Introduction", "1. Policy Framework"),
        ("1.2", "Underlying Policy, Principles and Values", "1. Policy Framework"),
        ("1.3", "Recognition of Significant Harm", "1. Policy Framework"),
        ("1.10", "Family Group Conferences", "1. Policy Framework"),
        ("2.1", "Local Safeguarding Children Board - Role and Function",
         "2. The Local Safeguarding Children Board"),
        ("2.2", "Agency Roles and Responsibilities", "2. The Local Safeguarding Children Board"),
        ("3.1", "Referral, Investigation and Assessment", PART3),
        ("3.4", "Initial Child Protection Conferences", PART3),
        ("3.6", "Child Protection Review Conferences", PART3),
        (None, "Children Who Run Away or Go Missing from Home or Care Strategy", PART3),
        ("4.1", "Local Contacts", "4. Appendices"),
    ]  # fmt: skip


def test_older_layout_urls_are_absolute_own_host_without_fragments() -> None:
    contents = parse_contents((DATA / "contents_old.html").read_text(), OLD_BASE)
    urls = [c.url for c in contents.chapters]
    assert urls[0] == "https://northvale.proceduresonline.com/chapters/p_preface.html"
    assert urls[5] == "https://northvale.proceduresonline.com/chapters/p_agency_roles.html"
    assert len(urls) == len(set(urls))
    assert all(u.startswith("https://northvale.proceduresonline.com/") for u in urls)
    assert not any("#" in u or "amendments" in u or "cookies" in u for u in urls)


def test_newer_layout_with_number_spans_and_badges() -> None:
    contents = parse_contents((DATA / "contents_new.html").read_text(), NEW_BASE)
    assert contents.title == "Northvale Children's Services Procedures Manual"
    got = [(c.number, c.title, c.part, c.url.rsplit("/", 1)[1]) for c in contents.chapters]
    assert got == [
        ("1.1", "Decision Making and Delegated Authority", "1. All Children", "decision-making"),
        ("1.2", "Case Recording", "1. All Children", "recording"),
        ("1.3", "Supervision Policy", "1. All Children", "supervision"),
        ("2.1", "Assessment and Planning", "2.A Assessment", "assessment"),  # ref= dropped
        ("2.5", "Short Breaks", "2.B Disabled Children", "short-breaks"),
    ]


def test_split_number_strips_markers() -> None:
    assert split_number("3.4 Initial Child Protection Conferences Updated") == (
        "3.4",
        "Initial Child Protection Conferences",
    )
    assert split_number("1.10\u00a0Family Group Conferences\u00a0New ") == (
        "1.10",
        "Family Group Conferences",
    )
    assert split_number("Bullying (Updated)") == (None, "Bullying")
    assert split_number("What's New in Practice") == (None, "What's New in Practice")
