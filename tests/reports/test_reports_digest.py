from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from reports_builders import WHEN, change, modified, prebirth_change, section

from differ.models import Edit, SectionChange
from reports.digest import (
    ELLIPSIS,
    build_digest,
    charts,
    manual_views,
    redline,
    safe_href,
    summary_counts,
    weekly_counts,
    word_edits,
)
from reports.models import FailedCheck, ManualInfo, WeekCount
from reports.periods import parse_week
from reports.redline import flag_spans
from scraper.models import Link

WEEK = parse_week("2026-W47")


def _words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_redline_keeps_context_only_around_changes() -> None:
    edits = (
        Edit(0, _words(50, "a") + " "),
        Edit(-1, "15 days"),
        Edit(1, "20 working days"),
        Edit(0, " " + _words(50, "b")),
    )
    segments = redline(edits, context_words=5)
    assert segments[0].op == 0
    assert segments[0].text.startswith(ELLIPSIS)
    assert segments[0].text.split()[1:] == ["a45", "a46", "a47", "a48", "a49"]
    assert (segments[1].op, segments[1].text, segments[1].flagged) == (-1, "15 days", True)
    assert (segments[2].op, segments[2].text) == (1, "20 working days")
    assert segments[3].text.split() == ["b0", "b1", "b2", "b3", "b4", ELLIPSIS]


def test_redline_of_unchanged_text_is_empty_and_short_runs_are_kept() -> None:
    assert redline((Edit(0, "nothing changed"),)) == ()
    short = (Edit(0, "keep "), Edit(1, "this"), Edit(0, " too"))
    assert "".join(s.text for s in redline(short)) == "keep this too"


EDITS = st.lists(st.tuples(st.sampled_from([-1, 0, 1]), st.text(min_size=1)), max_size=8)


@given(EDITS)
def test_redline_never_loses_a_change(raw: list[tuple[int, str]]) -> None:
    edits = tuple(Edit(op, text) for op, text in raw)  # type: ignore[arg-type]
    changed = [(e.op, e.text) for e in word_edits(edits) if e.op != 0]
    assert [(s.op, s.text) for s in redline(edits) if s.op != 0] == changed


def _sides(edits: tuple[Edit, ...]) -> tuple[str, str]:
    old = "".join(e.text for e in edits if e.op <= 0)
    new = "".join(e.text for e in edits if e.op >= 0)
    return old, new


@given(
    st.lists(
        st.tuples(st.sampled_from([-1, 0, 1]), st.sampled_from(["ab", " ", "c d", "\n", "1."])),
        max_size=10,
    )
)
def test_word_edits_keep_both_texts_and_every_change(raw: list[tuple[int, str]]) -> None:
    edits = tuple(Edit(op, text) for op, text in raw)  # type: ignore[arg-type]
    widened = word_edits(edits)
    assert _sides(widened) == _sides(edits)
    assert any(e.op != 0 for e in widened) == (
        _sides(edits)[0] != _sides(edits)[1] or any(e.op != 0 for e in edits)
    )
    assert all(e.text for e in widened)


def test_redline_changes_whole_words_with_spaces_outside() -> None:
    edits = (Edit(0, "In Octo"), Edit(-1, "ber"), Edit(1, "vember"), Edit(0, " 2026"))
    assert [(s.op, s.text) for s in redline(edits)] == [
        (0, "In "),
        (-1, "Octo" + "ber"),
        (1, "Octovember"),
        (0, " 2026"),
    ]
    split = (Edit(0, "In "), Edit(-1, "Octo"), Edit(1, "Novem"), Edit(0, "ber 2026 and"))
    assert [(s.op, s.text) for s in redline(split)][:3] == [
        (0, "In "),
        (-1, "October"),
        (1, "November"),
    ]
    removed = (Edit(0, "(Home Office)"), Edit(-1, "\nDomestic Violence"), Edit(0, "."))
    segment = redline(removed)[1]
    assert segment.parts == ("\n", "Domestic Violence", "")


def test_build_digest_keeps_period_and_orders_stably() -> None:
    inside = prebirth_change(change_id=2)
    other = change((), kind="removed", title="Begging", change_id=3)
    before = prebirth_change(change_id=1, when=WHEN - timedelta(days=30))
    failure = FailedCheck("Working Together", "https://x.test/a", WHEN, 503, "server error")
    old_failure = FailedCheck(
        "Working Together", "https://x.test/b", WHEN - timedelta(days=9), 0, ""
    )
    digest = build_digest([inside, other, before], [failure, old_failure], WEEK, generated_at=WHEN)
    assert [c.change_id for c in digest.changes] == [3, 2]
    assert digest.failures == (failure,)
    assert digest.generated_at == WHEN


