"""Delivery commands (Atom feed, serve, email)."""

from __future__ import annotations

from pathlib import Path

import click

from amendwatch.clitools import settings_of


# schedule ------------------------------------------------------------------------------
@click.group()
def schedule() -> None:
    """The long-running scheduler (APScheduler)."""


@schedule.command("run")
@click.option("--config", "config_path", default="amendwatch.toml", show_default=True)
@click.pass_context
def schedule_run(ctx: click.Context, config_path: str) -> None:
    """Run snapshots and reports on the schedule of the config file until stopped."""
    from amendwatch import scheduler  # noqa: PLC0415 - APScheduler loads only when used

    scheduler.run_forever(settings_of(ctx), Path(config_path))


@schedule.command("list")
@click.option("--config", "config_path", default="amendwatch.toml", show_default=True)
@click.pass_context
def schedule_list(ctx: click.Context, config_path: str) -> None:
    """Show every scheduled job and its next run."""
    from amendwatch import scheduler  # noqa: PLC0415

    for line in scheduler.describe_jobs(settings_of(ctx), Path(config_path)):
        click.echo(line)


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    group.add_command(schedule)
