"""Hand-built DetectedChange objects for the reports tests (no store, no differ needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from diff_match_patch import diff_match_patch

from differ.models import ChapterDiff, ChapterKind, Edit, SectionChange
from reports.models import DetectedChange
from scraper.models import Link, Section

WHEN = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def section(number: str | None, title: str, text: str, links: tuple[Link, ...] = ()) -> Section:
    key = number if number else title
    return Section(number=number, title=title, level=1, path=(key,), text=text, links=links)


def edits_between(old: str, new: str) -> tuple[Edit, ...]:
    """Word-ish edits computed with diff-match-patch (the differ is built elsewhere)."""
    dmp = diff_match_patch()
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    return tuple(Edit(op, text) for op, text in diffs)


def modified(
    old: Section,
    new: Section,
    *,
    kinds: frozenset[str] = frozenset({"modified"}),
    cosmetic: bool = False,
    flags: frozenset[str] = frozenset(),
    links_added: tuple[Link, ...] = (),
    links_removed: tuple[Link, ...] = (),
) -> SectionChange:
    return SectionChange(
        kinds=kinds,
        old=old,
        new=new,
        edits=edits_between(old.text, new.text),
        links_added=links_added,
        links_removed=links_removed,
        cosmetic=cosmetic,
        similarity=0.9,
        flags=flags,
    )


def added(new: Section) -> SectionChange:
    return SectionChange(
        kinds=frozenset({"added"}),
        old=None,
        new=new,
        edits=(Edit(1, new.text),),
        links_added=new.links,
    )


def removed(old: Section) -> SectionChange:
    return SectionChange(
        kinds=frozenset({"removed"}),
        old=old,
        new=None,
        edits=(Edit(-1, old.text),),
        links_removed=old.links,
    )


def change(
    sections: tuple[SectionChange, ...],
    *,
    change_id: int = 1,
    title: str = "Initial Child Protection Conferences",
    kind: ChapterKind = "updated",
    manual: str = "Working Together",
    url: str = "https://example.trixonline.co.uk/chapter/icpc",
    when: datetime = WHEN,
    old_title: str | None = None,
    summary: str = "",
    revised_throughout: bool = False,
) -> DetectedChange:
    diff = ChapterDiff(
        chapter_url=url,
        kind=kind,
        old_version=None if kind == "new" else change_id,
        new_version=None if kind == "removed" else change_id + 1,
        sections=sections,
        old_title=old_title or title,
        new_title=title,
        revised_throughout=revised_throughout,
    )
    return DetectedChange(
        change_id=change_id,
        manual=manual,
        chapter_title=title,
        chapter_url=url,
        detected_at=when,
        diff=diff,
        old_content_hash=None if kind == "new" else "a" * 64,
        new_content_hash=None if kind == "removed" else "b" * 64,
        summary=summary,
    )


OLD_PREBIRTH = (
    "A pre-birth conference should be held where there is a need to consider whether a "
    "multi-agency child protection plan is required. The conference should take place as "
    "soon as possible."
)
INSERTED = (
    "The first review conference will be scheduled within three months of the initial "
    "conference or within 20 working days after the birth of the baby, whichever is the sooner."
)
NEW_PREBIRTH = f"{OLD_PREBIRTH} {INSERTED}"


def prebirth_change(change_id: int = 1, when: datetime = WHEN) -> DetectedChange:
    old = section("8", "Pre-birth Conferences", OLD_PREBIRTH)
    new = section("8", "Pre-birth Conferences", NEW_PREBIRTH)
    flags = frozenset({"duration", "number"})
    return change((modified(old, new, flags=flags),), change_id=change_id, when=when)
