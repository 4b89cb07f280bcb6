"""Shared pieces of the command-line modules: the error-translating group, opening the API,
writing output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError, InputError


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
