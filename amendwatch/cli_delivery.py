"""Delivery commands: the scheduler, the weekly report by email or folder, Atom feeds, serve."""

from __future__ import annotations

from pathlib import Path

import click

from amendwatch.api import utc_now
from amendwatch.clitools import echo, emit, opened, settings_of
from amendwatch.config import fetch_settings, load_schedule_config
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
@click.option("--verbose", "-v", is_flag=True, help="Log every chapter checked.")
@click.pass_context
def schedule_run(ctx: click.Context, config_path: str, quiet: bool, verbose: bool) -> None:
    """Run snapshots and reports on the schedule of the config file until stopped."""
    from amendwatch import scheduler  # noqa: PLC0415 - APScheduler loads only when used

    verbosity = -1 if quiet else (1 if verbose else 0)
    scheduler.run_forever(settings_of(ctx), Path(config_path), verbosity)


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

    with opened(ctx, readonly=True) as app:
        text = delivery.feed_xml(app, name, utc_now())
    emit(ctx, text, output)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="Another Host name clients may use (besides 127.0.0.1, localhost and --host).",
)
@click.option(
    "--max-connections",
    default=16,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Connections served at once; more are answered 503.",
)
@click.option(
    "--idle-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds a connection may stay silent before it is closed.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    max_connections: int,
    idle_timeout: float,
) -> None:
    """Serve /feeds/<manual>.atom and /reports/latest.html over HTTP until interrupted."""
    from amendwatch.serve import make_server  # noqa: PLC0415

    try:
        server = make_server(
            settings_of(ctx),
            host,
            port,
            allowed_hosts=allowed_hosts,
            max_connections=max_connections,
            idle_timeout=idle_timeout,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}", "choose another --port"
        ) from exc
    echo(f"serving on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    group.add_command(schedule)
    group.add_command(deliver)
    group.add_command(feed)
    group.add_command(serve)
