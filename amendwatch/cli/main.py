"""The command line: a thin click layer over :class:`amendwatch.api.Amendwatch`.

Expected failures (``AmendwatchError``) become one-line ``click.ClickException``s with a
hint of what to do next; nothing here prints a traceback for them.

Start-up: ``amendwatch --version`` and ``--help`` import click and this module only (under
150 ms, docs/benchmarks.md "Start-up"). The commands here import what they need when they
run; the commands of the other ``amendwatch.cli`` modules are listed in
:data:`LAZY_COMMANDS` and their module is imported only when one of them runs. A new command
module adds its commands there (name, ``module:attribute``, the first paragraph of its
help): ``register`` lines would import it on every start.
tests/integration/test_integration_cli_startup.py checks the table against each module's
``register`` and the listing against the real commands' help.
"""

from __future__ import annotations

import gc
import json
import signal
import sys
from datetime import timedelta
from pathlib import Path

import click

from amendwatch import __version__
from amendwatch.cli.tools import (
    AmendwatchGroup,
    LazyCommand,
    echo,
    emit,
    opened,
    select_period,
    settings_of,
    stdout_is_terminal,
)

LAZY_COMMANDS = (
    LazyCommand(
        "manual", "amendwatch.cli.manual:manual", "Add and list the manuals being watched."
    ),
    LazyCommand(
        "config",
        "amendwatch.cli.config:config_group",
        "Check the scheduler's configuration file (amendwatch.toml).",
    ),
    LazyCommand(
        "notify",
        "amendwatch.cli.notify:notify",
        "Alerts through Apprise (the amendwatch[notify] extra): see docs/notify.md.",
    ),
    LazyCommand(
        "verify",
        "amendwatch.cli.verify:verify",
        "Recompute the observation hash chain, every stored body's hash and every sealed row's"
        " hash; print the chain head. --deep also re-derives what was derived and compares.",
    ),
    LazyCommand(
        "show-manual",
        "amendwatch.cli.audit:show_manual",
        "The whole manual NAME as it stood on a date: its chapters and each one's version.",
    ),
    LazyCommand(
        "export",
        "amendwatch.cli.audit:export_group",
        "Export evidence: WARC files of the captures, or an evidence pack.",
    ),
    LazyCommand("import", "amendwatch.cli.audit:import_group", "Import archived captures."),
    LazyCommand(
        "rederive",
        "amendwatch.cli.audit:rederive",
        "Re-run extraction on the stored captures; differences are recorded as derivations.",
    ),
    LazyCommand(
        "compact",
        "amendwatch.cli.audit:compact",
        "Rewrite rows stored before compact storage into it, then shrink the file.",
    ),
    LazyCommand(
        "browse",
        "amendwatch.cli.audit:browse",
        "Open the database in Datasette on 127.0.0.1 (read-only), with auditors' queries.",
    ),
    LazyCommand(
        "draft",
        "amendwatch.cli.drafts:draft",
        "Draft the amendment entries of a period in the house style (and store them, unless"
        " --preview).",
    ),
    LazyCommand(
        "schedule", "amendwatch.cli.delivery:schedule", "The long-running scheduler (APScheduler)."
    ),
    LazyCommand(
        "deliver",
        "amendwatch.cli.delivery:deliver",
        "Deliver a week's report now, as the config's [email] and report_dir say.",
    ),
    LazyCommand(
        "feed",
        "amendwatch.cli.delivery:feed",
        "The Atom feed of manual NAME's latest detected changes (at most 100).",
    ),
    LazyCommand(
        "serve",
        "amendwatch.cli.delivery:serve",
        "The old name of `amendwatch web`: prints the new name, then runs it.",
    ),
    LazyCommand(
        "user", "amendwatch.cli.web:user", "Accounts of the web application (amendwatch web)."
    ),
    LazyCommand(
        "web",
        "amendwatch.cli.web:web",
        "Serve the web application (review, sign-off, point-in-time browsing) until Ctrl-C.",
    ),
)


@click.group(cls=AmendwatchGroup, lazy=LAZY_COMMANDS)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite database (default ./amendwatch.db or $AMENDWATCH_DB).",
)
@click.version_option(__version__, prog_name="amendwatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Watch guidance manuals, keep every version, diff by section, draft amendments."""
    # the settings (--db and the environment) are read when a command first needs them:
    # clitools.settings_of


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
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="amendwatch.toml: apply its [fetch], then time-stamp ([timestamp]) and alert ([notify]).",
)
@click.pass_context
def snapshot(
    ctx: click.Context,
    names: tuple[str, ...],
    at: str | None,
    quiet: bool,
    verbose: bool,
    wait: float,
    config_path: Path | None,
) -> None:
    """Discover, fetch, extract, store and diff the chapters of the manuals (all by default)."""
    from amendwatch import views  # noqa: PLC0415
    from amendwatch.afterrun import after_run  # noqa: PLC0415
    from amendwatch.config import fetch_settings, load_schedule_config  # noqa: PLC0415
    from amendwatch.snapshotrun import incomplete  # noqa: PLC0415
    from scraper.session import stop_on_signals  # noqa: PLC0415

    when = None
    if at:  # the reports' dataclasses load only for --at
        from reports.periods import parse_when  # noqa: PLC0415

        when = parse_when(at)
    config = load_schedule_config(config_path) if config_path else None
    settings = fetch_settings(settings_of(ctx), config) if config else None
    with stop_on_signals() as stopping, opened(ctx, settings) as app:
        report = views.run_snapshot(
            app, names, when, quiet=quiet, verbose=verbose, wait=wait, stop=stopping
        )
        after = after_run(app, config, report.run_id) if config else None
    echo(views.snapshot_summary(report))
    for line in after.lines if after else ():
        echo(line)
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
    """List detected changes in the order they were detected, section by section."""
    from amendwatch import views  # noqa: PLC0415
    from amendwatch.api import utc_now  # noqa: PLC0415
    from reports.periods import parse_range  # noqa: PLC0415
    from reports.render import changes_payload  # noqa: PLC0415

    period = parse_range(since or "1970-01-01", until or utc_now().date().isoformat())
    with opened(ctx, readonly=True) as app:
        found = sorted(app.changes(period, manual_name), key=lambda c: (c.detected_at, c.change_id))
        pending = sorted(app.unconfirmed(period, manual_name), key=lambda u: u.observed_at)
        if fmt == "json":  # with each change's review state (the web app's review page)
            from amendwatch.reviews import add_review_state  # noqa: PLC0415

            echo(json.dumps(add_review_state(changes_payload(found, pending), app), indent=2))
            return
    echo(views.changes_text(found, pending))


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
    from reports.render import render_change  # noqa: PLC0415

    with opened(ctx, readonly=True) as app:
        change = app.diff(chapter, from_ref, to_ref)
    emit(ctx, render_change(change, fmt), output)


