"""Property: entries rendered the way the seeds render them are recovered exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.amendments import parse_amendments_text

TITLE_WORDS = ["Child", "Protection", "Conferences", "Safeguarding", "Children", "Young",
               "People", "Domestic", "Abuse", "Review", "Missing", "Care", "Leaving",
               "Assessment", "Allegations", "Staff", "Carers", "Multi-Agency", "Protocol",
               "(FGM)", "Bullying", "Neglect", "Harm", "Drug/Alcohol", "MASH"]  # fmt: skip
SMALL = ["and", "of", "the", "from", "in", "with", "who", "under"]
OPENERS = ["This chapter", "This procedure", "A note", "A link", "The chapter", "Links have",
           "Updated links", "A new", "Section 3, Process", "This rare"]  # fmt: skip
DETAIL_WORDS = ["has", "been", "updated", "to", "reflect", "the", "new", "guidance", "on",
                "timescales", "added", "for", "practitioners", "Working", "Together"]  # fmt: skip

word = st.sampled_from(TITLE_WORDS)
title = st.lists(st.tuples(st.sampled_from(["", *SMALL]), word), min_size=1, max_size=6).map(
    lambda pairs: (
        " ".join(w for small, cap in pairs for w in ((small, cap) if small else (cap,)))
        .removeprefix(" ")
        .strip()
    )
)
sentence = st.tuples(
    st.sampled_from(OPENERS), st.lists(st.sampled_from(DETAIL_WORDS), min_size=2, max_size=12)
).map(lambda p: p[0] + " " + " ".join(p[1]) + ".")
entry = st.tuples(title, st.lists(sentence, min_size=1, max_size=3), st.booleans())


def fix_title(raw: str) -> str:
    words = raw.split()
    while words and words[0] in SMALL:
        words.pop(0)
    return " ".join(words) or "Neglect"


@settings(max_examples=200, deadline=None)
@given(st.lists(entry, min_size=1, max_size=6), st.sampled_from(["updated", "new"]))
def test_rendered_entries_are_recovered(
    entries: list[tuple[str, list[str], bool]], category: str
) -> None:
    heading = "Updated Chapters" if category == "updated" else "New Chapters and Features"
    lines = ["View Working Together", "", "May 2021", "", heading, "Chapter Name Details"]
    expected = []
    for raw_title, paragraphs, alone in entries:
        name = fix_title(raw_title)
        if alone:  # the title on its own line, details in paragraphs after blank lines
            lines.append(name)
            for paragraph in paragraphs:
                lines += ["", paragraph]
        else:  # "Title Details..." on one line, further paragraphs after blank lines
            lines.append(f"{name} {paragraphs[0]}")
            for paragraph in paragraphs[1:]:
                lines += ["", paragraph]
        expected.append(("2021-05", category, name, "\n".join(paragraphs)))
    lines += ["", "Next update: November 2021", "", "2020 Amendments"]
    parsed = parse_amendments_text("\n".join(lines))
    assert [(e.month, e.category, e.chapter, e.details) for e in parsed] == expected
