"""The quality benchmark's own logic (bench/quality*.py): the truth derived from Markdown, the
matching of reported changes against it, and the figures. Small hand-made inputs only; the
full run is `make quality`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from quality import url_key
from quality_corpus import Doc, Version
from quality_eval import ChapterObserved, evaluate_chapter, heading_score, held_back
from quality_match import Reported, heading_keys, match_week
from quality_pages import TEMPLATES, content_html
from quality_report import Outcome, figures, missed_targets
from quality_site import Site
from quality_truth import headings, norm_title, split_sections, truth_changes

DOC = """Welcome to the terms.

Scope
=====

These terms apply to you.

Details
-------

You must be 18 or over.

## 3. Payments

Fees are due monthly. See [the fee table](https://example.org/fees).
"""


def section(title: str, level: int = 2, text: str = "") -> dict[str, object]:
    return {"number": None, "title": title, "level": level, "path": [title], "text": text}


def reported(
    title: str | None,
    inserted: str = "",
    deleted: str = "",
    kinds: tuple[str, ...] = ("modified",),
    cosmetic: bool = False,
    old_title: str | None = None,
) -> Reported:
    old = title if old_title is None else old_title
    return Reported(kinds, old, title, None, None, inserted, deleted, cosmetic)


# -- truth ---------------------------------------------------------------------------------------
def test_sections_split_at_atx_and_setext_headings_with_an_introduction() -> None:
    sections = split_sections(DOC)
    assert [(s.title, s.level) for s in sections] == [
        ("Introduction", 0),
        ("Scope", 1),
        ("Details", 2),
        ("3. Payments", 2),
    ]
    assert sections[0].text == "Welcome to the terms."
    assert sections[1].text == "These terms apply to you."  # its subsection is not its own text
    assert sections[3].links == (("the fee table", "https://example.org/fees"),)
    assert headings(DOC) == ["Scope", "Details", "3. Payments"]


def test_whitespace_punctuation_and_case_only_edits_are_no_change() -> None:
    edited = DOC.replace("You must be 18 or over.", "You  must be 18, or over!").replace(
        "Fees are due monthly", "fees are due  monthly;"
    )
    assert edited != DOC
    assert truth_changes(DOC, edited) == ()


def test_a_reworded_section_is_modified_and_only_that_one() -> None:
    changes = truth_changes(DOC, DOC.replace("18 or over", "21 or over"))
    assert [(c.kind, c.title) for c in changes] == [("modified", "Details")]


def test_a_renamed_heading_counts_as_removed_and_added() -> None:
    changes = truth_changes(DOC, DOC.replace("Details\n-------", "Eligibility\n-----------"))
    assert [(c.kind, c.title) for c in changes] == [
        ("removed", "Details"),
        ("added", "Eligibility"),
    ]


def test_renumbering_alone_is_no_change_and_sections_come_and_go() -> None:
    assert truth_changes(DOC, DOC.replace("## 3. Payments", "## 4. Payments")) == ()
    added = DOC + "\n## Refunds\n\nNone.\n"
    assert [(c.kind, c.title) for c in truth_changes(DOC, added)] == [("added", "Refunds")]
    assert [(c.kind, c.title) for c in truth_changes(added, DOC)] == [("removed", "Refunds")]


def test_a_retargeted_link_is_a_change_an_image_source_is_not() -> None:
    moved = DOC.replace("https://example.org/fees", "https://example.org/fees-2026")
    assert [c.title for c in truth_changes(DOC, moved)] == ["3. Payments"]
    pictured = DOC.replace("Welcome", "![logo](/a.png?v=1) Welcome")
    repictured = pictured.replace("v=1", "v=2")
    assert truth_changes(pictured, repictured) == ()


def test_a_heading_demoted_to_a_bold_line_is_an_optional_resplit() -> None:
    body = "Customers may cancel the contract at any time by writing to the support team."
    old = f"## Terms\n\nThese are the terms.\n\n## Cancellation\n\n{body}\n"
    demoted = f"## Terms\n\nThese are the terms.\n\n**Cancellation**\n\n{body}\n"
    changes = truth_changes(old, demoted)
    assert [(c.kind, c.title, c.optional) for c in changes] == [
        ("removed", "Cancellation", "re-split"),
        ("modified", "Terms", "re-split"),  # it only absorbed text the old version held
    ]
    edited = demoted.replace("any time", "any time, free of charge,")
    assert [c.optional for c in truth_changes(old, edited)] == ["", ""]
    promoted = demoted.replace("**Cancellation**", "## 16. Cancellation")  # numbered on the way
    assert [c.optional for c in truth_changes(demoted, promoted)] == ["re-split", "re-split"]


def test_a_heading_without_letters_or_digits_is_no_boundary() -> None:
    assert [s.title for s in split_sections("Intro.\n\n## \u200d\n\nMore.\n")] == ["Introduction"]


def test_a_changed_date_stamp_is_an_optional_change() -> None:
    old = (
        "## Terms\n\nLast modified: 2023-03-01\n\nYou must pay.\n\n### Last Updated: May 1, 2024\n"
    )
    new = old.replace("2023-03-01", "2023-08-01").replace("May 1", "June 9")
    assert [(c.title, c.optional) for c in truth_changes(old, new)] == [("Terms", "stamp")]
    linked = "Intro.\n\n## Notice\n\n[Effective May 1, 2024](https://x.org/notes)\n\nText.\n"
    relinked = linked.replace("May 1", "June 9")
    assert [c.optional for c in truth_changes(linked, relinked)] == ["stamp"]
    edited = new.replace("must pay", "must not pay")
    assert [(c.title, c.optional) for c in truth_changes(old, edited)] == [("Terms", "")]


def test_duplicate_headings_pair_in_order() -> None:
    old = "## Notes\n\none\n\n## Notes\n\ntwo\n"
    changes = truth_changes(old, old.replace("two", "three"))
    assert [(c.kind, c.old.text if c.old else None) for c in changes] == [("modified", "two")]


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("3.2 What you can share", "whatyoucanshare"),
        ("Section 4: Fees", "fees"),
        ("(a) Scope", "scope"),
        ("IV. Liability", "liability"),
        ("b. Incident Reporting ¶", "incidentreporting"),
        ("2024", "2024"),
        ("A Guide", "aguide"),
        ("3.b.i.Status of use", "statusofuse"),
        ("9. U.S. Privacy Rights", "privacyrights"),
        ("U.S. Privacy Rights", "privacyrights"),
    ],
)
def test_titles_lose_number_prefixes_case_and_punctuation(title: str, key: str) -> None:
    assert norm_title(title) == key


# -- matching ------------------------------------------------------------------------------------
def test_matching_by_title_by_text_and_the_false_positives() -> None:
    new = DOC.replace("18 or over", "21 or over").replace("Fees are due", "Charges are due")
    truth = truth_changes(DOC, new)
    known = heading_keys(DOC, new)
    result = match_week(
        [
            reported("Details", "21", "18"),  # by title
            reported("Fees", "Charges", "Fees"),  # a lead-in the product promoted: by text
            reported("Scope", "apply", ""),  # an unchanged heading: false positive
            reported("Cookies", "zebra giraffe", ""),  # no heading, text nowhere: unattributed
            reported("Introduction", "x", "", cosmetic=True),  # cosmetic: not counted
            reported("Details", kinds=("renumbered",)),  # not a content change: not counted
        ],
        truth,
        known,
    )
    assert result.found == {0, 1}
    assert [r.title for r in result.true_pos] == ["Details", "Fees"]
    assert [r.title for r in result.false_pos] == ["Scope"]
    assert [r.title for r in result.unattributed] == ["Cookies"]


def test_a_date_stamp_under_an_unchanged_heading_is_never_credited() -> None:
    old = "Intro text.\n\n## Terms\n\nEffective 3 March 2024. You must pay.\n\n## Fees\n\nNone.\n"
    new = old.replace("3 March 2024", "9 June 2025")
    truth = truth_changes(old, new)
    known = heading_keys(old, new)
    stamp = reported("Introduction", "9 June 2025", "3 March 2024")
    alone = match_week([stamp], truth, known)
    assert alone.true_pos == [stamp]  # nothing else named the change: the edit's own words
    both = match_week([reported("Terms", "9 June 2025", "3 March 2024"), stamp], truth, known)
    assert [r.title for r in both.true_pos] == ["Terms"]
    assert both.false_pos == [stamp]
    twice = match_week([reported("Terms", "9 June"), reported("Terms", "2025")], truth, known)
    assert len(twice.true_pos) == 2  # a section the product split in two under one title


def test_with_no_real_change_everything_reported_is_a_false_positive() -> None:
    result = match_week(
        [reported("Cookies", "zebra"), reported("Introduction", "3 March")], (), set()
    )
    assert len(result.false_pos) == 2 and not result.true_pos


def test_a_rename_reported_once_finds_both_sides_and_links_attribute() -> None:
    renamed = DOC.replace("Details\n-------", "Eligibility\n-----------")
    change = reported("Eligibility", kinds=("renamed",), old_title="Details")
    result = match_week([change], truth_changes(DOC, renamed), heading_keys(DOC, renamed))
    assert result.found == {0, 1} and len(result.true_pos) == 1
    moved = DOC.replace("https://example.org/fees", "https://example.org/fees-2026")
    links = Reported(
        ("modified",),
        "Charges",
        "Charges",
        None,
        None,
        "",
        "",
        False,
        (("the fee table", "https://example.org/fees-2026"),),
        (("the fee table", "https://example.org/fees"),),
    )
    result = match_week([links], truth_changes(DOC, moved), heading_keys(DOC, moved))
    assert result.found == {0} and len(result.true_pos) == 1


def test_a_heading_renamed_and_merged_finds_both_sides_by_text() -> None:
    old = "# Terms\n\n## News for May\n\nWe added rules for pets.\n"
    new = "# Terms\n\n## News for June\n\nWe removed the fee for cats.\n"
    truth = truth_changes(old, new)
    assert [c.kind for c in truth] == ["removed", "added"]
    # the product dropped the "News" heading and reported the text under "Terms"
    merged = reported("Terms", "June removed the fee cats", "May added rules pets")
    result = match_week([merged], truth, heading_keys(old, new))
    assert result.found == {0, 1} and len(result.true_pos) == 1
    # a section renamed from a bold lead-in (no heading) also finds what its old text was in
    lead_in = reported("News for June", "removed fee cats", "added rules", old_title="Notice")
    result = match_week([lead_in], truth, heading_keys(old, new))
    assert result.found == {0, 1}


def test_reported_json_is_read_with_its_links() -> None:
    change = Reported.from_json(
        {
            "kinds": ["modified", "renamed"],
            "old": {"number": "3", "title": "Payments", "path": ["3"]},
            "new": {"number": "3", "title": "Fees", "path": ["3"]},
            "inserted": "a",
            "deleted": "b",
            "links_added": [{"text": "t", "url": "u"}],
            "cosmetic": False,
        }
    )
    assert change.keys == {"payments", "fees"} and change.substantive
    assert change.links_added == (("t", "u"),) and change.links_removed == ()
    assert not Reported.from_json({"kinds": ["stamp"], "new": {"title": "x"}}).substantive


# -- one chapter over the weeks ------------------------------------------------------------------
def make_doc(tmp_path: Path, texts: list[str]) -> Doc:
    versions = []
    for n, text in enumerate(texts, start=1):
        path = tmp_path / f"v{n}.md"
        path.write_text(text, encoding="utf-8")
        versions.append(Version(n, f"2025-0{n}-01", path))
    return Doc("doc-1", "Acme — Terms", tuple(versions))


def diff(*sections: dict[str, object]) -> dict[str, object]:
    return {"kind": "updated", "chapter_url": "u", "sections": list(sections)}


def change_json(title: str, inserted: str = "", deleted: str = "") -> dict[str, object]:
    ref = {"number": None, "title": title, "path": [title]}
    return {
        "kinds": ["modified"],
        "old": ref,
        "new": ref,
        "inserted": inserted,
        "deleted": deleted,
        "cosmetic": False,
    }


def test_a_change_held_back_one_run_is_judged_when_reported(tmp_path: Path) -> None:
    v2 = DOC.replace("18 or over", "21 or over")
    v3 = v2.replace("monthly.", "monthly !")  # punctuation only
    doc = make_doc(tmp_path, [DOC, v2, v3])
    seen = ChapterObserved(
        diffs={
            3: [diff(change_json("Details", "21", "18"))],  # a week late
            5: [diff(change_json("Scope", "x"))],
        },  # on a re-render of v3
        version_weeks={3, 4},
    )
    weeks = evaluate_chapter(doc, "a", seen, 6)
    assert [(w.week, w.kind, w.since) for w in weeks] == [
        (3, "changed", 2),
        (4, "cosmetic", 4),
        (5, "rerender", 5),
    ]
    assert weeks[0].match.found == {0} and not weeks[0].missed
    assert len(weeks[2].match.false_pos) == 1
    assert held_back(doc, seen, 6) == [(2, 1)]  # the cosmetic pair at week 4 is no change


def test_a_change_never_reported_is_missed_at_the_end(tmp_path: Path) -> None:
    doc = make_doc(tmp_path, [DOC, DOC.replace("18 or over", "21 or over")])
    weeks = evaluate_chapter(doc, "b", ChapterObserved(), 4)
    assert len(weeks) == 1 and weeks[0].never and weeks[0].since == 2
    assert [t.title for t in weeks[0].missed] == ["Details"]
    assert held_back(doc, ChapterObserved(), 4) == [(2, None)]


def test_an_optional_change_left_unreported_is_not_held_back(tmp_path: Path) -> None:
    body = "Customers may cancel the contract at any time by writing to the support team."
    old = f"## Terms\n\nThese are the terms.\n\n## Cancellation\n\n{body}\n"
    doc = make_doc(tmp_path, [old, old.replace("## Cancellation", "**Cancellation**")])
    weeks = evaluate_chapter(doc, "a", ChapterObserved(), 4)
    assert [(w.week, w.kind, w.missed, w.never) for w in weeks] == [(2, "changed", [], False)]
    assert held_back(doc, ChapterObserved(), 4) == []


def test_headings_compare_without_the_products_introduction() -> None:
    shown = [section("Introduction", 1), section("Scope"), section("Payments"), section("Fees")]
    score = heading_score(DOC, shown)
    assert (score.truth, score.reported, score.common) == (3, 3, 2)
    assert score.missed == ("details",) and score.extra == ("fees",)
    assert heading_score(DOC, None).common == 0


def test_figures_and_targets(tmp_path: Path) -> None:
    doc = make_doc(tmp_path, [DOC, DOC.replace("18 or over", "21 or over")])
    seen = ChapterObserved(
        diffs={2: [diff(change_json("Details", "21", "18"), change_json("Scope", "apply"))]}
    )
    outcome = Outcome(weeks=evaluate_chapter(doc, "a", seen, 4))
    fig = figures(outcome, "a")
    assert (fig.truth, fig.found, fig.true_pos, fig.false_pos) == (1, 1, 1, 1)
    assert fig.recall == 1.0 and fig.precision == 0.5
    assert figures(outcome, "b").truth == 0
    assert [m.split(":")[1].strip() for m in missed_targets(fig)] == ["section precision"]


# -- the site ------------------------------------------------------------------------------------
def test_markdown_headings_go_one_level_down_with_anchors_in_template_b() -> None:
    html = content_html(DOC, anchors=False)
    assert "<h2>Scope</h2>" in html and "<h3>Details</h3>" in html and "<h1>" not in html
    anchored = content_html(DOC, anchors=True)
    assert '<h2 id="scope">Scope <a class="headerlink" href="#scope"' in anchored


def test_pages_change_furniture_on_every_render_but_not_content(tmp_path: Path) -> None:
    doc = make_doc(tmp_path, [DOC, DOC.replace("18 or over", "21 or over")])
    other = Doc("doc-2", "Other — Terms", doc.versions)
    site = Site([doc, other], ["a", "b"])
    for template in TEMPLATES.values():
        first, second = (site.render(template.chapter_path(doc)) for _ in range(2))
        assert first and second and first != second and "18 or over" in first
        contents = site.render(template.contents_path)
        assert contents and "?share=" in contents and contents.count(">Terms</a>") == 2
    assert "last updated: 01/01/2025" in (site.render("/a/chapters/doc-1.html") or "")
    site.week = 2
    assert "Last reviewed on 1 February 2025" in (site.render("/b/procedures/doc-1/") or "")
    assert site.render("/a/chapters/nope.html") is None


def test_url_keys_ignore_host_and_trailing_slash() -> None:
    assert url_key("http://127.0.0.1:9/b/procedures/x/") == "/b/procedures/x"
    assert url_key("http://h/a/contents.html?share=1") == "/a/contents.html?share=1"
