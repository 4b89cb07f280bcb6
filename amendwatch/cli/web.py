"""The web application's commands: ``amendwatch web`` and the accounts (``amendwatch user``).

Only click and the standard library load with this module; starlette, uvicorn and argon2 load
when a command runs.
"""

from __future__ import annotations

import os
import pwd
import sys

import click

from amendwatch.cli.tools import echo, opened, settings_of
from amendwatch.errors import InputError

ROLE = click.Choice(["viewer", "reviewer", "editor", "admin"])


def cli_actor() -> str:
    """Who the audit log records for a command-line action: the operating-system account."""
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid {os.getuid()}"


def read_password(confirm: bool = True) -> str:
    """The password from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        entered: str = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
        return entered
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InputError("no password on standard input", "give it on one line, or use a terminal")
    return line


# user ----------------------------------------------------------------------------------
@click.group()
def user() -> None:
    """Accounts of the web application (amendwatch web)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="What the account may do.")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str) -> None:
    """Add an account; the password comes from a prompt or standard input (argon2id)."""
    from amendwatch.web import accounts  # noqa: PLC0415 - argon2 loads only here

    password = read_password()
    with opened(ctx) as app:
        accounts.add_account(app, name, role, password, who=cli_actor())
    echo(f"user {name} added ({role})")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """The accounts: name, role, whether disabled, when added."""
    from store.users import list_users  # noqa: PLC0415

    with opened(ctx) as app:
        found = list_users(app.db)
    if not found:
        echo("no users yet (add one with `amendwatch user add NAME --role admin`)")
        return
    for account in found:
        state = "disabled" if account.disabled else "active"
        added = account.created_at.strftime("%Y-%m-%d %H:%M")
        echo(f"{account.name:<24} {account.role:<9} {state:<9} added {added}")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@click.pass_context
def user_disable(ctx: click.Context, name: str, enable: bool) -> None:
    """Disable an account (its sessions end at once), or enable it again."""
    from amendwatch.web import accounts  # noqa: PLC0415

    with opened(ctx) as app:
        accounts.disable_account(app, name, who=cli_actor(), disabled=not enable)
    echo(f"user {name} {'enabled' if enable else 'disabled'}")


@user.command("passwd")
@click.argument("name")
@click.pass_context
def user_passwd(ctx: click.Context, name: str) -> None:
    """Set an account's password (from a prompt or standard input); its sessions end."""
    from amendwatch.web import accounts  # noqa: PLC0415
    from store.users import get_user  # noqa: PLC0415

    with opened(ctx) as app:
        get_user(app.db, name)  # an unknown name fails before the password is asked
    password = read_password()
    with opened(ctx) as app:
        accounts.set_password(app, name, password, who=cli_actor())
    echo(f"password of {name} changed")


# web -----------------------------------------------------------------------------------
def web_options(func: click.decorators.FC) -> click.decorators.FC:
    """The listening options ``web`` and the ``serve`` alias share."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind."),
        click.option(
            "--port",
            default=8080,
            show_default=True,
            type=click.IntRange(0, 65535),
            help="Port to listen on (0: any free port, printed on start).",
        ),
        click.option(
            "--allow-host",
            "allowed_hosts",
            multiple=True,
            help="Another Host name clients may use (besides 127.0.0.1, localhost and --host).",
        ),
        click.option(
            "--max-connections",
            default=64,
            show_default=True,
            type=click.IntRange(1, 4096),
            help="Connections served at once; more are answered 503.",
        ),
        click.option(
            "--idle-timeout",
            default=10.0,
            show_default=True,
            type=click.FloatRange(1, 3600),
            help="Seconds a kept-alive connection may stay silent before it is closed.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@web_options
@click.option(
    "--secure-cookies/--no-secure-cookies", default=None,
    help="Mark cookies Secure (default: when the request came over HTTPS).",
)  # fmt: skip
@click.option(
    "--forwarded-allow-ips", default="127.0.0.1", show_default=True,
    help="Reverse proxies trusted for X-Forwarded-For and X-Forwarded-Proto.",
)  # fmt: skip
@click.option("--hsts", is_flag=True, help="Send Strict-Transport-Security (behind HTTPS only).")
@click.option(
    "--idle-minutes", default=30.0, show_default=True, type=click.FloatRange(1, 24 * 60),
    help="A login unused this long has ended.",
)  # fmt: skip
@click.pass_context
def web(
    ctx: click.Context,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    max_connections: int,
    idle_timeout: float,
    secure_cookies: bool | None,
    forwarded_allow_ips: str,
    hsts: bool,
    idle_minutes: float,
) -> None:
    """Serve the web application (review, sign-off, point-in-time browsing) until Ctrl-C."""
    run_web(
        ctx, host=host, port=port, allowed_hosts=allowed_hosts, max_connections=max_connections,
        idle_timeout=idle_timeout, secure_cookies=secure_cookies,
        forwarded_allow_ips=forwarded_allow_ips, hsts=hsts, idle_minutes=idle_minutes,
    )  # fmt: skip


def run_web(
    ctx: click.Context,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    allowed_hosts: tuple[str, ...] = (),
    max_connections: int = 64,
    idle_timeout: float = 10.0,
    secure_cookies: bool | None = None,
    forwarded_allow_ips: str = "127.0.0.1",
    hsts: bool = False,
    idle_minutes: float = 30.0,
) -> None:
    """``amendwatch web`` (and the ``serve`` alias): serve until interrupted."""
    from amendwatch.web.options import WebOptions  # noqa: PLC0415
    from amendwatch.web.server import Listen, serve  # noqa: PLC0415

    settings = settings_of(ctx)
    with opened(ctx):  # create and migrate the database now: a bad --db fails here
        pass
    listen = Listen(host, port, max_connections, idle_timeout, forwarded_allow_ips)
    options = WebOptions(
        secure_cookies=secure_cookies, idle_minutes=idle_minutes, bound_host=host,
        allowed_hosts=allowed_hosts, hsts=hsts,
    )  # fmt: skip
    serve(settings, listen, options, lambda line: echo(line, err=True))


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
    group.add_command(user)
    group.add_command(web)
