"""``amendwatch notify``: check the ``[notify]`` Apprise URLs of the config file.

Only click and the standard library are imported here: the config reader and Apprise are
imported when the command runs, so ``amendwatch --help`` stays fast.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click


@click.group()
def notify() -> None:
    """Alerts through Apprise (the amendwatch[notify] extra): see docs/notify.md."""


@notify.command("test")
@click.option(
    "--config", "config_path", default="amendwatch.toml", show_default=True, help="TOML file."
)
@click.pass_context
def notify_test(ctx: click.Context, config_path: str) -> None:
    """Send a test message to every [notify] URL; one line per URL (secrets masked), exit 1
    when any was not delivered."""
    from amendwatch.cli.tools import echo  # noqa: PLC0415 (kept out of --help)
    from amendwatch.config import load_schedule_config  # noqa: PLC0415
    from amendwatch.errors import ConfigError  # noqa: PLC0415
    from amendwatch.notify import send_test  # noqa: PLC0415

    config = load_schedule_config(Path(config_path))
    if config.notify is None or not config.notify.urls:
        raise ConfigError(
            f"{config_path} has no [notify] urls",
            'add [notify] urls = ["slack://…", "json://…"]; see docs/notify.md',
        )
    answers = send_test(config.notify.urls, datetime.now(UTC))
    for answer in answers:
        if answer.delivered:
            echo(f"delivered  {answer.url}")
        else:
            echo(f"FAILED     {answer.url}: {answer.reason}")
    if not all(answer.delivered for answer in answers):
        ctx.exit(1)


def register(group: click.Group) -> None:
    group.add_command(notify)
