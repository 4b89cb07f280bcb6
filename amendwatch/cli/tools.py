"""Shared pieces of the command-line modules: the error-translating group, opening the API,
writing output.

Everything the commands print goes through :func:`echo` (and the scheduler's log lines through
:class:`SafeFormatter`): page titles and text may hold ANSI/OSC escape sequences, and
:func:`terminal_safe` shows every control character as ``\\uXXXX`` instead of sending it to
the terminal. Files written with ``-o`` go through :func:`amendwatch.outputs.write_output`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from gettext import gettext
from typing import TYPE_CHECKING, Any

import click

from amendwatch.errors import AmendwatchError, ConfigError, InputError

if TYPE_CHECKING:  # imported where used: `--help` and `--version` load none of them
    from amendwatch.api import Amendwatch
    from amendwatch.config import Settings
    from reports.models import Period

# C0 controls but tab and newline, DEL, C1 controls (8-bit CSI/OSC) and bidirectional overrides
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character (newline and tab excepted) shown as ``\\uXXXX``:
    an escape sequence in a page title cannot recolour, retitle or rewrite the terminal. The
    form is a valid JSON escape, so JSON output stays valid JSON."""
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def echo(message: str = "", *, err: bool = False) -> None:
    """``click.echo`` of :func:`terminal_safe` text: every command prints through this."""
    click.echo(terminal_safe(message), err=err)


class SafeFormatter(logging.Formatter):
    """Log lines (the scheduler's, on a terminal or in a journal) without control characters."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


@dataclass(frozen=True)
class LazyCommand:
    """A command of the top-level group whose module is imported only when the command is
    run or its own help asked for: ``amendwatch --help`` lists it from ``summary``, the
    first paragraph of its help (a test checks the listing against the real commands)."""

    name: str
    target: str  # "amendwatch.cli.drafts:draft": the module and the click command in it
    summary: str

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class AmendwatchGroup(click.Group):
    """The top-level group: commands of other modules loaded lazily (``lazy``), and
    expected failures, and a full disk, turned into one-line errors."""

    def __init__(self, *args: Any, lazy: Sequence[LazyCommand] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = {command.name: command for command in lazy}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, but a lazy command not loaded yet by its summary."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:  # a lazy one: the same short help, from its first paragraph
                command = click.Command(name, help=self.lazy[name].summary)
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section(gettext("Commands")):  # as click words it
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AmendwatchError as exc:
            raise click.ClickException(terminal_safe(str(exc))) from exc
        except (OSError, sqlite3.OperationalError) as exc:
            from amendwatch.outputs import disk_full, is_disk_full  # noqa: PLC0415

            if not is_disk_full(exc):
                raise
            raise click.ClickException(str(disk_full("the database or an output file"))) from exc


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this invocation (``--db`` and the environment), read on first use:
    ``--help`` of a command reads no configuration."""
    root = ctx.find_root()
    if root.obj is None:
        from amendwatch.config import load_settings  # noqa: PLC0415

        root.obj = load_settings(root.params.get("db"))
    settings: Settings = root.obj
    return settings


@contextmanager
def opened(
    ctx: click.Context, settings: Settings | None = None, *, readonly: bool = False
) -> Iterator[Amendwatch]:
    """The API over the ``--db`` database. ``readonly`` (the read commands): an existing
    database, opened so that nothing is created or written (see ``store.db``)."""
    from amendwatch.api import Amendwatch  # noqa: PLC0415

    app = Amendwatch.open(settings or settings_of(ctx), readonly=readonly)
    try:
        yield app
    finally:
        app.close()


def emit(ctx: click.Context, text: str, output: str | None) -> None:
    """Write ``text`` to the ``-o`` file (whole or not at all, with the configured file
    mode), or to standard output."""
    if output:
        from amendwatch.outputs import write_output  # noqa: PLC0415

        write_output(output, text, settings_of(ctx).file_mode)
        echo(f"wrote {output}", err=True)
    else:
        echo(text)


def select_period(
    ctx: click.Context, *, month: str | None, week: str | None, since: str | None, until: str | None
) -> Period:
    from amendwatch.api import utc_now  # noqa: PLC0415
    from reports.periods import month_of, parse_month, parse_range, parse_week  # noqa: PLC0415

    if month and (since or until):
        raise InputError("give --period or --since/--until, not both")
    if month:
        return parse_month(month)
    if week:
        return parse_week(week)
    if since or until:
        now = utc_now()
        return parse_range(since or "1970-01-01", until or now.date().isoformat())
    return month_of(utc_now())


def stdout_is_terminal() -> bool:
    """Standard output is a terminal (not a pipe, a file or click's test runner)."""
    return sys.stdout.isatty()


PORT = click.IntRange(1, 65535)  # a --port: a bad one is click's usage error, exit 2


def check_port_free(host: str, port: int) -> None:
    """A one-line error now when ``host:port`` cannot be listened on (in use, or privileged),
    rather than the server's traceback later."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:  # its strerror names the address again: the errno's text alone
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"cannot listen on {host}:{port}: {reason}", "choose another --port"
        ) from exc
