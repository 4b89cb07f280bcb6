"""Audit and evidence commands: show-manual, export warc|evidence, import warc, rederive,
compact, browse. Thin over :mod:`amendwatch.audit`, imported when a command runs (so that
``--help`` stays fast)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import click

from amendwatch.cli.tools import PORT, check_port_free, echo, opened, settings_of
from amendwatch.errors import InputError, StoreError


def _open_output(path: str) -> Path:
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(f"directory {target.parent} does not exist", "choose another -o path")
    if target.is_dir():
        raise InputError(f"{target} is a directory", "give a file name with -o")
    return target


@click.command("show-manual")
@click.argument("name")
@click.option("--as-of", "as_of", required=True, help="A date or ISO time.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def show_manual(ctx: click.Context, name: str, as_of: str, fmt: str) -> None:
    """The whole manual NAME as it stood on a date: its chapters and each one's version."""
    from amendwatch import audit  # noqa: PLC0415
    from reports.periods import parse_when  # noqa: PLC0415

    with opened(ctx, readonly=True) as app:
        result = audit.manual_as_of(app, name, parse_when(as_of))
    if fmt == "json":
        echo(json.dumps(audit.manual_as_of_json(result), indent=2, ensure_ascii=False))
    else:
        echo(audit.manual_as_of_text(result))


@click.group("export")
def export_group() -> None:
    """Export evidence: WARC files of the captures, or an evidence pack."""


@export_group.command("warc")
@click.option("-o", "--output", required=True, help="The WARC file to write (.warc.gz).")
@click.option("--chapter", help="Only this chapter (URL or part of its title).")
@click.option("--manual", "manual_name", help="Only this manual.")
@click.option("--since", help="From this date (inclusive).")
@click.option("--until", help="Until this date (inclusive).")
@click.pass_context
def export_warc(
    ctx: click.Context,
    output: str,
    chapter: str | None,
    manual_name: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Write the raw captures as WARC 1.1 (request, response and revisit records)."""
    from amendwatch import audit  # noqa: PLC0415
    from amendwatch.outputs import atomic_file  # noqa: PLC0415
    from reports.periods import parse_range  # noqa: PLC0415

    start = end = None
    if since or until:
        period = parse_range(since or "1970-01-01", until or "9999-12-30")
        start, end = period.start, period.end
    target = _open_output(output)
    mode = settings_of(ctx).file_mode
    with opened(ctx, readonly=True) as app, atomic_file(target, mode) as out:
        summary = audit.export_warc(
            app, out, chapter=chapter, manual=manual_name, start=start, end=end,
            filename=target.name,
        )  # fmt: skip
    echo(
        f"wrote {target}: {summary.responses} responses, {summary.revisits} revisits, "
        f"{summary.requests} requests ({summary.skipped} skipped)"
    )


@export_group.command("evidence")
@click.argument("chapter")
@click.option("--from", "from_ref", help="A date or version id (default: the previous version).")
@click.option("--to", "to_ref", help="A date or version id (default: the latest version).")
@click.option("-o", "--output", required=True, help="The zip file to write.")
@click.pass_context
def export_evidence(
    ctx: click.Context, chapter: str, from_ref: str | None, to_ref: str | None, output: str
) -> None:
    """Write an evidence pack (zip) for CHAPTER between two versions, with a manifest."""
    from amendwatch import audit  # noqa: PLC0415
    from amendwatch.outputs import atomic_file  # noqa: PLC0415

    target = _open_output(output)
    mode = settings_of(ctx).file_mode
    with opened(ctx, readonly=True) as app, atomic_file(target, mode) as out:
        manifest = audit.export_evidence(app, chapter, from_ref, to_ref, out)
    echo(f"wrote {target}: {len(manifest['files'])} files (manifest.json, SHA256SUMS)")


@click.group("import")
def import_group() -> None:
    """Import archived captures."""


@import_group.command("warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--manual", "manual_name", help="Attach captures of unknown URLs to this manual.")
@click.pass_context
def import_warc(ctx: click.Context, files: tuple[str, ...], manual_name: str | None) -> None:
    """Backfill history from WARC FILES with their original capture dates."""
    from amendwatch import audit  # noqa: PLC0415

    with opened(ctx) as app:
        result = audit.import_warc(app, [Path(f) for f in files], manual_name)
    for skip in result.skipped:
        echo(f"skipped {skip.source}: {skip.reason}", err=True)
    versions = sum(1 for _url, outcome in result.imported if outcome == "new-version")
    echo(
        f"imported {len(result.imported)} captures ({versions} new versions), "
        f"skipped {len(result.skipped)}; run {result.run_id}"
    )


@click.command("rederive")
@click.argument("chapter", required=False)
@click.option("--selector", help="Re-extract with this CSS selector instead of the manual's.")
@click.option("--apply", is_flag=True, help="Store the re-derived content as the version's.")
@click.pass_context
def rederive(ctx: click.Context, chapter: str | None, selector: str | None, apply: bool) -> None:
    """Re-run extraction on the stored captures; differences are recorded as derivations."""
    from amendwatch import audit  # noqa: PLC0415

    with opened(ctx) as app:
        results = audit.rederive_versions(app, chapter, selector=selector, apply=apply)
    differ = [r for r in results if r.derivation_id is not None]
    for item in differ:
        echo(
            f"v{item.version_id}: {item.old_hash[:12]} -> {item.new_hash[:12]}"
            f" (derivation {item.derivation_id}{', applied' if item.applied else ''})"
        )
    for item in results:
        if item.error:
            echo(f"v{item.version_id}: {item.error}", err=True)
    echo(
        f"re-derived {len(results)} versions: {len(differ)} differ"
        + ("" if apply or not differ else " (recorded; use --apply to store them)")
    )


@click.command("compact")
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Rewrite rows stored before compact storage into it, then shrink the file."""
    from store import compact as compaction  # noqa: PLC0415

    with opened(ctx) as app:
        result = app.compact()
    for line in compaction.describe(result):
        echo(line)


@click.command("browse")
@click.option("--port", default=8001, show_default=True, type=PORT, help="Port on 127.0.0.1.")
@click.pass_context
def browse(ctx: click.Context, port: int) -> None:
    """Open the database in Datasette on 127.0.0.1 (read-only), with auditors' queries."""
    from amendwatch import audit  # noqa: PLC0415

    settings = settings_of(ctx)
    with opened(ctx):
        pass  # create/migrate the database first
    db_path = Path(settings.db_path)
    with tempfile.TemporaryDirectory() as folder:
        metadata = Path(folder) / "metadata.json"
        metadata.write_text(json.dumps(audit.browse_metadata(db_path)), encoding="utf-8")
        command = audit.browse_command(db_path, metadata, port)
        check_port_free("127.0.0.1", port)
        echo(f"browse at http://127.0.0.1:{port}/{db_path.stem} (Ctrl-C to stop)")
        try:
            subprocess.run(command, check=True)
        except KeyboardInterrupt:
            return
        except (OSError, subprocess.CalledProcessError) as exc:
            raise StoreError(f"datasette did not run: {exc}", "see its output above") from exc


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    for command in (show_manual, export_group, import_group, rederive, compact, browse):
        group.add_command(command)
