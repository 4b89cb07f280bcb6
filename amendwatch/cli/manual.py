"""``amendwatch manual``: add, change and list the manuals being watched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from typing import TYPE_CHECKING, Any, TypeVar

import click

from amendwatch.cli.tools import echo, opened, settings_of
from store.network import ManualNetwork, parse_cookie, parse_header

if TYPE_CHECKING:  # imported where used: `--help` stays fast
    from store.models import Manual

F = TypeVar("F", bound=Callable[..., Any])


def network_options(command: F) -> F:
    """--display-name, --header, --cookie and --user-agent (manual add and manual set)."""
    options = [
        click.option("--display-name", help="The name drafts and digests show in headings."),
        click.option(
            "--header", "headers", multiple=True, metavar="'NAME: VALUE'",
            help="An extra request header for this manual's pages (repeat for more).",
        ),
        click.option(
            "--cookie", "cookies", multiple=True, metavar="NAME=env:VAR|file:PATH",
            help="A cookie whose value is read from an environment variable or a file.",
        ),
        click.option("--user-agent", help="The User-Agent for this manual's requests."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def network_of(
    display_name: str | None,
    headers: tuple[str, ...],
    cookies: tuple[str, ...],
    user_agent: str | None,
) -> ManualNetwork:
    return ManualNetwork(
        display_name=display_name,
        headers=tuple(parse_header(text) for text in headers),
        cookies=tuple(parse_cookie(text) for text in cookies),
        user_agent=user_agent,
    )


@click.group()
def manual() -> None:
    """Add and list the manuals being watched."""


@manual.command("add")
@click.argument("name")
@click.argument("contents_url")
@click.option("--amendments-url", help="The publisher's own Amendments page.")
@click.option("--content-selector", help="CSS selector of the chapter body on this site.")
@click.option(
    "--ignore",
    "ignore_selectors",
    multiple=True,
    help="CSS selector of a part that is not content.",
)
@click.option(
    "--ignore-text",
    "ignore_patterns",
    multiple=True,
    help="Regular expression: blocks whose text matches are not content.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="Another host (or host:port) chapters may live on.",
)
@click.option(
    "--sitemap",
    "sitemap_url",
    metavar="URL|auto",
    help="Also find chapters in this sitemap.xml (auto: robots.txt's, else /sitemap.xml).",
)
@network_options
@click.option(
    "--no-check",
    is_flag=True,
    help="Do not try the contents page first (to add a manual while its site is down).",
)
@click.pass_context
def manual_add(
    ctx: click.Context,
    name: str,
    contents_url: str,
    amendments_url: str | None,
    content_selector: str | None,
    ignore_selectors: tuple[str, ...],
    ignore_patterns: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    sitemap_url: str | None,
    display_name: str | None,
    headers: tuple[str, ...],
    cookies: tuple[str, ...],
    user_agent: str | None,
    no_check: bool,
) -> None:
    """Watch the manual NAME whose contents page is CONTENTS_URL (tried once first: one
    that fails, is not HTML or lists no chapter links is refused unless --no-check)."""
    from amendwatch.contentscheck import check_new_manual, probe_new_manual  # noqa: PLC0415
    from store.models import Manual  # noqa: PLC0415

    network = network_of(display_name, headers, cookies, user_agent)
    candidate = Manual(
        0, name, contents_url, amendments_url, content_selector, None,
        ignore_selectors, ignore_patterns, allowed_hosts, None, *astuple(network),
    )  # fmt: skip
    settings = settings_of(ctx)
    check_new_manual(settings, candidate, sitemap_url)  # before the database is created
    # the contents page is tried before a new database is created, or once an existing one
    # is open (its own errors, and a name in use, come first)
    fresh = not no_check and not settings.db_path.exists()
    listed = probe_new_manual(settings, candidate) if fresh else None
    with opened(ctx) as app:
        if not no_check and not fresh:
            listed = probe_new_manual(settings, candidate, app.manuals())
        added = app.add_manual(
            name,
            contents_url,
            amendments_url,
            content_selector,
            ignore_selectors=ignore_selectors,
            ignore_patterns=ignore_patterns,
            allowed_hosts=allowed_hosts,
            sitemap_url=sitemap_url,
            network=network,
        )
    found = "" if listed is None else f" ({listed} chapters listed)"
    echo(f"added manual {added.name}: {added.contents_url}{found}")


@manual.command("set")
@click.argument("name")
@click.option(
    "--sitemap",
    "sitemap_url",
    metavar="URL|auto|none",
    help="The manual's sitemap.xml, auto (robots.txt's, else /sitemap.xml) or none.",
)
@network_options
@click.pass_context
def manual_set(
    ctx: click.Context,
    name: str,
    sitemap_url: str | None,
    display_name: str | None,
    headers: tuple[str, ...],
    cookies: tuple[str, ...],
    user_agent: str | None,
) -> None:
    """Change an existing manual's options. Headers and cookies given replace the old ones;
    an empty --display-name or --user-agent clears it."""
    given = (display_name, user_agent, headers or None, cookies or None)
    if sitemap_url is None and all(value is None for value in given):
        raise click.UsageError("give at least one option to change (see --help)")
    with opened(ctx) as app:
        changed = app.manual(name)
        if sitemap_url is not None:
            changed = app.set_sitemap(name, sitemap_url)
        if any(value is not None for value in given):
            old = changed
            network = network_of(
                old.display_name if display_name is None else display_name,
                headers or tuple(f"{k}: {v}" for k, v in old.headers),
                cookies or tuple(f"{k}={v}" for k, v in old.cookies),
                old.user_agent if user_agent is None else user_agent,
            )
            changed = app.set_network(name, network)
    what = "changed" if sitemap_url is None else f"sitemap {changed.sitemap_url or 'none'}"
    echo(f"manual {changed.name}: {what}")
    describe_manual(changed)


@manual.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def manual_list(ctx: click.Context, fmt: str) -> None:
    """List the manuals being watched."""
    with opened(ctx) as app:
        found = app.manuals()
    if fmt == "json":
        from amendwatch import jsonout  # noqa: PLC0415

        echo(jsonout.dumps(jsonout.manuals_json(found)))
        return
    if not found:
        echo("no manuals yet: add one with `amendwatch manual add NAME URL`")
    for item in found:
        echo(f"{item.name}\t{item.contents_url}\t{item.amendments_url or ''}")
        describe_manual(item)


def describe_manual(item: Manual) -> None:
    """A manual's options, one indented line each (cookie sources, never values)."""
    rules = [
        *([f"content: {item.content_selector}"] if item.content_selector else []),
        *(f"ignore: {css}" for css in item.ignore_selectors),
        *(f"ignore text: {pattern}" for pattern in item.ignore_patterns),
        *(f"allow host: {host}" for host in item.allowed_hosts),
        *([f"sitemap: {item.sitemap_url}"] if item.sitemap_url else []),
        *([f"display name: {item.display_name}"] if item.display_name else []),
        *(f"header: {key}: {value}" for key, value in item.headers),
        *(f"cookie: {key} from {source}" for key, source in item.cookies),
        *([f"user agent: {item.user_agent}"] if item.user_agent else []),
    ]
    for rule in rules:
        echo(f"    {rule}")


def register(group: click.Group) -> None:
    group.add_command(manual)
