"""The command line: a thin click layer over :class:`amendwatch.api.Amendwatch`.

Expected failures (``AmendwatchError``) become one-line ``click.ClickException``s with a
hint of what to do next; nothing here prints a traceback for them.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from amendwatch import cli_audit, cli_delivery, cli_drafts, cli_manual, cli_verify, views
from amendwatch.api import utc_now
from amendwatch.clitools import (
    AmendwatchGroup,
    echo,
    emit,
    opened,
    select_period,
    settings_of,
)
from amendwatch.config import load_settings
from amendwatch.snapshotrun import incomplete
from reports import render
from reports.periods import parse_range, parse_when
from scraper.session import stop_on_signals

F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=AmendwatchGroup)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite database (default ./amendwatch.db or $AMENDWATCH_DB).",
)
@click.version_option(package_name="amendwatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Watch guidance manuals, keep every version, diff by section, draft amendments."""
    ctx.obj = load_settings(db)


# snapshot ----------------------------------------------------------------------------
@cli.command()
@click.argument("names", nargs=-1)
@click.option("--at", "at", help="Record the observations at this ISO time (replays, backfills).")
@click.option("--quiet", is_flag=True, help="Print only the summary, no progress bar.")
@click.option("--verbose", is_flag=True, help="Print every chapter's outcome as it is checked.")
@click.option(
    "--wait",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for another run's lock on the database before giving up.",
)
@click.pass_context
def snapshot(
    ctx: click.Context,
    names: tuple[str, ...],
    at: str | None,
    quiet: bool,
    verbose: bool,
    wait: float,
) -> None:
    """Discover, fetch, extract, store and diff the chapters of the manuals (all by default)."""
    when = parse_when(at) if at else None
    with stop_on_signals() as stopping, opened(ctx) as app:
        report = views.run_snapshot(
            app, names, when, quiet=quiet, verbose=verbose, wait=wait, stop=stopping
        )
    echo(views.snapshot_summary(report))
    if stopping.signal is not None:  # SIGINT/SIGTERM: the fetch in flight was stopped
        name = signal.Signals(stopping.signal).name
        echo(f"stopped by {name}: the chapters not checked wait for the next run", err=True)
        sys.exit(128 + stopping.signal)
    if report.errors:
        sys.exit(1)
    if incomplete(report):  # the run completed, but something was not checked
        sys.exit(3)


# changes / diff ----------------------------------------------------------------------
@cli.command()
@click.option("--since", help="From this date (inclusive), e.g. 2026-11-01.")
@click.option("--until", help="Until this date (inclusive).")
@click.option("--manual", "manual_name", help="Only this manual.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def changes(
    ctx: click.Context, since: str | None, until: str | None, manual_name: str | None, fmt: str
) -> None:
    """List detected changes, chapter by chapter and section by section."""
    period = parse_range(since or "1970-01-01", until or utc_now().date().isoformat())
    with opened(ctx, readonly=True) as app:
        if fmt == "json":
            echo(json.dumps(app.changes_json(period, manual_name), indent=2))
        else:
            found = app.changes(period, manual_name)
            echo(views.changes_text(found, app.unconfirmed(period, manual_name)))


