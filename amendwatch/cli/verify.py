"""``amendwatch verify``: prove the record intact, and print the head to publish."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from amendwatch.cli.tools import echo, opened
from amendwatch.errors import IntegrityError

if TYPE_CHECKING:
    from amendwatch.api import Amendwatch
    from amendwatch.deepverify import DeepResult
    from amendwatch.timestamping import StampCheck
    from store.chainhead import ChainHead
    from store.models import VerifyResult


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def verify(
    ctx: click.Context,
    against: str | None,
    deep: bool,
    jobs: int | None,
    tsa_cert: Path | None,
    fmt: str,
) -> None:
    """Recompute the observation hash chain, every stored body's hash and every sealed row's
    hash; print the chain head. --deep also re-derives what was derived and compares."""
    from store import chainhead  # noqa: PLC0415 (sqlite-utils: loaded when run)

    published = chainhead.parse_head(against) if against else None
    with opened(ctx, readonly=True) as app:
        result = app.verify()
        head = chainhead.chain_head(app.db)
        refused = extends_problem(app, published) if result.ok and published else None
        deep_result = None
        if deep and result.ok and refused is None:
            deep_result = run_deep_verify(app, jobs or os.cpu_count() or 1, quiet=fmt == "json")
        stamps = check_time_stamps(app, tsa_cert) if result.ok else ()
    if fmt == "json":
        emit_json(result, head, published, refused, deep_result, stamps)
        return
    if not result.ok:
        for problem in result.problems:
            echo(problem, err=True)
        raise click.ClickException(
            f"verify FAILED: {result.problems[0]} (keep this database as it is and investigate)"
        )
    if refused is not None:
        raise click.ClickException(f"verify FAILED: {refused}")
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


def extends_problem(app: Amendwatch, published: ChainHead) -> str | None:
    """Why the database does not extend ``published`` (None when it does)."""
    from store import chainhead  # noqa: PLC0415

    try:
        chainhead.check_extends(app.db, published)
    except IntegrityError as exc:
        return str(exc)
    return None


def emit_json(
    result: VerifyResult,
    head: ChainHead,
    published: ChainHead | None,
    refused: str | None,
    deep: DeepResult | None,
    stamps: tuple[StampCheck, ...],
) -> None:
    """``--format json`` (docs/json.md); exit 1 when anything failed, as the text does."""
    from amendwatch import jsonout  # noqa: PLC0415

    extra: dict[str, object] = {
        "against": None
        if published is None
        else {"head": published.text, "ok": refused is None, "problem": refused},
        "deep": None if deep is None else {
            "ok": deep.ok, "versions": deep.versions, "changes": deep.changes,
            "skipped": deep.skipped, "problem_count": deep.problem_count,
            "problems": list(deep.problems),
        },
        "timestamps": [
            {"id": c.stamp_id, "run": c.run_id, "ok": c.ok, "problems": list(c.problems)}
            for c in stamps
        ],
    }  # fmt: skip
    echo(jsonout.dumps(jsonout.verify_json(result, head, extra)))
    failed = (
        not result.ok
        or refused is not None
        or (deep is not None and not deep.ok)
        or any(not c.ok for c in stamps)
    )
    if failed:
        raise SystemExit(1)


def run_deep_verify(app: Amendwatch, jobs: int, *, quiet: bool = False) -> DeepResult:
    """``deep_verify`` in ``jobs`` processes, with a progress bar on a terminal."""
    from amendwatch.deepverify import deep_verify  # noqa: PLC0415 (heavy: extraction)

    path = app.settings.db_path
    if quiet or not sys.stderr.isatty():
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
