"""What may be fetched at all, and with what: the URL, origin and address guard, the proxy
decision, and which requests carry the manual's extra headers and cookies.

Only absolute http(s) URLs without credentials are fetched. An origin is scheme + host +
port: when a policy names the manual's own origin (``site_origin``, or ``site_host`` on its
default ports), every request and every redirect hop must stay on it (an upgrade from
``http`` on port 80 to ``https`` on port 443 of the same host is the same site) or on one of
``allowed_hosts`` (``host`` for its default ports, ``host:port`` for another). Unless
``allow_private`` is set, hosts that are (or resolve to) loopback, private, link-local,
reserved, multicast or unspecified addresses are refused, so a public manual can never make
amendwatch fetch from the machine's own network.

Through a forward proxy (``FetchPolicy.proxy``, for every host not in ``no_proxy``) the target
is never resolved locally (on a proxy-only network it cannot be): a host name is fetched only
when it is the manual's own or an allowed one, and an IP literal is refused when it is internal
and ``allow_private`` is not set. Hosts in ``no_proxy`` are fetched directly, guarded as above.

The manual's extra headers and cookies (``FetchPolicy.headers``/``cookies``) go only to the
origin a fetch was asked for (its http-to-https upgrade included), and only when the policy
admits that origin: never to another host or port a redirect leads to, even an allowed one.

robots.txt rules are :mod:`scraper.robots`'s. This module sits under :mod:`scraper.responses`
and :mod:`scraper.fetch`; it imports only :mod:`scraper.policy` of the fetch layer.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import SplitResult, urlsplit

import httpx

from amendwatch.errors import FetchError
from scraper.policy import FetchPolicy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]
Origin = tuple[str, str, int]  # scheme, host (lower case, IPv6 without brackets), port

__all__ = [
    "CREDENTIALS_HINT",
    "Origin",
    "address_problem",
    "allow_entry",
    "bypasses_proxy",
    "check_url",
    "guard_url",
    "has_credentials",
    "host_allowed",
    "is_internal",
    "origin_of",
    "parse_url",
    "policy_for_site",
    "proxied",
    "resolve_host",
    "sends_extras",
    "without_credentials",
]

DEFAULT_PORTS = {"http": 80, "https": 443}
CREDENTIALS_HINT = (
    "remove user:password@ from the URL; send credentials as headers or cookies from the"
    " environment instead"
)


@functools.lru_cache(maxsize=16384)
def parse_url(url: str) -> httpx.URL:
    """``httpx.URL(url)``, once a process for each URL (httpx parses in Python: about 0.07 ms;
    ``check_url`` and the request of each fetch both need it); raises as ``httpx.URL``."""
    return httpx.URL(url)


@functools.lru_cache(maxsize=16384)  # each chapter's URL is checked on both sides of the pipe
def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL, else raise ``FetchError``."""
    try:
        parsed = parse_url(url)
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


# -- origins -----------------------------------------------------------------------------


def has_credentials(url: str) -> bool:
    """Whether ``url`` carries ``user[:password]@`` (judged without parsing it fully, so a
    malformed URL is never echoed in an error that would print them)."""
    authority = url.strip().split("://", 1)[-1]
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    return "@" in authority


def without_credentials(text: str) -> str:
    """``text`` with the ``user[:password]@`` of a URL taken out (other text unchanged)."""
    scheme, sep, rest = text.partition("://")
    if not sep or not has_credentials(text):
        return text
    cut = min((rest.find(stop) for stop in "/?#" if stop in rest), default=len(rest))
    return f"{scheme}://{rest[:cut].rsplit('@', 1)[1]}{rest[cut:]}"


def _origin(parts: SplitResult) -> Origin | None:
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of ``url``, the port made explicit; None for a bad port."""
    return _origin(urlsplit(url))


def _shown(origin: Origin) -> str:
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def allow_entry(url: str) -> str:
    """The ``allowed_hosts`` entry for the origin of ``url``: ``host``, or ``host:port``
    when the port is not the scheme's default."""
    origin = origin_of(url)
    return _shown(origin) if origin is not None else ""


