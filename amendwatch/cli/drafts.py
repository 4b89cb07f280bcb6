"""The editor's commands: draft the entries of a period, edit, approve, reject. What they run
on is imported when a command runs (so that ``--help`` stays fast)."""

from __future__ import annotations

import click

from amendwatch.cli.tools import echo, emit, opened, select_period


def _period_options(func: click.decorators.FC) -> click.decorators.FC:
    """--period / --since / --until, as on `draft` itself."""
    func = click.option("--until", help="End date of a custom range (inclusive).")(func)
    func = click.option("--since", help="Start date of a custom range.")(func)
    return click.option("--period", "month", help="A month, YYYY-MM (default: this month).")(func)


# draft -------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@click.option("--period", "month", help="A month, YYYY-MM (default: the current month).")
@click.option("--since", help="Start date of a custom range.")
@click.option("--until", help="End date of a custom range (inclusive).")
@click.option("--manual", "manual_name", help="Only this manual.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="md")
@click.option("-o", "--output", help="Write to this file.")
@click.option(
    "--preview",
    is_flag=True,
    help="Print the entries without storing them (a read: works on a read-only copy).",
)
@click.pass_context
def draft(
    ctx: click.Context,
    month: str | None,
    since: str | None,
    until: str | None,
    manual_name: str | None,
    fmt: str,
    output: str | None,
    preview: bool,
) -> None:
    """Draft the amendment entries of a period in the house style (and store them, unless
    --preview)."""
    if ctx.invoked_subcommand is not None:
        return
    from reports import render  # noqa: PLC0415
    from reports.draft import draft_entries  # noqa: PLC0415

    period = select_period(ctx, month=month, week=None, since=since, until=until)
    with opened(ctx, readonly=preview) as app:
        if preview:
            entries = draft_entries(app.changes(period, manual_name), period)
        else:
            entries = app.draft(period, manual_name)
    emit(ctx, render.render_drafts(entries, period, fmt), output)


@draft.command("edit")
@click.argument("draft_id", type=int)
@click.option("--text", help="The new details text (default: open $EDITOR).")
@click.option("--who", default="editor", help="Who made the edit (recorded).")
@click.pass_context
def draft_edit(ctx: click.Context, draft_id: int, text: str | None, who: str) -> None:
    """Change the details of a drafted entry."""
    from amendwatch import views  # noqa: PLC0415

    with opened(ctx) as app:
        views.edit_draft(app, draft_id, text, who)
    echo(f"draft {draft_id} edited")


@draft.command("approve")
@click.argument("draft_id", type=int)
@click.option("--who", default="editor")
@click.pass_context
def draft_approve(ctx: click.Context, draft_id: int, who: str) -> None:
    """Approve a drafted entry for publication."""
    from amendwatch import views  # noqa: PLC0415

    with opened(ctx) as app:
        views.set_draft_status(app, draft_id, "approved", who)
    echo(f"draft {draft_id} approved")


@draft.command("reject")
@click.argument("draft_id", type=int)
@click.option("--who", default="editor")
@click.pass_context
def draft_reject(ctx: click.Context, draft_id: int, who: str) -> None:
    """Reject a drafted entry."""
    from amendwatch import views  # noqa: PLC0415

    with opened(ctx) as app:
        views.set_draft_status(app, draft_id, "rejected", who)
    echo(f"draft {draft_id} rejected")


@draft.command("list")
@_period_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def draft_list(
    ctx: click.Context, month: str | None, since: str | None, until: str | None, fmt: str
) -> None:
    """The stored drafts of a period: id, status, chapter, who changed it last and when."""
    from amendwatch import editorial  # noqa: PLC0415

    period = select_period(ctx, month=month, week=None, since=since, until=until)
    with opened(ctx) as app:
        rows = editorial.draft_rows(app, period)
    text = editorial.rows_json(rows, period) if fmt == "json" else editorial.rows_text(rows, period)
    echo(text.rstrip("\n"))


@draft.command("history")
@click.argument("draft_id", type=int)
@click.pass_context
def draft_history(ctx: click.Context, draft_id: int) -> None:
    """Who did what to a drafted entry, and when."""
    from amendwatch import editorial  # noqa: PLC0415

    with opened(ctx) as app:
        events = editorial.draft_history(app, draft_id)
        echo(editorial.history_text(app.get_draft(draft_id), events))


@draft.command("export")
@_period_options
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="html")
@click.option("-o", "--output", help="Write to this file.")
@click.pass_context
def draft_export(
    ctx: click.Context,
    month: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """The page to publish: only the approved entries of the period (edited text if edited)."""
    from amendwatch import editorial  # noqa: PLC0415

    period = select_period(ctx, month=month, week=None, since=since, until=until)
    with opened(ctx) as app:
        page = editorial.export_page(app, period, fmt)
    emit(ctx, page, output)


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    group.add_command(draft)
