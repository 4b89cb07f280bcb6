"""Plain-text views for the command line (and rich progress while snapshotting)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

import click

from amendwatch.bounds import bounds_text, format_time
from amendwatch.cli.tools import echo
from amendwatch.errors import InputError

if TYPE_CHECKING:  # `snapshot` loads none of the report, diff and history machinery
    from amendwatch.api import Amendwatch, RunReport
    from amendwatch.pipeline import ChapterOutcome
    from differ.models import SectionChange
    from reports.models import DetectedChange, UnconfirmedChange
    from scraper.models import PublishedEntry, Section, Skipped
    from store.readmodels import AsOf
    from store.unwatched import Unwatched


def run_snapshot(
    app: Amendwatch,
    names: Sequence[str],
    when: datetime | None,
    *,
    quiet: bool,
    wait: float,
    verbose: bool = False,
    stop: Callable[[], bool] | None = None,
) -> RunReport:
    """Snapshot with a progress bar on a terminal; ``verbose`` prints each chapter's outcome
    instead, ``quiet`` neither. ``stop`` is asked between chapters."""
    if verbose:
        return app.snapshot(names, at=when, wait=wait, progress=print_outcome, stop=stop)
    if quiet or not sys.stderr.isatty():
        return app.snapshot(names, at=when, wait=wait, stop=stop)
    from rich.progress import Progress  # noqa: PLC0415 (only on a terminal)

    with Progress(transient=True) as progress:
        task = progress.add_task("checking chapters", total=None)
        return app.snapshot(
            names, at=when, wait=wait, progress=lambda outcome: progress.advance(task), stop=stop
        )


def print_outcome(outcome: ChapterOutcome) -> None:
    reason = f" ({outcome.reason})" if outcome.reason else ""
    echo(f"  {outcome.outcome:<13} {outcome.url}{reason}", err=True)


def snapshot_summary(report: RunReport) -> str:
    lines = []
    for result in report.results:
        contents = (
            ""
            if result.contents_ok
            else f" (contents page failed: {result.contents_error}; nothing marked removed)"
        )
        flips = result.count("flip")
        reverted = f" ({flips} reverted)" if flips else ""
        lines.append(
            f"{result.manual}: checked {result.checked}, changed {result.changed}{reverted}, "
            f"not checked {result.failed}{contents}"
        )
        for outcome in result.outcomes:
            if outcome.outcome in ("failed", "suspect"):
                lines.append(f"  not checked: {outcome.url} ({outcome.reason})")
        lines.extend(not_watched_lines(result.skipped))
    lines.extend(f"error: {error}" for error in report.errors)
    lines.append(f"run {report.run_id}")
    return "\n".join(lines)


def _section_line(change: SectionChange) -> str:
    kinds = ", ".join(sorted(change.kinds))
    label = change.section.label
    if change.old is not None and change.new is not None and change.old.label != label:
        label = f"{label} (was {change.old.label})"
    extra = " [cosmetic]" if change.cosmetic else ""
    flags = f" [{', '.join(sorted(change.flags))}]" if change.flags else ""
    return f"    {label}: {kinds}{extra}{flags}"


def _clip(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + " …"


def _hunk_lines(change: SectionChange, most: int = 3) -> list[str]:
    """Each run of edits with a few words of context: "- old wording" / "+ new wording"."""
    if change.old is None or change.new is None:
        text = change.section.text
        return [f"      {'+' if change.new else '-'} {_clip(text)}"] if text else []
    from differ.classify import split_hunks  # noqa: PLC0415 (only `changes` shows edits)

    lines = []
    hunks = list(split_hunks(change.edits))
    for old, new in hunks[:most]:
        lines.append(f"      - {_clip(old)}")
        lines.append(f"      + {_clip(new)}")
    if len(hunks) > most:
        lines.append(f"      … and {len(hunks) - most} more edits (see `amendwatch diff`)")
    return lines


def unconfirmed_lines(unconfirmed: Sequence[UnconfirmedChange]) -> list[str]:
    """The large changes a second fetch did not confirm, with their captures as evidence."""
    lines = []
    for item in unconfirmed:
        lines.append(
            f"{format_time(item.observed_at)}  {item.manual}  {item.chapter_title or item.url}"
            "  [unconfirmed]"
        )
        lines.append(f"    {item.reason}")
        lines.extend(f"    capture sha256:{sha}" for sha in item.captures)
    return lines


def changes_text(
    changes: Sequence[DetectedChange], unconfirmed: Sequence[UnconfirmedChange] = ()
) -> str:
    lines = unconfirmed_lines(unconfirmed)
    if not changes:
        return "\n".join([*lines, "no changes in this period"])
    for change in changes:
        diff = change.diff
        lines.append(
            f"{format_time(change.detected_at)}  {change.manual}  {change.chapter_title}  "
            f"[{change.kind_label}]  #{change.change_id}"
        )
        if change.reverted_to is not None:
            lines.append(f"    {change.reverted_to.text} (v{change.reverted_to.version_id})")
        if diff.kind == "renamed":
            lines.append(f"    renamed from {diff.old_title!r}")
        if diff.stamp_changed:
            lines.append(f"    stamp: {diff.old_stamp or '(none)'} -> {diff.new_stamp or '(none)'}")
        for section in diff.sections:
            lines.append(_section_line(section))
            if not section.cosmetic:
                lines.extend(_hunk_lines(section))
            lines.extend(
                f"      link added: {link.text} <{link.url}>" for link in section.links_added
            )
            lines.extend(
                f"      link removed: {link.text} <{link.url}>" for link in section.links_removed
            )
    return "\n".join(lines)


def edit_draft(app: Amendwatch, draft_id: int, text: str | None, who: str) -> None:
    if text is None:
        current = app.get_draft(draft_id)
        text = click.edit(current.details)
        if text is None:
            raise InputError("the editor closed without saving: nothing changed")
    app.edit_draft(draft_id, text.strip(), who)


def set_draft_status(app: Amendwatch, draft_id: int, status: str, who: str) -> None:
    app.set_draft_status(draft_id, status, who)


def published_entries(entries: Sequence[PublishedEntry], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(entry) for entry in entries], indent=2, ensure_ascii=False)
    lines = []
    for entry in entries:
        lines.append(f"{entry.month}  [{entry.category}]  {entry.chapter}")
        lines.append(f"    {entry.details}")
        lines.extend(f"    cites: {ref}" for ref in entry.sections)
    return "\n".join(lines) if lines else "no entries found"


def history_text(app: Amendwatch, ref: str, section_ref: str | None) -> str:
    if section_ref is not None:
        chapter, events = app.section_timeline(ref, section_ref)
        lines = [f"{chapter.title}: section {section_ref}"]
        for event in events:
            state = "present" if event.present else "absent"
            name = f"{event.number or ''} {event.title}".strip()
            mark = "changed" if event.changed else "same"
            lines.append(
                f"  v{event.version_id}  {format_time(event.valid_from)} .."
                f" {format_time(event.valid_to)}  {state}  {name}  ({mark})"
                f"  lineage {event.lineage_id}"
            )
        return "\n".join(lines)
    chapter, entries = app.history(ref)
    lines = [f"{chapter.title}  <{chapter.url}>"]
    for entry in entries:
        lines.append(
            f"  v{entry.version_id}  from {format_time(entry.valid_from)}"
            f"  to {format_time(entry.valid_to)}  last seen {format_time(entry.last_seen)}"
            f"  {entry.content_hash[:12]}  {entry.summary}"
        )
    return "\n".join(lines)


def _sections_of(as_of: AsOf, section_ref: str | None) -> tuple[Section, ...]:
    assert as_of.version is not None
    sections = as_of.version.chapter.sections
    if section_ref is None:
        return sections
    wanted = section_ref.lower()
    found = tuple(
        s for s in sections if (s.number or "").lower() == wanted or s.title.lower() == wanted
    )
    if not found:
        raise InputError(f"no section {section_ref!r} in that version", "use a number or a title")
    return found


def show_as_of(app: Amendwatch, ref: str, at: datetime, section_ref: str | None, fmt: str) -> str:
    chapter, as_of = app.as_of(ref, at)
    if as_of.version is None:
        if fmt == "json":
            return json.dumps(
                {
                    "chapter": chapter.url,
                    "as_of": at.isoformat(),
                    "version": None,
                    "reason": as_of.reason or "not yet observed",
                }
            )
        return f"{chapter.title}: {as_of.reason or 'not yet observed'} on {format_time(at)}"
    sections = _sections_of(as_of, section_ref)
    if fmt == "json":
        return json.dumps(
            {
                "chapter": chapter.url,
                "title": as_of.version.chapter.title,
                "as_of": at.isoformat(),
                "version": as_of.version.id,
                "content_hash": as_of.version.content_hash,
                "stamp": as_of.version.chapter.stamp,
                "bounds": bounds_text(as_of, chapter.removed_at),
                "sections": [
                    {
                        "number": s.number,
                        "title": s.title,
                        "level": s.level,
                        "path": list(s.path),
                        "text": s.text,
                        "links": [{"text": link.text, "url": link.url} for link in s.links],
                    }
                    for s in sections
                ],
            },
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "html":
        from reports.render import render_version  # noqa: PLC0415

        return render_version(
            as_of.version.chapter, sections, bounds_text(as_of, chapter.removed_at)
        )
    lines = [
        as_of.version.chapter.title,
        f"({bounds_text(as_of, chapter.removed_at)}; version {as_of.version.id})",
        *([f"[{as_of.version.chapter.stamp}]"] if as_of.version.chapter.stamp else []),
        "",
    ]
    for section in sections:
        lines.append(section.label)
        lines.append(section.text)
        lines.append("")
    return "\n".join(lines)


def not_watched_lines(skipped: Sequence[Skipped | Unwatched], indent: str = "  ") -> list[str]:
    """ "not watched: N" and each listed entry that is not watched, with its reason."""
    if not skipped:
        return []
    lines = [f"{indent}not watched: {len(skipped)}"]
    for entry in skipped:
        title = f"{entry.title} " if entry.title else ""
        lines.append(f"{indent}  {title}<{entry.url}>: {entry.reason}")
    return lines


def runs_text(app: Amendwatch, limit: int) -> str:
    rows = app.runs(limit)
    if not rows:
        return "no runs yet"
    unwatched = app.unwatched([r.id for r in rows])
    lines = []
    for r in rows:
        lines.append(
            f"run {r.id}  {r.kind}  {format_time(r.started_at)} .. {format_time(r.finished_at)}"
            f"  {r.status}  checked {r.checked} changed {r.changed}"
            f"{f' ({r.reverted} reverted)' if r.reverted else ''} failed {r.failed}"
            + (f"  errors: {'; '.join(r.errors)}" if r.errors else "")
        )
        lines.extend(not_watched_lines(unwatched.get(r.id, ())))
    return "\n".join(lines)
