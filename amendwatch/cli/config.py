"""``amendwatch config check [FILE]``: validate the scheduler's TOML file and print the
effective settings, every key with defaults included, secrets masked.

The output is itself TOML (a key not set is a comment), so it can be diffed or saved. Masked
as ``***``: a password in any URL, every part of a notification (Apprise) URL after its
scheme but a host name (tokens, keys, user names, ids), and the value of every request header
but a few harmless ones.
Cookie sources (``env:VAR``, ``file:PATH``) are shown: they are not the values.

Only click and the standard library are imported here at module level (``amendwatch --help``
stays fast); the configuration modules load when the command runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from amendwatch.config import ScheduleConfig, Settings

MASK = "***"
HARMLESS_HEADERS = {"accept", "accept-language", "cache-control", "dnt", "from", "referer"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_HOST_NAME = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?")
SECTIONS = ("schedule", "fetch", "output", "email", "notify", "timestamp")


@click.group("config")
def config_group() -> None:
    """Check the scheduler's configuration file (amendwatch.toml)."""


@config_group.command("check")
@click.argument("file", default="amendwatch.toml", type=click.Path(dir_okay=False))
@click.pass_context
def config_check(ctx: click.Context, file: str) -> None:
    """Validate FILE (default amendwatch.toml) and print the effective settings, defaults
    included, secrets masked. Exit status 1, with the file and line, when it is not valid."""
    from amendwatch.cli.tools import echo, settings_of  # noqa: PLC0415 - loaded when run
    from amendwatch.config import fetch_settings, load_schedule_config  # noqa: PLC0415

    config = load_schedule_config(Path(file))
    settings = fetch_settings(settings_of(ctx), config)
    for line in effective_lines(file, config, settings):
        echo(line)


def effective_lines(file: str, config: ScheduleConfig, settings: Settings) -> list[str]:
    """The effective settings as TOML lines, secrets masked."""
    from amendwatch.configchecks import tables_of  # noqa: PLC0415

    tables = tables_of(config)
    lines = [f"# {file}: valid. Effective settings, defaults included; secrets shown as {MASK}."]
    for section in SECTIONS:
        lines.append("")
        if tables[section] is None:
            lines.append(f"# [{section}]: not set")
            continue
        lines.append(f"[{section}]")
        lines.extend(_table_lines(section, tables[section]))
        if section == "fetch":
            lines.extend(_fetch_notes(config, settings))
        if section == "output":
            lines.append(f"# effective file_mode: {settings.file_mode:04o}")
    for manual in tables["manual"]:
        lines.extend(["", "[[manual]]", *_table_lines("manual", manual)])
    if not tables["manual"]:
        lines.extend(["", "# [[manual]]: none (the manuals already in the database are watched)"])
    return lines


def _fetch_notes(config: ScheduleConfig, settings: Settings) -> list[str]:
    fetch = settings.fetch
    proxy = "none" if fetch.proxy is None else mask_url(fetch.proxy)
    if fetch.proxy is not None and config.fetch_proxy is None:
        proxy += " (from the environment)"
    notes = [f"# effective User-Agent: {fetch.user_agent}", f"# effective proxy: {proxy}"]
    if fetch.no_proxy:
        notes.append(f"# effective no_proxy: {', '.join(fetch.no_proxy)}")
    return notes


def _table_lines(section: str, table: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in table.items():
        if value is None:
            lines.append(f"# {key}: not set")
        else:
            lines.append(f"{_key(key)} = {toml_value(masked(section, key, value))}")
    return lines


def masked(section: str, key: str, value: Any) -> Any:
    """``value`` with whatever could be a secret replaced by ``***``."""
    if section == "notify" and key == "urls":
        return [mask_apprise(url) for url in value]
    if section == "manual" and key == "headers":
        return {
            name: text if name.lower() in HARMLESS_HEADERS else MASK for name, text in value.items()
        }
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def mask_url(url: str) -> str:
    """``scheme://user:***@host/...``: the password of a URL masked, the rest as it is."""
    scheme, sep, rest = url.partition("://")
    authority, tail = _split_authority(rest)
    if not sep or "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{host}{tail}"


def mask_apprise(url: str) -> str:
    """A notification URL with its scheme and host name, everything else (tokens, keys,
    users, passwords, ids) masked: ``tgram://***/***``, ``mailtos://***@smtp.example.org``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return MASK
    authority, tail = _split_authority(rest)
    user = ""
    if "@" in authority:  # a user name can be a key too (pover://USER_KEY@TOKEN)
        user, authority = f"{MASK}@", authority.rpartition("@")[2]
    host = authority if _HOST_NAME.fullmatch(authority) else MASK
    path = tail.split("?")[0].split("#")[0]
    parts = "".join(f"/{MASK}" if part else "/" for part in path.split("/")[1:])
    query = f"?{MASK}" if "?" in tail else ""
    fragment = f"#{MASK}" if "#" in tail else ""
    return f"{scheme}://{user}{host}{parts}{query}{fragment}"


def _split_authority(rest: str) -> tuple[str, str]:
    for index, char in enumerate(rest):
        if char in "/?#":
            return rest[:index], rest[index:]
    return rest, ""


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """A TOML literal: strings (JSON escapes are TOML's), booleans, numbers, arrays, tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    return json.dumps(str(value), ensure_ascii=False)


def register(group: click.Group) -> None:
    group.add_command(config_group)
