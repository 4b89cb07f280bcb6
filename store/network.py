"""A manual's reader-facing name and the network options of its requests (migration 0009).

Cookie *values* are never stored: a cookie is kept as its name and a source, ``env:VAR`` or
``file:PATH``, which :func:`amendwatch.config.cookie_values` reads when a run starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amendwatch.errors import InputError

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token (header and cookie names)
_SOURCE = re.compile(r"(env):([A-Za-z_][A-Za-z0-9_]*)|(file):(.+)")
# set by the client itself, or carried by the cookies option instead
_RESERVED = {"host", "content-length", "transfer-encoding", "connection", "cookie"}
MAX_DISPLAY_NAME = 200


@dataclass(frozen=True)
class ManualNetwork:
    """What ``manual add/set`` and ``[[manual]]`` may say beyond the URLs and rules."""

    display_name: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()  # (name, "env:VAR" | "file:PATH")
    user_agent: str | None = None


def _one_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise InputError(f"{what} must be one line", hint="remove the line break")
    return value.strip()


def parse_header(text: str) -> tuple[str, str]:
    """``Name: value`` (as ``--header`` takes it) as a checked pair."""
    name, sep, value = text.partition(":")
    if not sep:
        raise InputError(f"header {text!r} has no ':'", hint="give it as 'Name: value'")
    return check_header(name.strip(), value.strip())


def check_header(name: str, value: str) -> tuple[str, str]:
    if not _TOKEN.fullmatch(name):
        raise InputError(f"{name!r} is not a header name", hint="use letters, digits and '-'")
    if name.lower() in _RESERVED:
        raise InputError(
            f"the {name} header cannot be set here",
            hint="send cookies with --cookie NAME=env:VAR; the client sets the others",
        )
    return name, _one_line(value, f"the {name} header")


def parse_cookie(text: str) -> tuple[str, str]:
    """``NAME=env:VAR`` or ``NAME=file:PATH`` (as ``--cookie`` takes it) as a checked pair."""
    name, sep, source = text.partition("=")
    if not sep:
        raise InputError(f"cookie {text!r} has no '='", hint="give it as NAME=env:VAR")
    return check_cookie(name.strip(), source.strip())


def check_cookie(name: str, source: str) -> tuple[str, str]:
    if not _TOKEN.fullmatch(name):
        raise InputError(f"{name!r} is not a cookie name", hint="use letters, digits and '-'")
    if not _SOURCE.fullmatch(_one_line(source, f"cookie {name}")):
        raise InputError(
            f"cookie {name} must come from env:VAR or file:PATH, not a literal value",
            hint="put the value in an environment variable or a file the run can read",
        )
    return name, source


def check_network(network: ManualNetwork) -> ManualNetwork:
    """The options checked and trimmed; InputError names the bad one."""
    name = _one_line(network.display_name or "", "the display name") or None
    if name is not None and len(name) > MAX_DISPLAY_NAME:
        raise InputError("the display name is too long", hint=f"keep it under {MAX_DISPLAY_NAME}")
    agent = _one_line(network.user_agent or "", "the User-Agent") or None
    return ManualNetwork(
        display_name=name,
        headers=tuple(check_header(*pair) for pair in network.headers),
        cookies=tuple(check_cookie(*pair) for pair in network.cookies),
        user_agent=agent,
    )
