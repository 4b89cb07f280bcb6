"""Shared pieces of the command-line modules: the error-translating group, opening the API,
writing output.

Everything the commands print goes through :func:`echo` (and the scheduler's log lines through
:class:`SafeFormatter`): page titles and text may hold ANSI/OSC escape sequences, and
:func:`terminal_safe` shows every control character as ``\\uXXXX`` instead of sending it to
the terminal. Files written with ``-o`` go through :func:`amendwatch.outputs.write_output`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from amendwatch.api import Amendwatch, utc_now
from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError, InputError
from amendwatch.outputs import disk_full, is_disk_full, write_output
from reports.models import Period
from reports.periods import month_of, parse_month, parse_range, parse_week

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


class AmendwatchGroup(click.Group):
    """A click group that turns expected failures, and a full disk, into one-line errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AmendwatchError as exc:
            raise click.ClickException(terminal_safe(str(exc))) from exc
        except (OSError, sqlite3.OperationalError) as exc:
            if not is_disk_full(exc):
                raise
            raise click.ClickException(str(disk_full("the database or an output file"))) from exc


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


@contextmanager
def opened(
    ctx: click.Context, settings: Settings | None = None, *, readonly: bool = False
) -> Iterator[Amendwatch]:
    """The API over the ``--db`` database. ``readonly`` (the read commands): an existing
    database, opened so that nothing is created or written (see ``store.db``)."""
    app = Amendwatch.open(settings or settings_of(ctx), readonly=readonly)
    try:
        yield app
    finally:
        app.close()


def emit(ctx: click.Context, text: str, output: str | None) -> None:
    """Write ``text`` to the ``-o`` file (whole or not at all, with the configured file
    mode), or to standard output."""
    if output:
        write_output(output, text, settings_of(ctx).file_mode)
        echo(f"wrote {output}", err=True)
    else:
        echo(text)


def select_period(
    ctx: click.Context, *, month: str | None, week: str | None, since: str | None, until: str | None
) -> Period:
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