def test_summary_counts() -> None:
    link = Link("New Guide", "https://example.org/guide")
    old = section("2", "Reports", "Reports are shared.")
    new = section("2", "Reports", "Reports are shared . ")
    changes = [
        prebirth_change(change_id=1),
        change((), kind="new", title="Young Carers", change_id=2, url="https://x.test/yc"),
        change(
            (modified(old, new, cosmetic=True), modified(old, old, links_added=(link,))),
            kind="renamed",
            title="Child Protection Review Conferences",
            old_title="Review Conferences",
            change_id=3,
            url="https://x.test/rc",
        ),
    ]
    failure = FailedCheck("Working Together", "https://x.test/a", WHEN, 0, "timeout")
    counts = summary_counts(build_digest(changes, [failure, failure], WEEK))
    assert counts.chapters_changed == 3
    assert (counts.chapters_new, counts.chapters_removed, counts.chapters_renamed) == (1, 0, 1)
    assert counts.sections_changed == 2  # the cosmetic one is not counted
    assert counts.sections_renumbered == 0
    assert counts.not_counted_cosmetic_only == 0  # the renamed chapter has a link added
    assert counts.links_changed == 1
    assert counts.pages_not_checked == 1


def test_chart_covers_at_most_the_quarter_ending_with_the_period() -> None:
    history = (
        WeekCount("2026-W47", "Working Together", 4),
        WeekCount("2026-W40", "Working Together", 2),
        WeekCount("2026-W10", "Working Together", 9),
    )
    digest = build_digest([], [], WEEK, history=history)
    since_january = ManualInfo("Working Together", "WT", datetime(2026, 1, 5, tzinfo=UTC))
    (chart,) = charts(digest, [since_january])
    assert len(chart.bars) == 13
    assert chart.manual == "WT"
    assert chart.bars[-1].week == "2026-W47"
    assert chart.bars[0].week == "2026-W35"
    assert chart.peak == 4
    assert chart.bars[-1].height == 80
    assert [b.count for b in chart.bars if b.week == "2026-W40"] == [2]
    (unknown,) = charts(digest)  # not known since when: from the first week with changes
    assert [b.week for b in unknown.bars][:2] == ["2026-W40", "2026-W41"]
    assert len(unknown.bars) == 8
    since_w46 = ManualInfo("Working Together", "WT", datetime(2026, 11, 12, tzinfo=UTC))
    (recent,) = charts(digest, [since_w46])  # changes before (a backfill) still shown
    assert recent.bars[0].week == "2026-W40"
    (chart,) = charts(build_digest([], [], WEEK, history=history[:1]), [since_w46])
    assert [(b.week, b.label) for b in chart.bars] == [
        ("2026-W46", "9 Nov"),
        ("2026-W47", "16 Nov"),
    ]


def test_weekly_counts_group_by_week_and_manual() -> None:
    counts = weekly_counts(
        [prebirth_change(1), prebirth_change(2), prebirth_change(3, WHEN + timedelta(days=7))]
    )
    assert counts == (
        WeekCount("2026-W47", "Working Together", 2),
        WeekCount("2026-W48", "Working Together", 1),
    )


def test_safe_href_allows_only_http() -> None:
    assert safe_href("https://example.org/a") == "https://example.org/a"
    assert safe_href("javascript:alert(1)") is None
    assert safe_href(" JavaScript:alert(1)") is None
    assert safe_href("data:text/html,x") is None
    assert safe_href("/relative") is None
    assert datetime(2026, 1, 1, tzinfo=UTC) < WHEN


def test_flag_spans_mark_numbers_durations_and_obligations_only() -> None:
    text = "Section 47 enquiries must end within 10 working days, by the 30th week. Then 2.5."
    flagged = [piece for piece, hit in flag_spans(text) if hit]
    assert flagged == ["must", "within", "10 working days", "30th week", "2.5"]
    assert "".join(piece for piece, _ in flag_spans(text)) == text


def test_renumbered_only_sections_are_counted_and_listed_apart() -> None:
    who_old = section("5", "Who Should Attend", "Parents.")
    who_new = section("6", "Who Should Attend", "Parents.")
    moved = SectionChange(frozenset({"renumbered"}), who_old, who_new)
    cosmetic_old = section("2", "Health", "'Think Family'")
    cosmetic = change(
        (modified(cosmetic_old, section("2", "Health", "‘Think Family’"), cosmetic=True),),
        title="Agency Roles",
        url="https://x.test/agency",
        change_id=1,
    )
    real = prebirth_change(change_id=2)
    renumbered = change((*real.diff.sections, moved), change_id=2)
    digest = build_digest([cosmetic, renumbered], [], WEEK)
    counts = summary_counts(digest)
    assert (counts.sections_changed, counts.sections_renumbered) == (1, 1)
    (view,) = manual_views(digest.changes)
    # the chapter with wording to read comes first, the cosmetic-only one last
    assert [c.change.chapter_title for c in view.chapters] == [
        "Initial Child Protection Conferences",
        "Agency Roles",
    ]
    first = view.chapters[0]
    assert [s.label for s in first.layout] == ["Section 6, Who Should Attend"]
    assert [s.label for s in first.sections] == ["Section 8, Pre-birth Conferences"]
