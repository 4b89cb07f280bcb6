"""Shared pieces of the command-line modules: the error-translating group, opening the API,
writing output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from amendwatch.api import Amendwatch, utc_now
from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError, InputError
from reports.models import Period
from reports.periods import month_of, parse_month, parse_range, parse_week


class AmendwatchGroup(click.Group):
    """A click group that turns expected failures into one-line errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AmendwatchError as exc:
            raise click.ClickException(str(exc)) from exc


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


@contextmanager
def opened(ctx: click.Context) -> Iterator[Amendwatch]:
    app = Amendwatch.open(settings_of(ctx))
    try:
        yield app
    finally:
        app.close()


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to the ``-o`` file, or to standard output."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot write {output}: {exc.strerror}", "choose another -o path"
            ) from exc
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


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
