"""Delivery commands: the scheduler, the weekly report by email or folder, Atom feeds, serve.
What they run on is imported when a command runs (so that ``--help`` stays fast)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from amendwatch.cli.tools import echo, emit, opened, settings_of
from amendwatch.cli.web import web_options
from amendwatch.errors import ConfigError

CONFIG_OPTION = click.option(
    "--config", "config_path", default="amendwatch.toml", show_default=True, help="TOML file."
)


# schedule ------------------------------------------------------------------------------
@click.group()
def schedule() -> None:
    """The long-running scheduler (APScheduler)."""


@schedule.command("run")
@CONFIG_OPTION
@click.option("--quiet", "-q", is_flag=True, help="Log warnings and errors only.")
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="-v: log every chapter checked; -vv: also every HTTP request (httpx, httpcore).",
)
@click.pass_context
def schedule_run(ctx: click.Context, config_path: str, quiet: bool, verbose: int) -> None:
    """Run snapshots and reports on the schedule of the config file until stopped."""
    from amendwatch import scheduler  # noqa: PLC0415 - APScheduler loads only when used

    verbosity = -1 if quiet else min(verbose, 2)
    quiet_http_logs(verbosity)
    scheduler.run_forever(settings_of(ctx), Path(config_path), verbosity)


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def quiet_http_logs(verbosity: int) -> None:
    """httpx's and httpcore's loggers show only warnings unless ``verbosity`` is 2 (-vv):
    httpcore alone writes a dozen debug lines per request, httpx one line. httpcore logs on
    child loggers (``httpcore.http11``...), which inherit its level; httpx on its own, whose
    level :func:`amendwatch.scheduler.configure_logging` sets, hence a filter there."""
    logging.getLogger("httpcore").setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.removeFilter(_warnings_only)
    if verbosity < 2:
        httpx_logger.addFilter(_warnings_only)


@schedule.command("list")
@CONFIG_OPTION
@click.pass_context
def schedule_list(ctx: click.Context, config_path: str) -> None:
    """Show every scheduled job and its next run."""
    from amendwatch import scheduler  # noqa: PLC0415

    for line in scheduler.describe_jobs(settings_of(ctx), Path(config_path)):
        echo(line)


# deliver -------------------------------------------------------------------------------
@click.command()
@CONFIG_OPTION
@click.option("--week", help="An ISO week, YYYY-Www (default: the week just ended).")
@click.pass_context
def deliver(ctx: click.Context, config_path: str, week: str | None) -> None:
    """Deliver a week's report now, as the config's [email] and report_dir say."""
    from amendwatch import delivery  # noqa: PLC0415
    from amendwatch.api import utc_now  # noqa: PLC0415
    from amendwatch.config import fetch_settings, load_schedule_config  # noqa: PLC0415

    config = load_schedule_config(Path(config_path))
    if config.report_dir is None and config.email is None:
        raise ConfigError(
            f"{config_path} has neither report_dir nor [email]", "add one (see docs/production.md)"
        )
    settings = fetch_settings(settings_of(ctx), config)  # with [output] file_mode
    with opened(ctx, settings) as app:
        done = delivery.deliver_week(
            app, config, settings, week or delivery.previous_week(utc_now())
        )
    for line in done:
        echo(line)


# feeds -----------------------------------------------------------------------------------
@click.command()
@click.argument("name")
@click.option("-o", "--output", help="Write to this file.")
@click.pass_context
def feed(ctx: click.Context, name: str, output: str | None) -> None:
    """The Atom feed of manual NAME's latest detected changes (at most 100)."""
    from amendwatch import delivery  # noqa: PLC0415
    from amendwatch.api import utc_now  # noqa: PLC0415

    with opened(ctx, readonly=True) as app:
        text = delivery.feed_xml(app, name, utc_now())
    emit(ctx, text, output)


@click.command()
@web_options
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    max_connections: int,
    idle_timeout: float,
) -> None:
    """The old name of `amendwatch web`: prints the new name, then runs it."""
    from amendwatch.cli.web import run_web  # noqa: PLC0415

    echo("serve is now `amendwatch web`", err=True)
    run_web(
        ctx, host=host, port=port, allowed_hosts=allowed_hosts,
        max_connections=max_connections, idle_timeout=idle_timeout,
    )  # fmt: skip


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    group.add_command(schedule)
    group.add_command(deliver)
    group.add_command(feed)
    group.add_command(serve)