# report ------------------------------------------------------------------------------
@cli.command()
@click.option("--week", help="An ISO week, YYYY-Www (default: the last 7 days).")
@click.option("--since", help="Start date of a custom range.")
@click.option("--until", help="End date of a custom range (inclusive).")
@click.option("--manual", "manual_name", help="Only this manual.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    help="Default: md on a terminal, html to a pipe, a file or -o.",
)
@click.option("-o", "--output", help="Write to this file.")
@click.pass_context
def report(
    ctx: click.Context,
    week: str | None,
    since: str | None,
    until: str | None,
    manual_name: str | None,
    fmt: str | None,
    output: str | None,
) -> None:
    """The weekly compliance digest: what changed, with redlines, and what was not checked."""
    from amendwatch.api import utc_now  # noqa: PLC0415

    if not (week or since or until):
        now = utc_now()
        since = (now - timedelta(days=6)).date().isoformat()
        until = now.date().isoformat()
    if fmt is None:  # Markdown reads on a terminal; HTML for files and pipes, as before
        fmt = "md" if output is None and stdout_is_terminal() else "html"
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
    from amendwatch import views  # noqa: PLC0415

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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def history(ctx: click.Context, chapter: str, section_ref: str | None, fmt: str) -> None:
    """Each version of CHAPTER with when it was seen, or one section's timeline."""
    from amendwatch import jsonout, views  # noqa: PLC0415

    with opened(ctx, readonly=True) as app:
        if fmt == "text":
            text = views.history_text(app, chapter, section_ref)
        elif section_ref is not None:
            found, events = app.section_timeline(chapter, section_ref)
            text = jsonout.dumps(jsonout.timeline_json(found, section_ref, events))
        else:
            found, entries = app.history(chapter)
            text = jsonout.dumps(jsonout.history_json(found, entries))
    echo(text)


@cli.command()
@click.argument("chapter")
@click.option("--as-of", "as_of", required=True, help="A date or ISO time.")
@click.option("--section", "section_ref", help="Only this section (number or title).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text")
@click.pass_context
def show(ctx: click.Context, chapter: str, as_of: str, section_ref: str | None, fmt: str) -> None:
    """The text of CHAPTER as it stood on a date, with honest bounds."""
    from amendwatch import views  # noqa: PLC0415
    from reports.periods import parse_when  # noqa: PLC0415

    with opened(ctx, readonly=True) as app:
        echo(views.show_as_of(app, chapter, parse_when(as_of), section_ref, fmt))


# runs ----------------------------------------------------------------------------------
@cli.command()
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """What each run checked, changed and failed, and the listed entries it did not watch."""
    from amendwatch import jsonout, views  # noqa: PLC0415

    with opened(ctx) as app:
        if fmt == "text":
            text = views.runs_text(app, limit)
        else:
            rows = app.runs(limit)
            ids = [row.id for row in rows]
            failed = jsonout.not_checked_in_runs(app.db, ids)
            text = jsonout.dumps(jsonout.runs_json(rows, app.unwatched(ids), failed))
    echo(text)


# demo --------------------------------------------------------------------------------
@cli.command()
@click.option("--output", default="demo-output", show_default=True, help="Folder for the outputs.")
@click.option("--web", is_flag=True, help="Then serve the web application until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.pass_context
def demo(ctx: click.Context, output: str, web: bool, port: int) -> None:
    """Serve the bundled manual on 127.0.0.1 in three editions, snapshot each, draft and report."""
    if web:
        from amendwatch.demo.web import demo_web  # noqa: PLC0415

        demo_web(settings_of(ctx), Path(output), echo, port=port)
        return
    from amendwatch.demo.runner import run_demo  # noqa: PLC0415

    summary = run_demo(settings_of(ctx), Path(output))
    echo(summary)


def main() -> None:
    """The ``amendwatch`` command. When it ends (click ends it with ``SystemExit``) every
    object still alive is frozen (``gc.freeze``): the interpreter's last collection at exit
    then skips them, about 20 ms of every command after a snapshot; the process frees them
    as it ends."""
    try:
        cli(prog_name="amendwatch")
    finally:
        gc.freeze()
