"""What may be fetched at all: the URL and address guard, and robots.txt rules.

Only absolute http(s) URLs are fetched. When a policy names the manual's own host
(``site_host``), every request and every redirect hop must stay on that host or on one of
``allowed_hosts``. Unless ``allow_private`` is set, hosts that are (or resolve to) loopback,
private, link-local, reserved, multicast or unspecified addresses are refused, so a public
manual can never make amendwatch fetch from the machine's own network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from amendwatch.errors import FetchError
from scraper.text import decode_bytes

if TYPE_CHECKING:
    from scraper.fetch import FetchPolicy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

__all__ = [
    "address_problem",
    "check_url",
    "guard_url",
    "host_allowed",
    "is_internal",
    "policy_for_site",
    "resolve_host",
    "robots_rules",
]


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL, else raise ``FetchError``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"malformed URL {url!r}", "give a full http:// or https:// URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(f"refusing URL {url!r}", "only absolute http:// or https:// URLs")
    return url


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_internal(address: IPAddress) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _addresses(host: str, resolve: Resolver) -> list[IPAddress]:
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    return [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]


def address_problem(host: str, resolve: Resolver = resolve_host) -> str | None:
    """Why ``host`` may not be fetched from a public site, or None when it may."""
    try:
        addresses = _addresses(host, resolve)
    except (OSError, UnicodeError, ValueError) as exc:
        return f"cannot resolve host {host}: {exc}"
    if not addresses:
        return f"cannot resolve host {host}"
    internal = [str(a) for a in addresses if is_internal(a)]
    if internal:
        return f"refused: {host} is a loopback or private address ({internal[0]})"
    return None


def host_allowed(start_url: str, target: str, policy: FetchPolicy) -> bool:
    """A redirect target may be the requested host, the site's host or an allowed host."""
    target_host = urlsplit(target).hostname or ""
    start_host = urlsplit(start_url).hostname or ""
    return target_host in (start_host, policy.site_host) or target_host in policy.allowed_hosts


def guard_url(url: str, policy: FetchPolicy, resolve: Resolver = resolve_host) -> str | None:
    """Why ``url`` may not be fetched under ``policy`` (one line), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused: only http and https URLs are fetched, not {parts.scheme or 'none'}:"
    host = (parts.hostname or "").lower()
    if not host:
        return f"refused: no host in {url}"
    if policy.site_host is not None and host not in (policy.site_host, *policy.allowed_hosts):
        return f"refused: {host} is not the manual's own host ({policy.site_host})"
    if not policy.allow_private:
        return address_problem(host, resolve)
    return None


def policy_for_site(
    policy: FetchPolicy, site_url: str, resolve: Resolver = resolve_host
) -> FetchPolicy:
    """``policy`` bound to the manual at ``site_url``: its own host (and ``allowed_hosts``)
    only, and internal addresses only when the manual itself lives on one."""
    host = (urlsplit(check_url(site_url)).hostname or "").lower()
    problem = address_problem(host, resolve)
    internal = problem is not None and not problem.startswith("cannot resolve")
    return replace(policy, site_host=host, allow_private=internal)


def robots_rules(url: str, status: int, error: str | None, body: bytes) -> RobotFileParser | None:
    """The rules of a fetched robots.txt. None means "no rules": missing, unreadable or
    failing robots.txt allows all, except 401/403 which disallow all (as the standard
    library does)."""
    parser = RobotFileParser(url)
    if status in (401, 403):
        parser.parse(["User-agent: *", "Disallow: /"])
        return parser
    if error is not None or status != 200:
        return None
    parser.parse(decode_bytes(body, None).splitlines())
    return parser
