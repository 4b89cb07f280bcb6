"""`amendwatch demo`: the bundled manual, end to end, on loopback.

Serves the fictional manual in its editions a week apart, snapshots each (``--at`` the
edition's date), then drafts the amendment entries and writes the weekly reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amendwatch.api import Amendwatch, RunReport
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from amendwatch.outputs import write_output
from reports import render
from reports.models import AmendmentEntry, Period
from reports.periods import parse_month, parse_range
from store.network import ManualNetwork

DISPLAY_NAME = "Northmoor Safeguarding Children Partnership Procedures"
MANUAL = "northmoor"
FIRST_EDITION = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class EditionResult:
    edition: int
    at: datetime
    runs: tuple[RunReport, ...]
    period: Period
    entries: tuple[AmendmentEntry, ...]
    files: tuple[Path, ...]


def fresh_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def snapshot_times(editions: int) -> list[tuple[int, datetime]]:
    """Each edition a week apart; the last is checked again the next day, so that a removed
    chapter is confirmed gone on two consecutive runs."""
    times = [(n, FIRST_EDITION + (n - 1) * WEEK) for n in range(1, editions + 1)]
    times.append((editions, times[-1][1] + timedelta(days=1)))
    return times


def write_outputs(
    app: Amendwatch, output: Path, label: str, period: Period
) -> tuple[tuple[AmendmentEntry, ...], tuple[Path, ...]]:
    entries = app.draft(period, MANUAL)
    files = []
    for fmt in ("html", "md"):
        draft_file = output / f"drafts-{label}.{fmt}"
        mode = app.settings.file_mode
        drafted = render.render_drafts(entries, period, fmt, manuals=app.manual_info())
        write_output(draft_file, drafted, mode)
        report_file = output / f"report-{label}.{fmt}"
        write_output(report_file, app.report(period, MANUAL, fmt), mode)
        files += [draft_file, report_file]
    return entries, tuple(files)


def run_demo(settings: Settings, output: Path) -> str:
    output.mkdir(parents=True, exist_ok=True)
    db_path = output / "amendwatch.db"
    fresh_database(db_path)
    settings = replace(settings, db_path=db_path)
    results: list[EditionResult] = []
    with DemoServer() as server:
        now = FIRST_EDITION
        app = Amendwatch.open(settings, clock=lambda: now)
        try:
            app.add_manual(
                MANUAL,
                f"{server.base_url}/",
                amendments_url=f"{server.base_url}/amendments.html",
                network=ManualNetwork(display_name=DISPLAY_NAME),
            )
            runs: dict[int, list[RunReport]] = {}
            for edition, at in snapshot_times(server.editions):
                now = at
                server.set_edition(edition)
                runs.setdefault(edition, []).append(app.snapshot([MANUAL], at=at))
            now += timedelta(hours=1)
            for edition in range(2, server.editions + 1):
                at = FIRST_EDITION + (edition - 1) * WEEK
                results.append(_edition_outputs(app, output, edition, at, runs[edition]))
            month = parse_month(FIRST_EDITION.strftime("%Y-%m"))
            now = FIRST_EDITION + 4 * WEEK
            month_entries, month_files = write_outputs(
                app, output, month.start.strftime("%Y-%m"), month
            )
        finally:
            app.close()
    return summarise(results, month_entries, month_files, db_path)


def _edition_outputs(
    app: Amendwatch, output: Path, edition: int, at: datetime, runs: list[RunReport]
) -> EditionResult:
    week_end = at + timedelta(days=6)
    period = parse_range(at.date().isoformat(), week_end.date().isoformat())
    entries, files = write_outputs(app, output, f"edition-{edition}", period)
    return EditionResult(edition, at, tuple(runs), period, entries, files)


def summarise(
    results: list[EditionResult],
    month_entries: tuple[AmendmentEntry, ...],
    month_files: tuple[Path, ...],
    db_path: Path,
) -> str:
    lines = []
    for result in results:
        changed = sum(r.changed for run in result.runs for r in run.results)
        lines.append(f"Edition {result.edition} ({result.at.date()}): {changed} chapters changed")
        for entry in result.entries:
            lines.append(f"  [{entry.category}] {entry.chapter_title}: {entry.details}")
    lines.append(f"Month drafts: {len(month_entries)} entries")
    lines.append("Files:")
    for result in results:
        lines.extend(f"  {path}" for path in result.files)
    lines.extend(f"  {path}" for path in month_files)
    lines.append(f"  {db_path}")
    lines.append("Open it in the web application: amendwatch demo --web")
    return "\n".join(lines)
