"""``amendwatch verify``: prove the record intact, and print the head to publish."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from amendwatch.api import Amendwatch
from amendwatch.clitools import echo, opened
from amendwatch.errors import IntegrityError
from store import chainhead

if TYPE_CHECKING:
    from amendwatch.deepverify import DeepResult
    from amendwatch.timestamping import StampCheck


@click.command()
@click.option(
    "--against",
    "against",
    metavar="COUNT.SEALS:HASH",
    help="A chain head published earlier: prove the database still extends it.",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also re-extract every version from its capture and re-diff every change.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for --deep (default: one per CPU).",
)
@click.option(
    "--tsa-cert",
    "tsa_cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the RFC 3161 time-stamps against this CA (or TSA) certificate, PEM.",
)
@click.pass_context
def verify(
    ctx: click.Context, against: str | None, deep: bool, jobs: int | None, tsa_cert: Path | None
) -> None:
    """Recompute the observation hash chain, every stored body's hash and every sealed row's
    hash; print the chain head. --deep also re-derives what was derived and compares."""
    published = chainhead.parse_head(against) if against else None
    with opened(ctx, readonly=True) as app:
        result = app.verify()
        head = chainhead.chain_head(app.db)
        if result.ok and published is not None:
            try:
                chainhead.check_extends(app.db, published)
            except IntegrityError as exc:
                raise click.ClickException(f"verify FAILED: {exc}") from exc
        deep_result = None
        if deep and result.ok:
            deep_result = run_deep_verify(app, jobs or os.cpu_count() or 1)
        stamps = check_time_stamps(app, tsa_cert) if result.ok else ()
    if not result.ok:
        for problem in result.problems:
            echo(problem, err=True)
        raise click.ClickException(
            f"verify FAILED: {result.problems[0]} (keep this database as it is and investigate)"
        )
    echo(
        f"verify ok: {result.observations} observations, {result.bodies} stored bodies and"
        f" {result.sealed} sealed rows are intact"
    )
    if deep_result is not None:
        report_deep(deep_result)
    report_stamps(stamps)
    if published is not None:
        echo(f"extends the published head {published.text}")
    echo(f"chain head: {head.text}")


def run_deep_verify(app: Amendwatch, jobs: int) -> DeepResult:
    """``deep_verify`` in ``jobs`` processes, with a progress bar on a terminal."""
    from amendwatch.deepverify import deep_verify  # noqa: PLC0415 (heavy: extraction)

    path = app.settings.db_path
    if not sys.stderr.isatty():
        return deep_verify(app.db, path=path, jobs=jobs)
    total = app.db.execute(
        "SELECT (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM changes)"
    ).fetchone()[0]
    with click.progressbar(length=total, label="re-deriving", file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        return deep_verify(app.db, advance, path=path, jobs=jobs)


def report_deep(result: DeepResult) -> None:
    if not result.ok:
        for problem in result.problems:
            echo(problem, err=True)
        more = result.problem_count - len(result.problems)
        if more > 0:
            echo(f"... and {more} more", err=True)
        raise click.ClickException(
            f"verify --deep FAILED: {result.problem_count} derived rows disagree with their"
            f" sources; first: {result.problems[0]} (keep this database as it is and investigate)"
        )
    skipped = f" ({result.skipped} without a capture skipped)" if result.skipped else ""
    echo(
        f"deep ok: {result.versions} versions re-extracted from their captures{skipped},"
        f" {result.changes} changes re-diffed, all as stored"
    )


def check_time_stamps(app: Amendwatch, tsa_cert: Path | None) -> tuple[StampCheck, ...]:
    from amendwatch.timestamping import check_stamps  # noqa: PLC0415 (heavy: cryptography)

    trust = None
    if tsa_cert is not None:
        try:
            trust = tsa_cert.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {tsa_cert}: {exc.strerror}") from exc
    return check_stamps(app.db, trust)


def report_stamps(checks: tuple[StampCheck, ...]) -> None:
    """One line per failing token (then FAILED), else one line for them all."""
    if not checks:
        return
    bad = [check for check in checks if not check.ok]
    for check in bad:
        echo(check.line(), err=True)
    if bad:
        raise click.ClickException(
            f"verify FAILED: {len(bad)} of {len(checks)} RFC 3161 time-stamps do not hold;"
            f" first: {bad[0].line()}"
        )
    newest = max(checks, key=lambda check: check.stamp_id)
    echo(f"time-stamps ok: {len(checks)} tokens; the newest: {newest.line()}")


def register(group: click.Group) -> None:
    group.add_command(verify)