def _split_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` -> (host, port or None)."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host, port = entry, ""
    return host, int(port) if port.isdigit() else None


def _entry_admits(entry: str, origin: Origin) -> bool:
    scheme, host, port = origin
    entry_host, entry_port = _split_entry(entry)
    wanted = entry_port if entry_port is not None else DEFAULT_PORTS.get(scheme)
    return entry_host == host and wanted == port


def _same_site(origin: Origin, site: Origin) -> bool:
    """The same origin, or its upgrade from http (port 80) to https (port 443)."""
    upgrade = site[0] == "http" and site[2] == 80 and origin[0] == "https" and origin[2] == 443
    return origin == site or (upgrade and origin[1] == site[1])


def _policy_admits(origin: Origin, policy: FetchPolicy) -> bool:
    """The site's own origin (or host on its default ports) or an allowed one."""
    if policy.site_origin is not None:
        site = origin_of(policy.site_origin)
        if site is not None and _same_site(origin, site):
            return True
    elif policy.site_host is not None and _entry_admits(policy.site_host, origin):
        return True
    return any(_entry_admits(entry, origin) for entry in policy.allowed_hosts)


def host_allowed(start_url: str, target: str, policy: FetchPolicy) -> bool:
    """A redirect target may be on the requested origin, the site's or an allowed one."""
    origin, start = origin_of(target), origin_of(start_url)
    if origin is None:
        return False
    return (start is not None and _same_site(origin, start)) or _policy_admits(origin, policy)


def guard_url(url: str, policy: FetchPolicy, resolve: Resolver = resolve_host) -> str | None:
    """Why ``url`` may not be fetched under ``policy`` (one line), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused: only http and https URLs are fetched, not {parts.scheme or 'none'}:"
    if has_credentials(url):
        return f"refused: credentials in the URL ({CREDENTIALS_HINT})"
    host = (parts.hostname or "").lower()
    origin = _origin(parts)
    if not host or origin is None:
        return f"refused: no host or a bad port in {url}"
    site = policy.site_origin or policy.site_host
    if site is not None and not _policy_admits(origin, policy):
        return f"refused: {_shown(origin)} is not the manual's own host and port ({site})"
    if not policy.allow_private:
        if proxied(url, policy):
            return _proxied_problem(host, origin, policy)
        return address_problem(host, resolve)
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _proxied_problem(host: str, origin: Origin, policy: FetchPolicy) -> str | None:
    """The guard for a target the proxy reaches (its address is the proxy's to resolve)."""
    literal = _literal(host)
    if literal is not None:
        return f"refused: {host} is a loopback or private address" if is_internal(literal) else None
    if _policy_admits(origin, policy):
        return None
    return (
        f"refused: {_shown(origin)} is reached through the proxy and is not one of the manual's"
        " hosts (it cannot be checked without resolving it here)"
    )


def policy_for_site(
    policy: FetchPolicy, site_url: str, resolve: Resolver = resolve_host
) -> FetchPolicy:
    """``policy`` bound to the manual at ``site_url``: its own origin (and ``allowed_hosts``)
    only, and internal addresses only when the manual itself lives on one (through the proxy:
    when it is an internal IP literal; its name is not resolved here)."""
    parts = urlsplit(check_url(site_url))
    host = (parts.hostname or "").lower()
    if proxied(site_url, policy):  # never resolved here: only an internal IP literal counts
        literal = _literal(host)
        internal = literal is not None and is_internal(literal)
    else:
        problem = address_problem(host, resolve)
        internal = problem is not None and not problem.startswith("cannot resolve")
    origin = _origin(parts)
    site = f"{origin[0]}://{_shown(origin)}" if origin is not None else None
    return replace(policy, site_host=host, site_origin=site, allow_private=internal)


# -- the proxy and the extras ------------------------------------------------------------------


def bypasses_proxy(entry: str, host: str, port: int) -> bool:
    """Whether the ``no_proxy`` ``entry`` covers ``host`` (lower case, no brackets) on ``port``:
    ``*``; ``host`` (and its subdomains); ``.domain`` (it and its subdomains); ``host:port``;
    an address or network (``10.0.0.0/8``) for an IP literal."""
    entry = entry.strip().lower()
    if entry == "*":
        return True
    if "/" in entry:
        literal = _literal(host)
        try:
            return literal is not None and literal in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    name, entry_port = _split_entry(entry)
    name = name.lstrip(".").rstrip(".")
    if not name or (entry_port is not None and entry_port != port):
        return False
    return host == name or host.endswith("." + name)


def proxied(url: str, policy: FetchPolicy) -> bool:
    """Whether ``url`` is fetched through ``policy.proxy`` (not when its host is in
    ``no_proxy``)."""
    if not policy.proxy:
        return False
    origin = origin_of(url)
    if origin is None:
        return True
    _, host, port = origin
    return not any(bypasses_proxy(entry, host, port) for entry in policy.no_proxy)


def sends_extras(url: str, start_url: str, policy: FetchPolicy) -> bool:
    """Whether a request to ``url``, in a fetch asked for ``start_url``, carries the policy's
    extra headers and cookies: only on the asked-for origin (or its upgrade to https), and
    only when the policy admits it (its site or allowed hosts; any origin when unbound)."""
    origin, start = origin_of(url), origin_of(start_url)
    if origin is None or start is None or not _same_site(origin, start):
        return False
    bound = policy.site_origin is not None or policy.site_host is not None
    return not bound or _policy_admits(origin, policy)
