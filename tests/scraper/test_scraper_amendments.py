"""The publisher's Amendments page: the seeds (text) and both HTML layouts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scraper.amendments import (
    parse_amendments,
    parse_amendments_text,
    section_refs,
    split_title,
)

DATA = Path(__file__).parent / "data"
SEEDS = Path("/work/shared/seeds")

# Counted by hand from each seed: {seed prefix: {(month, category): entries}}
SEED_COUNTS = {
    "000": {("2017-11", "updated"): 1, ("2017-09", "updated"): 4, ("2017-09", "new"): 2},
    "001": {},  # a contents page, not an Amendments page
    "002": {("2022-03", "updated"): 2, ("2022-02", "updated"): 11, ("2022-02", "new"): 1},
    "003": {("2018-05", "updated"): 1, ("2018-03", "updated"): 11},
    "004": {("2019-11", "updated"): 1, ("2019-06", "new"): 8},
}


def seed(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip("the seeds folder is absent")
    return matches[0].read_text(encoding="utf-8")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds folder is absent")
def test_every_seed_parses_to_the_hand_counted_entries() -> None:
    files = sorted(SEEDS.glob("*.txt"))
    assert files
    for path in files:
        entries = parse_amendments_text(path.read_text(encoding="utf-8"))
        counts = Counter((e.month, e.category) for e in entries)
        expected = SEED_COUNTS.get(path.name[:3])
        if expected is None:  # a seed added later: at least parse without losing entries
            assert all(e.chapter and e.details for e in entries)
            continue
        assert dict(counts) == expected, path.name
        assert all(e.chapter and e.details for e in entries), path.name


def test_seed_002_titles_details_and_sections() -> None:
    entries = parse_amendments_text(seed("002"))
    march = [e.chapter for e in entries if e.month == "2022-03"]
    assert march == ["Initial Child Protection Conferences", "Child Protection Review Conferences"]
    first = entries[0]
    assert first.details.startswith("This chapter has been updated to note the first child")
    assert first.sections == ("Section 8, Prebirth Conferences",)
    assert entries[1].sections == ("Section 1, Frequency",)
    bullying = next(e for e in entries if e.chapter == "Bullying")
    assert bullying.details.split("\n") == [
        "This chapter has been amended to include information on sexual harassment and violence"
        " following the Review of Sexual Abuse in Schools and Colleges (Ofsted) and Keeping"
        " Children Safe in Education.",
        "It also includes a note on what many young people understand as ‘sexting’"
        " (see Section 1, Definition).",
        "Please re-reference.",
    ]
    drugs = next(e for e in entries if e.chapter.startswith("Children of Drug"))
    assert drugs.chapter == "Children of Drug/Alcohol Misusing Parents"
    assert drugs.sections == ("Section 1, Implications", "Section 2, Action to Safeguard")
    domestic = next(e for e in entries if e.chapter == "Domestic Abuse")
    assert domestic.details.startswith("Section 1, Definition has been updated")
    assert domestic.details.endswith("(see Relevant Guidance in the Scope Box).")
    new = [e for e in entries if e.category == "new"]
    assert [e.chapter for e in new] == ["Harmful Sexual Behaviour"]
    assert new[0].details.endswith("Please reference.")
    assert entries[-2].chapter == "Safe Recruitment, Selection and Supervision of Staff"
    assert entries[-2].sections == ("Section 2, Recruitment",)


def test_seed_003_titles_alone_on_a_line_with_bullets() -> None:
    entries = parse_amendments_text(seed("003"))
    titles = [e.chapter for e in entries]
    assert titles[2] == "Children Moving Across Boundaries"
    assert "Child Death Overview Panel" in titles and titles[-1] == "Serious Case Reviews"
    moving = entries[2]
    assert moving.details.count("\n") == 3 and moving.details.startswith("This chapter has been")
    fgm = entries[4]
    assert fgm.chapter == "Female Genital Mutilation (FGM) Multi-Agency Protocol"
    assert fgm.details.endswith("professional bodies.") and fgm.details.count("\n") == 4
    abroad = next(e for e in entries if e.chapter == "Safeguarding Children from Abroad")
    assert abroad.sections == ("Section 2, Unaccompanied Asylum Seeking Children (UASC)",)


def test_seed_000_title_without_a_known_opening_phrase() -> None:
    entries = parse_amendments_text(seed("000"))
    voice = entries[-1]
    assert voice.chapter == "Good Practice Supporting the Voice of the Child"
    assert voice.category == "new" and voice.month == "2017-09"
    assert voice.details.startswith("Effective safeguarding systems must be child centred.")
    assert entries[4].sections == ("Section 1, Definition and Key Principles",)


def test_seed_004_quoted_sections_and_appendix() -> None:
    entries = parse_amendments_text(seed("004"))
    assert entries[0].category == "updated"  # "Updated Chapters and Features"
    assert entries[0].sections == (
        "Appendix 1, Children’s Safeguarding Services – Multi Agency Safeguarding Hub"
        " Operational Procedures",
    )
    key = next(e for e in entries if e.chapter == "Key Principles")
    assert key.sections == (
        "Section 2.1, An Integrated Approach",
        "Section 2.6, Supervision and Staff development",
    )
    assert "Allegations against Staff, Carers and Volunteers" in [e.chapter for e in entries]


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("Bullying This chapter has been amended.", "Bullying"),
        ("Child Protection Review Conferences A note has been added.",
         "Child Protection Review Conferences"),
        ("Domestic Abuse Section 1, Definition has been updated.", "Domestic Abuse"),
        ("Agency Roles and Responsibilities Updated links have been added.",
         "Agency Roles and Responsibilities"),
        ("Harmful Sexual Behaviour This is defined as: 'x'.", "Harmful Sexual Behaviour"),
        ("Working with Sexually Active Young People under the Age of 18 This chapter has.",
         "Working with Sexually Active Young People under the Age of 18"),
        ("Safeguarding Children and Young People who may have been Trafficked This chapter.",
         "Safeguarding Children and Young People who may have been Trafficked"),
        ("Key Safeguards Effective practice must be child centred.", "Key Safeguards"),
        ("Multi Agency Safeguarding Hub (MASH) The chapter now has a flowchart.",
         "Multi Agency Safeguarding Hub (MASH)"),
    ],
)  # fmt: skip
def test_split_title_finds_where_the_title_ends(line: str, title: str) -> None:
    result = split_title(line)
    assert result is not None
    assert result[0] == title
    assert result[1] == line[len(title) + 1 :]


@pytest.mark.parametrize(
    "line",
    [
        "It also includes a note on what young people understand.",
        "With effect from 29 June 2021, section 69 expanded.",
        "Note also in Section 2, Recruitment that If a person subscribes.",
        "They have been developed in partnership with professionals.",
        "Links have also been added to: Domestic Abuse: Support (GOV.UK).",
        "In addition, a link has been added to Coram Children's Legal Centre.",
        "• North West Notification and Transfer of Children Procedure; and",
        "Safeguarding Children and Young people against Radicalisation",
        "Serious Case Reviews",
    ],
)
def test_split_title_leaves_continuation_paragraphs_alone(line: str) -> None:
    assert split_title(line) is None


def test_section_refs_forms() -> None:
    text = (
        "(see Section 8, Prebirth Conferences). See Section 3,‘Early Help’ and Section 5, "
        "‘Consent’. Section 1, Definition has been updated; section 71 Domestic Abuse Act. "
        "Appendix 2: Forms and Templates. Section 8, Prebirth Conferences again."
    )
    assert section_refs(text) == (
        "Section 8, Prebirth Conferences",
        "Section 3, Early Help",
        "Section 5, Consent",
        "Section 1, Definition",
        "Appendix 2, Forms and Templates",
    )


def test_html_layout_a_tables() -> None:
    entries = parse_amendments((DATA / "amendments_a.html").read_bytes(), "https://m.example/")
    assert [(e.month, e.category, e.chapter) for e in entries] == [
        ("2023-09", "updated", "Initial Child Protection Conferences"),
        ("2023-09", "updated", "Neglect"),
        ("2023-09", "new", "Online Safety"),
        ("2023-09", "removed", "Bullying Policy (Local)"),
        ("2023-03", "updated", "Multi Agency Safeguarding Hub (MASH)"),
    ]
    icpc, neglect, online = entries[0], entries[1], entries[2]
    assert icpc.sections == (
        "Section 3, Chairing the Conference",
        "Section 8, Pre-birth Conferences",
    )
    assert icpc.details.split("\n")[-1] == "Please re-reference."
    assert neglect.links == (
        "NSPCC, Neglect: Learning from Case Reviews",
        "Graded Care Profile 2 (GCP2)",
    )
    assert online.sections == ("Section 2.1, Recognising Harm",)
    assert entries[4].sections == ("Appendix 1, Operational Procedures",)


def test_html_layout_b_year_month_title() -> None:
    entries = parse_amendments((DATA / "amendments_b.html").read_text(), "https://m.example/")
    assert [(e.month, e.chapter) for e in entries] == [
        ("2024-02", "Children in Care Reviews"),
        ("2024-02", "Placements in Secure Accommodation"),
        ("2024-01", "Family Time (Contact)"),
        ("2023-12", "Leaving Care"),
    ]
    assert {e.category for e in entries} == {"updated"}
    reviews = entries[0]
    assert reviews.details.count("\n") == 1
    assert reviews.sections == ("Section 4, The Role of the IRO",)
    assert reviews.links == ("IRO Handbook: Statutory Guidance",)
    assert entries[1].sections == ("Section 2, Approval",)


def test_text_and_html_agree_on_a_simple_page() -> None:
    text = (
        "June 2024\n\nUpdated Chapters\nChapter Name Details\n"
        "Leaving Care This chapter was updated (see Section 3, Pathway Plans).\n"
        "Next update: December 2024\n"
    )
    html = (
        "<h2>June 2024</h2><h3>Updated Chapters</h3><table><tr><th>Chapter Name</th>"
        "<th>Details</th></tr><tr><td>Leaving Care</td><td>This chapter was updated (see "
        "Section 3, Pathway Plans).</td></tr></table><p>Next update: December 2024</p>"
    )
    assert parse_amendments_text(text) == parse_amendments(html)
    assert parse_amendments_text(text)[0].sections == ("Section 3, Pathway Plans",)


def test_text_removed_chapters_and_end_markers() -> None:
    text = (
        "Skip to main content\nAmendments\nApril 2024\nCaption: April 2024\n"
        "Removed Chapters\nChapter Name Details\n"
        "Bullying Policy (Local) This chapter has been removed; see Bullying.\n"
        "New Chapters and Features\nChapter Name Details\n"
        "Online Safety\n\nThis chapter is new.\n\n"
        "Archive\n2023 Amendments\nOrphan Title This chapter should not be read.\n"
    )
    entries = parse_amendments_text(text)
    assert [(e.month, e.category, e.chapter, e.details) for e in entries] == [
        (
            "2024-04",
            "removed",
            "Bullying Policy (Local)",
            "This chapter has been removed; see Bullying.",
        ),
        ("2024-04", "new", "Online Safety", "This chapter is new."),
    ]


def test_section_refs_keep_small_words_and_stop_at_the_next_reference() -> None:
    details = "See Section 4, Sharing without Consent and Section 2.1, 'An Integrated Approach'."
    assert section_refs(details) == (
        "Section 4, Sharing without Consent",
        "Section 2.1, An Integrated Approach",
    )