@cli.command()
@click.argument("chapter")
@click.option("--from", "from_ref", help="A date or a version id (default: the previous version).")
@click.option("--to", "to_ref", help="A date or a version id (default: the latest version).")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text")
@click.option("-o", "--output", help="Write to this file.")
@click.pass_context
def diff(
    ctx: click.Context,
    chapter: str,
    from_ref: str | None,
    to_ref: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Show what changed in CHAPTER (a URL or part of its title) between two versions."""
    with opened(ctx, readonly=True) as app:
        change = app.diff(chapter, from_ref, to_ref)
    emit(ctx, render.render_change(change, fmt), output)


# report ------------------------------------------------------------------------------
@cli.command()
@click.option("--week", help="An ISO week, YYYY-Www (default: the last 7 days).")
@click.option("--since", help="Start date of a custom range.")
@click.option("--until", help="End date of a custom range (inclusive).")
@click.option("--manual", "manual_name", help="Only this manual.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="html")
@click.option("-o", "--output", help="Write to this file.")
@click.pass_context
def report(
    ctx: click.Context,
    week: str | None,
    since: str | None,
    until: str | None,
    manual_name: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """The weekly compliance digest: what changed, with redlines, and what was not checked."""
    if not (week or since or until):
        now = utc_now()
        since = (now - timedelta(days=6)).date().isoformat()
        until = now.date().isoformat()
    period = select_period(ctx, month=None, week=week, since=since, until=until)
    with opened(ctx, readonly=True) as app:
        text = app.report(period, manual_name, fmt)
    emit(ctx, text, output)


# the publisher's Amendments page -------------------------------------------------------
@cli.command()
@click.argument("name_or_url")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--follow-archives",
    is_flag=True,
    help='Also read the linked year archives ("2017 Amendments").',
)
@click.pass_context
def amendments(ctx: click.Context, name_or_url: str, fmt: str, follow_archives: bool) -> None:
    """Fetch and parse a publisher's own Amendments page (a manual NAME or a URL).

    Exit status 3 when the page has no entries or a linked archive could not be fetched."""
    with opened(ctx) as app:
        entries, failed = app.amendments(name_or_url, follow_archives=follow_archives)
    if not entries:  # one line (JSON keeps its shape: an empty list, the line on stderr)
        message = f"no amendment entries found on {name_or_url}"
        echo("[]" if fmt == "json" else message)
        if fmt == "json":
            echo(message, err=True)
        ctx.exit(3)
    echo(views.published_entries(entries, fmt))
    for url in failed:
        echo(f"archive not fetched: {url}", err=True)
    if failed:
        ctx.exit(3)


# history / show ------------------------------------------------------------------------
@cli.command()
@click.argument("chapter")
@click.option("--section", "section_ref", help="Follow one section: a number, title or lineage id.")
@click.pass_context
def history(ctx: click.Context, chapter: str, section_ref: str | None) -> None:
    """Each version of CHAPTER with when it was seen, or one section's timeline."""
    with opened(ctx, readonly=True) as app:
        echo(views.history_text(app, chapter, section_ref))


@cli.command()
@click.argument("chapter")
@click.option("--as-of", "as_of", required=True, help="A date or ISO time.")
@click.option("--section", "section_ref", help="Only this section (number or title).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text")
@click.pass_context
def show(ctx: click.Context, chapter: str, as_of: str, section_ref: str | None, fmt: str) -> None:
    """The text of CHAPTER as it stood on a date, with honest bounds."""
    with opened(ctx, readonly=True) as app:
        echo(views.show_as_of(app, chapter, parse_when(as_of), section_ref, fmt))


# verify / runs -------------------------------------------------------------------------
@cli.command()
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """What each run checked, changed and failed, and the listed entries it did not watch."""
    with opened(ctx) as app:
        echo(views.runs_json(app, limit) if fmt == "json" else views.runs_text(app, limit))


# demo --------------------------------------------------------------------------------
@cli.command()
@click.option("--output", default="demo-output", show_default=True, help="Folder for the outputs.")
@click.pass_context
def demo(ctx: click.Context, output: str) -> None:
    """Serve the bundled manual on 127.0.0.1 in three editions, snapshot each, draft and report."""
    from amendwatch.demo.runner import run_demo  # noqa: PLC0415

    summary = run_demo(settings_of(ctx), Path(output))
    echo(summary)


cli_manual.register(cli)
cli_verify.register(cli)
cli_audit.register(cli)
cli_drafts.register(cli)
cli_delivery.register(cli)


def main() -> None:
    cli(prog_name="amendwatch")
